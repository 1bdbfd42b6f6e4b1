#![no_main]
//! The output boundary: whatever bytes a server or tool sends, what the
//! terminal gets has no raw control character, and no remembered secret
//! survives in any encoding.
use acr_health::fuzzing::{secret, untrusted};
use libfuzzer_sys::fuzz_target;

fn hazard(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fuzz_target!(|data: &[u8]| {
    // The first bytes choose a secret, the rest is the text that may echo it.
    let split = data.first().map(|n| (*n as usize % 24) + 8).unwrap_or(8);
    if data.len() < split + 1 {
        return;
    }
    let secret = String::from_utf8_lossy(&data[1..split]).into_owned();
    let text = String::from_utf8_lossy(&data[split..]).into_owned();

    let shown = untrusted::Untrusted::new(text.as_str()).to_string();
    assert!(!shown.chars().any(|c| hazard(c) || c == '\n'), "{shown:?}");
    let boundary = untrusted::for_terminal(&text);
    assert!(!boundary.chars().any(hazard), "{boundary:?}");

    // Shorter secrets are masked only where they sit, not in free text; the
    // mask is `****`: a secret made of asterisks would "survive" in it.
    if secret.chars().count() < 8 || secret.contains('*') {
        return;
    }
    let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let json = serde_json::to_string(&secret).unwrap();
    let json = &json[1..json.len() - 1];
    for echoed in [secret.as_str(), form.as_str(), &form.replace('+', "%20"), json] {
        // Delimited as an echo always is: a backslash or `%4` at the end of
        // the text before it would otherwise change how its first escape reads.
        let haystack = format!("{text} {echoed} {text}");
        let masked = secret::scrub_with(&haystack, [secret.as_str()].into_iter());
        assert!(!masked.contains(echoed), "{echoed:?} survived in {masked:?}");
    }
});
