//! The HTTP listener under the API and file server. Owns what a client may
//! cost before its request is answered: a cap on connections at once, a
//! deadline for the request headers (a slowloris peer is dropped), a
//! deadline for the request body, and graceful shutdown of open
//! connections. Speaks HTTP/1.1, which every official SDK and tccli use,
//! over plain TCP or, with a [`Tls`], over TLS (HTTPS); the TLS handshake
//! must complete within the header deadline. Knows nothing of the API
//! itself (that is `api::router`).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use bytes::Bytes;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::listener::{Admitted, Gate, Io};
use crate::tls::{HandshakeError, Tls};

/// A request body that fails once its deadline passes, however the bytes
/// trickle in (an idle timeout alone lets a client send one byte a second
/// forever).
struct DeadlineBody {
    inner: Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
    limit: Duration,
}

/// The body of a request did not arrive in time.
#[derive(Debug, thiserror::Error)]
#[error("request body not received within {0:?}")]
pub struct BodyTimeout(Duration);

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        if self.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(BodyTimeout(self.limit).into())));
        }
        Pin::new(&mut self.inner)
            .poll_frame(cx)
            .map_err(axum::BoxError::from)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// What one HTTP client may cost.
#[derive(Clone, Debug)]
pub struct HttpLimits {
    /// From accept (or the end of the previous response) to the last
    /// header byte of a request. With TLS the handshake must also complete
    /// this long after accept.
    pub header_timeout: Duration,
    /// From the headers to the last body byte of a request.
    pub body_timeout: Duration,
    /// Connections at once; more are closed at accept.
    pub max_connections: usize,
}

/// Serves `router` on `listener` (HTTPS with `tls`) until `stop` is
/// cancelled, then lets open connections finish their current request for
/// at most `grace`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    tls: Option<Tls>,
    stop: CancellationToken,
    grace: Duration,
) {
    let gate = Gate::new("http", "liverec_http_refused_total", limits.max_connections);
    while let Some(Admitted {
        socket,
        peer,
        permit,
    }) = gate.accept(&listener, &stop).await
    {
        let body_limit = limits.body_timeout;
        let service = TowerToHyperService::new(
            router
                .clone()
                .map_request(move |req: hyper::Request<Incoming>| {
                    req.map(|inner| {
                        Body::new(DeadlineBody {
                            inner,
                            deadline: Box::pin(tokio::time::sleep(body_limit)),
                            limit: body_limit,
                        })
                    })
                })
                .map_err(|e: Infallible| match e {}),
        );
        let stop = stop.clone();
        let header_timeout = limits.header_timeout;
        let tls = tls.clone();
        gate.spawn(async move {
            let io: Box<dyn Io> = match &tls {
                None => Box::new(socket),
                Some(tls) => {
                    let accepted = tokio::time::Instant::now();
                    match tls.handshake(socket, accepted, header_timeout, &stop).await {
                        Ok(s) => Box::new(s),
                        Err(e) => {
                            log_handshake(&e, peer);
                            drop(permit);
                            return;
                        }
                    }
                }
            };
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let conn = builder.serve_connection(TokioIo::new(io), service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => log_end(r, peer),
                _ = stop.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    log_end(conn.await, peer);
                }
            }
            drop(permit);
        });
    }
    gate.drain(grace).await;
}

fn log_end(result: Result<(), hyper::Error>, peer: std::net::SocketAddr) {
    match result {
        Ok(()) => {}
        Err(e) if e.is_timeout() => {
            metrics::counter!("liverec_http_refused_total", "reason" => "header_timeout")
                .increment(1);
            tracing::info!(%peer, "http connection dropped: request headers not sent in time");
        }
        Err(e) => tracing::debug!(%peer, error = %e, "http connection ended"),
    }
}

fn log_handshake(e: &HandshakeError, peer: std::net::SocketAddr) {
    match e {
        HandshakeError::Stopped => {}
        HandshakeError::Timeout(_) | HandshakeError::Failed(_) => {
            metrics::counter!("liverec_http_refused_total", "reason" => e.kind()).increment(1);
            tracing::info!(%peer, "https connection dropped: {e}");
        }
    }
}
