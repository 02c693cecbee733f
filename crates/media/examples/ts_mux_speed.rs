//! Muxing speed of [`media::TsMuxer`]: an FLV file (second argument,
//! default `fixtures/h264_aac_10s.flv`) is demuxed once, then all its frames
//! are muxed N times (first argument, default 1000) on one timeline, on one
//! thread, into a buffer handled as the recorder's spool handles it
//! (32 KiB kept, emptied whenever it reaches that size). Five rounds; prints
//! each round's output rate and time per frame, by wall clock and (on
//! Linux) by the CPU time the thread got, then the best and median rounds by wall
//! clock. The FNV-1a hash of the output of an untimed first pass (at most
//! 20 loops) tells whether two builds write the same bytes.
//!
//! `cargo run --release -p media --example ts_mux_speed [N] [FILE.flv]`

use std::time::Instant;

use bytes::Bytes;
use media::flv::{DemuxEvent, scan, tag_type};
use media::{Frame, Muxer, TagDemuxer, Tracks, TsMuxer};

/// Rounds of N loops each.
const ROUNDS: usize = 5;
/// Loops of the hashed pass.
const CHECKED_LOOPS: i64 = 20;
/// The recorder's write buffer (`recorder::spool`).
const WRITE_BUFFER: usize = 32 * 1024;

/// Nanoseconds this thread has run on a CPU (Linux `schedstat`), if known.
fn cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// FNV-1a of the TS written, to compare builds' output.
#[derive(Clone, Copy)]
struct Digest(u64);

impl Digest {
    fn add(&mut self, data: &[u8]) {
        for &b in data {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
}

/// One round: bytes written and (wall, CPU) seconds; with `digest`, the
/// output is hashed too (and the times mean little).
fn round(
    frames: &mut [(Frame, Tracks)],
    loops: i64,
    span: i64,
    mut digest: Option<&mut Digest>,
) -> Result<(usize, f64, Option<f64>), Box<dyn std::error::Error>> {
    let (video, audio) = frames.iter().fold((false, false), |(v, a), (_, t)| {
        (v || t.video.is_some(), a || t.audio.is_some())
    });
    let mut muxer = TsMuxer::new(video, audio);
    let mut out = Vec::with_capacity(WRITE_BUFFER);
    let mut bytes = 0usize;
    let started = Instant::now();
    let cpu_start = cpu_ns();
    if let Some((_, tracks)) = frames.first() {
        muxer.start(tracks, &mut out)?;
    }
    for n in 0..loops {
        for (f, tracks) in frames.iter_mut() {
            // Shifted in place: a clone per frame would be timed too.
            if n > 0 {
                f.dts += span;
            }
            muxer.push(f, tracks, &mut out)?;
            if out.len() >= WRITE_BUFFER {
                if let Some(d) = digest.as_deref_mut() {
                    d.add(&out);
                }
                bytes += out.len();
                out.clear();
            }
        }
    }
    muxer.finish(&mut out)?;
    if let Some(d) = digest {
        d.add(&out);
    }
    bytes += out.len();
    let wall = started.elapsed().as_secs_f64();
    for (f, _) in frames.iter_mut() {
        f.dts -= (loops - 1).max(0) * span;
    }
    let cpu = cpu_start
        .zip(cpu_ns())
        .map(|(a, b)| b.saturating_sub(a) as f64 / 1e9);
    std::hint::black_box(&out);
    Ok((bytes, wall, cpu))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let loops: i64 = args.next().map_or(Ok(1000), |n| n.parse())?;
    let path = args.next().unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/h264_aac_10s.flv"
        )
        .to_owned()
    });
    let file = Bytes::from(std::fs::read(&path)?);
    let mut demuxer = TagDemuxer::new();
    let mut tracks = Tracks::default();
    let mut frames: Vec<(Frame, Tracks)> = Vec::new();
    for tag in scan(&file).tags {
        let body = file.slice(tag.body);
        let ts = i64::from(tag.timestamp);
        let events = match tag.tag_type {
            tag_type::VIDEO => demuxer.video(ts, body)?,
            tag_type::AUDIO => demuxer.audio(ts, body)?,
            _ => continue,
        };
        for event in events {
            match event {
                DemuxEvent::VideoConfig(c) => tracks.video = Some(c),
                DemuxEvent::AudioConfig(c) => tracks.audio = Some(c),
                DemuxEvent::Frame(f) => frames.push((f, tracks.clone())),
                _ => {}
            }
        }
    }
    let span = frames.iter().map(|(f, _)| f.dts).max().unwrap_or(0) + 40;
    let count = frames.len() as f64 * loops as f64;
    let es: usize = frames.iter().map(|(f, _)| f.data.len()).sum();
    println!(
        "{path}: {} frames, {es} bytes of frames, muxed {loops} times per round",
        frames.len()
    );
    let mut digest = Digest(0xcbf2_9ce4_8422_2325);
    let checked = loops.min(CHECKED_LOOPS);
    let (check_bytes, _, _) = round(&mut frames, checked, span, Some(&mut digest))?;
    println!(
        "output of {checked} loops: {check_bytes} bytes, FNV-1a {:016x}",
        digest.0
    );

    let mut walls = Vec::with_capacity(ROUNDS);
    let mut bytes = 0;
    for r in 1..=ROUNDS {
        let (written, wall, cpu) = round(&mut frames, loops, span, None)?;
        bytes = written;
        print!(
            "round {r}: wall {:.3} s, {:.0} MB/s, {:.1} ns/frame",
            wall,
            bytes as f64 / wall / 1e6,
            wall * 1e9 / count
        );
        if let Some(cpu) = cpu {
            print!("; cpu {cpu:.3} s, {:.0} MB/s", bytes as f64 / cpu / 1e6);
        }
        println!();
        walls.push(wall);
    }
    println!("{bytes} bytes of TS per round");
    walls.sort_by(f64::total_cmp);
    for (what, wall) in [("best", walls[0]), ("median", walls[ROUNDS / 2])] {
        println!(
            "{what}: {:.0} MB/s of TS, {:.1} ns/frame",
            bytes as f64 / wall / 1e6,
            wall * 1e9 / count
        );
    }
    Ok(())
}
