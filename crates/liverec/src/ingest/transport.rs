//! A connection's byte stream as the ingest drives it. Before a publish,
//! and for every RTMPS connection, it is read on each arrival through the
//! reactor. Once a plain-TCP connection publishes, it leaves the reactor
//! and is read on a tick shared by every such connection ([`next_tick`]):
//! a worker thread then wakes once per tick for all publishers together,
//! instead of once per arriving TCP segment of each, and each read takes
//! everything that arrived since the last tick. What we send a ticked
//! peer (acknowledgements, pings) is written without blocking; what it
//! does not take waits for the next tick, bounded in bytes and time.

use std::io::{Read, Write};
use std::net::Shutdown;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::conn_error::ConnError;
use crate::listener::Io;

/// Most bytes a ticked connection may owe its peer. A publisher is sent a
/// few small control messages; one that stops reading them is dropped
/// here, or at the write timeout, whichever comes first.
const MAX_PENDING: usize = 64 * 1024;

/// Reads per tick and connection at most, so one fast publisher cannot
/// hold a worker; what is left is read on the next tick (TCP holds the
/// sender back meanwhile).
pub(super) const MAX_READS_PER_TICK: usize = 64;

/// A connection's socket.
pub(super) enum Transport {
    /// Plain TCP, read on arrival.
    Tcp(TcpStream),
    /// Any other stream (TLS over TCP), read on arrival.
    Io(Box<dyn Io>),
    /// Plain TCP out of the reactor, read on the shared tick.
    Ticked(Ticked),
    /// Between two of the above, or after a failed conversion.
    Closed,
}

/// A non-blocking socket read on the shared tick.
pub(super) struct Ticked {
    sock: std::net::TcpStream,
    /// Bytes the peer has not taken yet.
    pending: Vec<u8>,
    /// Since when it has not taken them.
    stalled_since: Option<Instant>,
}

impl Transport {
    /// Reads what arrives next (on-arrival transports only).
    pub(super) async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Transport::Tcp(s) => s.read(buf).await,
            Transport::Io(s) => s.read(buf).await,
            Transport::Ticked(_) | Transport::Closed => Err(std::io::Error::other(
                "the socket is read on the tick, not on arrival",
            )),
        }
    }

    /// Sends `out`, waiting at most `limit` for the peer to take it. A
    /// ticked socket writes what the peer takes now and keeps the rest for
    /// the next tick (and fails once the peer has taken nothing for
    /// `limit`, or owes too much).
    pub(super) async fn send(&mut self, out: &[u8], limit: Duration) -> Result<(), ConnError> {
        let write = match self {
            Transport::Tcp(s) => tokio::time::timeout(limit, s.write_all(out)).await,
            Transport::Io(s) => tokio::time::timeout(limit, s.write_all(out)).await,
            Transport::Ticked(t) => return t.send(out, limit),
            Transport::Closed => return Ok(()),
        };
        write
            .map_err(|_| ConnError::WriteTimeout(limit))?
            .map_err(ConnError::from)
    }

    /// Ends our side of the connection (after a refusal).
    pub(super) async fn shutdown(&mut self) {
        match self {
            Transport::Tcp(s) => {
                let _ = s.shutdown().await;
            }
            Transport::Io(s) => {
                let _ = s.shutdown().await;
            }
            Transport::Ticked(t) => {
                let _ = t.sock.shutdown(Shutdown::Write);
            }
            Transport::Closed => {}
        }
    }

    /// Takes a plain-TCP socket out of the reactor to be read on the tick.
    /// Returns whether the transport is now ticked; any other transport is
    /// left as it is.
    pub(super) fn make_ticked(&mut self) -> std::io::Result<bool> {
        match self {
            Transport::Tcp(_) => {}
            Transport::Ticked(_) => return Ok(true),
            Transport::Io(_) | Transport::Closed => return Ok(false),
        }
        let Transport::Tcp(s) = std::mem::replace(self, Transport::Closed) else {
            return Ok(false);
        };
        // `into_std` deregisters the socket and leaves it non-blocking; no
        // bytes are buffered above the socket.
        let sock = s.into_std()?;
        *self = Transport::Ticked(Ticked {
            sock,
            pending: Vec::new(),
            stalled_since: None,
        });
        Ok(true)
    }

    /// The ticked socket, if this is one.
    pub(super) fn ticked(&mut self) -> Option<&mut Ticked> {
        match self {
            Transport::Ticked(t) => Some(t),
            _ => None,
        }
    }
}

impl Ticked {
    /// Reads what has arrived: `Some(0)` at the end of the stream, `None`
    /// when nothing is waiting.
    pub(super) fn read_now(&mut self, buf: &mut [u8]) -> std::io::Result<Option<usize>> {
        loop {
            match self.sock.read(buf) {
                Ok(n) => return Ok(Some(n)),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Queues `out` and writes what the peer takes without blocking.
    fn send(&mut self, out: &[u8], limit: Duration) -> Result<(), ConnError> {
        self.pending.extend_from_slice(out);
        while !self.pending.is_empty() {
            match self.sock.write(&self.pending) {
                Ok(0) => return Err(std::io::Error::from(std::io::ErrorKind::WriteZero).into()),
                Ok(n) => {
                    self.pending.drain(..n);
                    self.stalled_since = None;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        }
        if self.pending.is_empty() {
            self.stalled_since = None;
            return Ok(());
        }
        let since = *self.stalled_since.get_or_insert_with(Instant::now);
        if since.elapsed() >= limit || self.pending.len() > MAX_PENDING {
            return Err(ConnError::WriteTimeout(limit));
        }
        Ok(())
    }
}

/// The next instant of the tick of `period` shared by every ticked
/// connection of the process: all of them wake in the same timer slot.
pub(super) fn next_tick(period: Duration) -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    tick_after(epoch, Instant::now(), period)
}

/// The first multiple of `period` after `epoch` that is later than `now`.
fn tick_after(epoch: Instant, now: Instant, period: Duration) -> Instant {
    let p = period.as_nanos().max(1);
    let since = now.saturating_duration_since(epoch).as_nanos();
    let next = (since / p + 1) * p;
    match u64::try_from(next) {
        Ok(ns) => epoch + Duration::from_nanos(ns),
        Err(_) => now + period,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_fall_on_shared_multiples_of_the_period() {
        let epoch = Instant::now();
        let p = Duration::from_millis(20);
        let at = |ms: u64| tick_after(epoch, epoch + Duration::from_millis(ms), p);
        assert_eq!(at(0), epoch + p);
        assert_eq!(at(1), epoch + p);
        assert_eq!(at(19), epoch + p);
        assert_eq!(at(20), epoch + 2 * p, "a tick that is now is already past");
        assert_eq!(at(1_001), epoch + Duration::from_millis(1_020));
        // A zero period does not divide by zero.
        let z = tick_after(epoch, epoch + Duration::from_nanos(5), Duration::ZERO);
        assert_eq!(z, epoch + Duration::from_nanos(6));
    }

    #[tokio::test]
    async fn a_peer_that_takes_nothing_is_dropped_when_it_owes_too_much() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        server.set_nonblocking(true).unwrap();
        let mut t = Transport::Tcp(TcpStream::from_std(server).unwrap());
        assert!(t.make_ticked().unwrap());
        assert!(t.make_ticked().unwrap(), "a ticked transport stays ticked");
        let ticked = t.ticked().unwrap();
        assert_eq!(ticked.read_now(&mut [0u8; 16]).unwrap(), None);
        // The client never reads: the socket buffers fill, then what we
        // owe grows past the cap.
        let chunk = vec![7u8; 16 * 1024];
        let limit = Duration::from_secs(60);
        let mut sent = 0usize;
        let err = loop {
            match t.send(&chunk, limit).await {
                Ok(()) => sent += chunk.len(),
                Err(e) => break e,
            }
            assert!(sent < 64 << 20, "never refused after {sent} bytes");
        };
        assert!(matches!(err, ConnError::WriteTimeout(_)), "{err}");
        drop(client);
    }

    #[tokio::test]
    async fn a_ticked_socket_reads_what_arrived_and_the_end() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        server.set_nonblocking(true).unwrap();
        let mut t = Transport::Tcp(TcpStream::from_std(server).unwrap());
        assert!(t.make_ticked().unwrap());
        client.write_all(b"hello").unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut buf = [0u8; 64];
        let mut got = Vec::new();
        for _ in 0..200 {
            match t.ticked().unwrap().read_now(&mut buf).unwrap() {
                Some(0) => break,
                Some(n) => got.extend_from_slice(&buf[..n]),
                None => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        }
        assert_eq!(got, b"hello");
        assert_eq!(t.ticked().unwrap().read_now(&mut buf).unwrap(), Some(0));
    }
}
