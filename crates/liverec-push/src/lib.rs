//! `liverec-push`: the project's own RTMP publisher, for tests, operators
//! and benchmarks (`--streams N`: the load generator). It publishes the tags of an
//! FLV file through [`rtmp::ClientSession`] over tokio: connect, publish,
//! every tag with its timestamp and byte-exact body (so enhanced-RTMP
//! `hvc1` and legacy CodecID 12 HEVC go through unchanged, which FFmpeg 5.1
//! cannot publish), then unpublish and close. Options pace it like
//! `ffmpeg -re`, loop the file with increasing timestamps, stop after a
//! wall-clock time, or misbehave on purpose (stall, send garbage) for
//! robustness tests.
//!
//! Owns the publisher's socket, its timeouts and the mapping of failures to
//! exit codes ([`PushError::exit_code`]). It shares nothing with the
//! server crate (`liverec`): it is a client like any other, and depends
//! only on the sans-IO `rtmp` and `media` crates.
//!
//! - `source`: the FLV file in memory and the (looping) tag schedule.
//! - `url`: `rtmp://host:port/app/stream?query` → address, `tcUrl`, names.
//! - `link`: the session on a stream: publish handshake, sending (tags due
//!   within `--batch-ms` in one write), close.
//! - `many`: the load generator: N streams from one process and one copy
//!   of the file, a JSON report of the frames each sent.
//! - the `liverec-push` binary (`src/main.rs`): flags, logging, exit code.
//!
//! # How the server's end-to-end tests run it
//!
//! They start the `liverec-push` binary as a real process (exit status,
//! stderr and signals are part of what they check). Cargo builds a
//! package's binaries whenever that package has an integration test
//! selected, so the one `cargo test --workspace` build (dev profile)
//! writes `liverec-push` next to `liverec` in the target directory, before
//! any test runs; this crate's `tests/cli.rs` is that integration test. The
//! e2e harness finds the binary as the sibling of `CARGO_BIN_EXE_liverec`.
//! A run limited to the server crate (`cargo test -p liverec --test e2e`)
//! needs `cargo build -p liverec-push` first; the harness says so if the
//! binary is missing.

mod link;
mod many;
mod source;
mod url;

pub use many::{ManyReport, run_many};

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;
use tokio::net::TcpStream;

pub use source::{MAX_FILE_BYTES, MAX_LOOPS, Schedule, Scheduled, Source, SourceTag, TagKind};
pub use url::PublishUrl;

/// Bound on every wait for the server: connect, each step of the publish
/// handshake, each write, and the close.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a stalled push (`--stall-after-ms`, or after garbage) waits for
/// the server to close the connection when `--seconds` is not given.
pub const MAX_STALL: Duration = Duration::from_secs(600);
/// Random bytes `--garbage-after-ms` writes into the connection.
pub const GARBAGE_BYTES: usize = 4096;

/// What to publish, where and how.
#[derive(clap::Args, Clone, Debug, PartialEq)]
pub struct PushOptions {
    /// Pace tags by their timestamps, like `ffmpeg -re`.
    #[arg(long)]
    pub realtime: bool,
    /// Repeat the file; each round's timestamps continue after the previous
    /// round's (offset by the file's duration plus one frame). Script data
    /// is sent in the first round only. Ends after 100,000 rounds.
    #[arg(long = "loop")]
    pub looping: bool,
    /// Stop after this many seconds of wall time after the publish started
    /// (fractions allowed).
    #[arg(long, value_name = "N", value_parser = parse_seconds)]
    pub seconds: Option<Duration>,
    /// Stop sending anything (but keep the connection open and answer the
    /// server) this many ms after the publish started; the push then waits
    /// for `--seconds`, the server closing the connection, or 600 s.
    #[arg(long, value_name = "N", value_parser = parse_ms)]
    pub stall_after_ms: Option<Duration>,
    /// Write 4 KiB of random bytes into the connection this many ms after
    /// the publish started, then stall as with `--stall-after-ms`.
    #[arg(long, value_name = "N", value_parser = parse_ms)]
    pub garbage_after_ms: Option<Duration>,
    /// Publish this many streams from one process (a load generator):
    /// `<stream>_0` … `<stream>_<N-1>`, all from one copy of the file in
    /// memory; prints one JSON line with what each stream sent (also for
    /// `--streams 1`). Without it: one stream, named as the URL says.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub streams: Option<u32>,
    /// Send the tags due within this many ms in one write (fewer wake-ups
    /// and system calls per stream; tags leave up to this much early).
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub batch_ms: u64,
    /// With `--streams`, spread the connects evenly over this many ms.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub ramp_ms: u64,
    /// The FLV file to publish (read whole, at most 512 MiB).
    pub file: PathBuf,
    /// Where to publish: `rtmp://host[:port]/app/stream[?query]`.
    pub url: String,
}

fn parse_seconds(s: &str) -> Result<Duration, String> {
    let secs: f64 = s.parse().map_err(|e| format!("{e}"))?;
    Duration::try_from_secs_f64(secs).map_err(|e| format!("{e}"))
}

fn parse_ms(s: &str) -> Result<Duration, String> {
    s.parse()
        .map(Duration::from_millis)
        .map_err(|e| format!("{e}"))
}

/// Why a push failed. [`Self::exit_code`] gives the process exit status.
#[derive(Debug, Error)]
pub enum PushError {
    /// The URL is not `rtmp://host[:port]/app/stream[?query]`.
    #[error("bad publish URL {0}")]
    Url(String),
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is over [`MAX_FILE_BYTES`].
    #[error("{0} is larger than {MAX_FILE_BYTES} bytes")]
    FileTooLarge(PathBuf),
    /// The file is not FLV or has no tag to send.
    #[error("not a usable FLV file: {0}")]
    Flv(String),
    /// TCP connect failed.
    #[error("cannot connect to {address}: {source}")]
    Connect {
        /// `host:port`.
        address: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The server did not answer, or did not read, within [`IO_TIMEOUT`].
    #[error("{0} timed out after 10 s")]
    Timeout(&'static str),
    /// Reading or writing the connection failed.
    #[error("connection error: {0}")]
    Io(#[from] std::io::Error),
    /// The server's bytes were not valid RTMP.
    #[error("RTMP protocol error: {0}")]
    Protocol(#[from] rtmp::RtmpError),
    /// The server refused `connect`, `createStream` or `publish`.
    #[error("publish rejected: {code}: {description}")]
    Rejected {
        /// `onStatus` / `_error` code, e.g. `NetStream.Publish.BadName`.
        code: String,
        /// The server's description.
        description: String,
    },
    /// An error-level `onStatus` arrived while publishing.
    #[error("server reported {code}: {description}")]
    ServerError {
        /// Status code.
        code: String,
        /// The server's description.
        description: String,
    },
    /// The server closed the connection before the push ended.
    #[error("the server closed the connection {0}")]
    Closed(&'static str),
}

impl PushError {
    /// Process exit status: 1 bad input (URL, file), 3 connection failed or
    /// timed out, 4 publish rejected or error status, 5 connection closed by
    /// the server. (2 is clap's usage error, 0 a normal end.)
    pub fn exit_code(&self) -> i32 {
        match self {
            PushError::Url(_)
            | PushError::Read { .. }
            | PushError::FileTooLarge(_)
            | PushError::Flv(_) => 1,
            PushError::Connect { .. }
            | PushError::Timeout(_)
            | PushError::Io(_)
            | PushError::Protocol(_) => 3,
            PushError::Rejected { .. } | PushError::ServerError { .. } => 4,
            PushError::Closed(_) => 5,
        }
    }
}

/// Why a successful push ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Every tag was sent (every round with `--loop`).
    Finished,
    /// `--seconds` elapsed.
    Deadline,
    /// Stalled for [`MAX_STALL`] without the server closing the connection.
    StallLimit,
    /// Ctrl-C.
    Interrupted,
}

impl fmt::Display for End {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            End::Finished => "end of file",
            End::Deadline => "--seconds reached",
            End::StallLimit => "stall limit reached",
            End::Interrupted => "interrupted",
        })
    }
}

/// What a push did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushReport {
    /// Video messages sent.
    pub video_tags: u64,
    /// Of those, coded frames (not sequence headers or end-of-sequence
    /// markers): what a recording of the stream should hold.
    pub video_frames: u64,
    /// Audio messages sent.
    pub audio_tags: u64,
    /// Data messages sent.
    pub data_tags: u64,
    /// Message body bytes sent.
    pub body_bytes: u64,
    /// Loop rounds begun (1 without `--loop`).
    pub rounds: u64,
    /// Media time of the last tag sent, from the first (ms).
    pub media_ms: u64,
    /// Wall time from publish start to the end of the push.
    pub wall: Duration,
    /// Whether `--garbage-after-ms` fired.
    pub garbage_sent: bool,
    /// Why it ended.
    pub end: End,
}

impl PushReport {
    /// Tags sent in all.
    pub fn tags(&self) -> u64 {
        self.video_tags + self.audio_tags + self.data_tags
    }
}

impl fmt::Display for PushReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sent {} tags ({} video, {} audio, {} data; {} bytes) in {} round(s), \
             {:.3} s of media in {:.3} s{}; {}",
            self.tags(),
            self.video_tags,
            self.audio_tags,
            self.data_tags,
            self.body_bytes,
            self.rounds,
            self.media_ms as f64 / 1000.0,
            self.wall.as_secs_f64(),
            if self.garbage_sent {
                ", garbage sent"
            } else {
                ""
            },
            self.end,
        )
    }
}

/// Runs a push: reads the file, connects (within [`IO_TIMEOUT`]),
/// publishes, sends, unpublishes and closes.
pub async fn run(opts: &PushOptions) -> Result<PushReport, PushError> {
    let url = PublishUrl::parse(&opts.url)?;
    let source = load(opts).await?;
    connect_and_publish(&url, &source, opts, seed()).await
}

/// Reads the file (warning about a truncated end).
async fn load(opts: &PushOptions) -> Result<Source, PushError> {
    let source = Source::load(&opts.file).await?;
    if source.trailing_bytes() > 0 {
        tracing::warn!(
            bytes = source.trailing_bytes(),
            "ignoring bytes after the last complete tag"
        );
    }
    Ok(source)
}

/// Connects to `url` and runs the push of `source` on it.
async fn connect_and_publish(
    url: &PublishUrl,
    source: &Source,
    opts: &PushOptions,
    seed: u64,
) -> Result<PushReport, PushError> {
    let connect_err = |source| PushError::Connect {
        address: url.address.clone(),
        source,
    };
    let stream = tokio::time::timeout(IO_TIMEOUT, TcpStream::connect(&url.address))
        .await
        .map_err(|_| PushError::Timeout("connect"))?
        .map_err(connect_err)?;
    // Small tags go out at once, as a live encoder's would.
    stream.set_nodelay(true)?;
    tracing::info!(address = %url.address, app = %url.app, stream = %url.stream, "connected");
    link::publish(stream, url, source, opts, seed).await
}

/// A per-process seed for the handshake and garbage bytes (no secrecy
/// needed).
fn seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ (u64::from(std::process::id()) << 32)
}

#[cfg(test)]
mod tests;
