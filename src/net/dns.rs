//! Name resolution: hickory-resolver (system configuration and hosts file,
//! or one server given with `--dns-server`), and the operating system's own
//! resolver to compare with.

use crate::untrusted::Untrusted;
use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::TokioResolver;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// What a lookup found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DnsAnswer {
    /// Every A and AAAA address, in the order received.
    pub addresses: Vec<IpAddr>,
    /// The names the query went through (`a CNAME b CNAME c`), without the
    /// queried name itself.
    pub cname_chain: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DnsFailure {
    /// The name does not exist (NXDOMAIN).
    #[error("the name does not exist (NXDOMAIN)")]
    NxDomain,
    /// The name exists but has no A or AAAA record.
    #[error("the name has no IPv4 or IPv6 address")]
    NoAddresses,
    #[error("no answer (timed out)")]
    TimedOut,
    #[error("{0}")]
    Other(String),
}

/// The resolver could not be set up at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DnsSetupError {
    #[error("cannot read the system DNS configuration: {0}")]
    SystemConfig(String),
    #[error("cannot set up DNS: {0}")]
    Build(String),
}

pub(crate) struct Resolver {
    inner: TokioResolver,
    /// Which servers are asked, for messages.
    pub description: String,
    /// Not this machine's resolver (`--dns-server`, or a node's): the
    /// operating system's answer is not compared with it.
    pub explicit: bool,
    timeout: Duration,
}

impl Resolver {
    /// The system's configuration (resolv.conf or the OS's settings) and hosts file.
    pub(crate) fn system(timeout: Duration) -> Result<Resolver, DnsSetupError> {
        let (config, opts) = hickory_resolver::system_conf::read_system_conf()
            .map_err(|e| DnsSetupError::SystemConfig(e.to_string()))?;
        Self::configured(
            (config, opts),
            ResolveHosts::Always,
            "the system resolver",
            timeout,
        )
    }

    /// A node's resolver: its `resolv.conf` (read under its root, given as
    /// `data`), without this machine's hosts file.
    #[cfg(target_os = "linux")]
    pub(crate) fn node(
        data: &[u8],
        shown: &str,
        timeout: Duration,
    ) -> Result<Resolver, DnsSetupError> {
        let parsed = hickory_resolver::system_conf::parse_resolv_conf(data)
            .map_err(|e| DnsSetupError::SystemConfig(format!("{shown}: {e}")))?;
        let what = format!("the node's resolver ({shown})");
        let mut resolver = Self::configured(parsed, ResolveHosts::Never, &what, timeout)?;
        resolver.explicit = true;
        Ok(resolver)
    }

    fn configured(
        (config, mut opts): (ResolverConfig, ResolverOpts),
        hosts: ResolveHosts,
        what: &str,
        timeout: Duration,
    ) -> Result<Resolver, DnsSetupError> {
        let servers: Vec<String> = config
            .name_servers()
            .iter()
            .map(|s| s.ip.to_string())
            .collect();
        opts.preserve_intermediates = true;
        opts.use_hosts_file = hosts;
        opts.timeout = opts.timeout.min(timeout);
        let mut builder =
            TokioResolver::builder_with_config(config, TokioRuntimeProvider::default());
        *builder.options_mut() = opts;
        let inner = builder
            .build()
            .map_err(|e| DnsSetupError::Build(e.to_string()))?;
        let description = if servers.is_empty() {
            format!("{what} (hosts file only)")
        } else {
            format!("{what} ({})", dedup(servers).join(", "))
        };
        Ok(Resolver {
            inner,
            description,
            explicit: false,
            timeout,
        })
    }

    /// Asks only `server` (UDP, then TCP), without the hosts file.
    pub(crate) fn server(server: SocketAddr, timeout: Duration) -> Result<Resolver, DnsSetupError> {
        let connections = [ConnectionConfig::udp(), ConnectionConfig::tcp()]
            .into_iter()
            .map(|mut c| {
                c.port = server.port();
                c
            })
            .collect();
        let ns = NameServerConfig::new(server.ip(), true, connections);
        let config = ResolverConfig::from_parts(None, vec![], vec![ns]);
        let mut builder =
            TokioResolver::builder_with_config(config, TokioRuntimeProvider::default());
        let opts = builder.options_mut();
        opts.preserve_intermediates = true;
        opts.use_hosts_file = ResolveHosts::Never;
        opts.timeout = timeout;
        opts.attempts = 1;
        opts.cache_size = 0;
        let inner = builder
            .build()
            .map_err(|e| DnsSetupError::Build(e.to_string()))?;
        Ok(Resolver {
            inner,
            description: format!("DNS server {server}"),
            explicit: true,
            timeout,
        })
    }

    pub(crate) async fn resolve(&self, host: &str) -> Result<DnsAnswer, DnsFailure> {
        // A fully qualified name keeps the search list out of it.
        let fqdn = if host.ends_with('.') {
            host.to_string()
        } else {
            format!("{host}.")
        };
        let lookup = tokio::time::timeout(self.timeout, self.inner.lookup_ip(fqdn.as_str()))
            .await
            .map_err(|_| DnsFailure::TimedOut)?
            .map_err(|e| {
                if e.is_nx_domain() {
                    DnsFailure::NxDomain
                } else if e.is_no_records_found() {
                    DnsFailure::NoAddresses
                } else if matches!(e, hickory_resolver::net::NetError::Timeout) {
                    DnsFailure::TimedOut
                } else {
                    DnsFailure::Other(Untrusted::new(e.to_string()).shown())
                }
            })?;
        let mut answer = DnsAnswer {
            addresses: Vec::new(),
            cname_chain: Vec::new(),
        };
        for record in lookup.as_lookup().answers() {
            match &record.data {
                RData::A(a) => push_unique(&mut answer.addresses, IpAddr::V4(a.0)),
                RData::AAAA(a) => push_unique(&mut answer.addresses, IpAddr::V6(a.0)),
                RData::CNAME(c) if record.record_type() == RecordType::CNAME => {
                    let name = c.0.to_string();
                    // A DNS answer names what it likes: keep it escaped.
                    let name = Untrusted::new(name.trim_end_matches('.')).shown();
                    push_unique(&mut answer.cname_chain, name);
                }
                _ => {}
            }
        }
        if answer.addresses.is_empty() {
            return Err(DnsFailure::NoAddresses);
        }
        Ok(answer)
    }
}

/// The operating system's answer (getaddrinfo), which is what most other
/// programs on the machine, docker included, will use.
pub(crate) async fn resolve_os(host: &str, timeout: Duration) -> Result<Vec<IpAddr>, DnsFailure> {
    let lookup = tokio::net::lookup_host((host, 443));
    match tokio::time::timeout(timeout, lookup).await {
        Err(_) => Err(DnsFailure::TimedOut),
        Ok(Err(e)) => Err(DnsFailure::Other(e.to_string())),
        Ok(Ok(addrs)) => {
            let mut out = Vec::new();
            for a in addrs {
                push_unique(&mut out, a.ip());
            }
            Ok(out)
        }
    }
}

fn push_unique<T: PartialEq>(v: &mut Vec<T>, item: T) {
    if !v.contains(&item) {
        v.push(item);
    }
}

fn dedup(v: Vec<String>) -> Vec<String> {
    let mut out = Vec::new();
    for s in v {
        push_unique(&mut out, s);
    }
    out
}

/// Addresses that are not reachable from the internet: RFC 1918, CGNAT,
/// loopback, link-local and IPv6 unique-local.
pub(crate) fn is_private(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || (o[0] == 100 && (64..128).contains(&o[1]))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
    }
}
