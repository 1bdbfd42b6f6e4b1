//! Secrets: tokens, passwords, client secrets, SAS signatures. A `Secret`
//! never prints itself, and every secret the run learns is remembered so
//! that the output boundaries can mask it by value, in whatever encoding a
//! server or tool echoes it back: raw, percent- or form-encoded (`+` for a
//! space, `%2B`, `%2f`…), JSON-escaped (`\"`, `\/`, `\u0041`…), a form
//! quoted in JSON, or raw characters among encoded ones. Each encoding is
//! decoded once into a view of the text in which the secret is searched
//! plainly, so masking takes linear time whatever a server sends.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, RwLock};

/// What a masked secret is replaced with.
pub(crate) const MASK: &str = "****";

/// Values shorter than this are not searched for in free text: replacing
/// every `true`, `fail` or `pass` would garble the report (a token or a
/// signature can be that short, a proxy password often is). Shorter secrets
/// are masked where they are known to sit: their own field, credential
/// headers and query parameters, form fields, a proxy URL's userinfo.
const MIN_LEN: usize = 8;

/// JWT segments at least this long are masked on their own too, so that
/// an echo of a token's payload without its signature is still caught.
const MIN_SEGMENT: usize = 16;

static KNOWN: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// The needles of the known secrets, made once for each new secret rather
/// than at every masking (tokens are kilobytes, and every line is masked).
static NEEDLES: RwLock<Option<Arc<Needles>>> = RwLock::new(None);

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
pub(crate) fn remember(value: &str) {
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
    if let Ok(mut needles) = NEEDLES.write() {
        *needles = None;
    }
}

/// `text` with every remembered secret, in any of the encodings above,
/// replaced by `****`.
pub(crate) fn scrub(text: &str) -> Cow<'_, str> {
    let cached = NEEDLES.read().ok().and_then(|n| n.clone());
    let needles = match cached {
        Some(needles) => needles,
        None => {
            let Ok(known) = KNOWN.read() else {
                return Cow::Borrowed(text);
            };
            let needles = Arc::new(Needles::of(known.iter().map(String::as_str)));
            if let Ok(mut slot) = NEEDLES.write() {
                *slot = Some(needles.clone());
            }
            needles
        }
    };
    needles.scrub(text)
}

/// `text` with each of `secrets` masked (the same matching as [`scrub`]).
pub fn scrub_with<'a, 'b>(text: &'a str, secrets: impl Iterator<Item = &'b str>) -> Cow<'a, str> {
    Needles::of(secrets).scrub(text)
}

/// What masking searches for: each secret as it is, and as it reads inside
/// base64 or hex, itself and in the form encoding it is sent in.
struct Needles {
    plain: Vec<memchr::memmem::Finder<'static>>,
    encoded: Vec<(memchr::memmem::Finder<'static>, Encoded)>,
}

impl Needles {
    fn of<'b>(secrets: impl Iterator<Item = &'b str>) -> Needles {
        let secrets: Vec<&str> = secrets.filter(|s| s.chars().count() >= MIN_LEN).collect();
        // A secret is sent form-encoded; an echo may base64 or hex that form.
        let forms: Vec<String> = secrets
            .iter()
            .map(|s| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>())
            .filter(|f| !secrets.contains(&f.as_str()))
            .collect();
        let encoded = secrets
            .iter()
            .copied()
            .chain(forms.iter().map(String::as_str))
            .flat_map(Encoded::of)
            .map(|e| (memchr::memmem::Finder::new(&e.needle).into_owned(), e))
            .collect();
        Needles {
            plain: secrets
                .iter()
                .map(|s| memchr::memmem::Finder::new(s.as_bytes()).into_owned())
                .collect(),
            encoded,
        }
    }

    fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.plain.is_empty() {
            return Cow::Borrowed(text);
        }
        let ranges = self.find(text);
        if ranges.is_empty() {
            return Cow::Borrowed(text);
        }
        Cow::Owned(mask_ranges(text, ranges))
    }

    /// Where in `text` any needle is found, in any view of it.
    fn find(&self, text: &str) -> Vec<std::ops::Range<usize>> {
        let mut ranges = Vec::new();
        let mut base64_hits = Vec::new();
        for view in View::ALL {
            let (decoded, map) = view.decode(text.as_bytes());
            // Whitespace is left out of this view only for what is encoded
            // (base64 broken into lines or groups); a plain secret is never
            // matched across spaces.
            if !matches!(view, View::Compact) {
                for finder in &self.plain {
                    let len = finder.needle().len();
                    for at in finder.find_iter(&decoded) {
                        ranges.push(map[at]..map[at + len]);
                    }
                }
            }
            for (finder, e) in &self.encoded {
                let len = finder.needle().len();
                for at in finder.find_iter(&decoded) {
                    // Where the view left whitespace out, the next byte kept
                    // may lie past some: the match ends at its own last byte.
                    let end = match view {
                        View::Compact => escape_end(text.as_bytes(), map[at + len - 1]),
                        _ => map[at + len],
                    };
                    let found = map[at]..end;
                    match e.base64 {
                        true => base64_hits.push((found, e.spills)),
                        false => ranges.push(found),
                    }
                }
            }
        }
        ranges.extend(widen_all(text.as_bytes(), base64_hits));
        ranges
    }
}

/// Where the character that starts at `i` ends: a JSON escape (`\/`,
/// `\u002f`) is more than one byte.
fn escape_end(text: &[u8], i: usize) -> usize {
    match (text.get(i), text.get(i + 1)) {
        (Some(b'\\'), Some(b'u')) => (i + 6).min(text.len()),
        (Some(b'\\'), Some(_)) => i + 2,
        _ => (i + 1).min(text.len()),
    }
}

/// Base64 matches widened to the whole run of base64 characters around
/// each, so that the characters shared with the secret's neighbours (up to
/// two bytes of it) are masked too (a match found across whitespace is
/// widened within its own run of characters only). In linear time: a match
/// already inside a widened run costs nothing, and no character is scanned
/// twice, however many matches a hostile body packs into one run.
fn widen_all(
    text: &[u8],
    mut hits: Vec<(std::ops::Range<usize>, Spills)>,
) -> Vec<std::ops::Range<usize>> {
    hits.sort_by_key(|(r, _)| r.start);
    let mut out = Vec::new();
    let mut covered = 0;
    for (found, spills) in hits {
        if found.end <= covered {
            continue;
        }
        let floor = covered.min(found.start);
        let spans_space = (found.start..found.end).any(|j| space_at(text, j, false).is_some());
        let left = (floor..found.start)
            .rev()
            .take_while(|&j| base64_at(text, j))
            .count();
        let right = (found.end..text.len())
            .take_while(|&j| base64_at(text, j))
            .count();
        let (mut start, mut end) = (found.start - left, found.end + right);
        // A match across line breaks or groups: the neighbouring group
        // that shares some of the secret's bytes is masked too.
        // (The group is the 4 characters next to the match: those its own
        // run holds are already taken.)
        // A line break just outside the match counts too (MIME lines).
        if spills.before && left < 4 && (spans_space || line_break(text, start, true)) {
            start = across_space(text, start, floor, true, 4 - left);
        }
        if spills.after && right < 4 && (spans_space || line_break(text, end, false)) {
            end = across_space(text, end, text.len(), false, 4 - right);
        }
        let widened = start..end;
        covered = widened.end;
        out.push(widened);
    }
    out
}

/// A secret as it reads inside base64 or hex: a server that echoes a
/// request echoes `Proxy-Authorization: Basic base64(user:pass)`, and a
/// tool may print a credential hex-encoded.
struct Encoded {
    needle: Vec<u8>,
    base64: bool,
    /// Bytes of the secret lie in the base64 group before the needle (the
    /// alignment dropped some) or after it (its length is not a multiple
    /// of three).
    spills: Spills,
}

#[derive(Clone, Copy, Default)]
struct Spills {
    before: bool,
    after: bool,
}

/// Base64 needles shorter than this are not searched: they would match
/// ordinary words.
const MIN_ENCODED: usize = 8;

impl Encoded {
    /// Base64 of the secret's bytes at each of the three alignments it can
    /// have inside a longer encoded text (the characters that depend on the
    /// secret alone), in both alphabets; and its hex, in both cases.
    fn of(secret: &str) -> Vec<Encoded> {
        use base64::Engine;
        let bytes = secret.as_bytes();
        let mut out = Vec::new();
        for skip in 0..3.min(bytes.len()) {
            let rest = &bytes[skip..];
            let whole = &rest[..rest.len() / 3 * 3];
            for engine in [
                &base64::engine::general_purpose::STANDARD_NO_PAD,
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            ] {
                let needle = engine.encode(whole).into_bytes();
                if needle.len() >= MIN_ENCODED && !out.iter().any(|e: &Encoded| e.needle == needle)
                {
                    out.push(Encoded {
                        needle,
                        base64: true,
                        spills: Spills {
                            before: skip > 0,
                            after: !rest.len().is_multiple_of(3),
                        },
                    });
                }
            }
        }
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        out.push(Encoded {
            needle: hex.to_ascii_uppercase().into_bytes(),
            base64: false,
            spills: Spills::default(),
        });
        out.push(Encoded {
            needle: hex.into_bytes(),
            base64: false,
            spills: Spills::default(),
        });
        out
    }
}

/// From a run's edge `at`, over whitespace and then at most `want` base64
/// characters (what is left of the group that shares the secret's bytes),
/// not past `bound`; `at` itself when no such character follows.
fn across_space(text: &[u8], at: usize, bound: usize, leftwards: bool, want: usize) -> usize {
    let next = |i: usize| -> Option<usize> {
        match leftwards {
            true => i.checked_sub(1).filter(|&j| j >= bound),
            false => (i < bound).then_some(i),
        }
    };
    let advance = |j: usize| if leftwards { j } else { j + 1 };
    let mut i = at;
    while let Some(width) = next(i).and_then(|j| space_at(text, j, leftwards)) {
        i = match leftwards {
            true => i - width,
            false => i + width,
        };
        if (leftwards && i < bound) || (!leftwards && i > bound) {
            return at;
        }
    }
    let spaced = i;
    for _ in 0..want {
        match next(i).filter(|&j| base64_at(text, j)) {
            Some(j) => i = advance(j),
            None => break,
        }
    }
    if i == spaced {
        at
    } else {
        i
    }
}

/// Whether the byte at `j` is a base64 character (either alphabet; `%` of a
/// percent-encoded one) and not the letter of an escape such as `\n`: a
/// mask must never split an escape.
fn base64_at(text: &[u8], j: usize) -> bool {
    let b = text[j];
    (b.is_ascii_alphanumeric() || b"+/-_=%".contains(&b)) && !(j > 0 && text[j - 1] == b'\\')
}

/// Whether a line break (or its JSON escape) is next to `at`: before it
/// when reading `leftwards`, else at it.
fn line_break(text: &[u8], at: usize, leftwards: bool) -> bool {
    let is_break = |b: Option<&u8>| matches!(b, Some(b'\n' | b'\r'));
    let escaped =
        |i: usize| text.get(i) == Some(&b'\\') && matches!(text.get(i + 1), Some(b'n' | b'r'));
    match leftwards {
        true => at > 0 && (is_break(text.get(at - 1)) || (at > 1 && escaped(at - 2))),
        false => is_break(text.get(at)) || escaped(at),
    }
}

/// The width of the whitespace at `j`, or ending at `j` when reading
/// `leftwards`: a space or line break, or its JSON escape (`\n`, `\r`, `\t`).
fn space_at(text: &[u8], j: usize, leftwards: bool) -> Option<usize> {
    if text.get(j)?.is_ascii_whitespace() {
        return Some(1);
    }
    let escape = |at: usize| {
        text.get(at) == Some(&b'\\') && matches!(text.get(at + 1), Some(b'n' | b'r' | b't'))
    };
    match leftwards {
        true => (j > 0 && escape(j - 1)).then_some(2),
        false => escape(j).then_some(2),
    }
}

/// `text` with each of `ranges` (byte offsets, possibly overlapping)
/// replaced by one mask.
fn mask_ranges(text: &str, mut ranges: Vec<std::ops::Range<usize>>) -> String {
    ranges.sort_by_key(|r| r.start);
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for r in ranges {
        if r.end <= copied {
            continue;
        }
        let mut start = r.start.max(copied);
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = r.end;
        while !text.is_char_boundary(end) {
            end += 1;
        }
        if start >= copied {
            out.push_str(&text[copied..start]);
            out.push_str(MASK);
        }
        copied = end;
    }
    out.push_str(&text[copied..]);
    out
}

/// One way of reading text back into what was encoded: each is a plain
/// decoding, so a secret is found in it by plain (linear) search.
#[derive(Clone, Copy)]
enum View {
    Raw,
    /// `%XX` decoded; `+` stays.
    Percent,
    /// `%XX` decoded and `+` read as a space.
    Form,
    /// JSON string escapes decoded (`\"`, `\/`, `\u00e9`…).
    Json,
    /// JSON escapes, then `%XX` (a URL quoted in JSON).
    JsonPercent,
    /// JSON escapes, then form decoding (a form body quoted in JSON).
    JsonForm,
    /// `%XX` twice: a percent-encoded secret (as this run sends it in a
    /// form body, `~` as `%7E`) that a server percent-encoded again when it
    /// quoted the request back.
    PercentPercent,
    /// `%XX`, then form decoding: a form body quoted back percent-encoded.
    PercentForm,
    /// JSON escapes decoded and ASCII whitespace left out: base64 broken
    /// into MIME lines or groups, also inside a JSON string.
    Compact,
}

impl View {
    const ALL: [View; 9] = [
        View::Raw,
        View::Percent,
        View::Form,
        View::Json,
        View::JsonPercent,
        View::JsonForm,
        View::PercentPercent,
        View::PercentForm,
        View::Compact,
    ];

    /// The decoded bytes, and for each decoded byte (and one past the end)
    /// the offset in `text` where it starts.
    fn decode(self, text: &[u8]) -> (Vec<u8>, Vec<usize>) {
        let identity = || (text.to_vec(), (0..=text.len()).collect());
        match self {
            View::Raw => identity(),
            View::Percent => percent_decode(text, false),
            View::Form => percent_decode(text, true),
            View::Json => json_decode(text),
            View::JsonPercent | View::JsonForm => {
                let (json, map) = json_decode(text);
                let plus_is_space = matches!(self, View::JsonForm);
                then(percent_decode(&json, plus_is_space), &map)
            }
            View::Compact => {
                // After JSON escapes: the line breaks may be `\n`s.
                let (json, map) = json_decode(text);
                then(compact(&json), &map)
            }
            View::PercentPercent | View::PercentForm => {
                let (once, map) = percent_decode(text, false);
                let plus_is_space = matches!(self, View::PercentForm);
                then(percent_decode(&once, plus_is_space), &map)
            }
        }
    }
}

/// A second decoding's bytes, with its offsets carried back through the
/// first decoding's `map` to the original text.
fn then((decoded, inner): (Vec<u8>, Vec<usize>), map: &[usize]) -> (Vec<u8>, Vec<usize>) {
    (decoded, inner.into_iter().map(|i| map[i]).collect())
}

fn compact(text: &[u8]) -> (Vec<u8>, Vec<usize>) {
    let kept = (0..text.len()).filter(|&i| !text[i].is_ascii_whitespace());
    let map: Vec<usize> = kept.chain(std::iter::once(text.len())).collect();
    (map[..map.len() - 1].iter().map(|&i| text[i]).collect(), map)
}

fn hex_byte(two: &[u8]) -> Option<u8> {
    let s = std::str::from_utf8(two).ok()?;
    u8::from_str_radix(s, 16).ok()
}

fn percent_decode(text: &[u8], plus_is_space: bool) -> (Vec<u8>, Vec<usize>) {
    let (mut out, mut map) = (
        Vec::with_capacity(text.len()),
        Vec::with_capacity(text.len() + 1),
    );
    let mut i = 0;
    while i < text.len() {
        map.push(i);
        match (text[i], text.get(i + 1..i + 3).and_then(hex_byte)) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    map.push(text.len());
    (out, map)
}

fn json_decode(text: &[u8]) -> (Vec<u8>, Vec<usize>) {
    let (mut out, mut map) = (
        Vec::with_capacity(text.len()),
        Vec::with_capacity(text.len() + 1),
    );
    let mut i = 0;
    while i < text.len() {
        let (bytes, used) = json_escape_at(text, i).unwrap_or_else(|| (vec![text[i]], 1));
        for b in bytes {
            out.push(b);
            map.push(i);
        }
        i += used;
    }
    map.push(text.len());
    (out, map)
}

/// The bytes a JSON escape at `i` stands for, and its length.
fn json_escape_at(text: &[u8], i: usize) -> Option<(Vec<u8>, usize)> {
    if text.get(i) != Some(&b'\\') {
        return None;
    }
    let simple = match text.get(i + 1)? {
        b'"' => Some(b'"'),
        b'\\' => Some(b'\\'),
        b'/' => Some(b'/'),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'b' => Some(0x08),
        b'f' => Some(0x0c),
        _ => None,
    };
    if let Some(b) = simple {
        return Some((vec![b], 2));
    }
    let unit = |at: usize| -> Option<u16> {
        if text.get(at..at + 2)? != b"\\u" {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(text.get(at + 2..at + 6)?).ok()?, 16).ok()
    };
    let first = unit(i)?;
    let (c, used) = match char::from_u32(u32::from(first)) {
        Some(c) => (c, 6),
        None => {
            let second = unit(i + 6)?;
            let c = char::decode_utf16([first, second]).next()?.ok()?;
            (c, 12)
        }
    };
    let mut buf = [0u8; 4];
    Some((c.encode_utf8(&mut buf).as_bytes().to_vec(), used))
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
    fn masks_a_form_body_quoted_back_percent_encoded() {
        let s = "Qx8Q~SECRET+/=pa ss";
        let form: String = url::form_urlencoded::byte_serialize(s.as_bytes()).collect();
        let sent = format!("grant_type=password&password={form}&x=1");
        let twice: String = url::form_urlencoded::byte_serialize(sent.as_bytes()).collect();
        let percent =
            percent_encoding::utf8_percent_encode(&sent, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        for echo in [twice, percent] {
            let out = masked(&format!("body={echo}"), s);
            assert!(!out.contains("SECRET"), "{out}");
            assert!(out.contains("****"), "{out}");
        }
        let tilde = "Qx8Q%257ESECRET";
        assert_eq!(masked(&format!("[{tilde}]"), "Qx8Q~SECRET"), "[****]");
    }

    #[test]
    fn masks_base64_and_hex_at_every_alignment() {
        use base64::Engine;
        let s = "s3cr3t-pass";
        let std = &base64::engine::general_purpose::STANDARD;
        let url = &base64::engine::general_purpose::URL_SAFE;
        for prefix in ["", "u:", "us:", "user:"] {
            let plain = format!("{prefix}{s}\u{fffd}tail");
            for echo in [std.encode(&plain), url.encode(&plain)] {
                let out = masked(&format!("Proxy-Authorization: Basic {echo} end"), s);
                assert_eq!(out, "Proxy-Authorization: Basic **** end", "{prefix}");
            }
        }
        let hex: String = s.bytes().map(|b| format!("{b:02x}")).collect();
        assert_eq!(masked(&format!("h={hex};"), s), "h=****;");
        assert_eq!(masked(&format!("h={};", hex.to_uppercase()), s), "h=****;");
        assert_eq!(
            masked("Basic dXNlcjpvdGhlcg==", s),
            "Basic dXNlcjpvdGhlcg=="
        );
    }

    #[test]
    fn base64_broken_into_lines_is_masked_and_plain_text_is_not_joined() {
        use base64::Engine;
        let s = "s3cr3t-pass-SECRET";
        let b64 = base64::engine::general_purpose::STANDARD.encode(format!("user:{s} and more"));
        let lines: Vec<String> = b64
            .as_bytes()
            .chunks(8)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        let out = masked(&format!("body:\r\n{}\r\nend", lines.join("\r\n")), s);
        assert!(
            out.starts_with("body:") && out.ends_with("end") && out.contains("****"),
            "{out}"
        );
        // No line that decodes to a piece of the secret is left.
        let engine = base64::engine::general_purpose::STANDARD;
        for line in lines.iter().filter(|l| out.contains(l.as_str())) {
            let bytes = engine.decode(line).unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains("SECR") && !text.contains("pass"),
                "{line} in {out}"
            );
        }
        assert_eq!(masked("s3cr 3t-pass-SECRET", s), "s3cr 3t-pass-SECRET");
        // Whatever the grouping and alignment, no group that holds a byte
        // of the secret is left, and the words around the encoded text stay.
        for prefix in ["a:", "ad:", "adm:", "admin:", "admin:x"] {
            let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{prefix}{s}"));
            // The characters that depend on the prefix's bytes alone.
            let safe = prefix.len() / 3 * 4;
            for width in [4, 5, 7, 8, 76] {
                let grouped: Vec<String> = b64
                    .as_bytes()
                    .chunks(width)
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect();
                for sep in [" ", "\n"] {
                    let text = format!("credentials {} were refused", grouped.join(sep));
                    let out = masked(&text, s);
                    assert!(
                        out.starts_with("credentials ") && out.ends_with(" were refused"),
                        "{out}"
                    );
                    let left: String = out
                        .split_whitespace()
                        .filter(|w| !["credentials", "were", "refused"].contains(w))
                        .collect::<String>()
                        .replace("****", " ");
                    let head = left.split(' ').next().unwrap_or_default();
                    assert!(
                        head.len() <= safe && b64.starts_with(head),
                        "{prefix} {width} {sep:?}: {out}"
                    );
                    assert!(
                        left.trim_start_matches(head).trim().is_empty() || left.contains(' '),
                        "{out}"
                    );
                }
            }
        }
    }

    #[test]
    fn no_byte_of_a_secret_in_mime_lines_can_be_read_back() {
        use base64::Engine;
        let s = "Zq7-SECRETpw-9x";
        let needles = Needles::of([s].into_iter());
        for p in 0..60 {
            let data = format!("{}{s}{}", "X".repeat(p), "Y".repeat(30));
            let flat = base64::engine::general_purpose::STANDARD.encode(&data);
            let lines: Vec<&str> = flat
                .as_bytes()
                .chunks(76)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect();
            for sep in ["\n", "\\n"] {
                let text = format!("DENIED: {} end", lines.join(sep));
                let ranges = needles.find(&text);
                // Which characters of the base64 are still shown.
                let start = "DENIED: ".len();
                let mut shown = Vec::new();
                let mut at = start;
                for line in &lines {
                    for i in at..at + line.len() {
                        shown.push(!ranges.iter().any(|r| r.contains(&i)));
                    }
                    at += line.len() + sep.len();
                }
                for k in p..p + s.len() {
                    let chars = 8 * k / 6..=(8 * k + 7) / 6;
                    let readable = chars
                        .clone()
                        .all(|c| shown.get(c).copied().unwrap_or(false));
                    assert!(!readable, "prefix {p} {sep:?}: byte {} readable", k - p);
                }
            }
        }
    }

    #[test]
    fn a_match_ends_at_its_last_byte_whatever_follows() {
        use base64::Engine;
        let s = "PASSWORD9";
        let b64 = base64::engine::general_purpose::STANDARD.encode(format!("admin:{s}"));
        assert_eq!(
            masked(&format!("credentials {b64} were refused"), s),
            "credentials **** were refused"
        );
        let hex: String = s.bytes().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            masked(&format!("hex {hex} next word"), s),
            "hex **** next word"
        );
        assert_eq!(
            masked(&format!("hex {hex}\nsecond line"), s),
            "hex ****\nsecond line"
        );
        // The same inside JSON, where the line break is an escape.
        assert_eq!(
            masked(&format!(r#""hex {hex}\nsecond line""#), s),
            r#""hex ****\nsecond line""#
        );
        assert_eq!(
            masked(&format!(r#""b64 {b64}\nnext line""#), s),
            r#""b64 ****\nnext line""#
        );
        // A mask never takes the letter of an escape before it.
        assert_eq!(
            masked(&format!(r#""line\n{b64} end""#), s),
            r#""line\n**** end""#
        );
    }

    #[test]
    fn many_base64_matches_in_one_run_take_linear_time() {
        use base64::Engine;
        let s = "refresh-token-SECRET-7f3a9c";
        let one = base64::engine::general_purpose::STANDARD.encode(s.repeat(3));
        let body = one.repeat(1 << 20 >> 6);
        let started = std::time::Instant::now();
        let out = masked(&body, s);
        assert_eq!(out, "****");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn reads_overlapping_encodings_of_backslash_and_percent() {
        let s = r"a\b%c+de";
        for echo in [r"a\b%c+de", r"a\\b%c+de", "a%5Cb%25c%2Bde", r"a\\b%25c+de"] {
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
    fn long_values_are_masked_in_linear_time() {
        let token = "A".repeat(200_000);
        let text = format!("x {token} y {token}{token} z");
        remember(&token);
        let started = std::time::Instant::now();
        let masked = scrub(&text);
        assert!(!masked.contains("AAAA"), "{}", &masked[..200]);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        let odd = format!("{}+", "b".repeat(5000));
        let echo = "b".repeat(100_000);
        let started = std::time::Instant::now();
        assert_eq!(scrub_with(&echo, [odd.as_str()].into_iter()), echo);
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }

    #[test]
    fn debug_never_shows_the_value() {
        assert_eq!(format!("{:?}", Secret::new("hunter22")), "Secret(****)");
    }
}
