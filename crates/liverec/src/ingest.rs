//! RTMP ingest: the listener (plain RTMP, or RTMPS: TLS first, then the
//! same RTMP), one task per connection (bounded by a
//! semaphore and a per-IP count; deadlines for the handshake and the
//! publish, a write timeout, see [`RtmpLimits`]; the TLS handshake counts
//! inside the handshake deadline), and the adapter from the sans-IO `rtmp` session to the hub
//! (`session`): publish identity from tcUrl/app/name, demuxing of FLV tag
//! bodies into frames, timestamps unwrapped from 32 bits. A stalled or
//! misbehaving publisher is disconnected and logged; it never affects other
//! connections. `auth` decides admission (forbidden streams, push
//! authentication); `history` records each publish session in the store.

mod auth;
mod conn_error;
pub(crate) mod history;
mod identity;
mod session;
mod transport;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::clock::Clock;
use crate::config::RtmpLimits;
use crate::hub::Hub;
use crate::listener::{Admitted, Gate};
use crate::tls::{HandshakeError, Tls};
use transport::Transport;

/// What the ingest needs.
#[derive(Debug, Clone)]
pub struct IngestCtx {
    /// Live streams.
    pub hub: Arc<Hub>,
    /// Wall clock.
    pub clock: Arc<dyn Clock>,
    /// Deadlines and connection caps.
    pub limits: RtmpLimits,
    /// Database (domain owners, push authentication, forbidden streams,
    /// publish sessions).
    pub store: crate::store::Store,
    /// Refuse publishes to domains nobody claimed (`strict_domains`).
    pub strict_domains: bool,
    /// Events 1 and 0 of publish sessions.
    pub callbacks: crate::callbacks::Callbacks,
    /// Claims each stream cluster-wide (one publisher across all nodes).
    pub cluster: crate::cluster::Cluster,
}

/// Connections open per IP address; a [`PeerSlot`] holds one.
#[derive(Debug, Default)]
struct PerIp(Mutex<HashMap<IpAddr, usize>>);

/// One connection's place in the per-IP count, given back on drop.
struct PeerSlot {
    table: Arc<PerIp>,
    ip: IpAddr,
}

impl PerIp {
    /// A slot for `ip`, unless it already has `max` connections.
    fn take(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<PeerSlot> {
        let mut t = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let n = t.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(PeerSlot {
            table: self.clone(),
            ip,
        })
    }

    #[cfg(test)]
    fn count(&self, ip: IpAddr) -> usize {
        let t = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        t.get(&ip).copied().unwrap_or(0)
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut t = self.table.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = t.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                t.remove(&self.ip);
            }
        }
    }
}

/// How long shutdown waits for open connections to record their end.
const CONNECTIONS_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// The RTMPS listener and the TLS it speaks.
#[derive(Debug)]
pub struct Rtmps {
    /// Bound to `rtmps_listen`.
    pub listener: TcpListener,
    /// Certificate and handshakes.
    pub tls: Tls,
}

/// Accepts RTMP connections on `listener` (and RTMPS ones on `rtmps`)
/// until `shutdown` is cancelled, then waits (at most
/// [`CONNECTIONS_GRACE`]) for the open ones to end their sessions. The
/// per-IP cap counts both listeners together; each listener has its own
/// cap on connections at once.
pub async fn run(
    listener: TcpListener,
    ctx: IngestCtx,
    rtmps: Option<Rtmps>,
    shutdown: CancellationToken,
) {
    let per_ip = Arc::new(PerIp::default());
    let conn_ids = AtomicU64::new(0);
    let plain = accept_loop(listener, None, &ctx, &per_ip, &conn_ids, &shutdown);
    match rtmps {
        None => plain.await,
        Some(r) => {
            let secure = accept_loop(r.listener, Some(r.tls), &ctx, &per_ip, &conn_ids, &shutdown);
            tokio::join!(plain, secure);
        }
    }
}

/// One listener's accept loop; RTMPS with `tls`.
async fn accept_loop(
    listener: TcpListener,
    tls: Option<Tls>,
    ctx: &IngestCtx,
    per_ip: &Arc<PerIp>,
    conn_ids: &AtomicU64,
    shutdown: &CancellationToken,
) {
    let max_connections = ctx.limits.max_connections;
    let max_per_ip = ctx.limits.max_connections_per_ip;
    let proto = if tls.is_some() { "rtmps" } else { "rtmp" };
    let gate = Gate::new(proto, "liverec_rtmp_refused_total", max_connections);
    while let Some(Admitted {
        socket,
        peer,
        permit,
    }) = gate.accept(&listener, shutdown).await
    {
        let Some(slot) = per_ip.take(peer.ip(), max_per_ip) else {
            metrics::counter!("liverec_rtmp_refused_total", "reason" => "per_ip").increment(1);
            tracing::warn!(%peer, max_per_ip, "{proto} connection refused: too many connections from this address");
            continue;
        };
        let conn_id = conn_ids.fetch_add(1, Ordering::Relaxed) + 1;
        let _ = socket.set_nodelay(true);
        let ctx = ctx.clone();
        let shutdown = shutdown.clone();
        let tls = tls.clone();
        // app/stream/domain are recorded on the span once `publish` names
        // them, so every later line of the connection carries them.
        let span = tracing::info_span!(
            "rtmp",
            conn = conn_id,
            tls = tls.is_some(),
            %peer,
            domain = tracing::field::Empty,
            app = tracing::field::Empty,
            stream = tracing::field::Empty,
        );
        // Connections still open at shutdown end their sessions (stop reason
        // `shutdown`) before `run` returns and the server closes the store.
        gate.spawn(
            async move {
                metrics::gauge!("liverec_rtmp_connections").increment(1.0);
                let accepted = tokio::time::Instant::now();
                let local = socket.local_addr().ok().map(|a| a.ip());
                let io = match &tls {
                    None => Some(Transport::Tcp(socket)),
                    Some(tls) => {
                        let limit = ctx.limits.handshake_timeout;
                        match tls.handshake(socket, accepted, limit, &shutdown).await {
                            Ok(s) => Some(Transport::Io(Box::new(s))),
                            Err(e) => {
                                log_handshake(&e);
                                None
                            }
                        }
                    }
                };
                if let Some(io) = io {
                    let conn = session::Connection::new(io, local, peer, conn_id, &ctx, accepted);
                    serve(conn, shutdown).await;
                }
                metrics::gauge!("liverec_rtmp_connections").decrement(1.0);
                drop(permit);
                drop(slot);
            }
            .instrument(span),
        );
    }
    gate.drain(CONNECTIONS_GRACE).await;
}

/// An RTMPS connection whose TLS handshake did not complete.
fn log_handshake(e: &HandshakeError) {
    if matches!(e, HandshakeError::Stopped) {
        return;
    }
    metrics::counter!("liverec_rtmp_disconnects_total", "reason" => e.kind()).increment(1);
    tracing::info!(reason = %e, "rtmps connection dropped");
}

async fn serve(conn: session::Connection<'_>, shutdown: CancellationToken) {
    match conn.run(shutdown).await {
        Ok(()) => tracing::debug!("rtmp connection closed"),
        Err(e) if e.is_client_gone() => tracing::info!(reason = %e, "rtmp connection ended"),
        Err(e) => {
            metrics::counter!("liverec_rtmp_disconnects_total", "reason" => e.kind()).increment(1);
            tracing::warn!(reason = %e, "rtmp publisher disconnected");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_ip_slots_are_capped_and_given_back() {
        let t = Arc::new(PerIp::default());
        let a: IpAddr = [127, 0, 0, 1].into();
        let b: IpAddr = [127, 0, 0, 2].into();
        let s1 = t.take(a, 2).unwrap();
        let s2 = t.take(a, 2).unwrap();
        assert!(t.take(a, 2).is_none(), "a third from one address");
        let other = t.take(b, 2).unwrap();
        assert_eq!((t.count(a), t.count(b)), (2, 1));
        drop(s1);
        let s3 = t.take(a, 2).unwrap();
        drop((s2, s3, other));
        assert_eq!((t.count(a), t.count(b)), (0, 0));
        assert!(t.0.lock().unwrap().is_empty(), "no entry left behind");
    }
}

#[cfg(test)]
mod shutdown_tests;
