//! RTMP ingest: the listener, one task per connection (bounded by a
//! semaphore), and the adapter from the sans-IO `rtmp` session to the hub
//! (`session`): publish identity from tcUrl/app/name, demuxing of FLV tag
//! bodies into frames, timestamps unwrapped from 32 bits. A stalled or
//! misbehaving publisher is disconnected and logged; it never affects other
//! connections. `auth` decides admission (forbidden streams, push
//! authentication); `history` records each publish session in the store.

mod auth;
mod history;
mod identity;
mod session;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::clock::Clock;
use crate::hub::Hub;

/// What the ingest needs.
#[derive(Debug, Clone)]
pub struct IngestCtx {
    /// Live streams.
    pub hub: Arc<Hub>,
    /// Wall clock.
    pub clock: Arc<dyn Clock>,
    /// A publisher silent this long is disconnected.
    pub read_timeout: Duration,
    /// Database (push authentication, forbidden streams, publish sessions).
    pub store: crate::store::Store,
}

/// Accepts RTMP connections until `shutdown` is cancelled.
pub async fn run(
    listener: TcpListener,
    ctx: IngestCtx,
    max_connections: usize,
    shutdown: CancellationToken,
) {
    let permits = Arc::new(Semaphore::new(max_connections));
    let mut conn_id: u64 = 0;
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            a = listener.accept() => a,
        };
        let (socket, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "rtmp accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::warn!(%peer, max_connections, "rtmp connection refused: too many connections");
            continue;
        };
        conn_id += 1;
        let _ = socket.set_nodelay(true);
        let ctx = ctx.clone();
        let shutdown = shutdown.clone();
        // app/stream/domain are recorded on the span once `publish` names
        // them, so every later line of the connection carries them.
        let span = tracing::info_span!(
            "rtmp",
            conn = conn_id,
            %peer,
            domain = tracing::field::Empty,
            app = tracing::field::Empty,
            stream = tracing::field::Empty,
        );
        tokio::spawn(
            async move {
                metrics::gauge!("liverec_rtmp_connections").increment(1.0);
                serve(socket, peer, conn_id, &ctx, shutdown).await;
                metrics::gauge!("liverec_rtmp_connections").decrement(1.0);
                drop(permit);
            }
            .instrument(span),
        );
    }
}

async fn serve(
    socket: tokio::net::TcpStream,
    peer: SocketAddr,
    conn_id: u64,
    ctx: &IngestCtx,
    shutdown: CancellationToken,
) {
    match session::Connection::new(socket, peer, conn_id, ctx)
        .run(shutdown)
        .await
    {
        Ok(()) => tracing::debug!("rtmp connection closed"),
        Err(e) if e.is_client_gone() => tracing::info!(reason = %e, "rtmp connection ended"),
        Err(e) => {
            metrics::counter!("liverec_rtmp_disconnects_total", "reason" => e.kind()).increment(1);
            tracing::warn!(reason = %e, "rtmp publisher disconnected");
        }
    }
}
