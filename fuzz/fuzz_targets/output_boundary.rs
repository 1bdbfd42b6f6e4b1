#![no_main]
//! The output boundary: whatever bytes a server or tool sends, what the
//! terminal gets has no raw control character, no remembered secret
//! survives in any encoding, the JSON report parses and the JUnit report is
//! well-formed XML. The assertions are the library's, so that `cargo test`
//! replays the seeds in `fuzz/seeds/output_boundary/` through them.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(junit) = acr_health::fuzzing::output_boundary(data) else {
        return;
    };
    let mut reader = quick_xml::Reader::from_str(&junit);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("JUnit is not well-formed ({e}): {junit}"),
        }
    }
});
