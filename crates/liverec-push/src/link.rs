//! A [`ClientSession`] on a byte stream: the publish handshake, the send
//! loop (pacing, deadline, stall, garbage, server input) and the close.
//! Generic over the stream so tests can run it on an in-memory pipe.

use std::pin::pin;
use std::time::Duration;

use rtmp::{ClientEvent, ClientSession};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{Instant, sleep_until, timeout, timeout_at};

use super::source::{MAX_LOOPS, Scheduled, Source, TagKind};
use super::url::PublishUrl;
use super::{End, GARBAGE_BYTES, IO_TIMEOUT, MAX_STALL, PushError, PushOptions, PushReport};

/// Bytes read from the server at once.
const READ_CHUNK: usize = 16 * 1024;

/// The session and its stream.
struct Link<S> {
    stream: S,
    session: ClientSession,
    buf: Vec<u8>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Link<S> {
    /// Writes what the session has queued, within [`IO_TIMEOUT`].
    async fn flush(&mut self) -> Result<(), PushError> {
        let out = self.session.take_output();
        if !out.is_empty() {
            self.write(&out).await?;
        }
        Ok(())
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), PushError> {
        timeout(IO_TIMEOUT, self.stream.write_all(bytes))
            .await
            .map_err(|_| PushError::Timeout("writing to the server"))?
            .map_err(|e| io_error(e, "while we were sending"))?;
        Ok(())
    }

    /// Feeds `n` bytes read (0: the server closed) and sends the answers.
    async fn on_read(
        &mut self,
        n: usize,
        phase: &'static str,
    ) -> Result<Vec<ClientEvent>, PushError> {
        if n == 0 {
            return Err(PushError::Closed(phase));
        }
        let events = self.session.feed(&self.buf[..n])?;
        self.flush().await?;
        Ok(events)
    }

    /// Connect → createStream → publish, each answer within [`IO_TIMEOUT`].
    async fn start_publish(&mut self) -> Result<(), PushError> {
        self.flush().await?;
        let mut deadline = Instant::now() + IO_TIMEOUT;
        // Ends at the deadline unless the server keeps sending bytes; it
        // gets a fresh deadline only for bytes that form whole answers.
        loop {
            let n = timeout_at(deadline, self.stream.read(&mut self.buf))
                .await
                .map_err(|_| PushError::Timeout("waiting for the publish to start"))?
                .map_err(|e| io_error(e, "before the publish started"))?;
            let events = self.on_read(n, "before the publish started").await?;
            if !events.is_empty() {
                deadline = Instant::now() + IO_TIMEOUT;
            }
            for event in events {
                match event {
                    ClientEvent::PublishStarted => return Ok(()),
                    ClientEvent::PublishRejected { code, description } => {
                        return Err(PushError::Rejected { code, description });
                    }
                    status => log_status(&status),
                }
            }
        }
    }

    /// Handles server input while publishing.
    async fn serve_input(&mut self, n: usize) -> Result<(), PushError> {
        for event in self.on_read(n, "while publishing").await? {
            match event {
                ClientEvent::Status {
                    code,
                    level,
                    description,
                } if level == "error" => {
                    return Err(PushError::ServerError { code, description });
                }
                ClientEvent::PublishRejected { code, description } => {
                    return Err(PushError::ServerError { code, description });
                }
                other => log_status(&other),
            }
        }
        Ok(())
    }

    fn send(&mut self, t: &Scheduled<'_>, report: &mut PushReport) {
        let body = t.tag.body.clone();
        report.body_bytes += body.len() as u64;
        match t.tag.kind {
            TagKind::Audio => {
                report.audio_tags += 1;
                self.session.send_audio(t.timestamp, body);
            }
            TagKind::Video => {
                report.video_tags += 1;
                report.video_frames += u64::from(is_coded_frame(&body));
                self.session.send_video(t.timestamp, body);
            }
            TagKind::Data => {
                report.data_tags += 1;
                self.session.send_data(t.timestamp, body);
            }
        }
        report.rounds = report.rounds.max(t.round + 1);
        report.media_ms = t.media_ms;
    }

    /// Unpublishes (unless the stream was corrupted), half-closes, and reads
    /// until the server closes, so it has taken every byte before we go.
    async fn close(&mut self, unpublish: bool) -> Result<(), PushError> {
        if unpublish {
            self.session.unpublish();
            self.flush().await?;
        }
        timeout(IO_TIMEOUT, self.stream.shutdown())
            .await
            .map_err(|_| PushError::Timeout("closing the connection"))??;
        let deadline = Instant::now() + IO_TIMEOUT;
        // Bounded by the deadline; what the server says now is not acted on.
        while let Ok(Ok(n)) = timeout_at(deadline, self.stream.read(&mut self.buf)).await {
            if n == 0 {
                break;
            }
        }
        Ok(())
    }
}

/// A reset or broken pipe is the server closing the connection; other I/O
/// errors stay I/O errors.
fn io_error(e: std::io::Error, phase: &'static str) -> PushError {
    use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset};
    match e.kind() {
        BrokenPipe | ConnectionAborted | ConnectionReset => PushError::Closed(phase),
        _ => PushError::Io(e),
    }
}

/// Logs a status message of the server; other events are not logged.
fn log_status(event: &ClientEvent) {
    if let ClientEvent::Status {
        code,
        level,
        description,
    } = event
    {
        tracing::info!(%code, %level, %description, "status");
    }
}

/// What woke the send loop.
enum Wake {
    Read(std::io::Result<usize>),
    Timer,
    Interrupt(std::io::Result<()>),
}

/// Publishes `source` on `stream`: the whole push after the TCP connect.
pub(super) async fn publish<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    url: &PublishUrl,
    source: &Source,
    opts: &PushOptions,
    seed: u64,
) -> Result<PushReport, PushError> {
    let mut link = Link {
        stream,
        session: ClientSession::new(&url.tc_url, &url.app, &url.stream, seed),
        buf: vec![0; READ_CHUNK],
    };
    link.start_publish().await?;
    tracing::info!("publish started");
    let start = Instant::now();
    let mut report = PushReport {
        video_tags: 0,
        video_frames: 0,
        audio_tags: 0,
        data_tags: 0,
        body_bytes: 0,
        rounds: 0,
        media_ms: 0,
        wall: Duration::ZERO,
        garbage_sent: false,
        end: End::Finished,
    };
    let rounds = if opts.looping { MAX_LOOPS } else { 1 };
    let mut schedule = source.schedule(rounds).peekable();
    let stop_at = opts.seconds.map(|d| start + d);
    let stall_at = opts.stall_after_ms.map(|d| start + d);
    let batch = Duration::from_millis(opts.batch_ms);
    let mut garbage_at = opts.garbage_after_ms.map(|d| start + d);
    let mut stalled_since: Option<Instant> = None;
    let mut rng = seed | 1;
    let mut ctrl_c = pin!(tokio::signal::ctrl_c());
    let mut ctrl_c_armed = true;
    // Each pass sends a tag, handles server input or fires a timer; it ends
    // with the schedule (at most MAX_LOOPS rounds), --seconds, the stall
    // limit or an error.
    let end = loop {
        let now = Instant::now();
        if stop_at.is_some_and(|t| now >= t) {
            break End::Deadline;
        }
        if garbage_at.is_some_and(|t| now >= t) {
            garbage_at = None;
            let garbage = random_bytes(&mut rng, GARBAGE_BYTES);
            link.write(&garbage).await?;
            report.garbage_sent = true;
            stalled_since.get_or_insert(now);
        }
        if stalled_since.is_none() && stall_at.is_some_and(|t| now >= t) {
            stalled_since = Some(now);
        }
        let due = match (stalled_since, schedule.peek()) {
            (Some(since), _) if now >= since + MAX_STALL => break End::StallLimit,
            (Some(since), _) => since + MAX_STALL,
            (None, None) => break End::Finished,
            (None, Some(t)) => early(tag_due(opts.realtime, start, now, t.media_ms), batch),
        };
        let timers = [Some(due), stop_at, garbage_at];
        let stall_timer = stall_at.filter(|_| stalled_since.is_none());
        let wake = timers
            .into_iter()
            .chain([stall_timer])
            .flatten()
            .min()
            .unwrap_or(due);
        // A tag due now goes without a timer (its 1 ms tick would pace a
        // non-realtime push); server input is still taken first.
        let woke = if wake <= now {
            tokio::select! {
                biased;
                r = link.stream.read(&mut link.buf) => Wake::Read(r),
                () = std::future::ready(()) => Wake::Timer,
            }
        } else {
            tokio::select! {
                r = link.stream.read(&mut link.buf) => Wake::Read(r),
                () = sleep_until(wake) => Wake::Timer,
                r = &mut ctrl_c, if ctrl_c_armed => Wake::Interrupt(r),
            }
        };
        match woke {
            Wake::Read(r) => {
                let n = r.map_err(|e| io_error(e, "while publishing"))?;
                link.serve_input(n).await?;
            }
            Wake::Timer if stalled_since.is_none() && Instant::now() >= due => {
                // The tag due, and with --batch-ms those due within the
                // batch, in one write (at most MAX_BATCH tags, so server
                // input is read in between).
                let mut sent = 0;
                while sent < MAX_BATCH {
                    let now = Instant::now();
                    if stop_at.is_some_and(|s| now >= s) {
                        break;
                    }
                    let Some(t) = schedule.next_if(|t| {
                        early(tag_due(opts.realtime, start, now, t.media_ms), batch) <= now
                    }) else {
                        break;
                    };
                    link.send(&t, &mut report);
                    sent += 1;
                }
                link.flush().await?;
            }
            Wake::Timer => {}
            Wake::Interrupt(Ok(())) => break End::Interrupted,
            // No signal handler: run without Ctrl-C handling.
            Wake::Interrupt(Err(_)) => ctrl_c_armed = false,
        }
    };
    report.wall = start.elapsed();
    report.end = end;
    link.close(!report.garbage_sent).await?;
    Ok(report)
}

/// Most tags written at once before server input is read again.
const MAX_BATCH: usize = 256;

/// `due` moved `batch` earlier (not before the clock's origin).
fn early(due: Instant, batch: Duration) -> Instant {
    due.checked_sub(batch).unwrap_or(due)
}

/// Whether an FLV video tag body is a coded frame (not a sequence header
/// or an end-of-sequence marker): legacy AVC/HEVC packet type 1, or
/// enhanced RTMP CodedFrames / CodedFramesX.
pub(super) fn is_coded_frame(body: &[u8]) -> bool {
    match body {
        [b0, ..] if b0 & 0x80 != 0 => matches!(b0 & 0x0f, 1 | 3),
        [_, packet_type, ..] => *packet_type == 1,
        _ => false,
    }
}

/// `len` bytes of xorshift64 output: noise, not secrets.
fn random_bytes(state: &mut u64, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// When a tag `media_ms` into the stream is due: with `--realtime` that
/// long after the publish started (like `ffmpeg -re`; a late tag goes at
/// once), otherwise `now`.
pub(super) fn tag_due(realtime: bool, start: Instant, now: Instant, media_ms: u64) -> Instant {
    if realtime {
        start + Duration::from_millis(media_ms)
    } else {
        now
    }
}
