//! TLS with rustls: the trust store, a verifier that keeps the certificate
//! the server presented (so a failure can say who issued it), and the
//! classification of handshake failures.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The roots and verifier shared by every connection of a run.
#[derive(Clone, Debug)]
pub struct TlsSetup {
    verifier: Arc<WebPkiServerVerifier>,
    /// Where the trusted roots came from, for the report.
    pub trust_sources: Vec<String>,
}

impl TlsSetup {
    /// The operating system's store (which, as with OpenSSL, `SSL_CERT_FILE`
    /// and `SSL_CERT_DIR` replace), plus `extra_ca_file` (`--ca-file`).
    pub fn new(extra_ca_file: Option<&Path>) -> Result<TlsSetup, String> {
        let mut roots = RootCertStore::empty();
        let mut trust_sources = Vec::new();
        let native = rustls_native_certs::load_native_certs();
        let (added, _) = roots.add_parsable_certificates(native.certs);
        trust_sources.push(match std::env::var("SSL_CERT_FILE") {
            Ok(f) if !f.is_empty() => format!("SSL_CERT_FILE {f} ({added} certificates)"),
            _ => format!("system store ({added} certificates)"),
        });
        if let Some(file) = extra_ca_file {
            let certs = read_pem_certs(file)?;
            let (added, _) = roots.add_parsable_certificates(certs);
            trust_sources.push(format!(
                "--ca-file {} ({added} certificates)",
                file.display()
            ));
        }
        let verifier = WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::new(rustls::crypto::ring::default_provider()),
        )
        .build()
        .map_err(|e| format!("no usable trusted root certificates: {e}"))?;
        Ok(TlsSetup {
            verifier,
            trust_sources,
        })
    }

    /// A client configuration for one connection, and the slot where its
    /// verifier leaves the server's certificate.
    pub fn client_config(&self) -> (Arc<rustls::ClientConfig>, PresentedCert) {
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

/// Reads every certificate of a PEM file; an unreadable file or one without
/// certificates is an error (bad input, exit 2).
pub fn read_pem_certs(file: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    use rustls::pki_types::pem::PemObject;
    let data = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&data)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{} is not a PEM certificate file: {e}", file.display()))?;
    if certs.is_empty() {
        return Err(format!("{} contains no PEM certificate", file.display()));
    }
    Ok(certs)
}

/// The end-entity certificate the server presented, if it got that far.
#[derive(Clone, Debug, Default)]
pub struct PresentedCert(Arc<Mutex<Option<CertificateDer<'static>>>>);

impl PresentedCert {
    pub fn get(&self) -> Option<CertificateDer<'static>> {
        self.0.lock().ok()?.clone()
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
            *slot = Some(end_entity.clone().into_owned());
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
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub not_before: String,
    pub not_after: String,
    pub self_signed: bool,
}

impl CertInfo {
    pub fn parse(der: &[u8]) -> Option<CertInfo> {
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
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            not_before: date(validity.not_before),
            not_after: date(validity.not_after),
            self_signed: cert.subject() == cert.issuer(),
        })
    }

    pub fn describe(&self) -> String {
        format!(
            "subject '{}', issuer '{}', valid {} to {}",
            self.subject, self.issuer, self.not_before, self.not_after
        )
    }

    pub fn to_json(&self) -> Value {
        json!({
            "subject": self.subject,
            "issuer": self.issuer,
            "not_before": self.not_before,
            "not_after": self.not_after,
        })
    }
}

/// Why a handshake failed, in words a person can act on.
pub fn explain_failure(err: &rustls::Error, cert: Option<&CertInfo>) -> String {
    use rustls::Error as E;
    let issuer = cert
        .map(|c| c.issuer.as_str())
        .unwrap_or("an unknown issuer");
    match err {
        E::InvalidCertificate(CertificateError::UnknownIssuer) => {
            let who = if cert.is_some_and(|c| c.self_signed) {
                "The server presented a self-signed certificate".to_string()
            } else {
                format!("The server's certificate was issued by '{issuer}', which this machine does not trust")
            };
            format!(
                "{who} (unknown issuer). A TLS-inspecting proxy or firewall is the likely cause: add its root certificate with --ca-file or SSL_CERT_FILE, or exempt the registry from inspection."
            )
        }
        E::InvalidCertificate(CertificateError::NotValidForName)
        | E::InvalidCertificate(CertificateError::NotValidForNameContext { .. }) => {
            "The server's certificate is not valid for this host name (name mismatch). Something other than the registry answered: check DNS, proxies and --login-server.".to_string()
        }
        E::InvalidCertificate(CertificateError::Expired)
        | E::InvalidCertificate(CertificateError::ExpiredContext { .. }) => {
            "The server's certificate has expired (or this machine's clock is wrong).".to_string()
        }
        E::InvalidCertificate(CertificateError::NotValidYet)
        | E::InvalidCertificate(CertificateError::NotValidYetContext { .. }) => {
            "The server's certificate is not valid yet (or this machine's clock is wrong).".to_string()
        }
        E::InvalidCertificate(other) => format!("The server's certificate was rejected: {other:?}."),
        E::AlertReceived(alert) => format!("The server aborted the handshake (alert: {alert:?}); it may not support TLS 1.2 or 1.3."),
        E::PeerIncompatible(why) => format!("The server offers no TLS version or cipher this client accepts (TLS 1.2 or 1.3 required): {why:?}."),
        other => format!("TLS handshake failure: {other}."),
    }
}
