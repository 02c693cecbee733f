//! HTTPS receivers: one TLS connection per attempt (rustls with ring, the
//! provider the listeners use), the receiver's certificate checked against
//! the CA bundle `callback_ca_file` (default: the system bundle), then one
//! HTTP/1.1 request over it with hyper's connection API. Callbacks are few,
//! so no pool; the caller bounds the whole attempt by its timeout. Plain
//! `http://` receivers go through the worker's pooled hyper-util client.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio_rustls::TlsConnector;

/// Where Debian (and most Linux systems) keep the trusted CAs.
pub(super) const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The TLS side of HTTPS deliveries; `Err` holds why there is none (no CA
/// bundle), reported with every HTTPS attempt.
pub(super) struct Https(Result<TlsConnector, String>);

impl Https {
    /// Loads the CA bundle `ca_file` (None: [`SYSTEM_CA_BUNDLE`]).
    pub(super) fn load(ca_file: Option<&Path>) -> Https {
        let path = ca_file.map_or_else(|| PathBuf::from(SYSTEM_CA_BUNDLE), Path::to_path_buf);
        Https(connector(&path).map_err(|e| format!("CA bundle {}: {e}", path.display())))
    }

    /// Why HTTPS receivers cannot be reached, if so.
    pub(super) fn unavailable(&self) -> Option<&str> {
        self.0.as_ref().err().map(String::as_str)
    }

    /// Sends `req` (whose URI is `https://host[:port]/path`) over a new TLS
    /// connection, to `pinned` when given (an address already checked for
    /// the host), else to what the host resolves to; the answer's status.
    pub(super) async fn send(
        &self,
        mut req: hyper::Request<Full<Bytes>>,
        pinned: Option<std::net::SocketAddr>,
    ) -> Result<hyper::StatusCode, String> {
        let tls = self.0.as_ref().map_err(Clone::clone)?;
        let uri = req.uri().clone();
        let host = uri.host().ok_or("the URL has no host")?;
        let port = uri.port_u16().unwrap_or(443);
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let name = ServerName::try_from(bare.to_string())
            .map_err(|e| format!("invalid server name {bare:?}: {e}"))?;
        let tcp = match pinned {
            Some(addr) => tokio::net::TcpStream::connect(addr).await,
            None => tokio::net::TcpStream::connect((bare, port)).await,
        }
        .map_err(|e| format!("connect: {e}"))?;
        let _ = tcp.set_nodelay(true);
        let stream = tls
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS: {e}"))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("HTTP: {e}"))?;
        let driver = tokio::spawn(conn);
        // Over a connection of its own the request line takes the path.
        let authority = uri
            .authority()
            .map(|a| a.as_str().to_string())
            .unwrap_or_default();
        let path = uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .parse()
            .map_err(|e| format!("URL path: {e}"))?;
        *req.uri_mut() = path;
        if let Ok(v) = hyper::header::HeaderValue::from_str(&authority) {
            req.headers_mut().insert(hyper::header::HOST, v);
        }
        let answer = sender.send_request(req).await;
        driver.abort();
        answer.map(|r| r.status()).map_err(|e| format!("HTTP: {e}"))
    }
}

/// A TLS client trusting the certificates of the PEM file at `path`.
fn connector(path: &Path) -> Result<TlsConnector, String> {
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("{e:?}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{e:?}"))?;
    let (added, _ignored) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err("no usable CA certificate".into());
    }
    // ring, as the listeners (tls.rs): rustls deprecates its provider only
    // for lacking post-quantum key exchange.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_empty_bundle_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let none = Https::load(Some(&dir.path().join("nope.pem")));
        assert!(
            none.unavailable().unwrap().contains("nope.pem"),
            "{:?}",
            none.unavailable()
        );
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let e = Https::load(Some(&empty));
        assert!(e.unavailable().is_some());
    }
}
