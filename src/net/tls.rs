//! TLS with rustls: the trust store, a verifier that keeps the certificate
//! the server presented (so a failure can say who issued it), and the
//! classification of handshake failures.

use crate::input_file::InputError;
use crate::untrusted::Untrusted;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The roots and verifier shared by every connection of a run.
#[derive(Clone, Debug)]
pub(crate) struct TlsSetup {
    verifier: Arc<WebPkiServerVerifier>,
    /// Where the trusted roots came from, for the report.
    pub trust_sources: Vec<String>,
}

impl TlsSetup {
    /// The operating system's store (which, as with OpenSSL, `SSL_CERT_FILE`
    /// and `SSL_CERT_DIR` replace), plus `extra_ca_file` (`--ca-file`).
    /// `ssl_cert_file` and `ssl_cert_dirs` are `SSL_CERT_FILE` and
    /// `SSL_CERT_DIR` as the run's environment has them.
    pub(crate) fn new(
        extra_ca_file: Option<&Path>,
        requests_ca_bundle: Option<(&'static str, &Path)>,
        (ssl_cert_file, ssl_cert_dirs): (Option<&Path>, &[PathBuf]),
    ) -> Result<TlsSetup, TrustError> {
        let mut roots = RootCertStore::empty();
        let mut trust_sources = Vec::new();
        // rustls-native-certs reads SSL_CERT_FILE and every file of
        // SSL_CERT_DIR itself (from the process environment), whole:
        // make sure first that each is a regular file of sensible size.
        if let Some(file) = ssl_cert_file {
            crate::input_file::read(file).map_err(TrustError::SslCertFile)?;
        }
        for dir in ssl_cert_dirs {
            check_cert_dir(dir)?;
        }
        let native = rustls_native_certs::load_native_certs();
        let (added, _) = roots.add_parsable_certificates(native.certs);
        trust_sources.push(match ssl_cert_file {
            Some(f) => format!("SSL_CERT_FILE {} ({added} certificates)", f.display()),
            None => format!("system store ({added} certificates)"),
        });
        // az users trust a TLS-inspecting proxy through REQUESTS_CA_BUNDLE;
        // it is trusted here too, beside the system store.
        let extra = [requests_ca_bundle, extra_ca_file.map(|f| ("--ca-file", f))];
        for (what, file) in extra.into_iter().flatten() {
            let certs = match file.is_dir() {
                true => read_pem_folder(file)?,
                false => read_pem_certs(file)?,
            };
            let (added, _) = roots.add_parsable_certificates(certs);
            trust_sources.push(format!("{what} {} ({added} certificates)", file.display()));
        }
        Self::with_roots(roots, trust_sources)
    }

    /// Only the certificates of `bundle` (a node's store, read under its
    /// root), plus `extra_ca_file` (`--ca-file`).
    pub(crate) fn from_bundle(
        bundle: &Path,
        extra_ca_file: Option<&Path>,
    ) -> Result<TlsSetup, TrustError> {
        let mut roots = RootCertStore::empty();
        let mut trust_sources = Vec::new();
        for (what, file) in [("node store", Some(bundle)), ("--ca-file", extra_ca_file)] {
            let Some(file) = file else { continue };
            let (added, _) = roots.add_parsable_certificates(read_pem_certs(file)?);
            trust_sources.push(format!("{what} {} ({added} certificates)", file.display()));
        }
        Self::with_roots(roots, trust_sources)
    }

    fn with_roots(
        roots: RootCertStore,
        trust_sources: Vec<String>,
    ) -> Result<TlsSetup, TrustError> {
        let verifier = WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::new(rustls::crypto::ring::default_provider()),
        )
        .build()
        .map_err(|e| TrustError::NoRoots(e.to_string()))?;
        Ok(TlsSetup {
            verifier,
            trust_sources,
        })
    }

    /// A client configuration for one connection, and the slot where its
    /// verifier leaves the server's certificate.
    pub(crate) fn client_config(&self) -> (Arc<rustls::ClientConfig>, PresentedCert) {
        let presented = PresentedCert::default();
        let verifier = Arc::new(RecordingVerifier {
            inner: self.verifier.clone(),
            presented: presented.clone(),
        });
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
        (Arc::new(config), presented)
    }
}

/// The trusted roots cannot be assembled: bad input, exit 2.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TrustError {
    #[error("SSL_CERT_FILE: {0}")]
    SslCertFile(InputError),
    #[error("SSL_CERT_DIR: {0}")]
    SslCertDir(InputError),
    #[error("SSL_CERT_DIR: the files of {} add up to more than 64 MiB", .0.display())]
    CertDirTooLarge(PathBuf),
    #[error(transparent)]
    CaFile(#[from] InputError),
    #[error("{path}: {why}")]
    Pem { path: PathBuf, why: PemError },
    #[error("no usable trusted root certificates: {0}")]
    NoRoots(String),
    #[error("{}: {kind}", .path.display())]
    Folder {
        path: PathBuf,
        kind: std::io::ErrorKind,
    },
}

/// What the native loader will read of an `SSL_CERT_DIR` folder (its
/// regular files, whole) stays within what acr-health reads: 4 MiB a file,
/// 64 MiB in all. It skips the rest (folders, FIFOs); a missing or
/// unreadable folder is its to report.
fn check_cert_dir(dir: &Path) -> Result<(), TrustError> {
    const MAX_TOTAL: u64 = 64 * 1024 * 1024;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    let mut total = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        crate::input_file::check_size(&path).map_err(TrustError::SslCertDir)?;
        total += meta.len();
        if total > MAX_TOTAL {
            return Err(TrustError::CertDirTooLarge(dir.to_path_buf()));
        }
    }
    Ok(())
}

/// What is wrong with a PEM certificate file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PemError {
    #[error("certificate {0} is not a valid X.509 certificate")]
    NotX509(usize),
    #[error("a PEM block has no END line")]
    Unterminated,
    #[error("the PEM block after certificate {0} has damaged base64")]
    Base64(usize),
    #[error("the file is not valid PEM")]
    Invalid,
    #[error("a certificate block could not be read")]
    Unreadable,
    #[error("no PEM certificate in it (expected -----BEGIN CERTIFICATE----- blocks)")]
    Empty,
}

/// Reads every certificate of a PEM file; an unreadable file, a damaged
/// block or a file without certificates is an error (bad input, exit 2).
pub(crate) fn read_pem_certs(file: &Path) -> Result<Vec<CertificateDer<'static>>, TrustError> {
    let data = crate::input_file::read(file)?;
    parse_pem_certs(&data).map_err(|why| TrustError::Pem {
        path: file.to_path_buf(),
        why,
    })
}

/// Most files read from a certificate folder.
const MAX_FOLDER_FILES: usize = 1000;

/// The certificates of a folder as OpenSSL's `capath` (which requests
/// passes a `REQUESTS_CA_BUNDLE` folder to) finds them: the files named by
/// a subject hash (`5ed36f99.0`, as c_rehash and update-ca-certificates
/// link them); other files are passed over, as OpenSSL does.
pub(crate) fn read_pem_folder(folder: &Path) -> Result<Vec<CertificateDer<'static>>, TrustError> {
    let entries = std::fs::read_dir(folder).map_err(|e| TrustError::Folder {
        path: folder.to_path_buf(),
        kind: e.kind(),
    })?;
    let hashed = |name: &str| {
        name.split_once('.').is_some_and(|(hash, n)| {
            hash.len() == 8
                && hash.bytes().all(|b| b.is_ascii_hexdigit())
                && n.trim_start_matches('r').parse::<u32>().is_ok()
        })
    };
    let mut certs = Vec::new();
    let named = entries
        .flatten()
        .filter(|e| e.file_name().to_str().is_some_and(hashed));
    for entry in named.take(MAX_FOLDER_FILES) {
        let path = entry.path();
        if let Ok(data) = crate::input_file::read(&path) {
            certs.extend(parse_pem_certs(&data).unwrap_or_default());
        }
    }
    Ok(certs)
}

/// The certificates of a PEM document, each block checked.
pub(crate) fn parse_pem_certs(data: &[u8]) -> Result<Vec<CertificateDer<'static>>, PemError> {
    use rustls::pki_types::pem::{self, PemObject, SectionKind};
    let mut certs = Vec::new();
    for item in <(SectionKind, Vec<u8>)>::pem_slice_iter(data) {
        match item {
            Ok((SectionKind::Certificate, der)) => {
                if x509_parser::parse_x509_certificate(&der).is_err() {
                    return Err(PemError::NotX509(certs.len() + 1));
                }
                certs.push(CertificateDer::from(der));
            }
            Ok(_) => {}
            Err(pem::Error::MissingSectionEnd { .. }) => return Err(PemError::Unterminated),
            Err(pem::Error::Base64Decode(_)) => return Err(PemError::Base64(certs.len())),
            Err(_) => return Err(PemError::Invalid),
        }
    }
    // A BEGIN line the parser skipped (a damaged header) is damage too.
    let begins = data
        .windows(b"-----BEGIN CERTIFICATE-----".len())
        .filter(|w| w == b"-----BEGIN CERTIFICATE-----")
        .count();
    if begins > certs.len() {
        return Err(PemError::Unreadable);
    }
    if certs.is_empty() {
        return Err(PemError::Empty);
    }
    Ok(certs)
}

/// The end-entity certificate the server presented, if it got that far,
/// and how many intermediate certificates came with it.
#[derive(Clone, Debug, Default)]
pub(crate) struct PresentedCert(Arc<Mutex<Option<(CertificateDer<'static>, usize)>>>);

impl PresentedCert {
    /// What the server presented, described.
    pub(crate) fn info(&self) -> Option<CertInfo> {
        let (der, intermediates) = self.0.lock().ok()?.clone()?;
        let mut info = CertInfo::parse(&der)?;
        info.intermediates = intermediates;
        Some(info)
    }
}

/// Delegates every decision to webpki and only records what it was shown.
#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    presented: PresentedCert,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut slot) = self.presented.0.lock() {
            *slot = Some((end_entity.clone().into_owned(), intermediates.len()));
        }
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// What a certificate says about itself, for messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub not_before: String,
    pub not_after: String,
    pub self_signed: bool,
    /// The DNS names and IP addresses it is for (subject alternative names).
    pub names: Vec<String>,
    /// Intermediate certificates the server sent with it.
    pub intermediates: usize,
}

/// Longest subject or issuer shown, and most names listed: a certificate
/// can carry kilobytes of them.
const MAX_NAME: usize = 300;
const MAX_NAMES: usize = 8;

/// A distinguished name as text, escaped; one whose values are not valid
/// strings is shown attribute by attribute, its bytes read lossily.
fn name_text(name: &x509_parser::x509::X509Name) -> String {
    let text = name.to_string_with_registry(x509_parser::objects::oid_registry());
    let text = text.unwrap_or_else(|_| {
        name.iter_attributes()
            .map(|a| String::from_utf8_lossy(a.attr_value().data).into_owned())
            .collect::<Vec<_>>()
            .join(", ")
    });
    shorten(&Untrusted::new(text).shown())
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(MAX_NAME) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

fn alternative_names(cert: &x509_parser::certificate::X509Certificate) -> Vec<String> {
    use x509_parser::extensions::GeneralName;
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|n| match n {
            GeneralName::DNSName(d) => Some(shorten(&Untrusted::new(*d).shown())),
            GeneralName::IPAddress(b) => match b.len() {
                4 => Some(std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*b).ok()?).to_string()),
                16 => Some(std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*b).ok()?).to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

impl CertInfo {
    pub(crate) fn parse(der: &[u8]) -> Option<CertInfo> {
        let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
        let validity = cert.validity();
        let date = |t: x509_parser::time::ASN1Time| {
            let t = t.to_datetime();
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        };
        Some(CertInfo {
            // Whoever made the certificate chose these names (a proxy's
            // certificate can say anything): keep them escaped.
            subject: name_text(cert.subject()),
            issuer: name_text(cert.issuer()),
            not_before: date(validity.not_before),
            not_after: date(validity.not_after),
            self_signed: cert.subject() == cert.issuer(),
            names: alternative_names(&cert),
            intermediates: 0,
        })
    }

    pub(crate) fn describe(&self) -> String {
        format!(
            "subject '{}', issuer '{}', valid {} to {}{}",
            self.subject,
            self.issuer,
            self.not_before,
            self.not_after,
            match self.names.is_empty() {
                true => ", no subject alternative names".to_string(),
                false => format!(", for {}", self.names_list()),
            }
        )
    }

    /// The names it is for, the first few.
    fn names_list(&self) -> String {
        let shown: Vec<&str> = self
            .names
            .iter()
            .take(MAX_NAMES)
            .map(String::as_str)
            .collect();
        match self.names.len().saturating_sub(MAX_NAMES) {
            0 => shown.join(", "),
            more => format!("{} and {more} more", shown.join(", ")),
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "subject": self.subject,
            "issuer": self.issuer,
            "not_before": self.not_before,
            "not_after": self.not_after,
            "names": self.names,
        })
    }
}

/// An identifier such as `CaUsedAsEndEntity` in words: "ca used as end entity".
fn words(ident: &str) -> String {
    let mut out = String::new();
    for (i, c) in ident.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push(' ');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// A rejected certificate in words (never a debug dump of the error).
fn certificate_problem(e: &CertificateError) -> String {
    let inner = match e {
        CertificateError::Other(other) => other.to_string(),
        _ => format!("{e:?}"),
    };
    // The variant's name, without any fields it carries.
    let name = inner
        .split(|c: char| "( {".contains(c))
        .next()
        .unwrap_or_default();
    match name {
        "CaUsedAsEndEntity" => "it is a CA certificate used as the server's own certificate (a \
            proxy or a test setup presenting its root)"
            .into(),
        "BadSignature" | "BadSignatureContext" => "its signature does not verify".into(),
        "InvalidPurpose" | "InvalidPurposeContext" => "it is not meant for a TLS server".into(),
        "UnknownRevocationStatus" => "its revocation status is unknown".into(),
        "BadEncoding" => "it is not a well-formed certificate".into(),
        other => words(other),
    }
}

/// A TLS alert in words.
fn alert_words(alert: rustls::AlertDescription) -> String {
    use rustls::AlertDescription as A;
    match alert {
        A::ProtocolVersion => "protocol version alert: no TLS version in common".into(),
        A::HandshakeFailure => "handshake failure alert: no cipher or parameters in common".into(),
        other => format!("{} alert", words(&format!("{other:?}"))),
    }
}

/// Why a handshake failed, in words a person can act on.
pub(crate) fn explain_failure(err: &rustls::Error, cert: Option<&CertInfo>) -> String {
    use rustls::Error as E;
    let issuer = cert
        .map(|c| c.issuer.as_str())
        .unwrap_or("an unknown issuer");
    match err {
        E::InvalidCertificate(CertificateError::UnknownIssuer) => {
            let self_signed = cert.is_some_and(|c| c.self_signed);
            let who = if self_signed {
                "The server presented a self-signed certificate".to_string()
            } else {
                format!(
                    "The server's certificate was issued by '{issuer}', which this machine \
                    does not trust"
                )
            };
            let alone = if cert.is_some_and(|c| !c.self_signed && c.intermediates == 0) {
                format!(
                    " The server sent no intermediate certificate with it: if '{issuer}' is an \
                    intermediate CA under a root this machine trusts, the server's chain is \
                    incomplete and must include it."
                )
            } else {
                String::new()
            };
            format!(
                "{who} (unknown issuer). A TLS-inspecting proxy or firewall is the likely cause: \
                    add its root certificate with --ca-file or SSL_CERT_FILE, or exempt the \
                    registry from inspection.{alone}"
            )
        }
        E::InvalidCertificate(CertificateError::NotValidForName)
        | E::InvalidCertificate(CertificateError::NotValidForNameContext { .. }) => {
            let what = match cert {
                Some(c) if c.names.is_empty() => format!(
                    ": it names no host in its subject \
                    alternative names (only its subject '{}', which TLS clients no longer \
                    read)",
                    c.subject
                ),
                Some(c) => format!(": it is for {}", c.names_list()),
                None => String::new(),
            };
            format!(
                "The server's certificate is not valid for this host name (name \
                mismatch){what}. Something other than the registry answered, or the certificate \
                was made wrongly: check DNS, proxies and --login-server."
            )
        }
        E::InvalidCertificate(CertificateError::Expired)
        | E::InvalidCertificate(CertificateError::ExpiredContext { .. }) => {
            "The server's certificate has expired (or this machine's clock is wrong).".to_string()
        }
        E::InvalidCertificate(CertificateError::NotValidYet)
        | E::InvalidCertificate(CertificateError::NotValidYetContext { .. }) => {
            "The server's certificate is not valid yet (or this machine's clock is wrong)."
                .to_string()
        }
        E::InvalidCertificate(CertificateError::Revoked) => {
            "The server's certificate has been revoked by its issuer.".to_string()
        }
        E::InvalidCertificate(other) => {
            format!(
                "The server's certificate was rejected: {}.",
                certificate_problem(other)
            )
        }
        E::AlertReceived(alert) => format!(
            "The server ended the handshake ({}); it may not support TLS 1.2 or 1.3, or something \
                in between interferes.",
            alert_words(*alert)
        ),
        E::PeerIncompatible(_) => {
            "The server offers no TLS version or cipher this client accepts (TLS 1.2 or 1.3 \
                required)."
                .to_string()
        }
        other => format!("TLS handshake failure: {other}."),
    }
}
