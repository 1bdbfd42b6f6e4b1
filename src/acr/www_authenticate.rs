//! Parsing `WWW-Authenticate` (RFC 7235): one or more challenges, each a
//! scheme followed by `key=value` parameters (quoted or not). Never panics,
//! whatever the server sends.

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// The scheme in lower case: `bearer`, `basic`, …
    pub scheme: String,
    pub params: Vec<(String, String)>,
}

impl Challenge {
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

/// Longest header value considered; a longer one is cut (and the cut
/// reported by the caller) rather than parsed at length.
pub const MAX_HEADER: usize = 8 * 1024;

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Parses every challenge in `header`.
pub fn parse(header: &str) -> Vec<Challenge> {
    let header: String = header.chars().take(MAX_HEADER).collect();
    let chars: Vec<char> = header.chars().collect();
    let mut i = 0;
    let mut out: Vec<Challenge> = Vec::new();
    let skip_ws = |i: &mut usize| {
        while *i < chars.len() && (chars[*i].is_whitespace() || chars[*i] == ',') {
            *i += 1;
        }
    };
    let read_token = |i: &mut usize| {
        let start = *i;
        while *i < chars.len() && is_token_char(chars[*i]) {
            *i += 1;
        }
        chars[start..*i].iter().collect::<String>()
    };
    loop {
        skip_ws(&mut i);
        if i >= chars.len() {
            break;
        }
        let word = read_token(&mut i);
        if word.is_empty() {
            // Not a token character: skip it so the loop always advances.
            i += 1;
            continue;
        }
        // Spaces, then '=' means this word is a parameter of the current challenge.
        let mut j = i;
        while j < chars.len() && chars[j] == ' ' {
            j += 1;
        }
        if j < chars.len() && chars[j] == '=' && !out.is_empty() {
            i = j + 1;
            while i < chars.len() && chars[i] == ' ' {
                i += 1;
            }
            let value = if i < chars.len() && chars[i] == '"' {
                i += 1;
                let mut v = String::new();
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                    }
                    v.push(chars[i]);
                    i += 1;
                }
                i += 1; // closing quote (or end)
                v
            } else {
                let start = i;
                while i < chars.len() && chars[i] != ',' && !chars[i].is_whitespace() {
                    i += 1;
                }
                chars[start..i].iter().collect()
            };
            if let Some(current) = out.last_mut() {
                current.params.push((word.to_ascii_lowercase(), value));
            }
        } else if j < chars.len() && chars[j] == '=' {
            // A parameter with no scheme before it: skip it.
            i = j + 1;
        } else {
            out.push(Challenge {
                scheme: word.to_ascii_lowercase(),
                params: Vec::new(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_acr_bearer_challenge() {
        let c =
            parse(r#"Bearer realm="https://reg.azurecr.io/oauth2/token",service="reg.azurecr.io""#);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].scheme, "bearer");
        assert_eq!(
            c[0].param("realm"),
            Some("https://reg.azurecr.io/oauth2/token")
        );
        assert_eq!(c[0].param("service"), Some("reg.azurecr.io"));
    }

    #[test]
    fn parses_several_schemes_and_unquoted_values() {
        let c = parse(r#"Basic realm="x", Bearer realm=https://r/oauth2/token, service=r"#);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].scheme, "basic");
        assert_eq!(c[1].param("realm"), Some("https://r/oauth2/token"));
        assert_eq!(c[1].param("service"), Some("r"));
    }

    #[test]
    fn survives_garbage() {
        for h in [
            "",
            "=",
            "\"",
            "Bearer realm=\"unterminated",
            "==,,\"\\",
            "Bearer =x",
            "ñ=ñ, Bearer",
        ] {
            let _ = parse(h);
        }
        assert_eq!(parse("Bearer")[0].params.len(), 0);
        assert_eq!(parse(&"a".repeat(100_000)).len(), 1);
    }
}
