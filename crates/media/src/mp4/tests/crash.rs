//! Crash safety: a journal cut at any byte finalizes into a playable file
//! that keeps every complete fragment and so loses at most about a second.

use super::*;
use crate::test_support::{AAC_ONLY, TempDir, decode_clean, probe_duration, source, tools};

/// Journal offsets where fragments end, with the movie duration in ms of
/// everything up to there, read from the journal's own `tfdt`/`trun`
/// boxes (independently of the finalizer).
fn fragment_ends(j: &[u8], init_len: usize) -> Vec<(usize, i64)> {
    let moov = reader::Boxes(&j[..init_len])
        .map(Result::unwrap)
        .find(|b| &b.kind == b"moov")
        .unwrap();
    let tracks = reader::parse_moov(moov.body).unwrap();
    let mut spans: Vec<Option<TrackSpan>> = vec![None; tracks.len()];
    let mut out = Vec::new();
    let mut at = init_len;
    for b in reader::Boxes(&j[init_len..]).map(Result::unwrap) {
        at += b.whole.len();
        if &b.kind == b"moof" {
            for traf in reader::Boxes(b.body)
                .map(Result::unwrap)
                .filter(|b| &b.kind == b"traf")
            {
                let body = traf.body;
                let id = be32(super::find(body, &[b"tfhd"]).unwrap(), 4);
                let i = tracks.iter().position(|t| t.header.track_id == id).unwrap();
                let tfdt = super::find(body, &[b"tfdt"]).unwrap();
                let base = be64(tfdt, 4) as i64;
                let trun = super::find(body, &[b"trun"]).unwrap();
                let n = be32(trun, 4) as usize;
                let total: i64 = (0..n).map(|k| i64::from(be32(trun, 12 + 16 * k))).sum();
                let s = spans[i].get_or_insert(TrackSpan {
                    timescale: tracks[i].header.timescale,
                    first: base,
                    end: base,
                });
                s.end = base + total;
            }
        } else if &b.kind == b"mdat" {
            let done: Vec<TrackSpan> = spans.iter().flatten().copied().collect();
            out.push((at, movie_duration_ms(&done)));
        }
    }
    out
}

#[test]
fn every_truncation_finalizes() {
    let j = journal(&source(H264_AAC).frames, true, true);
    let ends = fragment_ends(&j.bytes, j.init_len);
    assert!(ends.len() > 9, "{}", ends.len());
    assert_eq!(ends.last().unwrap(), &(j.bytes.len(), j.duration_ms));
    let first_dts = j.pushes[0].1;
    let mut cuts: Vec<usize> = (j.init_len..j.bytes.len()).step_by(997).collect();
    for &(end, _) in &ends {
        cuts.extend([end - 1, end, end + 1]);
    }
    cuts.push(j.bytes.len());
    cuts.retain(|&c| c <= j.bytes.len());
    let spot_checks = [ends[3].0 + 1, ends[6].0 - 1, j.bytes.len() - 5000];
    let ffmpeg = tools("ffprobe checks");
    for cut in cuts.into_iter().chain(spot_checks) {
        let (out, info) = finalized(&j.bytes[..cut]);
        let (complete, expected) = ends
            .iter()
            .rev()
            .find(|(end, _)| *end <= cut)
            .copied()
            .unwrap_or((j.init_len, 0));
        assert_eq!(info.truncated, cut != complete, "cut {cut}");
        assert!(
            info.duration_ms >= expected - 1,
            "cut {cut}: {} < {expected}",
            info.duration_ms
        );
        assert!(
            info.duration_ms <= expected + 1,
            "cut {cut}: {} > {expected}",
            info.duration_ms
        );
        // Media pushed before the journal reached `cut` bytes is lost only
        // if it was still in the last (unwritten) second.
        let pushed = j.pushes.iter().take_while(|(len, _)| *len <= cut).last();
        if let Some((_, dts)) = pushed {
            let written = dts - first_dts;
            assert!(
                info.duration_ms >= written - 1100,
                "cut {cut}: {} vs {written}",
                info.duration_ms
            );
        }
        let (_, tracks) = read_tracks(&out);
        assert_eq!(
            tracks.iter().map(|t| t.samples.len() as u64).sum::<u64>(),
            info.video_samples + info.audio_samples
        );
        if let Some(v) = tracks.iter().find(|t| &t.handler == b"vide") {
            assert!(v.samples.first().is_none_or(|s| s.sync), "cut {cut}");
        }
        if ffmpeg && spot_checks.contains(&cut) {
            let dir = TempDir::new("mp4-crash");
            let path = dir.write(&format!("cut{cut}.mp4"), &out);
            decode_clean(&path, true);
            let d = probe_duration(&path);
            assert!(
                (d * 1000.0 - info.duration_ms as f64).abs() < 50.0,
                "{d} {info:?}"
            );
        }
    }
}

#[test]
fn damaged_fragment_ends_the_media() {
    let j = journal(&source(AAC_ONLY).frames, false, true);
    let ends = fragment_ends(&j.bytes, j.init_len);
    let mut damaged = j.bytes.clone();
    // Corrupt the size of the 4th fragment's moof.
    damaged[ends[2].0..ends[2].0 + 4].copy_from_slice(&[0, 0, 0, 3]);
    let (_, info) = finalized(&damaged);
    assert!(info.truncated);
    assert_eq!(info.duration_ms, ends[2].1);
    // A trun pointing outside its mdat is refused the same way.
    let mut damaged = j.bytes.clone();
    let trun = ends[4].0
        + damaged[ends[4].0..]
            .windows(4)
            .position(|w| w == b"trun")
            .unwrap();
    damaged[trun + 12..trun + 16].copy_from_slice(&0x7fff_0000u32.to_be_bytes());
    let (_, info) = finalized(&damaged);
    assert!(info.truncated);
    assert_eq!(info.duration_ms, ends[4].1);
}
