//! TLS served by the binary itself: rustls (on ring, as the desk's client)
//! under the accept loop of `listen`, so a connection keeps the header
//! timeout (the handshake must finish within it too), the connection cap
//! and the graceful shutdown. The certificate chain and its key are PEM
//! files read once at start; a chain and a key that do not belong
//! together are refused then, never on the first handshake.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::error::AppError;

/// The server's certificate and key, ready to accept TLS connections.
#[derive(Clone)]
pub struct ServerTls {
    pub(crate) acceptor: TlsAcceptor,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerTls")
    }
}

impl ServerTls {
    /// Reads the certificate chain (`cert`, the server's certificate first,
    /// then its intermediates) and its private key (`key`, PKCS#8, PKCS#1 or
    /// SEC1), both PEM.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Self, AppError> {
        let read = |path: &Path, what: &str| {
            std::fs::read(path)
                .map_err(|e| AppError::bad_request(format!("cannot read the TLS {what} {}: {e}", path.display())))
        };
        let (cert_pem, key_pem) = (read(cert, "certificate (--tls-cert)")?, read(key, "key (--tls-key)")?);
        Self::from_pem(&cert_pem, &key_pem).map_err(|e| {
            AppError::bad_request(format!("{} (--tls-cert {}, --tls-key {})", e.message, cert.display(), key.display()))
        })
    }

    /// As `from_pem_files`, from the files' contents.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, AppError> {
        let chain = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| AppError::bad_request(format!("the TLS certificate file is not PEM: {e}")))?;
        if chain.is_empty() {
            return Err(AppError::bad_request("the TLS certificate file holds no certificate"));
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|e| AppError::bad_request(format!("the TLS key file holds no private key: {e}")))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| AppError::internal(format!("TLS versions: {e}")))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| AppError::bad_request(format!("the TLS certificate and key do not go together: {e}")))?;
        // The API is HTTP/1.1 only.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self { acceptor: TlsAcceptor::from(Arc::new(config)) })
    }
}
