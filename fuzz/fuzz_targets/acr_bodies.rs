#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = acr_health::fuzzing::error_body::parse(data);
    let _ = acr_health::fuzzing::error_body::summary(data);
    let _ = acr_health::fuzzing::error_body::denied_client_ip(data);
    let _ = acr_health::fuzzing::token_field(data, "access_token");
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = acr_health::fuzzing::jwt_claims(text);
        let _ = acr_health::fuzzing::tenant_of(text);
    }
});
