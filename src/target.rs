//! Which registry is checked and at which login server: name rules as az
//! applies them, the cloud's suffix, `--login-server`.

use crate::azure::cloud::Cloud;
use serde::Serialize;

/// Where the login server that was checked came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LoginServerSource {
    /// `properties.loginServer` read from Azure Resource Manager.
    Arm,
    /// The registry name plus the cloud's login server suffix.
    Suffix,
    /// `--login-server`.
    Flag,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LoginServer {
    pub host: String,
    pub port: u16,
    pub source: LoginServerSource,
}

impl LoginServer {
    /// `host` or `host:port` (the port only when it is not 443).
    pub(crate) fn authority(&self) -> String {
        crate::net::origin::authority(&self.host, self.port)
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub name: String,
    pub cloud: Cloud,
    /// Why no login server could be formed (LOGIN_SERVER_ERROR) when `Err`.
    pub login_server: Result<LoginServer, String>,
    /// One-line notes about how the input was read.
    pub notes: Vec<String>,
}

/// What `-n` names: the registry, and the login server when `-n` was one.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Named {
    pub name: String,
    /// `-n name-hash.azurecr.io`: a login server with a domain name label
    /// hash, which name + suffix would not give.
    pub login_server: Option<String>,
    pub note: Option<String>,
}

/// Az's message for a name it refuses.
const BAD_NAME: &str =
    "Registry names may contain only alpha numeric characters and must be between 5 and 50 \
        characters";

/// Validates `-n` as az does (azure-cli 2.91 `validate_registry_name`): 5–50
/// letters or digits; a login server of the current cloud is accepted, with
/// a domain name label hash (`myregistry-abc123.azurecr.io`) or without, and
/// trimmed to the registry name with a note; a hyphen without the suffix is
/// refused.
pub(crate) fn parse_name(input: &str, cloud: &Cloud) -> Result<Named, String> {
    let raw = input.trim();
    let (label, suffix) = match raw.split_once('.') {
        Some((l, rest)) => (l, Some(format!(".{rest}"))),
        None => (raw, None),
    };
    let hash_at = label.find('-');
    let mut named = Named {
        name: label.to_string(),
        login_server: None,
        note: None,
    };
    match (&suffix, &cloud.acr_suffix) {
        (None, _) if hash_at.is_some() => return Err(format!("'{raw}': {BAD_NAME}")),
        (None, _) => {}
        (Some(given), Some(ours)) if given.eq_ignore_ascii_case(ours) => {
            if let Some(at) = hash_at {
                // The hash is letters and digits, and the whole a host name.
                let hash = &label[at + 1..];
                if hash.is_empty() || !hash.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(format!("'{raw}': {BAD_NAME}"));
                }
                let (host, _) = parse_login_server(raw)?;
                named.name = label[..at].to_string();
                named.login_server = Some(host);
            }
            named.note = Some(format!(
                "'{raw}' is a login server; checking registry '{}'",
                named.name
            ));
        }
        (Some(given), _) => {
            let lower = given.to_ascii_lowercase();
            return Err(match Cloud::owning_suffix(&lower) {
                Some(other) if other.name != cloud.name => format!(
                    "'{raw}' is a registry of {} but the current cloud is {} (use --cloud {})",
                    other.name, cloud.name, other.name
                ),
                _ => format!(
                    "'{raw}' is not a registry name: {BAD_NAME} (use --login-server for another \
                        host)"
                ),
            });
        }
    }
    let len = named.name.chars().count();
    if !named.name.chars().all(|c| c.is_ascii_alphanumeric()) || !(5..=50).contains(&len) {
        return Err(format!("'{raw}': {BAD_NAME}"));
    }
    Ok(named)
}

/// Parses `--login-server HOST[:PORT]`: a host name or IP address, no
/// scheme, no path.
pub(crate) fn parse_login_server(input: &str) -> Result<(String, u16), String> {
    let s = input.trim();
    if s.contains("://") {
        return Err(format!(
            "'{input}' must be a host name, not a URL (drop the scheme)"
        ));
    }
    if s.contains('/') || s.contains('?') || s.contains('#') {
        return Err(format!("'{input}' must be HOST[:PORT] without a path"));
    }
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("'{input}' has an unclosed '['"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(format!("'{input}' is not HOST[:PORT]")),
        };
        (h.to_string(), port)
    } else if s.matches(':').count() > 1 {
        (s.to_string(), None)
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (s.to_string(), None),
        }
    };
    let port = match port {
        None => 443,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("'{input}' has an invalid port '{p}'"))?,
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let is_ip = host.parse::<std::net::IpAddr>().is_ok();
    let valid_name = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    if !is_ip && !valid_name {
        return Err(format!("'{input}' is not a valid host name"));
    }
    Ok((host, port))
}

/// Resolves what to check from the validated inputs. `name` is `None` only
/// when `--login-server` is given alone: a registry of the cloud is then
/// named as az names it (the first label, without a hash suffix), any other
/// host by the login server itself.
pub(crate) fn resolve(
    name: Option<&str>,
    login_server: Option<&str>,
    cloud: Cloud,
) -> Result<Target, String> {
    let mut notes = Vec::new();
    let flag = login_server.map(parse_login_server).transpose()?;
    let (name, named_login_server) = match (name, &flag) {
        (Some(n), _) => {
            let named = parse_name(n, &cloud)?;
            notes.extend(named.note);
            (named.name, named.login_server)
        }
        (None, Some((host, port))) => (name_of_login_server(host, *port, &cloud), None),
        (None, None) => return Err("no registry name given".to_string()),
    };
    let login_server = match (flag, named_login_server) {
        (Some((host, port)), _) => Ok(LoginServer {
            host,
            port,
            source: LoginServerSource::Flag,
        }),
        // The login server named with -n stands in for name + suffix.
        (None, Some(host)) => Ok(LoginServer {
            host,
            port: 443,
            source: LoginServerSource::Suffix,
        }),
        (None, None) => match &cloud.acr_suffix {
            Some(suffix) => Ok(LoginServer {
                host: format!("{}{suffix}", name.to_ascii_lowercase()),
                port: 443,
                source: LoginServerSource::Suffix,
            }),
            None => Err(format!(
                "the cloud '{}' has no registry login server suffix (see 'az cloud show -n {}'), \
                    so no login server can be formed for '{name}'; pass --login-server",
                cloud.name, cloud.name
            )),
        },
    };
    Ok(Target {
        name,
        cloud,
        login_server,
        notes,
    })
}

/// The registry a login server given alone stands for.
fn name_of_login_server(host: &str, port: u16, cloud: &Cloud) -> String {
    if cloud.is_registry_host(host) == Some(true) {
        let label = host.split('.').next().unwrap_or(host);
        return label.split('-').next().unwrap_or(label).to_string();
    }
    LoginServer {
        host: host.to_string(),
        port,
        source: LoginServerSource::Flag,
    }
    .authority()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn azure() -> Cloud {
        Cloud::builtin("AzureCloud").unwrap()
    }

    #[test]
    fn registry_names() {
        assert_eq!(
            parse_name("myregistry", &azure()).unwrap().name,
            "myregistry"
        );
        let named = parse_name("MyRegistry.azurecr.io", &azure()).unwrap();
        assert_eq!(named.name, "MyRegistry");
        assert!(named.note.unwrap().contains("login server"));
        let hashed = parse_name("myregistry-abc123.azurecr.io", &azure()).unwrap();
        assert_eq!(hashed.name, "myregistry");
        assert_eq!(
            hashed.login_server.as_deref(),
            Some("myregistry-abc123.azurecr.io")
        );
        for bad in [
            "my-registry",
            "my-reg-abc123",
            "abcd",
            &"a".repeat(51),
            "my_registry",
            "-abcde",
            "my registry",
            "",
        ] {
            assert!(parse_name(bad, &azure()).is_err(), "{bad} accepted");
        }
        let err = parse_name("myregistry.azurecr.cn", &azure()).unwrap_err();
        assert!(err.contains("--cloud AzureChinaCloud"), "{err}");
        assert!(parse_name("myregistry.example.com", &azure()).is_err());
    }

    #[test]
    fn login_servers() {
        assert_eq!(
            parse_login_server("reg.azurecr.io").unwrap(),
            ("reg.azurecr.io".into(), 443)
        );
        assert_eq!(
            parse_login_server("reg.local:5443").unwrap(),
            ("reg.local".into(), 5443)
        );
        assert_eq!(
            parse_login_server("127.0.0.1:8443").unwrap(),
            ("127.0.0.1".into(), 8443)
        );
        assert_eq!(
            parse_login_server("[::1]:8443").unwrap(),
            ("::1".into(), 8443)
        );
        for bad in [
            "https://reg.azurecr.io",
            "reg.azurecr.io/v2",
            "reg:0",
            "reg:99999",
            "reg:x",
            "bad_host",
            "",
        ] {
            assert!(parse_login_server(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn login_server_from_suffix_or_flag() {
        let t = resolve(Some("MyReg1"), None, azure()).unwrap();
        assert_eq!(t.login_server.unwrap().authority(), "myreg1.azurecr.io");
        let t = resolve(None, Some("edge.local:8443"), azure()).unwrap();
        assert_eq!(t.name, "edge.local:8443");
        let t = resolve(None, Some("myreg1-abc123.azurecr.io"), azure()).unwrap();
        assert_eq!(t.name, "myreg1");
        assert_eq!(t.login_server.unwrap().source, LoginServerSource::Flag);
        let custom = Cloud {
            name: "Stack".into(),
            acr_suffix: None,
            resource_manager: None,
            authority: None,
            arm_audience: None,
        };
        assert!(resolve(Some("myreg1"), None, custom)
            .unwrap()
            .login_server
            .is_err());
    }
}
