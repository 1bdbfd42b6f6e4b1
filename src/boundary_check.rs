//! The output boundary's promises, checked on one arbitrary input: for the
//! fuzz target (`fuzz/fuzz_targets/output_boundary.rs`) and for `cargo test`,
//! which replays its seeds (`fuzz/seeds/output_boundary/`). Whatever bytes a
//! server or tool sends, the terminal gets no raw control character, no
//! remembered secret survives in any encoding, the JSON report parses and
//! the JUnit report holds no character XML 1.0 forbids.

use crate::checks::{CheckId, CheckResult};
use crate::codes::ErrorCode;
use crate::render::{self, Format, Options};
use crate::report::{RegistryInfo, Report};
use crate::{secret, untrusted};

fn hazard(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
}

/// Checks every promise on `data` (its first bytes choose a secret, the
/// rest is server text); panics on a broken one. Returns the JUnit report,
/// for a caller with an XML parser to parse.
pub fn check(data: &[u8]) -> Option<String> {
    let split = data.first().map(|n| (*n as usize % 24) + 8).unwrap_or(8);
    if data.len() < split + 1 {
        return None;
    }
    let secret = String::from_utf8_lossy(&data[1..split]).into_owned();
    let text = String::from_utf8_lossy(&data[split..]).into_owned();
    let shown = untrusted::Untrusted::new(text.as_str()).to_string();
    assert!(!shown.chars().any(|c| hazard(c) || c == '\n'), "{shown:?}");
    let boundary = untrusted::for_terminal(&text);
    assert!(!boundary.chars().any(hazard), "{boundary:?}");
    masked_in_every_encoding(&secret, &text);
    Some(reports_hold(&text))
}

/// Shorter secrets are masked only where they sit, not in free text; the
/// mask is `****`: a secret made of asterisks would "survive" in it.
fn masked_in_every_encoding(secret: &str, text: &str) {
    if secret.chars().count() < 8 || secret.contains('*') {
        return;
    }
    let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json
        .get(1..json.len().saturating_sub(1))
        .unwrap_or_default();
    for echoed in [secret, form.as_str(), &form.replace('+', "%20"), json] {
        // Delimited as an echo always is: a backslash or `%4` at the end of
        // the text before it would otherwise change how its first escape reads.
        let haystack = format!("{text} {echoed} {text}");
        let masked = secret::scrub_with(&haystack, [secret].into_iter());
        assert!(
            !masked.contains(echoed),
            "{echoed:?} survived in {masked:?}"
        );
    }
}

/// `text` in every field a server can fill of a failed check, rendered:
/// the JSON parses and keeps the check's status; the JUnit report holds no
/// character XML 1.0 forbids (in its text or its attributes) and is
/// returned for a caller with an XML parser.
fn reports_hold(text: &str) -> String {
    let result = CheckResult::fail(
        CheckId::RegistryChallenge,
        ErrorCode::ConnectivityChallengeError,
        text,
    )
    .with_note(text)
    .with_detail("server", text);
    let registry = RegistryInfo {
        name: "myregistry".into(),
        login_server: Some(text.to_string()),
        login_server_source: None,
    };
    let check = result.into_report(Some(&registry));
    let report = Report::new(Some(registry), vec![check], 1, None);
    let render = |format| {
        let options = Options {
            format,
            color: false,
            only_errors: false,
            timings: false,
            verbose: true,
            query: None,
        };
        let mut out = Vec::new();
        render::write_report(&options, &report, &mut out).expect("rendering to memory works");
        String::from_utf8(out).expect("reports are UTF-8")
    };
    let json: serde_json::Value =
        serde_json::from_str(&render(Format::Json)).expect("the JSON report parses");
    assert_eq!(json["checks"][0]["status"], "fail");
    let junit = render(Format::Junit);
    let forbidden = |c: char| {
        (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{fffe}' | '\u{ffff}')
    };
    assert!(!junit.chars().any(forbidden), "{junit:?}");
    junit
}

#[cfg(test)]
mod tests {
    /// The fuzz target's seeds, through the same assertions, and the JUnit
    /// report through an XML parser.
    #[test]
    fn the_output_boundary_seeds_hold() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/seeds/output_boundary");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).expect("the seeds are in the repository") {
            let data = std::fs::read(entry.unwrap().path()).unwrap();
            let Some(junit) = super::check(&data) else {
                continue;
            };
            let mut reader = quick_xml::Reader::from_str(&junit);
            loop {
                match reader.read_event() {
                    Ok(quick_xml::events::Event::Eof) => break,
                    Ok(_) => {}
                    Err(e) => panic!("JUnit is not well-formed ({e}): {junit}"),
                }
            }
            seen += 1;
        }
        assert!(seen >= 8, "only {seen} seeds");
    }
}
