#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(info) = acr_health::fuzzing::parse_version_json(&text) {
        for c in info.client.iter().chain(info.server.iter()) {
            let _ = c.describe();
        }
    }
    let helm = acr_health::fuzzing::helm_version(&text);
    let notary = acr_health::fuzzing::notary_version(&text);
    if let (Some(a), Some(b)) = (helm, notary) {
        let _ = a.cmp(&b);
    }
    let _ = acr_health::fuzzing::ToolVersion::parse(&text);
});
