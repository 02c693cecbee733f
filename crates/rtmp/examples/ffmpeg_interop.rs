//! Interop check against a real ffmpeg publisher (examples may do IO; the
//! crate itself never does). Binds 127.0.0.1 on a free port, starts
//!
//! `ffmpeg -re -i <flv> -c copy -t 3 -f flv rtmp://127.0.0.1:PORT/live/test?x=1`,
//!
//! drives one `ServerSession` over the accepted socket with `std::net`,
//! accepts the publish and prints what arrived. Exits non-zero if the
//! publish was not seen exactly as sent or no audio/video arrived.
//!
//! `cargo run -p rtmp --example ffmpeg_interop [-- path/to/input.flv]`

use std::error::Error;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rtmp::{ServerConfig, ServerEvent, ServerSession};

/// Longest silence from ffmpeg before giving up.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long ffmpeg may take to exit once the socket is closed.
const EXIT_GRACE: Duration = Duration::from_secs(5);

#[derive(Debug, Default)]
struct Counts {
    audio: usize,
    video: usize,
    data: usize,
    audio_bytes: usize,
    video_bytes: usize,
    first_ts: Option<u32>,
    last_ts: u32,
    unpublished: usize,
}

fn main() -> Result<(), Box<dyn Error>> {
    let input = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/h264_aac_10s.flv"
        )
        .to_owned()
    });
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let url = format!("rtmp://127.0.0.1:{port}/live/test?x=1");
    let mut ffmpeg = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-re", "-i", &input])
        .args(["-c", "copy", "-t", "3", "-f", "flv", &url])
        .stdin(Stdio::null())
        .spawn()?;
    println!("ffmpeg pid {} publishing to {url}", ffmpeg.id());

    let result = serve(&listener, port);

    // ffmpeg exits by itself after -t 3; kill it (by its pid) if it hangs.
    let deadline = Instant::now() + EXIT_GRACE;
    let status = loop {
        if let Some(status) = ffmpeg.try_wait()? {
            break Some(status);
        }
        if Instant::now() > deadline {
            ffmpeg.kill()?;
            ffmpeg.wait()?;
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    println!("ffmpeg exit: {status:?}");
    let (request, counts, received) = result?;
    println!("publish request: {request:?}");
    println!("{counts:#?}");
    println!("bytes received: {received}");

    let expected_tc_url = format!("rtmp://127.0.0.1:{port}/live");
    let ok = matches!(&request, Some(ServerEvent::PublishRequested { app, tc_url, name, .. })
        if app == "live" && name == "test?x=1" && tc_url.as_deref() == Some(expected_tc_url.as_str()))
        && counts.audio > 0
        && counts.video > 0
        && counts.unpublished == 1;
    if !ok {
        return Err("interop check failed".into());
    }
    println!("interop OK");
    Ok(())
}

fn serve(
    listener: &TcpListener,
    port: u16,
) -> Result<(Option<ServerEvent>, Counts, u64), Box<dyn Error>> {
    let (mut sock, peer) = listener.accept()?;
    println!("accepted {peer}");
    sock.set_read_timeout(Some(READ_TIMEOUT))?;
    let mut session = ServerSession::new(ServerConfig::default(), u64::from(port));
    let mut counts = Counts::default();
    let mut request = None;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match sock.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        let mut events = session.feed(&buf[..n])?;
        loop {
            let mut decided = false;
            for ev in events {
                match &ev {
                    ServerEvent::PublishRequested { stream_id, .. } => {
                        session.accept_publish(*stream_id);
                        decided = true;
                        request = Some(ev.clone());
                    }
                    ServerEvent::Audio {
                        timestamp, data, ..
                    } => {
                        counts.audio += 1;
                        counts.audio_bytes += data.len();
                        counts.first_ts.get_or_insert(*timestamp);
                        counts.last_ts = *timestamp;
                    }
                    ServerEvent::Video {
                        timestamp, data, ..
                    } => {
                        counts.video += 1;
                        counts.video_bytes += data.len();
                        counts.first_ts.get_or_insert(*timestamp);
                        counts.last_ts = *timestamp;
                    }
                    ServerEvent::Data { .. } => counts.data += 1,
                    ServerEvent::Unpublished { .. } => counts.unpublished += 1,
                    other => println!("event: {other:?}"),
                }
            }
            if !decided {
                break;
            }
            events = session.feed(&[])?;
        }
        let out = session.take_output();
        if !out.is_empty() {
            sock.write_all(&out)?;
        }
    }
    Ok((request, counts, session.bytes_received()))
}
