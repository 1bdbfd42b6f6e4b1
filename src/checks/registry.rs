//! The registry chain: login server → DNS → TLS → challenge → refresh token
//! → access token, each step feeding the next, over one connection. The
//! Azure AD token is requested at the start, alongside the network steps,
//! since nothing about it depends on them.

use super::challenge::{self, Bearer};
use super::{cmk, dns, login_server, tls, token, CheckId};
use crate::azure::credential::{CredentialSetup, NoCredential, ACR_SCOPE};
use crate::net::client::Client;
use crate::net::connection::Session;
use crate::net::dns::Resolver;
use crate::pipeline::Ctx;
use crate::report::CheckResult;

const CHAIN: [CheckId; 6] = [
    CheckId::LoginServer,
    CheckId::Dns,
    CheckId::Tls,
    CheckId::Challenge,
    CheckId::RefreshToken,
    CheckId::AccessToken,
];

/// The chain after `id`.
fn after(id: CheckId) -> &'static [CheckId] {
    let at = CHAIN.iter().position(|c| *c == id).unwrap_or(CHAIN.len());
    &CHAIN[(at + 1).min(CHAIN.len())..]
}

/// Runs one step of the chain: skipped (and the rest with it) when the user
/// skipped it; the rest skipped with `reason` when it yields nothing.
macro_rules! step {
    ($ctx:expr, $id:expr, $reason:expr, $work:expr) => {{
        let id: CheckId = $id;
        if !$ctx.wants(id) {
            if $ctx.user_skip(id).is_some() {
                $ctx.skip_all(
                    after(id),
                    &format!("needs the {} check, which was skipped", id.as_str()),
                );
            }
            return;
        }
        match $ctx.check(id, $work).await {
            None => return,
            Some(None) => {
                $ctx.skip_all(after(id), $reason);
                return;
            }
            Some(Some(v)) => v,
        }
    }};
}

/// Aborts the background credential lookup when the chain ends early.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub async fn run(ctx: &Ctx) {
    let Some(reg) = &ctx.config.registry else {
        return;
    };
    ctx.record(cmk::check());
    let timeout = ctx.config.timeout;

    let wants_aad = reg.password.is_none()
        && ctx.user_skip(CheckId::RefreshToken).is_none()
        && ctx.user_skip(CheckId::AccessToken).is_none();
    let aad_task = wants_aad.then(|| {
        let setup = CredentialSetup {
            mode: reg.auth,
            cloud: reg.target.cloud.clone(),
            client: Client::new(reg.tls.clone(), timeout),
            timeout,
            env_secret: None,
        };
        tokio::spawn(async move { setup.aad_token(ACR_SCOPE).await })
    });
    let _abort = aad_task.as_ref().map(|t| AbortOnDrop(t.abort_handle()));

    let ls = step!(ctx, CheckId::LoginServer, "no login server", async {
        login_server::check(&reg.target)
    });
    let addrs = step!(ctx, CheckId::Dns, "DNS lookup failed", async {
        let resolver = match reg.dns_server {
            Some(server) => Resolver::server(server, timeout),
            None => Resolver::system(timeout),
        };
        match resolver {
            Ok(r) => dns::check(&ls.host, &r, timeout).await,
            Err(why) => (
                CheckResult::fail(
                    CheckId::Dns,
                    crate::codes::ErrorCode::ConnectivityDnsError,
                    why,
                ),
                None,
            ),
        }
    });
    let conn = step!(ctx, CheckId::Tls, "no connection to the registry", async {
        tls::check(&ls, &addrs, reg.proxy.as_ref(), &reg.tls, timeout).await
    });
    let mut session = Session::new(conn, addrs, reg.proxy.clone(), reg.tls.clone(), timeout);
    let bearer: Bearer = step!(
        ctx,
        CheckId::Challenge,
        "the registry issued no usable challenge",
        async { challenge::check(&mut session, &ls).await }
    );
    let scope = match &reg.repository {
        Some(repo) => format!("repository:{repo}:pull"),
        None => "registry:catalog:*".to_string(),
    };

    if let Some(login) = &reg.password {
        ctx.record(CheckResult::skip(
            CheckId::RefreshToken,
            "not used with --username/--password: the password grant returns an access token directly",
        ));
        let grant = token::Grant::Password(login);
        step!(ctx, CheckId::AccessToken, "", async {
            (
                token::access_token(&mut session, &bearer, grant, &scope).await,
                Some(()),
            )
        });
        return;
    }

    let refresh = step!(ctx, CheckId::RefreshToken, "no refresh token", async {
        let aad = match aad_task {
            Some(task) => task.await.unwrap_or_else(|_| Err(NoCredential::default())),
            None => Err(NoCredential::default()),
        };
        token::refresh_token(&mut session, &bearer, aad).await
    });
    step!(ctx, CheckId::AccessToken, "", async {
        let grant = token::Grant::Refresh(&refresh);
        (
            token::access_token(&mut session, &bearer, grant, &scope).await,
            Some(()),
        )
    });
}
