//! TLS for the API/file listener (HTTPS) and the RTMPS listener: loading
//! the PEM certificate chain and private key named by `tls_cert` and
//! `tls_key`, the reloadable certificate behind both listeners (SIGHUP
//! reads the same files again: new connections get the new certificate,
//! established ones keep theirs, a reload that fails keeps the old one),
//! and the server-side handshake under a deadline. rustls with the `ring`
//! provider; no client certificates, no ALPN (both protocols are fixed:
//! HTTP/1.1 and RTMP).

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;

/// Where the certificate chain and key are read from (PEM files).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsPaths {
    /// Certificate chain, leaf first (`tls_cert`).
    pub cert: PathBuf,
    /// Private key: PKCS#8, PKCS#1 (RSA) or SEC1 (EC) (`tls_key`).
    pub key: PathBuf,
}

/// A certificate or key that cannot be used; the message names the file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate file cannot be read or holds no certificate.
    #[error("tls_cert {}: {reason}", path.display())]
    Cert {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The key file cannot be read, holds no key, or the key is unusable
    /// or does not belong to the certificate.
    #[error("tls_key {}: {reason}", path.display())]
    Key {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The TLS configuration could not be built.
    #[error("tls: {0}")]
    Config(#[from] rustls::Error),
}

/// The certificate new handshakes get; replaced whole by a reload.
#[derive(Debug)]
struct Reloadable {
    current: RwLock<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for Reloadable {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        )
    }
}

/// The server side of TLS, shared by both listeners.
#[derive(Clone)]
pub struct Tls {
    paths: TlsPaths,
    provider: Arc<CryptoProvider>,
    resolver: Arc<Reloadable>,
    acceptor: TlsAcceptor,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").field("paths", &self.paths).finish()
    }
}

/// Why a TLS handshake did not complete.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// The peer did not finish it in time.
    #[error("TLS handshake not completed within {0:?}")]
    Timeout(Duration),
    /// The peer sent something that is not TLS, or gave up.
    #[error("TLS handshake failed: {0}")]
    Failed(std::io::Error),
    /// The server is stopping.
    #[error("shutting down")]
    Stopped,
}

impl HandshakeError {
    /// Short label for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            HandshakeError::Timeout(_) => "tls_handshake_timeout",
            HandshakeError::Failed(_) => "tls_handshake_failed",
            HandshakeError::Stopped => "shutdown",
        }
    }
}

impl Tls {
    /// Reads the certificate and key; an error names the file at fault.
    pub fn load(paths: TlsPaths) -> Result<Tls, TlsError> {
        // ring, not aws-lc-rs (a heavy C build); rustls deprecates ring's
        // provider only for lacking post-quantum key exchange.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let first = certified_key(&paths, &provider)?;
        let resolver = Arc::new(Reloadable {
            current: RwLock::new(Arc::new(first)),
        });
        let config = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(resolver.clone());
        Ok(Tls {
            paths,
            provider,
            resolver,
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// Reads the same files again. On success new handshakes use the new
    /// certificate; on failure the current one stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let fresh = certified_key(&self.paths, &self.provider)?;
        *self
            .resolver
            .current
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(fresh);
        Ok(())
    }

    /// The certificate chain new handshakes get (leaf first).
    pub fn current_chain(&self) -> Vec<CertificateDer<'static>> {
        self.resolver
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .cert
            .clone()
    }

    /// The server handshake on a socket accepted at `accepted`, which must
    /// complete within `limit` of that (and before `stop`).
    pub async fn handshake(
        &self,
        socket: TcpStream,
        accepted: tokio::time::Instant,
        limit: Duration,
        stop: &CancellationToken,
    ) -> Result<TlsStream<TcpStream>, HandshakeError> {
        tokio::select! {
            _ = stop.cancelled() => Err(HandshakeError::Stopped),
            r = tokio::time::timeout_at(accepted + limit, self.acceptor.accept(socket)) => match r {
                Err(_) => Err(HandshakeError::Timeout(limit)),
                Ok(Err(e)) => Err(HandshakeError::Failed(e)),
                Ok(Ok(s)) => Ok(s),
            },
        }
    }
}

/// The certificate chain and key of `paths`, checked against each other.
fn certified_key(paths: &TlsPaths, provider: &CryptoProvider) -> Result<CertifiedKey, TlsError> {
    let cert_err = |reason: String| TlsError::Cert {
        path: paths.cert.clone(),
        reason,
    };
    let key_err = |reason: String| TlsError::Key {
        path: paths.key.clone(),
        reason,
    };
    let chain = read_chain(&paths.cert).map_err(cert_err)?;
    let key = PrivateKeyDer::from_pem_file(&paths.key).map_err(|e| key_err(pem_reason(&e)))?;
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| key_err(format!("unusable private key: {e}")))?;
    let ck = CertifiedKey::new(chain, signing);
    match ck.keys_match() {
        Ok(()) => Ok(ck),
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => Ok(ck),
        Err(rustls::Error::InconsistentKeys(_)) => Err(key_err(format!(
            "the key does not belong to the certificate in {}",
            paths.cert.display()
        ))),
        Err(e) => Err(cert_err(format!("bad certificate: {e}"))),
    }
}

/// Every CERTIFICATE block of a PEM file, at least one.
fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let chain = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem_reason(&e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_reason(&e))?;
    if chain.is_empty() {
        return Err("no PEM CERTIFICATE block in the file".into());
    }
    Ok(chain)
}

fn pem_reason(e: &rustls_pki_types::pem::Error) -> String {
    use rustls_pki_types::pem::Error;
    match e {
        Error::Io(io) => io.to_string(),
        Error::NoItemsFound => "no PEM block of the expected kind in the file".into(),
        other => format!("not valid PEM: {other:?}"),
    }
}

/// Reloads `tls` on every SIGHUP until `stop`; a failed reload is logged
/// and the old certificate kept. Without TLS a SIGHUP is logged and
/// otherwise ignored (it no longer ends the process).
pub async fn reload_on_sighup(tls: Option<Tls>, stop: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = match signal(SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGHUP; certificates will not be reloaded");
            return;
        }
    };
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            got = hup.recv() => if got.is_none() { return },
        }
        let Some(tls) = &tls else {
            tracing::info!("SIGHUP: no TLS configured, nothing to reload");
            continue;
        };
        match tls.reload() {
            Ok(()) => {
                metrics::counter!("liverec_tls_reloads_total", "result" => "ok").increment(1);
                tracing::info!(cert = %tls.paths.cert.display(), "SIGHUP: TLS certificate reloaded");
            }
            Err(e) => {
                metrics::counter!("liverec_tls_reloads_total", "result" => "error").increment(1);
                tracing::error!(error = %e, "SIGHUP: TLS reload failed; keeping the current certificate");
            }
        }
    }
}

#[cfg(test)]
mod tests;
