//! Azure AD's refusals explained: its `AADSTS` error codes, mapped to what
//! happened and what to do, so that "AADSTS7000222" reads as "the client
//! secret has expired: create a new one".

/// What an `AADSTS` code means and what to do about it.
pub(crate) fn explain(code: u32) -> Option<&'static str> {
    Some(match code {
        7000215 => {
            "the client secret is wrong (AZURE_CLIENT_SECRET holds something other than the \
            secret's value, perhaps its id): copy the secret's value again"
        }
        7000222 => {
            "the client secret has expired: create a new one (az ad app credential reset) \
            and update AZURE_CLIENT_SECRET"
        }
        700016 => {
            "no application with this client id exists in the tenant: check AZURE_CLIENT_ID \
            and AZURE_TENANT_ID (the app may live in another tenant, or was deleted)"
        }
        700024 => {
            "the federated token (client assertion) is not within its valid time range: the \
            token file is stale, or this machine's clock is off"
        }
        700027 => {
            "the federated token (client assertion) failed signature validation or does not \
            match a federated credential of the app: check the federated credential's issuer and \
            subject"
        }
        700211 => {
            "no federated credential of the app matches the token's issuer: add one for this \
            cluster's or pipeline's OIDC issuer"
        }
        700213 => {
            "no federated credential of the app matches the token's subject: add one for \
            this service account or pipeline"
        }
        90002 => {
            "the tenant does not exist: check AZURE_TENANT_ID (or the cloud: a tenant of \
            another Azure cloud is not found here)"
        }
        50001 => {
            "the requested resource is not found in the tenant: the cloud's endpoints do not \
            match this tenant (check --cloud and az cloud show)"
        }
        53003 => {
            "Conditional Access blocked the sign-in (a policy on device, location or risk): \
            ask the tenant's admins, or use a credential the policy allows"
        }
        700082 => "the refresh token has expired from inactivity: run az login again",
        50076 | 50079 => "multi-factor authentication is required: run az login interactively",
        50173 | 50133 => {
            "the credentials changed (a password reset) and the old session is no \
            longer valid: run az login again"
        }
        _ => return None,
    })
}

/// The first `AADSTS<number>` in `text`, explained: the code and its meaning.
pub(crate) fn explain_in(text: &str) -> Option<(u32, &'static str)> {
    text.match_indices("AADSTS").find_map(|(at, _)| {
        let digits: String = text[at + 6..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        let code = digits.parse().ok()?;
        Some((code, explain(code)?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_explains_the_code() {
        let (code, why) = explain_in(
            "ClientSecretCredential: AADSTS7000222: The provided client secret keys are expired.",
        )
        .unwrap();
        assert_eq!(code, 7000222);
        assert!(why.contains("expired"));
        assert_eq!(explain_in("AADSTS123456789: something else"), None);
        assert_eq!(explain_in("no code here"), None);
    }
}
