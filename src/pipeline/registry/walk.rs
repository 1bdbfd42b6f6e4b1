//! One walk along the path to a login server: DNS → TLS → challenge →
//! refresh token → access token, each step waiting on the one before. The
//! results are returned, not recorded: the walk on the expected login
//! server runs while Resource Manager is still being asked, and is thrown
//! away if Resource Manager names another one.

use super::AadToken;
use crate::acr::actions::Action;
use crate::azure::auth::AuthSource;
use crate::azure::credential::{self, CredentialSetup};
use crate::checks::node::audiences::{self, ArmAudience};
use crate::checks::registry::challenge::{self, Bearer};
use crate::checks::registry::{access_token, dns, ip_families, refresh_token, tls};
use crate::checks::result::UsedCredential;
use crate::checks::{CheckId, CheckResult};
use crate::codes::ErrorCode;
use crate::config::RegistryConfig;
use crate::net::connection::SpareSession;
use crate::net::connection::{Connection, Session};
use crate::net::dns::{DnsSetupError, Resolver};
use crate::node::azure_json::{AzureJson, KubeletIdentity};
use crate::pipeline::ctx::Ctx;
use crate::report::Status;
use crate::secret::Secret;
use crate::target::LoginServer;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The steps of a walk, in order: on a node (`--kubelet`) the refresh
/// token comes from the kubelet's exchange.
pub(super) fn steps(ctx: &Ctx) -> [CheckId; 5] {
    let exchange = match ctx.config.node {
        Some(_) => CheckId::NodeExchange,
        None => CheckId::RegistryRefreshToken,
    };
    [
        CheckId::RegistryDns,
        CheckId::RegistryTls,
        CheckId::RegistryChallenge,
        exchange,
        CheckId::RegistryAccessToken,
    ]
}

/// What a walk found, not yet recorded.
pub(super) struct Walk {
    steps: [CheckId; 5],
    pub results: Vec<CheckResult>,
    /// On a node, which audiences the registry takes (`node.audiences`).
    pub audiences: Option<CheckResult>,
    /// The connection and the access token, when every step passed.
    pub authorized: Option<(Session, Secret)>,
    pub facts: Walked,
}

/// What the walk learned that later steps need: the DNS answer (private
/// endpoint routing, the replica the chain points at), a firewall's
/// refusal (explained from the registry's network rules) and how long each
/// step that did not fail took (what its round trips cost on this path).
#[derive(Default)]
pub(super) struct Walked {
    pub resolved: Option<dns::Resolved>,
    pub forbidden: Option<challenge::Forbidden>,
    /// The registry's challenge, for a later token request.
    pub bearer: Option<Bearer>,
    pub took: BTreeMap<CheckId, Duration>,
}

/// What a walk needs besides the login server.
pub(super) struct Along<'a> {
    pub ctx: &'a Ctx,
    pub reg: &'a RegistryConfig,
    pub resolver: &'a Result<Resolver, DnsSetupError>,
    pub aad: &'a AadToken,
    /// On a node (`--kubelet`), its configuration when it could be read.
    pub kubelet: Option<&'a AzureJson>,
    /// Whether the node's credential provider covers the login server.
    pub covered: bool,
    /// A node's service principal, to sign in to Azure AD with when the
    /// registry refuses it.
    pub sign_in: Option<&'a CredentialSetup>,
    /// On a node, the kubelet identity's Resource Manager-audience token.
    pub arm_audience: Option<&'a AadToken>,
}

impl Walk {
    fn new(steps: [CheckId; 5]) -> Walk {
        Walk {
            steps,
            results: Vec::new(),
            audiences: None,
            authorized: None,
            facts: Walked::default(),
        }
    }

    fn push(&mut self, mut r: CheckResult, since: Instant) {
        let took = since.elapsed();
        r.duration = Some(took);
        if r.status != Status::Fail {
            self.facts.took.insert(r.id, took);
        }
        self.results.push(r);
    }

    /// Records a step's result and hands on what it gave; when it gave
    /// nothing to go on, the walk ends there for `reason`.
    fn step_taken<T>(
        &mut self,
        along: &Along,
        (r, since): (CheckResult, Instant),
        gave: Option<T>,
        reason: &str,
    ) -> Option<T> {
        self.push(r, since);
        if gave.is_none() {
            self.halt(along, reason);
        }
        gave
    }

    /// Ends the walk: every step not taken yet is skipped with `reason` (or
    /// as the user asked).
    fn halt(&mut self, along: &Along, reason: &str) {
        for id in &self.steps[self.results.len().min(self.steps.len())..] {
            let why = along
                .ctx
                .user_skip(*id)
                .unwrap_or_else(|| reason.to_string());
            self.results.push(CheckResult::skip(*id, why));
        }
    }

    fn stop(mut self, along: &Along, reason: &str) -> Walk {
        self.halt(along, reason);
        self
    }

    /// Whether the next step runs: when the user skipped it, that is
    /// recorded and the walk ends there.
    fn next_step_wanted(&mut self, along: &Along) -> bool {
        match self.skipped(along) {
            Some(reason) => {
                self.halt(along, &reason);
                false
            }
            None => true,
        }
    }

    /// A step the user skipped: recorded so, and the reason the rest stop.
    fn skipped(&mut self, along: &Along) -> Option<String> {
        let id = *self.steps.get(self.results.len())?;
        let why = along.ctx.user_skip(id)?;
        self.results.push(CheckResult::skip(id, why));
        Some(format!(
            "needs the {} check, which was skipped",
            id.as_str()
        ))
    }
}

/// Walks the whole path to `ls`.
pub(super) async fn walk(along: &Along<'_>, ls: &LoginServer) -> Walk {
    let mut walk = Walk::new(steps(along.ctx));
    let Some(session_and_bearer) = connect(along, ls, &mut walk).await else {
        return walk;
    };
    tokens(along, ls, session_and_bearer, walk).await
}

/// DNS, TLS and the challenge; the session and challenge when they passed.
async fn connect(
    along: &Along<'_>,
    ls: &LoginServer,
    walk: &mut Walk,
) -> Option<(Session, Bearer)> {
    let addrs = lookup(along, ls, walk).await?;
    let conn = tls_connect(along, ls, &addrs, walk).await?;
    let (reg, timeout) = (along.reg, along.ctx.config.timeout);
    let session = Session::new(conn, addrs, reg.proxy.clone(), reg.tls.clone(), timeout);
    challenge(along, ls, session, walk).await
}

/// The DNS step: the addresses to connect to (none through a proxy that
/// resolves the name itself).
async fn lookup(along: &Along<'_>, ls: &LoginServer, walk: &mut Walk) -> Option<Vec<IpAddr>> {
    if !walk.next_step_wanted(along) {
        return None;
    }
    let start = Instant::now();
    let resolver = match along.resolver {
        Ok(r) => r,
        Err(why) => {
            let code = ErrorCode::ConnectivityDnsError;
            let r = CheckResult::fail(CheckId::RegistryDns, code, why.to_string());
            walk.push(r, start);
            walk.halt(along, "DNS lookup failed");
            return None;
        }
    };
    let timeout = along.ctx.config.timeout;
    let (r, resolved) = dns::check(&ls.host, resolver, timeout).await;
    let (r, addrs) = match (resolved, &along.reg.proxy) {
        (None, Some(proxy)) => (dns::through_proxy(r, proxy), Some(Vec::new())),
        (None, None) => (r, None),
        (Some(resolved), _) => {
            let addrs = resolved.addresses.clone();
            walk.facts.resolved = Some(resolved);
            (r, Some(addrs))
        }
    };
    walk.step_taken(along, (r, start), addrs, "DNS lookup failed")
}

/// The TLS step, with each IP family tried alongside.
async fn tls_connect(
    along: &Along<'_>,
    ls: &LoginServer,
    addrs: &[IpAddr],
    walk: &mut Walk,
) -> Option<Connection> {
    if !walk.next_step_wanted(along) {
        return None;
    }
    let (reg, timeout) = (along.reg, along.ctx.config.timeout);
    let start = Instant::now();
    // Each IP family alongside the TLS check: no extra round trip (and
    // none at all through a proxy, which does its own connecting).
    let families = async {
        match reg.proxy {
            Some(_) => None,
            None => ip_families::probe(addrs.to_vec(), ls.port, timeout).await,
        }
    };
    let tls = tls::check(ls, addrs, reg.proxy.as_ref(), &reg.tls, timeout);
    let (families, (r, conn)) = tokio::join!(families, tls);
    let r = ip_families::attach(r, families);
    let r = match reg.proxies.ignored() {
        Some(why) => r.with_note(why),
        None => r,
    };
    let r = match along.ctx.config.az_skips_tls_verification {
        true => tls::az_would_not_verify(r),
        false => r,
    };
    walk.step_taken(along, (r, start), conn, "no connection to the registry")
}

/// The challenge step: the Bearer challenge the token steps answer.
async fn challenge(
    along: &Along<'_>,
    ls: &LoginServer,
    mut session: Session,
    walk: &mut Walk,
) -> Option<(Session, Bearer)> {
    if !walk.next_step_wanted(along) {
        return None;
    }
    let start = Instant::now();
    let (r, answer) = challenge::check(&mut session, ls).await;
    walk.push(r, start);
    match answer {
        challenge::Answer::Bearer(bearer) => Some((session, bearer)),
        other => {
            if let challenge::Answer::Forbidden(forbidden) = other {
                walk.facts.forbidden = Some(forbidden);
            }
            walk.halt(along, "no challenge from the registry");
            None
        }
    }
}

/// What the access token is asked with.
enum Credential {
    Refresh(Secret),
    /// A node's service principal: its id and secret, as containerd sends them.
    Basic,
    /// Nothing: the walk has ended.
    None,
}

/// The token steps; on a node, beside them on a connection of its own,
/// the exchange of the Resource Manager-audience token.
async fn tokens(
    along: &Along<'_>,
    ls: &LoginServer,
    (session, bearer): (Session, Bearer),
    walk: Walk,
) -> Walk {
    let mut walk = walk;
    walk.facts.bearer = Some(bearer.clone());
    let spare = session.spare();
    let audiences = audiences(along, ls, spare, &bearer);
    let (mut walk, audiences) = tokio::join!(
        own_tokens(along, ls, (session, bearer.clone()), walk),
        audiences
    );
    // A comparison says something only beside an exchange that passed.
    let exchanged = walk
        .results
        .iter()
        .any(|r| r.id == CheckId::NodeExchange && r.status == Status::Pass);
    walk.audiences = audiences.map(|r| match exchanged {
        true => r,
        false => CheckResult::skip(
            CheckId::NodeAudiences,
            "the kubelet's own exchange (node.exchange) did not pass: nothing to compare with",
        ),
    });
    walk
}

/// `node.audiences`: the kubelet identity's Resource Manager-audience token
/// exchanged as the provider exchanges, on another connection; `None` off
/// a node or for a service principal.
async fn audiences(
    along: &Along<'_>,
    ls: &LoginServer,
    spare: SpareSession,
    bearer: &Bearer,
) -> Option<CheckResult> {
    let azure = along.kubelet?;
    let KubeletIdentity::Managed(_) = azure.identity else {
        return None;
    };
    let token = along.arm_audience?;
    if let Some(why) = along.ctx.user_skip(CheckId::NodeAudiences) {
        return Some(CheckResult::skip(CheckId::NodeAudiences, why));
    }
    if !along.covered {
        return Some(CheckResult::skip(
            CheckId::NodeAudiences,
            "not tried: the kubelet's credential provider does not cover the registry",
        ));
    }
    // A Resource Manager token goes to none but the cloud's registries, not
    // even to a host --allow-token-to names.
    if along.reg.target.cloud.is_registry_host(&ls.host) != Some(true) {
        return Some(CheckResult::skip(
            CheckId::NodeAudiences,
            format!(
                "not tried: a Resource Manager token goes to none but the registries of the {} \
                cloud, and {} is not one",
                along.reg.target.cloud.name, ls.host
            ),
        ));
    }
    let (token, session) = tokio::join!(token.get(), spare.open());
    let outcome = match (token, session) {
        (Err(_), _) => ArmAudience::NotTried(
            "the instance metadata service gave the kubelet identity no Resource Manager token"
                .into(),
        ),
        (_, Err(e)) => ArmAudience::NotTried(format!("no second connection to the registry: {e}")),
        (Ok(token), Ok(mut session)) => {
            let how = refresh_token::Exchange::Kubelet {
                tenant: &azure.tenant,
            };
            let (r, refresh) =
                refresh_token::refresh_token(&mut session, bearer, Ok(token), how).await;
            audiences::outcome(&r, refresh.is_some())
        }
    };
    Some(audiences::check(outcome))
}

/// The refresh token (or the password grant, or a node's service
/// principal) and the access token.
async fn own_tokens(
    along: &Along<'_>,
    ls: &LoginServer,
    (mut session, bearer): (Session, Bearer),
    mut walk: Walk,
) -> Walk {
    let reg = along.reg;
    let credential = if reg.password.is_some() {
        walk.results.push(CheckResult::skip(
            CheckId::RegistryRefreshToken,
            "not used with --username/--password: the password grant returns an access token \
                directly",
        ));
        Credential::None
    } else if along.ctx.config.node.is_some() {
        kubelet_refresh(along, ls, (&mut session, &bearer), &mut walk).await
    } else {
        match refresh(along, ls, (&mut session, &bearer), &mut walk).await {
            Some(refresh) => Credential::Refresh(refresh),
            None => return walk,
        }
    };
    if !walk.next_step_wanted(along) {
        return walk;
    }
    let sp = match along.kubelet.map(|k| &k.identity) {
        Some(KubeletIdentity::ServicePrincipal { client_id, secret }) => Some((client_id, secret)),
        _ => None,
    };
    let grant = match (&credential, &reg.password, sp) {
        (Credential::Refresh(r), _, _) => access_token::Grant::Refresh(r),
        (_, Some(login), _) => access_token::Grant::Password(login),
        (Credential::Basic, _, Some((username, secret))) => {
            access_token::Grant::Basic { username, secret }
        }
        _ => return walk.stop(along, "no refresh token"),
    };
    let used = used_by(&grant, &walk);
    let start = Instant::now();
    let scope = (scope(along), reg.repository.as_deref());
    let (r, access) =
        access_token::access_token(&mut session, &bearer, grant, (&scope.0, scope.1)).await;
    let r = match used {
        Some(used) => r.with_credential(used),
        None => r,
    };
    let refused = matches!(r.http_status(), Some(401 | 403));
    let r = match (along.sign_in, sp, refused) {
        (Some(setup), Some(_), true) => service_principal_refused(setup, r).await,
        _ => r,
    };
    walk.push(r, start);
    walk.authorized = access.map(|a| (session, a));
    walk
}

/// Why the registry refused a node's service principal: Azure AD's answer
/// to the same id and secret tells an expired or wrong secret (its AADSTS
/// code explained) from a role the identity lacks.
async fn service_principal_refused(setup: &CredentialSetup, r: CheckResult) -> CheckResult {
    match setup.aad_token(credential::ACR_SCOPE).await {
        Ok(_) => r.with_explanation(
            "Azure AD signs the service principal in with this secret: the secret is valid, \
            and the registry refuses the service principal for want of a role on it (AcrPull).",
        ),
        Err(none) => {
            let why = none
                .tried
                .first()
                .map_or_else(|| none.describe(), |(_, w)| w.clone());
            let why = why.trim_end_matches('.');
            // Only Azure AD's own answer (an AADSTS code) is a refusal; no
            // answer at all says nothing about the secret.
            match crate::azure::aadsts::explain_in(why) {
                Some((code, meaning)) => r.with_explanation(format!(
                    "Azure AD refuses the service principal too: {why}. AADSTS{code}: {meaning}."
                )),
                None => r.with_explanation(format!(
                    "Azure AD could not be asked whether the secret is valid: {why}."
                )),
            }
        }
    }
}

/// The credential an access token request uses, as a result names it.
fn used_by(grant: &access_token::Grant, walk: &Walk) -> Option<UsedCredential> {
    match grant {
        access_token::Grant::Password(login) => Some(UsedCredential {
            source: AuthSource::Password,
            label: format!("username and password (user '{}')", login.username),
        }),
        access_token::Grant::Basic { username, .. } => Some(UsedCredential {
            source: AuthSource::ServicePrincipal,
            label: format!("the node's service principal {username} (azure.json)"),
        }),
        access_token::Grant::Refresh(_) => walk
            .results
            .iter()
            .find(|r| matches!(r.id, CheckId::RegistryRefreshToken | CheckId::NodeExchange))
            .and_then(|r| r.credential().cloned()),
    }
}

/// The refresh step on a node, the credential provider's way: the kubelet
/// identity's token exchanged with its parameters, or for a service
/// principal no exchange at all.
async fn kubelet_refresh(
    along: &Along<'_>,
    ls: &LoginServer,
    (session, bearer): (&mut Session, &Bearer),
    walk: &mut Walk,
) -> Credential {
    if !walk.next_step_wanted(along) {
        return Credential::None;
    }
    let Some(azure) = along.kubelet else {
        walk.halt(along, "no node cloud configuration (node.azure_json)");
        return Credential::None;
    };
    // The kubelet hands out no credential for a registry its provider does
    // not cover, and a credential goes only where a token may go.
    if !along.covered {
        walk.halt(
            along,
            "the kubelet's credential provider does not cover the registry \
            (node.credential_provider)",
        );
        return Credential::None;
    }
    if let Err(why) = token_destination(along.reg, ls) {
        walk.halt(along, &why);
        return Credential::None;
    }
    if let KubeletIdentity::ServicePrincipal { .. } = azure.identity {
        walk.results.push(CheckResult::skip(
            CheckId::NodeExchange,
            "a service principal: the credential provider makes no exchange, containerd sends \
            its id and secret",
        ));
        return Credential::Basic;
    }
    let start = Instant::now();
    let aad = along.aad.get().await;
    if aad.is_err() {
        walk.halt(along, "no token for the kubelet identity (node.identity)");
        return Credential::None;
    }
    let how = refresh_token::Exchange::Kubelet {
        tenant: &azure.tenant,
    };
    let (r, refresh) = refresh_token::refresh_token(session, bearer, aad, how).await;
    match walk.step_taken(along, (r, start), refresh, "no refresh token") {
        Some(refresh) => Credential::Refresh(refresh),
        None => Credential::None,
    }
}

/// The refresh token step: the Azure AD token exchanged at the registry.
async fn refresh(
    along: &Along<'_>,
    ls: &LoginServer,
    (session, bearer): (&mut Session, &Bearer),
    walk: &mut Walk,
) -> Option<Secret> {
    if !walk.next_step_wanted(along) {
        return None;
    }
    let in_cloud = match token_destination(along.reg, ls) {
        Ok(in_cloud) => in_cloud,
        Err(why) => {
            walk.halt(along, &why);
            return None;
        }
    };
    let start = Instant::now();
    let aad = match token_to_exchange(along, ls, in_cloud).await {
        Ok(aad) => aad,
        Err(why) => {
            walk.halt(along, &why);
            return None;
        }
    };
    let stood_in = aad.as_ref().is_ok_and(|t| t.arm_audience);
    let az = refresh_token::Exchange::Az;
    let (mut r, mut refresh) = refresh_token::refresh_token(session, bearer, aad, az).await;
    // Refused (401) with the Resource Manager token standing in: the
    // registry's policy may refuse that audience; ask az for its own.
    let refused = r.http_status() == Some(401);
    if refresh.is_none() && stood_in && refused {
        if let Some(own) = along.aad.registry_audience().await {
            let (r2, refresh2) = refresh_token::refresh_token(session, bearer, Ok(own), az).await;
            if refresh2.is_some() {
                (r, refresh) = (
                    r2.with_note(
                        "the registry refused the Resource Manager-audience \
                    token from az's token cache (its azureADAuthenticationAsArmPolicy is \
                    disabled); a containerregistry.azure.net token from az was exchanged \
                    instead",
                    ),
                    refresh2,
                );
            } else {
                r = r.with_note("a containerregistry.azure.net token from az was refused too");
            }
        }
    }
    walk.step_taken(along, (r, start), refresh, "no refresh token")
}

/// Whether the Azure AD token may go to `ls`: `Ok(true)` for a registry of
/// the cloud, `Ok(false)` for a host the user allowed (`--allow-token-to`),
/// else why it does not go there.
fn token_destination(reg: &RegistryConfig, ls: &LoginServer) -> Result<bool, String> {
    let cloud = &reg.target.cloud;
    if cloud.is_registry_host(&ls.host) == Some(true) {
        return Ok(true);
    }
    if reg
        .allow_token_to
        .iter()
        .any(|h| h.eq_ignore_ascii_case(&ls.host))
    {
        return Ok(false);
    }
    let domain = match &cloud.acr_suffix {
        Some(suffix) => format!("*.{}", suffix.trim_start_matches('.')),
        None => "no registry domain".to_string(),
    };
    Err(format!(
        "not sent: the Azure AD token goes only to registries of the {} cloud ({domain}), and {} \
        is not one; pass --allow-token-to {} to send it there",
        cloud.name, ls.host, ls.host
    ))
}

/// The Azure AD token to exchange at `ls`. A Resource Manager token never
/// leaves the cloud's registries: outside them (`in_cloud` false), one of
/// the registry's own audience stands in, or nothing is sent, and why.
async fn token_to_exchange(
    along: &Along<'_>,
    ls: &LoginServer,
    in_cloud: bool,
) -> Result<Result<credential::AadToken, credential::NoCredential>, String> {
    let aad = along.aad.get().await;
    if in_cloud || !aad.as_ref().is_ok_and(|t| t.arm_audience) {
        return Ok(aad);
    }
    match along.aad.registry_audience().await {
        Some(own) => Ok(Ok(own)),
        None => Err(format!(
            "not sent: {} is not a registry of the {} cloud, and the token at hand is a \
            Resource Manager token, which goes to none but the cloud's registries",
            ls.host, along.reg.target.cloud.name
        )),
    }
}

/// The scope the access token is asked for: on a node, pull only, as
/// containerd asks.
pub(super) fn scope(along: &Along) -> String {
    let reg = along.reg;
    if let (Some(repo), Some(_)) = (&reg.repository, &along.ctx.config.node) {
        return format!("repository:{repo}:pull");
    }
    match &reg.repository {
        // As az asks: every action, to see which the registry grants.
        Some(repo) => {
            let actions: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
            format!("repository:{repo}:{}", actions.join(","))
        }
        None => "registry:catalog:*".to_string(),
    }
}
