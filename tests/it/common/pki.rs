//! Certificates made at test time: a test CA and server certificates it
//! signs (or not), written where the binary can be pointed at them.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};
use std::path::PathBuf;

pub struct Ca {
    params: CertificateParams,
    key: KeyPair,
    pub pem: String,
    pub dir: tempfile::TempDir,
}

/// A server certificate and key, as DER for rustls.
pub struct ServerCert {
    pub chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    pub key: rustls::pki_types::PrivateKeyDer<'static>,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "acr-health tests");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).unwrap();
        Ca {
            pem: cert.pem(),
            params,
            key,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The CA's own certificate (with the host names added) and key, as a
    /// server would present it by mistake, or a proxy presenting its root.
    pub fn as_server(&self, names: &[&str]) -> ServerCert {
        let mut params = self.params.clone();
        params.subject_alt_names = names
            .iter()
            .map(|n| SanType::DnsName(n.to_string().try_into().unwrap()))
            .collect();
        let cert = params.self_signed(&self.key).unwrap();
        ServerCert {
            chain: vec![cert.der().clone()],
            key: rustls::pki_types::PrivateKeyDer::Pkcs8(self.key.serialize_der().into()),
        }
    }

    /// The CA certificate as a PEM file, for --ca-file or SSL_CERT_FILE.
    pub fn pem_file(&self) -> PathBuf {
        let p = self.dir.path().join("ca.pem");
        std::fs::write(&p, &self.pem).unwrap();
        p
    }

    /// A certificate for `names` (DNS names or IP addresses).
    pub fn issue(&self, names: &[&str]) -> ServerCert {
        self.issue_with(names, |_| {})
    }

    pub fn issue_with(
        &self,
        names: &[&str],
        adjust: impl FnOnce(&mut CertificateParams),
    ) -> ServerCert {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, names[0]);
        for n in names {
            params
                .subject_alt_names
                .push(match n.parse::<std::net::IpAddr>() {
                    Ok(ip) => SanType::IpAddress(ip),
                    Err(_) => SanType::DnsName((*n).try_into().unwrap()),
                });
        }
        adjust(&mut params);
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).unwrap();
        ServerCert {
            chain: vec![cert.der().clone()],
            key: rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        }
    }
}

impl Ca {
    /// An intermediate CA named `name`, signed by this one; its `pem` is its
    /// own certificate.
    pub fn intermediate(&self, name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).unwrap();
        Ca {
            pem: cert.pem(),
            params,
            key,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// This CA's certificate, DER, to complete a chain with.
    pub fn der(&self) -> rustls::pki_types::CertificateDer<'static> {
        pem_der(&self.pem)
    }

    /// A self-signed server certificate for `names` (not signed by this CA).
    pub fn issue_self(&self, names: &[&str]) -> ServerCert {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.distinguished_name.push(DnType::CommonName, names[0]);
        let cert = params.self_signed(&key).unwrap();
        ServerCert {
            chain: vec![cert.der().clone()],
            key: rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        }
    }
}

/// A certificate that expired in 2020.
pub fn expired(params: &mut CertificateParams) {
    params.not_before = rcgen::date_time_ymd(2019, 1, 1);
    params.not_after = rcgen::date_time_ymd(2020, 1, 1);
}

/// The DER of a one-certificate PEM.
fn pem_der(pem: &str) -> rustls::pki_types::CertificateDer<'static> {
    use base64::Engine;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    der.into()
}
