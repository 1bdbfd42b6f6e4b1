//! Secrets: tokens, passwords, client secrets, SAS signatures. A `Secret`
//! never prints itself, and every secret the run learns is remembered so
//! that the output boundaries can mask it by value, in whatever encoding a
//! server or tool echoes it back: raw, percent- or form-encoded (`+` for a
//! space, `%2B`, `%2f`…), JSON-escaped (`\"`, `\/`, `\u0041`…), or a mix.

use std::borrow::Cow;
use std::fmt;
use std::sync::RwLock;

/// What a masked secret is replaced with.
pub const MASK: &str = "****";

/// Values shorter than this are not masked: replacing every `abc` in a
/// report would garble it, and a credential that short is no credential.
const MIN_LEN: usize = 4;

/// JWT segments at least this long are masked on their own too, so that
/// an echo of a token's payload without its signature is still caught.
const MIN_SEGMENT: usize = 16;

static KNOWN: RwLock<Vec<String>> = RwLock::new(Vec::new());

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value` and remembers it for masking.
    pub fn new(value: impl Into<String>) -> Secret {
        let value = value.into();
        remember(&value);
        Secret(value)
    }

    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

/// Remembers `value` (and, for a JWT, its long segments) as a secret to
/// mask in every output, without keeping a `Secret` around.
pub fn remember(value: &str) {
    let value = value.trim();
    let mut parts = vec![value];
    if value.matches('.').count() == 2 {
        parts.extend(value.split('.').filter(|s| s.len() >= MIN_SEGMENT));
    }
    let Ok(mut known) = KNOWN.write() else { return };
    for part in parts {
        if part.chars().count() >= MIN_LEN && !known.iter().any(|k| k == part) {
            known.push(part.to_string());
        }
    }
    // Longest first, so a whole token is masked before one of its segments.
    known.sort_by_key(|k| std::cmp::Reverse(k.len()));
}

/// `text` with every remembered secret, in any of the encodings above,
/// replaced by `****`.
pub fn scrub(text: &str) -> Cow<'_, str> {
    let Ok(known) = KNOWN.read() else {
        return Cow::Borrowed(text);
    };
    scrub_with(text, known.iter().map(String::as_str))
}

/// `text` with each of `secrets` masked (the same matching as [`scrub`]).
pub fn scrub_with<'a, 'b>(text: &'a str, secrets: impl Iterator<Item = &'b str>) -> Cow<'a, str> {
    let mut out = Cow::Borrowed(text);
    for secret in secrets {
        if secret.chars().count() < MIN_LEN {
            continue;
        }
        if let Some(masked) = mask_one(&out, secret) {
            out = Cow::Owned(masked);
        }
    }
    out
}

/// `text` with `secret` masked, or `None` when it does not occur.
fn mask_one(text: &str, secret: &str) -> Option<String> {
    let chars: Vec<char> = secret.chars().collect();
    let first = *chars.first()?;
    let mut lead = [0u8; 4];
    let lead = first.encode_utf8(&mut lead).as_bytes()[0];
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Only these bytes can begin a reading of the first character.
        let may_start = bytes[i] == lead
            || bytes[i] == b'%'
            || bytes[i] == b'\\'
            || (first == ' ' && bytes[i] == b'+');
        if !may_start || !text.is_char_boundary(i) {
            i += 1;
            continue;
        }
        let mut dead = std::collections::HashSet::new();
        match match_from(bytes, i, &chars, &mut dead) {
            Some(end) => {
                out.push_str(&text[copied..i]);
                out.push_str(MASK);
                copied = end;
                i = end;
            }
            None => i += 1,
        }
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

fn match_from(
    text: &[u8],
    j: usize,
    chars: &[char],
    dead: &mut std::collections::HashSet<(usize, usize)>,
) -> Option<usize> {
    let Some((&c, rest)) = chars.split_first() else {
        return Some(j);
    };
    if dead.contains(&(chars.len(), j)) {
        return None;
    }
    for end in char_readings(text, j, c) {
        if let Some(found) = match_from(text, end, rest, dead) {
            return Some(found);
        }
    }
    dead.insert((chars.len(), j));
    None
}

/// Every position where one reading of character `c` at `j` ends: itself,
/// its UTF-8 bytes percent-encoded (either hex case), `+` for a space, or a
/// JSON escape.
fn char_readings(text: &[u8], j: usize, c: char) -> Vec<usize> {
    let mut utf8 = [0u8; 4];
    let encoded = c.encode_utf8(&mut utf8).as_bytes();
    let mut ends = Vec::new();
    if text.get(j..j + encoded.len()) == Some(encoded) {
        ends.push(j + encoded.len());
    }
    if let Some(end) = match_bytes(text, j, encoded) {
        ends.push(end);
    }
    if c == ' ' && text.get(j) == Some(&b'+') {
        ends.push(j + 1);
    }
    if let Some(end) = match_json_escape(text, j, c) {
        ends.push(end);
    }
    ends.dedup();
    ends
}

/// Every byte as `%XX`.
fn match_bytes(text: &[u8], mut j: usize, bytes: &[u8]) -> Option<usize> {
    for &b in bytes {
        if text.get(j) == Some(&b'%') && hex_byte(text.get(j + 1..j + 3)?) == Some(b) {
            j += 3;
        } else {
            return None;
        }
    }
    Some(j)
}

fn hex_byte(two: &[u8]) -> Option<u8> {
    let s = std::str::from_utf8(two).ok()?;
    u8::from_str_radix(s, 16).ok()
}

fn match_json_escape(text: &[u8], j: usize, c: char) -> Option<usize> {
    if text.get(j) != Some(&b'\\') {
        return None;
    }
    let short = match c {
        '"' => Some(b'"'),
        '\\' => Some(b'\\'),
        '/' => Some(b'/'),
        '\n' => Some(b'n'),
        '\r' => Some(b'r'),
        '\t' => Some(b't'),
        '\u{8}' => Some(b'b'),
        '\u{c}' => Some(b'f'),
        _ => None,
    };
    if short.is_some() && text.get(j + 1).copied() == short {
        return Some(j + 2);
    }
    let mut units = [0u16; 2];
    let mut k = j;
    for unit in c.encode_utf16(&mut units).iter() {
        if text.get(k..k + 2) != Some(b"\\u") {
            return None;
        }
        let hex = std::str::from_utf8(text.get(k + 2..k + 6)?).ok()?;
        if u16::from_str_radix(hex, 16).ok()? != *unit {
            return None;
        }
        k += 6;
    }
    Some(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(text: &str, secret: &str) -> String {
        scrub_with(text, [secret].into_iter()).into_owned()
    }

    #[test]
    fn masks_every_encoding() {
        let s = "p@ss w+rd/\"é";
        for echo in [
            "p@ss w+rd/\"é",
            "p%40ss+w%2Brd%2F%22%C3%A9",
            "p%40ss%20w%2brd%2f%22%c3%a9",
            r#"p@ss w+rd\/\"\u00e9"#,
            r#"p@ss w+rd/\"\u00E9"#,
            "p%40ss w+rd/\"é",
        ] {
            assert_eq!(masked(&format!("x={echo}&y"), s), "x=****&y", "{echo}");
        }
        assert_eq!(masked("nothing here", s), "nothing here");
    }

    #[test]
    fn reads_overlapping_encodings_of_backslash_and_percent() {
        let s = r"a\b%c+d";
        for echo in [r"a\b%c+d", r"a\\b%c+d", "a%5Cb%25c%2Bd", r"a\\b%25c+d"] {
            assert_eq!(masked(&format!("[{echo}]"), s), "[****]", "{echo}");
        }
    }

    #[test]
    fn masks_jwt_segments_and_ignores_short_values() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiJ0ZW5hbnQtaWQtMTIzIn0.c2lnbmF0dXJlLXZhbHVl";
        remember(jwt);
        let payload = jwt.split('.').nth(1).unwrap();
        assert_eq!(scrub(&format!("echo {jwt} end")), "echo **** end");
        assert_eq!(scrub(&format!("only {payload}")), "only ****");
        assert_eq!(masked("abc abc", "abc"), "abc abc");
    }

    #[test]
    fn debug_never_shows_the_value() {
        assert_eq!(format!("{:?}", Secret::new("hunter22")), "Secret(****)");
    }
}
