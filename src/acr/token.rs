//! The token endpoints' answers and the claims of the tokens.

use crate::secret::Secret;
use base64::Engine;
use serde_json::Value;

/// Why a 200 answer of a token endpoint holds no token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenFieldError {
    /// Nothing of the body is kept: a token cut off by the size limit would
    /// otherwise leak in part.
    #[error("the response is not JSON ({0} bytes)")]
    NotJson(usize),
    #[error("the response has no '{0}'")]
    Missing(String),
    /// The answer was longer than acr-health reads: nothing of it is used.
    #[error(
        "the response is longer than {0} bytes, the most acr-health reads: none of it was used"
    )]
    CutOff(usize),
}

/// `field` of a token endpoint's answer, unless the answer was cut off at
/// the size limit (`cut_off`), which is said as such.
pub(crate) fn answer_field(
    body: &[u8],
    cut_off: bool,
    field: &str,
) -> Result<Secret, TokenFieldError> {
    match cut_off {
        true => Err(TokenFieldError::CutOff(body.len())),
        false => token_field(body, field),
    }
}

/// The field `field` (`refresh_token`, `access_token`) of a token response.
pub fn token_field(body: &[u8], field: &str) -> Result<Secret, TokenFieldError> {
    let doc: Value =
        serde_json::from_slice(body).map_err(|_| TokenFieldError::NotJson(body.len()))?;
    match doc.get(field) {
        Some(Value::String(s)) if !s.is_empty() => Ok(Secret::new(s.clone())),
        _ => Err(TokenFieldError::Missing(field.to_string())),
    }
}

/// The claims of a JWT, without verifying it (the registry does that); `None`
/// when the token is not a JWT.
pub fn jwt_claims(token: &str) -> Option<Value> {
    let mut parts = token.split('.');
    let (_header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims.is_object().then_some(claims)
}

/// The tenant (`tid`) an Azure AD token was issued in.
pub fn tenant_of(token: &str) -> Option<String> {
    jwt_claims(token)?.get("tid")?.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}.sig", b64(r#"{"alg":"none"}"#), b64(claims))
    }

    #[test]
    fn reads_tenant_from_jwt() {
        assert_eq!(
            tenant_of(&jwt(r#"{"tid":"t-1","aud":"x"}"#)).as_deref(),
            Some("t-1")
        );
        assert_eq!(tenant_of("not-a-jwt"), None);
        assert_eq!(tenant_of("a.!!!.c"), None);
    }

    #[test]
    fn token_fields() {
        assert_eq!(
            token_field(br#"{"refresh_token":"r"}"#, "refresh_token")
                .unwrap()
                .expose(),
            "r"
        );
        assert!(token_field(br#"{"refresh_token":""}"#, "refresh_token").is_err());
        assert_eq!(
            token_field(b"<html>", "access_token").unwrap_err(),
            TokenFieldError::NotJson(6)
        );
    }
}
