#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(header) = std::str::from_utf8(data) {
        for challenge in acr_health::fuzzing::www_authenticate::parse(header) {
            let _ = challenge.param("realm");
            let _ = challenge.param("service");
        }
    }
});
