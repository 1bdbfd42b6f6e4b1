//! Manual pages: acr-health(1) and one per command (acr-health-check(1)
//! …), made from the command line's definition, with the sections clap
//! does not know (exit status, environment, files, see also). Every page a
//! page refers to is one of these.

use clap_mangen::Man;
use roff::{bold, roman, Roff};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The exit codes of `check`.
const EXIT_STATUS: &[(&str, &str)] = &[
    (
        "0",
        "No check failed (warnings and skipped checks allowed).",
    ),
    (
        "1",
        "At least one check failed, with or without --ignore-errors.",
    ),
    (
        "2",
        "Invalid usage or input: one line on standard error, nothing checked.",
    ),
    (
        "129",
        "Hung up (SIGHUP): the tools still running are stopped and the report \
         shows what finished.",
    ),
    ("130", "Interrupted (Ctrl-C), as for SIGHUP."),
    (
        "143",
        "Terminated (SIGTERM: timeout(1), systemd, a cancelled CI job), as for SIGHUP.",
    ),
];

/// The environment `check` reads.
const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "DOCKER_COMMAND",
        "The docker client to run; otherwise docker, then podman, on PATH.",
    ),
    (
        "DOCKER_CONFIG",
        "Docker's configuration folder (default ~/.docker): the credential docker would send.",
    ),
    (
        "HTTPS_PROXY, NO_PROXY, ALL_PROXY",
        "The proxy for the registry, Azure AD and Resource Manager, as docker reads them \
         (a SOCKS ALL_PROXY is left out, as docker leaves it out).",
    ),
    (
        "SSL_CERT_FILE, SSL_CERT_DIR",
        "Replace the operating system's trust store, as in OpenSSL.",
    ),
    (
        "REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE",
        "Also trusted, beside the system store, as az trusts them.",
    ),
    (
        "AZURE_CONFIG_DIR",
        "The Azure CLI's folder (default ~/.azure): its cloud, default registry and \
         subscription, and its login.",
    ),
    (
        "AZURE_SUBSCRIPTION_ID",
        "The subscription Resource Manager finds the registry in.",
    ),
    (
        "AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET",
        "A service principal.",
    ),
    (
        "AZURE_FEDERATED_TOKEN_FILE",
        "With AZURE_TENANT_ID and AZURE_CLIENT_ID: a workload identity.",
    ),
    ("AZURE_AUTHORITY_HOST", "The Azure AD endpoint."),
    (
        "IDENTITY_ENDPOINT, AZURE_POD_IDENTITY_AUTHORITY_HOST",
        "Where a managed identity's token is asked for (default: the instance metadata \
         service, 169.254.169.254).",
    ),
    (
        "AZURE_DEFAULTS_ACR, AZURE_CLOUD_NAME, AZURE_CORE_ONLY_SHOW_ERRORS, AZURE_CORE_NO_COLOR",
        "The Azure CLI's settings, read as az reads them.",
    ),
    (
        "ACR_HEALTH_SYSCONFDIR",
        "Where the system's docker and containerd files are read (default /etc; with \
         --kubelet, the node's /etc under its root).",
    ),
    ("NO_COLOR", "No colour in the text report (--color auto)."),
];

/// The files `check` reads (it writes none).
const FILES: &[(&str, &str)] = &[
    (
        "$AZURE_CONFIG_DIR/config, clouds.config, azureProfile.json, msal_token_cache.json",
        "The Azure CLI's settings, clouds, subscriptions and token cache (read, never written).",
    ),
    (
        "$DOCKER_CONFIG/config.json",
        "Docker's credential helpers and stored logins.",
    ),
    (
        "/etc/docker/certs.d/HOST/",
        "Certificates the docker daemon trusts for a registry.",
    ),
    (
        "/etc/containerd/config.toml, /etc/containerd/certs.d/HOST/hosts.toml",
        "containerd's registry host configuration.",
    ),
    (
        "/etc/kubernetes/azure.json, /etc/default/kubelet, the credential provider's \
         configuration",
        "With --kubelet, under the node's root: the kubelet identity, its flags and its image \
         credential provider.",
    ),
    (
        "/etc/resolv.conf, /etc/ssl/certs/ca-certificates.crt, /etc/systemd/system.conf.d/",
        "With --kubelet, under the node's root: the node's DNS servers, trust store and the \
         proxy containerd pulls through.",
    ),
];

/// The commands that have a page of their own.
pub(crate) fn page_names() -> [&'static str; 6] {
    ["check", "explain", "checks", "codes", "completions", "man"]
}

/// acr-health(1), or `command`'s page, on `out`.
pub(crate) fn write_page(
    cmd: clap::Command,
    command: Option<&str>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let wanted = match command {
        Some(c) => format!("{}-{c}", cmd.get_name()),
        None => cmd.get_name().to_string(),
    };
    let page = pages(cmd)
        .into_iter()
        .find(|(name, _)| *name == wanted)
        .map(|(_, page)| page)
        .unwrap_or_default();
    out.write_all(&page)
}

/// Every page into `dir`, as `NAME.1`; the files written.
pub(crate) fn write_all(cmd: clap::Command, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    pages(cmd)
        .into_iter()
        .map(|(name, page)| {
            let path = dir.join(format!("{name}.1"));
            std::fs::write(&path, page)?;
            Ok(path)
        })
        .collect()
}

/// Each page's name and its roff: the top command's first.
fn pages(cmd: clap::Command) -> Vec<(String, Vec<u8>)> {
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    let top = cmd.get_name().to_string();
    let subs: Vec<clap::Command> = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .cloned()
        .collect();
    let sub_pages: Vec<String> = subs
        .iter()
        .map(|s| format!("{top}-{}", s.get_name()))
        .collect();
    let mut pages = vec![(top.clone(), page(&cmd, &top_sections(&sub_pages)))];
    for (sub, name) in subs.iter().zip(&sub_pages) {
        let sections = match sub.get_name() {
            "check" => check_sections(&top),
            _ => vec![see_also(&[top.clone(), format!("{top}-check")])],
        };
        pages.push((name.clone(), page(sub, &sections)));
    }
    pages
}

fn page(cmd: &clap::Command, sections: &[Roff]) -> Vec<u8> {
    let man = Man::new(cmd.clone());
    let mut out = Vec::new();
    let mut render = || -> std::io::Result<()> {
        man.render_title(&mut out)?;
        man.render_name_section(&mut out)?;
        man.render_synopsis_section(&mut out)?;
        man.render_description_section(&mut out)?;
        if cmd.get_arguments().any(|a| !a.is_hide_set()) {
            man.render_options_section(&mut out)?;
        }
        if cmd.has_subcommands() {
            man.render_subcommands_section(&mut out)?;
        }
        if let Some(examples) = cmd.get_after_help() {
            examples_section(&examples.to_string()).to_writer(&mut out)?;
        }
        for section in sections {
            section.to_writer(&mut out)?;
        }
        man.render_version_section(&mut out)
    };
    // Writing into a Vec cannot fail.
    let _ = render();
    out
}

fn top_sections(sub_pages: &[String]) -> Vec<Roff> {
    vec![list("EXIT STATUS", EXIT_STATUS), see_also(sub_pages)]
}

fn check_sections(top: &str) -> Vec<Roff> {
    vec![
        list("EXIT STATUS", EXIT_STATUS),
        list("ENVIRONMENT", ENVIRONMENT),
        list("FILES", FILES),
        see_also(&[
            top.to_string(),
            format!("{top}-explain"),
            format!("{top}-checks"),
        ]),
    ]
}

/// A section of terms and what each means.
fn list(title: &str, items: &[(&str, &str)]) -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", [title]);
    for (term, meaning) in items {
        roff.control("TP", []);
        roff.text([bold(*term)]);
        roff.text([roman(*meaning)]);
    }
    roff
}

fn see_also(pages: &[String]) -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["SEE ALSO"]);
    let refs: Vec<String> = pages.iter().map(|p| format!("{p}(1)")).collect();
    roff.text([roman(refs.join(", "))]);
    roff
}

/// The help's examples, as they are laid out there.
fn examples_section(text: &str) -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["EXAMPLES"]);
    roff.control("nf", []);
    for line in text
        .lines()
        .skip_while(|l| l.trim_end().ends_with(':') && !l.starts_with(' '))
    {
        roff.text([roman(line)]);
    }
    roff.control("fi", []);
    roff
}
