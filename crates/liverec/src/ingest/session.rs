//! One RTMP connection: socket I/O with a read timeout around the sans-IO
//! `rtmp::ServerSession`, publish admission (forbids and push auth through
//! `auth`, then the hub), the stop reason of a publish (recorded through
//! `history`), and conversion of audio/video/data messages into hub packets.

use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;
use media::flv::{DemuxEvent, TagDemuxer};
use media::timestamp::Unwrap32;
use rtmp::{ServerConfig, ServerEvent, ServerSession, StatusCode};
use tokio_util::sync::CancellationToken;

use super::conn_error::ConnError;
use super::history::SessionLog;
use super::identity::{check_name, declared_tracks, publish_domain, split_query};
use super::transport::{MAX_READS_PER_TICK, Transport, next_tick};
use super::{IngestCtx, auth};
use crate::hub::{HubError, Packet, Publisher, SessionInfo, StopReason};
use crate::task::StreamKey;

const READ_BUFFER: usize = 16 * 1024;

struct Publishing {
    stream_id: u32,
    publisher: Publisher,
    demux: TagDemuxer,
    clock: Unwrap32,
    log: SessionLog,
}

impl Publishing {
    /// Ends the stream (dropping the publisher ends it in the hub), then
    /// records the end of the session.
    async fn end(self, ctx: &IngestCtx, reason: StopReason) {
        let tracks = self.demux.tracks();
        let stream = self.publisher.stream().clone();
        drop(self.publisher);
        let end_ms = ctx.clock.now_ms();
        ctx.cluster.release(&stream).await;
        self.log
            .end(&ctx.store, &ctx.callbacks, &stream, end_ms, reason, &tracks)
            .await;
    }
}

pub(super) struct Connection<'a> {
    socket: Transport,
    /// Our address the peer connected to (the domain of an IP-literal tcUrl).
    local: Option<IpAddr>,
    peer: SocketAddr,
    /// When the TCP connection was accepted: the handshake and publish
    /// deadlines count from here (an RTMPS TLS handshake included).
    accepted: tokio::time::Instant,
    ctx: &'a IngestCtx,
    session: ServerSession,
    publishing: Option<Publishing>,
}

impl<'a> Connection<'a> {
    pub(super) fn new(
        socket: Transport,
        local: Option<IpAddr>,
        peer: SocketAddr,
        conn_id: u64,
        ctx: &'a IngestCtx,
        accepted: tokio::time::Instant,
    ) -> Connection<'a> {
        let seed = ctx.clock.now_ms() as u64 ^ (conn_id << 32);
        Connection {
            socket,
            local,
            peer,
            accepted,
            ctx,
            session: ServerSession::new(ServerConfig::default(), seed),
            publishing: None,
        }
    }

    pub(super) async fn run(mut self, shutdown: CancellationToken) -> Result<(), ConnError> {
        let result = self.serve(&shutdown).await;
        if let Some(p) = self.publishing.take() {
            let reason = p.publisher.stream().stop_reason().unwrap_or(match &result {
                _ if shutdown.is_cancelled() => StopReason::Shutdown,
                Ok(()) => StopReason::Disconnect,
                Err(ConnError::Timeout(_)) => StopReason::Timeout,
                Err(ConnError::Kicked) => StopReason::Dropped,
                Err(e) if e.is_client_gone() => StopReason::Disconnect,
                Err(_) => StopReason::Error,
            });
            p.end(self.ctx, reason).await;
        }
        result
    }

    async fn serve(&mut self, shutdown: &CancellationToken) -> Result<(), ConnError> {
        let mut buf = vec![0u8; READ_BUFFER];
        let accepted = self.accepted;
        loop {
            // A publishing plain-TCP connection goes on the shared tick.
            if self.publishing.is_some()
                && !self.ctx.limits.read_tick.is_zero()
                && self.socket.make_ticked()?
            {
                return self.serve_ticked(shutdown, &mut buf).await;
            }
            let kicked = match &self.publishing {
                Some(p) => p.publisher.stream().kicked(),
                None => CancellationToken::new().cancelled_owned(),
            };
            let (deadline, expired) = self.read_deadline(accepted);
            let n = tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = kicked => return Err(ConnError::Kicked),
                r = tokio::time::timeout_at(deadline, self.socket.read(&mut buf)) => match r {
                    Err(_) => return Err(expired),
                    Ok(r) => r?,
                },
            };
            if n == 0 {
                return Ok(());
            }
            self.process(&buf[..n]).await?;
        }
    }

    /// The rest of a publishing connection's life, read on the shared
    /// tick: everything that arrived since the last tick in one go.
    async fn serve_ticked(
        &mut self,
        shutdown: &CancellationToken,
        buf: &mut [u8],
    ) -> Result<(), ConnError> {
        let limits = &self.ctx.limits;
        let (period, read_timeout, write_timeout) =
            (limits.read_tick, limits.read_timeout, limits.write_timeout);
        let mut last_data = tokio::time::Instant::now();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = tokio::time::sleep_until(next_tick(period)) => {}
            }
            // A kick is seen on the next tick (whichever stream this
            // connection publishes by then).
            if let Some(p) = &self.publishing
                && p.publisher.stream().is_kicked()
            {
                return Err(ConnError::Kicked);
            }
            for _ in 0..MAX_READS_PER_TICK {
                let Some(t) = self.socket.ticked() else {
                    return Ok(());
                };
                let n = match t.read_now(buf)? {
                    None => break,
                    Some(0) => return Ok(()),
                    Some(n) => n,
                };
                last_data = tokio::time::Instant::now();
                self.process(&buf[..n]).await?;
                if n < buf.len() {
                    break;
                }
            }
            // What the peer did not take before, then the read timeout.
            self.socket.send(&[], write_timeout).await?;
            if last_data.elapsed() >= read_timeout {
                return Err(ConnError::Timeout(read_timeout));
            }
        }
    }

    /// Feeds bytes read to the session, answers it, and acts on its events.
    async fn process(&mut self, mut input: &[u8]) -> Result<(), ConnError> {
        loop {
            let events = self.session.feed(input);
            // Answer what the session produced even when it then failed.
            self.flush().await?;
            let mut decided = false;
            for ev in events? {
                decided |= matches!(ev, ServerEvent::PublishRequested { .. });
                self.on_event(ev).await?;
            }
            self.flush().await?;
            // The session holds input back while a publish awaits our
            // decision; feed again to process it.
            if !decided {
                return Ok(());
            }
            input = &[];
        }
    }

    /// When the next read must have completed, and the error if it has
    /// not: the read timeout, or sooner the handshake or publish deadline
    /// of a connection that has not published yet.
    fn read_deadline(&self, accepted: tokio::time::Instant) -> (tokio::time::Instant, ConnError) {
        let limits = &self.ctx.limits;
        let idle = tokio::time::Instant::now() + limits.read_timeout;
        let admission = if !self.session.handshake_done() {
            Some(("handshake", limits.handshake_timeout))
        } else if !self.session.publish_requested() {
            Some(("publish", limits.publish_timeout))
        } else {
            None
        };
        match admission {
            Some((what, after)) if accepted + after < idle => {
                (accepted + after, ConnError::Deadline { what, after })
            }
            _ => (idle, ConnError::Timeout(limits.read_timeout)),
        }
    }

    async fn flush(&mut self) -> Result<(), ConnError> {
        let out = self.session.take_output();
        if !out.is_empty() {
            self.socket
                .send(&out, self.ctx.limits.write_timeout)
                .await?;
        }
        Ok(())
    }

    async fn on_event(&mut self, ev: ServerEvent) -> Result<(), ConnError> {
        match ev {
            ServerEvent::PublishRequested {
                stream_id,
                app,
                tc_url,
                name,
                ..
            } => {
                self.on_publish(stream_id, &app, tc_url.as_deref(), &name)
                    .await
            }
            ServerEvent::Video {
                stream_id,
                timestamp,
                data,
            } => self.on_media(stream_id, timestamp, data, true),
            ServerEvent::Audio {
                stream_id,
                timestamp,
                data,
            } => self.on_media(stream_id, timestamp, data, false),
            ServerEvent::Data {
                stream_id, data, ..
            } => self.on_data(stream_id, &data),
            ServerEvent::Unpublished { stream_id } => {
                if let Some(p) = self.publishing.take_if(|p| p.stream_id == stream_id) {
                    tracing::info!("publisher unpublished");
                    p.end(self.ctx, StopReason::Unpublish).await;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    async fn refuse(
        &mut self,
        stream_id: u32,
        code: StatusCode,
        reason: String,
    ) -> Result<(), ConnError> {
        self.session.reject_publish(stream_id, code, &reason);
        self.flush().await?;
        let _ = self.socket.shutdown().await;
        Err(ConnError::Refused(reason))
    }

    async fn on_publish(
        &mut self,
        stream_id: u32,
        app: &str,
        tc_url: Option<&str>,
        name: &str,
    ) -> Result<(), ConnError> {
        if self.publishing.is_some() {
            return self
                .refuse(
                    stream_id,
                    StatusCode::PublishBadConnection,
                    "connection is already publishing".into(),
                )
                .await;
        }
        let (app, app_query) = split_query(app);
        let (stream, query) = split_query(name);
        let app = app.trim_matches('/');
        if let Err(reason) =
            check_name("AppName", app).and_then(|()| check_name("StreamName", stream))
        {
            return self
                .refuse(stream_id, StatusCode::PublishBadName, reason)
                .await;
        }
        let domain = publish_domain(tc_url, self.local);
        let stream_param = [app_query, query]
            .iter()
            .filter(|q| !q.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join("&");
        // The domain is normalised once (StreamKey::new would do it again).
        let key = StreamKey {
            domain,
            app: app.to_string(),
            stream: stream.to_string(),
        };
        let span = tracing::Span::current();
        span.record("domain", key.domain.as_str());
        span.record("app", key.app.as_str());
        span.record("stream", key.stream.as_str());
        let now = self.ctx.clock.now_ms();
        let owner = match auth::admit(
            &self.ctx.store,
            &key,
            &stream_param,
            now,
            self.ctx.strict_domains,
        )
        .await
        {
            Ok(owner) => owner,
            Err(refusal) => {
                return self
                    .refuse(stream_id, refusal.code(), refusal.to_string())
                    .await;
            }
        };
        let info = SessionInfo {
            session_id: uuid::Uuid::new_v4().simple().to_string(),
            started_ms: now,
            client_addr: self.peer.to_string(),
            stream_param,
            owner,
        };
        match self.ctx.hub.publish(key.clone(), info) {
            Ok(publisher) => {
                if let Err(refusal) = auth::recheck_forbid(&self.ctx.store, &key, now).await {
                    drop(publisher);
                    return self
                        .refuse(stream_id, refusal.code(), refusal.to_string())
                        .await;
                }
                if let Err(node) = self.ctx.cluster.claim(publisher.stream()).await {
                    drop(publisher);
                    return self
                        .refuse(
                            stream_id,
                            StatusCode::PublishBadName,
                            format!("stream {key} is already being published (on node {node})"),
                        )
                        .await;
                }
                self.session.accept_publish(stream_id);
                let stream = publisher.stream();
                tracing::info!(stream = %key, session = %stream.info.session_id, owner = %stream.info.owner, "publish started");
                let log = SessionLog::start(&self.ctx.store, &self.ctx.callbacks, stream);
                self.publishing = Some(Publishing {
                    stream_id,
                    publisher,
                    demux: TagDemuxer::new(),
                    clock: Unwrap32::new(),
                    log,
                });
                Ok(())
            }
            Err(HubError::Busy(k)) => {
                self.refuse(
                    stream_id,
                    StatusCode::PublishBadName,
                    format!("stream {k} is already being published"),
                )
                .await
            }
        }
    }

    /// The publish on message stream `stream_id`, if that is the one this
    /// connection publishes (media on other streams is ignored).
    fn publishing_on(&mut self, stream_id: u32) -> Option<&mut Publishing> {
        self.publishing
            .as_mut()
            .filter(|p| p.stream_id == stream_id)
    }

    fn on_media(
        &mut self,
        stream_id: u32,
        timestamp: u32,
        data: Bytes,
        video: bool,
    ) -> Result<(), ConnError> {
        let now = self.ctx.clock.now_ms();
        let Some(p) = self.publishing_on(stream_id) else {
            return Ok(());
        };
        let dts = p.clock.unwrap(timestamp);
        let events = if video {
            p.demux.video(dts, data)?
        } else {
            p.demux.audio(dts, data)?
        };
        for ev in events {
            if let DemuxEvent::Frame(frame) = ev {
                // `frame.data` slices the RTMP message payload, which the
                // chunk reader hands over as an exact buffer of its own, so
                // the pre-roll keeps no read buffers alive.
                let tracks = p.demux.tracks();
                p.publisher.push(Packet {
                    frame,
                    tracks,
                    wall_ms: now,
                });
            }
        }
        Ok(())
    }

    fn on_data(&mut self, stream_id: u32, data: &[u8]) -> Result<(), ConnError> {
        let Some(p) = self.publishing_on(stream_id) else {
            return Ok(());
        };
        for ev in p.demux.script(data)? {
            if let DemuxEvent::Metadata(meta) = ev
                && let Some((v, a)) = declared_tracks(&meta)
            {
                p.publisher.declare_tracks(v, a);
            }
        }
        Ok(())
    }
}
