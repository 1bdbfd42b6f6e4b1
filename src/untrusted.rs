//! Text that a server, a proxy, a certificate, a DNS answer or an external
//! tool controls. It reaches a terminal only with its control characters
//! made visible, so that it cannot move the cursor, clear the screen, write
//! the clipboard (OSC 52), make hyperlinks (OSC 8), reorder text (bidi
//! overrides) or start a line of its own that looks like a report line.

use serde::Serialize;
use std::borrow::Cow;
use std::fmt::{self, Write};

/// Untrusted text. `Display` shows it on one line with every control
/// character escaped; `raw` is for parsing, and JSON keeps the raw text
/// (serde escapes it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Untrusted(String);

impl Untrusted {
    pub fn new(text: impl Into<String>) -> Untrusted {
        Untrusted(text.into())
    }

    /// Bytes from the outside, decoded leniently.
    pub fn from_bytes(bytes: &[u8]) -> Untrusted {
        Untrusted(String::from_utf8_lossy(bytes).into_owned())
    }

    /// The text as received: for parsing and comparing, never for printing.
    pub fn raw(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The escaped one-line form, as an owned string.
    pub fn shown(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Untrusted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            escape_char(c, true, f)?;
        }
        Ok(())
    }
}

/// Shows untrusted text inline: `format!("{}", inline(s))`.
pub(crate) fn inline(text: &str) -> Untrusted {
    Untrusted::new(text)
}

/// Unicode characters that reorder or hide text without being controls:
/// bidi embeddings, overrides and isolates, and the marks that steer them.
fn is_bidi(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Whether `c` must not reach a terminal as itself.
pub(crate) fn is_hazard(c: char) -> bool {
    // U+2028 and U+2029 end a line in many log viewers, as a line break does.
    c.is_control() || is_bidi(c) || matches!(c, '\u{2028}' | '\u{2029}')
}

fn escape_char(c: char, escape_newline: bool, out: &mut impl Write) -> fmt::Result {
    match c {
        '\n' if !escape_newline => out.write_char('\n'),
        '\n' => out.write_str("\\n"),
        '\r' => out.write_str("\\r"),
        '\t' => out.write_str("\\t"),
        c if (c as u32) < 0x80 && c.is_control() => write!(out, "\\x{:02x}", c as u32),
        c if is_hazard(c) => write!(out, "\\u{{{:x}}}", c as u32),
        c => out.write_char(c),
    }
}

/// The terminal boundary: every control character but the line break made
/// visible. Applied to everything the text report and `--debug` write, so
/// that text which was not marked [`Untrusted`] is still harmless.
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && is_hazard(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        let _ = escape_char(c, false, &mut out);
    }
    Cow::Owned(out)
}

/// Whether `text` could be printed to a terminal as it is (no hazard but
/// line breaks).
pub(crate) fn is_terminal_safe(text: &str) -> bool {
    !text.chars().any(|c| c != '\n' && is_hazard(c))
}

/// Escapes, in place, every string (and key) of a document whose strings
/// are names and identifiers (Resource Manager's), none of which ever holds
/// a control character: whatever is printed from it later is then safe.
pub(crate) fn defang_json(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(s) if !is_terminal_safe(s) || s.contains('\n') => {
            *s = Untrusted::new(s.as_str()).shown();
        }
        Value::Array(items) => items.iter_mut().for_each(defang_json),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (k, mut v) in entries {
                defang_json(&mut v);
                map.insert(Untrusted::new(k).shown(), v);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_bidi_and_line_breaks() {
        let hostile = "a\x1b]52;c;ZXZpbA==\x07b\r\nDNS : OK\u{202e}x\u{9b}2J";
        let shown = inline(hostile).to_string();
        assert_eq!(
            shown,
            "a\\x1b]52;c;ZXZpbA==\\x07b\\r\\nDNS : OK\\u{202e}x\\u{9b}2J"
        );
        assert!(is_terminal_safe(&shown) && !shown.contains('\n'));
    }

    #[test]
    fn the_boundary_keeps_line_breaks_only() {
        assert_eq!(for_terminal("ok\nfine"), "ok\nfine");
        assert_eq!(for_terminal("a\x1b[2Jb\nc\rd"), "a\\x1b[2Jb\nc\\rd");
        assert!(matches!(for_terminal("plain"), Cow::Borrowed(_)));
        assert_eq!(for_terminal("ünïcødé ✓"), "ünïcødé ✓");
    }
}
