//! PostgreSQL over TLS when the URL asks (`sslmode`), with rustls — as
//! libpq reads the same URL:
//!
//! | `sslmode` | connection |
//! |---|---|
//! | absent, `disable` | plain (`NoTls`) |
//! | `allow`, `prefer` | TLS if the server offers it, its certificate not checked; plain otherwise |
//! | `require` | TLS, its certificate not checked (checked as `verify-ca` when `sslrootcert` is given) |
//! | `verify-ca` | TLS, the certificate chained to a trusted root (any host name) |
//! | `verify-full` | TLS, the certificate chained to a trusted root and naming the URL's host |
//!
//! Trusted roots: the PEM file `sslrootcert` names (a province's own CA),
//! or the system's (`sslrootcert` absent or `system`). The `postgres`
//! crate knows only `disable`, `prefer` and `require` and no
//! `sslrootcert`: both are taken out of the URL here and the connection
//! is told `disable` or `require`/`prefer` with the connector built for
//! the mode.

use std::sync::Arc;

use postgres::config::SslMode;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::AppError;

/// What the URL asks of the connection's TLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// The connector a URL asks for.
#[derive(Clone)]
pub(crate) enum Connector {
    Plain,
    Rustls { mode: Mode, connect: MakeRustlsConnect },
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Connector::Plain => f.write_str("Plain"),
            Connector::Rustls { mode, .. } => write!(f, "Rustls({mode:?})"),
        }
    }
}

/// The URL without the TLS parameters the `postgres` crate does not read,
/// and what they asked.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TlsRequest {
    pub(crate) url: String,
    pub(crate) mode: Mode,
    pub(crate) root_cert: Option<String>,
}

/// Splits `sslmode` and `sslrootcert` off `url` (see the module).
pub(crate) fn tls_request(url: &str) -> Result<TlsRequest, AppError> {
    let (head, query) = url.split_once('?').unwrap_or((url, ""));
    let (mut mode, mut root_cert, mut kept) = (None, None, Vec::new());
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "sslmode" => mode = Some(percent_decode(value)?),
            "sslrootcert" => root_cert = Some(percent_decode(value)?),
            _ => kept.push(pair),
        }
    }
    let mode = match mode.as_deref() {
        None | Some("disable") => Mode::Disable,
        Some("allow" | "prefer") => Mode::Prefer,
        Some("require") if root_cert.is_some() => Mode::VerifyCa,
        Some("require") => Mode::Require,
        Some("verify-ca") => Mode::VerifyCa,
        Some("verify-full") => Mode::VerifyFull,
        Some(other) => {
            return Err(AppError::bad_request(format!(
                "sslmode «{other}» of the PostgreSQL URL is not one of disable, allow, prefer, require, verify-ca, \
                 verify-full"
            )));
        }
    };
    let url = if kept.is_empty() { head.to_owned() } else { format!("{head}?{}", kept.join("&")) };
    Ok(TlsRequest { url, mode, root_cert })
}

/// The `postgres` configuration and the connector for `url`.
pub(crate) fn config_and_connector(url: &str) -> Result<(postgres::Config, Connector), AppError> {
    let request = tls_request(url)?;
    let mut config: postgres::Config =
        request.url.parse().map_err(|e| AppError::bad_request(format!("not a PostgreSQL URL: {e}")))?;
    let connector = connector(&request)?;
    config.ssl_mode(match request.mode {
        Mode::Disable => SslMode::Disable,
        Mode::Prefer => SslMode::Prefer,
        Mode::Require | Mode::VerifyCa | Mode::VerifyFull => SslMode::Require,
    });
    Ok((config, connector))
}

fn connector(request: &TlsRequest) -> Result<Connector, AppError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier: Arc<dyn ServerCertVerifier> = match request.mode {
        Mode::Disable => return Ok(Connector::Plain),
        Mode::Prefer | Mode::Require => Arc::new(Unchecked(provider.signature_verification_algorithms)),
        Mode::VerifyCa | Mode::VerifyFull => {
            let roots = Arc::new(roots(request.root_cert.as_deref())?);
            let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                .build()
                .map_err(|e| AppError::bad_request(format!("PostgreSQL TLS roots: {e}")))?;
            if request.mode == Mode::VerifyCa { Arc::new(AnyName(webpki)) } else { webpki }
        }
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| AppError::internal(format!("TLS versions: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Connector::Rustls { mode: request.mode, connect: MakeRustlsConnect::new(config) })
}

/// The roots `sslrootcert` names, or the system's.
fn roots(root_cert: Option<&str>) -> Result<RootCertStore, AppError> {
    let mut roots = RootCertStore::empty();
    match root_cert {
        Some(path) if path != "system" => {
            let pem = std::fs::read(path).map_err(|e| {
                AppError::bad_request(format!("cannot read sslrootcert {path} of the PostgreSQL URL: {e}"))
            })?;
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert =
                    cert.map_err(|e| AppError::bad_request(format!("sslrootcert {path} of the PostgreSQL URL: {e}")))?;
                roots
                    .add(cert)
                    .map_err(|e| AppError::bad_request(format!("sslrootcert {path} of the PostgreSQL URL: {e}")))?;
            }
        }
        _ => {
            let found = rustls_native_certs::load_native_certs();
            for error in &found.errors {
                tracing::warn!(%error, "a system root certificate could not be read");
            }
            roots.add_parsable_certificates(found.certs);
        }
    }
    if roots.is_empty() {
        return Err(AppError::bad_request(
            "no root certificate to check PostgreSQL's against: give sslrootcert=<PEM file> in the URL",
        ));
    }
    Ok(roots)
}

fn percent_decode(value: &str) -> Result<String, AppError> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let byte = value
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .ok_or_else(|| AppError::bad_request(format!("not a PostgreSQL URL: bad escape in «{value}»")))?;
            out.push(byte);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| AppError::bad_request(format!("not a PostgreSQL URL: «{value}» is not UTF-8")))
}

/// `require`/`prefer`: any certificate (libpq's meaning: encrypted, the
/// server not authenticated), the handshake's signatures still checked.
#[derive(Debug)]
struct Unchecked(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// `verify-ca`: the chain checked, the host name not.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn request(url: &str) -> TlsRequest {
        tls_request(url).unwrap()
    }

    #[test]
    fn a_url_without_sslmode_or_with_disable_stays_plain() {
        for url in ["postgres://kanoon@db/province", "postgres://kanoon@db/province?sslmode=disable"] {
            let (config, connector) = config_and_connector(url).unwrap();
            assert!(matches!(connector, Connector::Plain), "{url}");
            assert_eq!(config.get_ssl_mode(), SslMode::Disable);
        }
    }

    #[test]
    fn sslmode_picks_the_checks_and_leaves_the_rest_of_the_url() {
        let r = request("postgres://kanoon@db:5433/province?connect_timeout=5&sslmode=verify-full&application_name=k");
        assert_eq!(r.mode, Mode::VerifyFull);
        assert_eq!(r.url, "postgres://kanoon@db:5433/province?connect_timeout=5&application_name=k");
        assert_eq!(request("postgres://db/p?sslmode=require").mode, Mode::Require);
        assert_eq!(request("postgres://db/p?sslmode=prefer").mode, Mode::Prefer);
        assert_eq!(request("postgres://db/p?sslmode=allow").mode, Mode::Prefer);
        assert_eq!(request("postgres://db/p?sslmode=verify-ca").mode, Mode::VerifyCa);
        // libpq: `require` with a root file checks the chain.
        let r = request("postgres://db/p?sslmode=require&sslrootcert=%2Fetc%2Fkanoon%2Fca.pem");
        assert_eq!((r.mode, r.root_cert.as_deref()), (Mode::VerifyCa, Some("/etc/kanoon/ca.pem")));
        assert_eq!(r.url, "postgres://db/p");
        assert!(tls_request("postgres://db/p?sslmode=always").unwrap_err().message.contains("sslmode «always»"));
    }

    #[test]
    fn each_mode_gets_its_connector_and_the_connection_its_ssl_mode() {
        let (config, connector) = config_and_connector("postgres://kanoon@db/p?sslmode=require").unwrap();
        assert!(matches!(connector, Connector::Rustls { mode: Mode::Require, .. }));
        assert_eq!(config.get_ssl_mode(), SslMode::Require);
        let (config, connector) = config_and_connector("postgres://kanoon@db/p?sslmode=prefer").unwrap();
        assert!(matches!(connector, Connector::Rustls { mode: Mode::Prefer, .. }));
        assert_eq!(config.get_ssl_mode(), SslMode::Prefer);
    }

    #[test]
    fn a_root_file_that_cannot_be_read_is_refused_with_its_path() {
        let e =
            config_and_connector("postgres://db/p?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem").unwrap_err();
        assert!(e.message.contains("/nonexistent/ca.pem"), "{e}");
    }
}
