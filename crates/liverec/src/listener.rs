//! Accepting connections under a cap, for every listener (RTMP, RTMPS and
//! the HTTP(S) API): accept errors are logged and retried after a pause, a
//! connection over the cap is closed at once with a log line and a metric,
//! before any of its bytes are read, and at shutdown the connection tasks
//! are given a bounded time to finish. [`Io`] is a connection's byte
//! stream once accepted, plain TCP or TLS over it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// A connection's byte stream: a TCP socket, or TLS over one.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A listener's connection cap.
#[derive(Debug)]
pub(crate) struct Gate {
    permits: Arc<Semaphore>,
    max: usize,
    /// `rtmp` or `http`: the log prefix and the metric's protocol.
    proto: &'static str,
    refused_metric: &'static str,
    /// The connection tasks.
    tasks: TaskTracker,
}

/// An accepted connection and its place under the cap (given back on drop).
pub(crate) struct Admitted {
    pub(crate) socket: TcpStream,
    pub(crate) peer: SocketAddr,
    pub(crate) permit: OwnedSemaphorePermit,
}

impl Gate {
    /// At most `max` connections at once (at least one).
    pub(crate) fn new(proto: &'static str, refused_metric: &'static str, max: usize) -> Gate {
        let max = max.max(1);
        Gate {
            permits: Arc::new(Semaphore::new(max)),
            max,
            proto,
            refused_metric,
            tasks: TaskTracker::new(),
        }
    }

    /// The next connection under the cap; None once `stop` is cancelled.
    pub(crate) async fn accept(
        &self,
        listener: &TcpListener,
        stop: &CancellationToken,
    ) -> Option<Admitted> {
        loop {
            let accepted = tokio::select! {
                _ = stop.cancelled() => return None,
                a = listener.accept() => a,
            };
            let (socket, peer) = match accepted {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "{} accept failed", self.proto);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            match self.permits.clone().try_acquire_owned() {
                Ok(permit) => {
                    return Some(Admitted {
                        socket,
                        peer,
                        permit,
                    });
                }
                Err(_) => {
                    metrics::counter!(self.refused_metric, "reason" => "max_connections")
                        .increment(1);
                    tracing::warn!(%peer, max = self.max, "{} connection refused: too many connections", self.proto);
                }
            }
        }
    }

    /// Runs one connection's task.
    pub(crate) fn spawn(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        self.tasks.spawn(task);
    }

    /// After the accept loop: waits at most `grace` for the connection
    /// tasks (they were told to stop), then logs how many are still open.
    pub(crate) async fn drain(&self, grace: Duration) {
        self.tasks.close();
        if tokio::time::timeout(grace, self.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                open = self.tasks.len(),
                "{} connections still open after shutdown; not waiting for them",
                self.proto
            );
        }
    }
}
