//! Transcoding speed of [`media::Mp3Writer`]: the AAC track of
//! `fixtures/h264_aac_10s.flv`, looped N times (first argument, default 30),
//! decoded and encoded to 128 kbit/s MP3 on one thread. Prints the speed as
//! a multiple of realtime, by wall clock and (on Linux) by the CPU time the
//! thread got, which is the per-core figure on a busy machine.
//!
//! `cargo run --release -p media --example mp3_speed [N]`

use std::time::Instant;

use bytes::Bytes;
use media::flv::{DemuxEvent, scan, tag_type};
use media::{Frame, Mp3Writer, Muxer, TagDemuxer, Track, Tracks};

/// Nanoseconds this thread has run on a CPU (Linux `schedstat`), if known.
fn cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let loops: i64 = std::env::args().nth(1).map_or(Ok(30), |n| n.parse())?;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/h264_aac_10s.flv"
    );
    let file = Bytes::from(std::fs::read(path)?);
    let mut demuxer = TagDemuxer::new();
    let mut tracks = Tracks::default();
    let mut frames: Vec<Frame> = Vec::new();
    for tag in scan(&file).tags {
        if tag.tag_type != tag_type::AUDIO {
            continue;
        }
        for event in demuxer.audio(i64::from(tag.timestamp), file.slice(tag.body))? {
            match event {
                DemuxEvent::AudioConfig(c) => tracks.audio = Some(c),
                DemuxEvent::Frame(f) if f.track == Track::Audio => frames.push(f),
                _ => {}
            }
        }
    }
    let span = frames.last().map_or(0, |f| f.dts) + 23;

    let mut writer = Mp3Writer::new();
    let mut out = Vec::new();
    let mut bytes = 0usize;
    let started = Instant::now();
    let cpu_start = cpu_ns();
    writer.start(&tracks, &mut out)?;
    for n in 0..loops {
        for f in &frames {
            let frame = Frame {
                dts: f.dts + n * span,
                ..f.clone()
            };
            writer.push(&frame, &tracks, &mut out)?;
            bytes += out.len();
            out.clear();
        }
    }
    writer.finish(&mut out)?;
    bytes += out.len();
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_start
        .zip(cpu_ns())
        .map(|(a, b)| b.saturating_sub(a) as f64 / 1e9);
    let media = writer.duration_ms() as f64 / 1000.0;
    println!(
        "{media:.1} s of AAC-LC {} Hz stereo -> {bytes} bytes of 128 kbit/s MP3",
        tracks.audio.map_or(0, |a| a.sample_rate),
    );
    println!("wall {elapsed:.3} s: {:.0}x realtime", media / elapsed);
    if let Some(cpu) = cpu {
        println!("cpu  {cpu:.3} s: {:.0}x realtime per core", media / cpu);
    }
    Ok(())
}
