//! A strict test-only MPEG-TS reader: checks sync bytes, continuity
//! counters, section CRCs, adaptation-field lengths and PES lengths, and
//! returns the PES packets with their timestamps.

use super::super::packet::{PACKET_LEN, SYNC, crc32};
use super::super::{AUDIO_PID, PMT_PID, VIDEO_PID};

/// One reassembled PES packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pes {
    pub(crate) pid: u16,
    pub(crate) stream_id: u8,
    pub(crate) pts: u64,
    pub(crate) dts: u64,
    pub(crate) random_access: bool,
    pub(crate) pcr: Option<u64>,
    /// Index of the packet that starts it.
    pub(crate) first_packet: usize,
    pub(crate) data: Vec<u8>,
}

/// One PMT: version, PCR PID, and (stream type, PID) per stream.
pub(crate) type Pmt = (u8, u16, Vec<(u8, u16)>);

/// What a file holds.
#[derive(Debug, Default)]
pub(crate) struct Demuxed {
    /// PID of every packet, in order.
    pub(crate) packets: Vec<u16>,
    pub(crate) pes: Vec<Pes>,
    /// (PMT version, PCR PID, [(stream type, PID)]) of every PMT.
    pub(crate) pmts: Vec<Pmt>,
    /// Every PCR base in order, from any packet.
    pub(crate) pcrs: Vec<u64>,
}

fn ts33(b: &[u8]) -> u64 {
    assert_eq!(b[0] & 1, 1, "marker");
    assert_eq!(b[2] & 1, 1, "marker");
    assert_eq!(b[4] & 1, 1, "marker");
    (u64::from(b[0] >> 1 & 7) << 30)
        | (u64::from(b[1]) << 22)
        | (u64::from(b[2] >> 1) << 15)
        | (u64::from(b[3]) << 7)
        | u64::from(b[4] >> 1)
}

fn section(payload: &[u8], table_id: u8) -> Vec<u8> {
    assert_eq!(payload[0], 0, "pointer field");
    let s = &payload[1..];
    assert_eq!(s[0], table_id);
    assert_eq!(s[1] & 0xf0, 0xb0);
    let len = usize::from(u16::from_be_bytes([s[1] & 0x0f, s[2]]));
    let sec = &s[..3 + len];
    assert_eq!(
        crc32(&sec[..sec.len() - 4]).to_be_bytes(),
        sec[sec.len() - 4..]
    );
    assert!(s[3 + len..].iter().all(|&b| b == 0xff), "section stuffing");
    sec.to_vec()
}

fn finish(pes: &mut Vec<Pes>, pending: Option<(Pes, usize)>) {
    let Some((mut p, declared)) = pending else {
        return;
    };
    if declared != 0 {
        assert_eq!(p.data.len(), declared, "PES_packet_length");
    }
    let header_len = 9 + usize::from(p.data[8]);
    p.stream_id = p.data[3];
    let flags = p.data[7] >> 6;
    match flags {
        2 => {
            assert_eq!(p.data[9] >> 4, 2);
            p.pts = ts33(&p.data[9..14]);
            p.dts = p.pts;
        }
        3 => {
            assert_eq!(p.data[9] >> 4, 3);
            assert_eq!(p.data[14] >> 4, 1);
            p.pts = ts33(&p.data[9..14]);
            p.dts = ts33(&p.data[14..19]);
            assert_ne!(p.pts, p.dts, "DTS written only when it differs");
        }
        f => panic!("PTS_DTS_flags {f}"),
    }
    p.data.drain(..header_len);
    pes.push(p);
}

/// Reads a whole file; panics on anything malformed.
pub(crate) fn demux(file: &[u8]) -> Demuxed {
    assert_eq!(file.len() % PACKET_LEN, 0, "whole packets");
    let mut d = Demuxed::default();
    let mut cc: [Option<u8>; 0x2000] = [None; 0x2000];
    let mut pending: [Option<(Pes, usize)>; 2] = [None, None];
    for (i, p) in file.chunks(PACKET_LEN).enumerate() {
        assert_eq!(p[0], SYNC);
        let start = p[1] & 0x40 != 0;
        let pid = u16::from_be_bytes([p[1] & 0x1f, p[2]]);
        let control = (p[3] >> 4) & 3;
        d.packets.push(pid);
        assert_ne!(control, 0);
        let has_payload = control & 1 != 0;
        let mut body = &p[4..];
        let (mut random_access, mut pcr) = (false, None);
        if control & 2 != 0 {
            let len = usize::from(body[0]);
            let af = &body[1..1 + len];
            assert!(if has_payload { len <= 183 } else { len == 183 });
            if len > 0 {
                random_access = af[0] & 0x40 != 0;
                let mut at = 1;
                if af[0] & 0x10 != 0 {
                    let b = &af[1..7];
                    let base = (u64::from(b[0]) << 25)
                        | (u64::from(b[1]) << 17)
                        | (u64::from(b[2]) << 9)
                        | (u64::from(b[3]) << 1)
                        | u64::from(b[4] >> 7);
                    pcr = Some(base);
                    d.pcrs.push(base);
                    at = 7;
                }
                assert!(af[at..].iter().all(|&b| b == 0xff), "stuffing");
            }
            body = &body[1 + len..];
        }
        if has_payload {
            let c = p[3] & 0x0f;
            if let Some(prev) = cc[usize::from(pid)] {
                assert_eq!(c, (prev + 1) & 0x0f, "continuity of PID {pid:#x}");
            }
            cc[usize::from(pid)] = Some(c);
        } else {
            assert!(body.is_empty());
            continue;
        }
        match pid {
            0 => {
                assert!(start);
                let s = section(body, 0);
                assert_eq!(s[8..12], [0, 1, 0xe0 | (PMT_PID >> 8) as u8, PMT_PID as u8]);
            }
            PMT_PID => {
                assert!(start);
                let s = section(body, 2);
                let version = (s[5] >> 1) & 0x1f;
                let pcr_pid = u16::from_be_bytes([s[8] & 0x1f, s[9]]);
                assert_eq!(s[10..12], [0xf0, 0]);
                let mut streams = Vec::new();
                let mut es = &s[12..s.len() - 4];
                while !es.is_empty() {
                    streams.push((es[0], u16::from_be_bytes([es[1] & 0x1f, es[2]])));
                    assert_eq!(es[3..5], [0xf0, 0]);
                    es = &es[5..];
                }
                d.pmts.push((version, pcr_pid, streams));
            }
            VIDEO_PID | AUDIO_PID => {
                let slot = &mut pending[usize::from(pid == AUDIO_PID)];
                if start {
                    finish(&mut d.pes, slot.take());
                    assert_eq!(body[..3], [0, 0, 1]);
                    let declared = usize::from(u16::from_be_bytes([body[4], body[5]]));
                    *slot = Some((
                        Pes {
                            pid,
                            stream_id: 0,
                            pts: 0,
                            dts: 0,
                            random_access,
                            pcr,
                            first_packet: i,
                            data: Vec::new(),
                        },
                        if declared == 0 { 0 } else { declared + 6 },
                    ));
                } else {
                    assert!(pcr.is_none() && !random_access);
                }
                let (p, _) = slot.as_mut().expect("payload before a PES start");
                p.data.extend_from_slice(body);
            }
            other => panic!("unexpected PID {other:#x}"),
        }
    }
    for slot in pending {
        finish(&mut d.pes, slot);
    }
    d.pes.sort_by_key(|p| p.first_packet);
    d
}

/// Splits an ADTS stream into raw access units, checking each header.
pub(crate) fn adts_frames(mut data: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while !data.is_empty() {
        assert_eq!(data[..2], [0xff, 0xf1], "ADTS sync, no CRC");
        let len = (usize::from(data[3] & 3) << 11)
            | (usize::from(data[4]) << 3)
            | usize::from(data[5] >> 5);
        out.push(data[7..len].to_vec());
        data = &data[len..];
    }
    out
}
