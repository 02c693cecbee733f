//! Crash recovery of a TS file [`super::TsMuxer`] wrote: finds where to cut
//! so that every remaining PES is complete, and the media span of what
//! remains (for the segment's EXTINF). A PES ends where the next PES of its
//! PID starts, so the last PES of each PID may be cut short: the file is
//! truncated at the earliest of those last starts. Streams through the
//! file one packet at a time, keeping only the PES starts.

use std::io::{BufReader, Read};

use super::packet::{PACKET_LEN, SYNC};
use super::{AUDIO_PID, VIDEO_PID};

/// What [`recover`] found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TsRecovery {
    /// Bytes to keep (a multiple of 188).
    pub valid_len: usize,
    /// PES packets kept, all PIDs.
    pub pes_packets: usize,
    /// Media span of the kept data, ms (0 when nothing is kept).
    pub duration_ms: i64,
}

/// One PES start: where, on which PID, with which DTS (90 kHz).
struct PesStart {
    offset: usize,
    pid: u16,
    dts: Option<u64>,
}

/// The 33-bit timestamp at `b[0..5]` (§2.4.3.7).
fn timestamp(b: &[u8]) -> Option<u64> {
    let b: &[u8; 5] = b.get(..5)?.try_into().ok()?;
    Some(
        (u64::from(b[0] >> 1) & 0x07) << 30
            | u64::from(b[1]) << 22
            | u64::from(b[2] >> 1) << 15
            | u64::from(b[3]) << 7
            | u64::from(b[4] >> 1),
    )
}

/// DTS (or PTS when no DTS) of the PES header at the start of `payload`.
fn pes_dts(payload: &[u8]) -> Option<u64> {
    if payload.get(..3)? != [0, 0, 1] {
        return None;
    }
    let flags = *payload.get(7)?;
    match flags >> 6 {
        0b11 => timestamp(payload.get(14..)?),
        0b10 => timestamp(payload.get(9..)?),
        _ => None,
    }
}

/// Reads as much of `buf` as `r` holds; the count read.
fn fill<R: Read>(r: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The PES starts of the video and audio PIDs, and the length of the run of
/// whole packets that opens the file.
fn pes_starts<R: Read>(r: R) -> std::io::Result<(Vec<PesStart>, usize)> {
    let mut r = BufReader::with_capacity(PACKET_LEN * 512, r);
    let mut starts = Vec::new();
    let mut whole = 0;
    let mut p = [0u8; PACKET_LEN];
    while fill(&mut r, &mut p)? == PACKET_LEN && p[0] == SYNC {
        let offset = whole;
        whole += PACKET_LEN;
        let pusi = p[1] & 0x40 != 0;
        let pid = u16::from_be_bytes([p[1] & 0x1f, p[2]]);
        if !pusi || !(pid == VIDEO_PID || pid == AUDIO_PID) {
            continue;
        }
        let body = match p[3] >> 4 & 0x3 {
            0b01 => &p[4..],
            0b11 => p.get(5 + usize::from(p[4])..).unwrap_or(&[]),
            _ => continue,
        };
        starts.push(PesStart {
            offset,
            pid,
            dts: pes_dts(body),
        });
    }
    Ok((starts, whole))
}

/// Where to cut `data` and what remains (see [`recover_from`]).
pub fn recover(data: &[u8]) -> TsRecovery {
    // Reading a slice cannot fail.
    recover_from(data).unwrap_or_default()
}

/// Where to cut the TS file `r` reads and what remains. A file with no
/// complete PES gives `valid_len` 0; only I/O errors of `r` fail.
pub fn recover_from<R: Read>(r: R) -> std::io::Result<TsRecovery> {
    let (starts, whole) = pes_starts(r)?;
    let last_start = |pid: u16| starts.iter().rev().find(|s| s.pid == pid).map(|s| s.offset);
    let cut = [last_start(VIDEO_PID), last_start(AUDIO_PID)]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(0)
        .min(whole);
    let kept: Vec<&PesStart> = starts.iter().filter(|s| s.offset < cut).collect();
    let clock_pid = if kept.iter().any(|s| s.pid == VIDEO_PID) {
        VIDEO_PID
    } else {
        AUDIO_PID
    };
    let dts: Vec<u64> = kept
        .iter()
        .filter(|s| s.pid == clock_pid)
        .filter_map(|s| s.dts)
        .collect();
    let duration_ms = match (dts.first(), dts.last()) {
        (Some(&a), Some(&b)) if b > a => {
            let span = (b - a) as i64 / 90;
            // The last kept PES lasts about as long as the average one.
            span + span / (dts.len() as i64 - 1).max(1)
        }
        _ => 0,
    };
    Ok(TsRecovery {
        valid_len: if kept.is_empty() { 0 } else { cut },
        pes_packets: kept.len(),
        duration_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mux::Muxer;
    use crate::test_support::{aac_config, frame};
    use crate::ts::TsMuxer;
    use crate::{Track, Tracks};

    fn mux(frames: usize) -> Vec<u8> {
        let mut m = TsMuxer::new(false, true);
        let tracks = Tracks {
            video: None,
            audio: Some(aac_config()),
        };
        let mut out = Vec::new();
        m.start(&tracks, &mut out).unwrap();
        for i in 0..frames {
            let f = frame(Track::Audio, i as i64 * 23, 0, true, &[0x21; 200]);
            m.push(&f, &tracks, &mut out).unwrap();
        }
        m.finish(&mut out).unwrap();
        out
    }

    #[test]
    fn cuts_at_the_last_pes_start() {
        let data = mux(100);
        let full = recover(&data);
        assert_eq!(full.valid_len % PACKET_LEN, 0);
        assert!(
            full.valid_len < data.len(),
            "the last PES may be incomplete"
        );
        assert!(full.pes_packets > 10);
        assert!(
            (full.duration_ms - 100 * 23).abs() < 150,
            "{}",
            full.duration_ms
        );
        for cut in (0..data.len()).step_by(97) {
            let r = recover(&data[..cut]);
            assert!(r.valid_len <= cut);
            assert_eq!(r.valid_len % PACKET_LEN, 0);
        }
        assert_eq!(recover(&[]).valid_len, 0);
        assert_eq!(recover(&[0x47; 1000]).pes_packets, 0);
    }
}
