//! The packetizer against a plain reference: the first implementation of
//! `Pid::write` (one zeroed adaptation-field buffer per packet, every part
//! appended on its own, header and payload one slice each), kept here to
//! prove that the faster one writes the same bytes and leaves the same
//! continuity counter, on random inputs with the payload cut anywhere.

use proptest::prelude::*;

use super::super::packet::{FirstPacket, Payload, Pid, SYNC, pcr_bytes};

/// Bytes after the 4-byte packet header.
const BODY_LEN: usize = 184;

/// The reference `Pid::write` for PID `pid` whose continuity counter is
/// `cc`: `header` then `payload` as one byte stream.
fn reference_write(
    pid: u16,
    cc: &mut u8,
    first: FirstPacket,
    header: &[u8],
    payload: &[u8],
    out: &mut Vec<u8>,
) {
    let mut head = header;
    let mut rest = payload;
    let mut start = true;
    loop {
        let mut af = [0u8; BODY_LEN];
        let mut af_len = 0usize;
        let mut has_af = false;
        if start && (first.random_access || first.pcr.is_some()) {
            has_af = true;
            af[0] = (u8::from(first.random_access) << 6) | (u8::from(first.pcr.is_some()) << 4);
            af_len = 1;
            if let Some(pcr) = first.pcr {
                af[1..7].copy_from_slice(&pcr_bytes(pcr));
                af_len = 7;
            }
        }
        let room = BODY_LEN - if has_af { 1 + af_len } else { 0 };
        let take = (head.len() + rest.len()).min(room);
        let mut stuffing = room - take;
        if stuffing > 0 && !has_af {
            has_af = true;
            stuffing -= 1;
            if stuffing > 0 {
                af[0] = 0;
                af_len = 1;
                stuffing -= 1;
            }
        }
        for b in af.iter_mut().skip(af_len).take(stuffing) {
            *b = 0xff;
        }
        af_len += stuffing;
        let (head_chunk, head_tail) = head.split_at(take.min(head.len()));
        let (chunk, tail) = rest.split_at(take - head_chunk.len());
        let control = (u8::from(has_af) << 5) | 0x10;
        out.extend_from_slice(&[
            SYNC,
            (u8::from(start) << 6) | (pid >> 8) as u8 & 0x1f,
            pid as u8,
            control | *cc,
        ]);
        *cc = (*cc + 1) & 0x0f;
        if has_af {
            out.push(af_len as u8);
            out.extend_from_slice(&af[..af_len]);
        }
        out.extend_from_slice(head_chunk);
        out.extend_from_slice(chunk);
        head = head_tail;
        rest = tail;
        start = false;
        if head.is_empty() && rest.is_empty() {
            break;
        }
    }
}

/// Payload lengths around the packet boundaries (one packet holds 184
/// bytes, 182 or 176 after an adaptation field) and some longer ones.
fn payload_len() -> impl Strategy<Value = usize> {
    prop_oneof![
        0usize..8,
        170usize..190,
        350usize..375,
        530usize..560,
        0usize..5000,
    ]
}

/// A payload and where it is cut into the slices `Pid::write` is given
/// (empty slices included).
fn payload() -> impl Strategy<Value = (Vec<u8>, Vec<usize>)> {
    payload_len().prop_flat_map(|n| {
        (
            prop::collection::vec(any::<u8>(), n),
            prop::collection::vec(0..=n, 0..6),
        )
    })
}

proptest! {
    #[test]
    fn write_matches_the_reference(
        pid in 0u16..0x2000,
        cc in 0u8..16,
        random_access in any::<bool>(),
        pcr in prop::option::of(any::<u64>()),
        header in prop::collection::vec(any::<u8>(), 0..=19),
        (payload, mut cuts) in payload(),
    ) {
        let first = FirstPacket { random_access, pcr };
        let mut expected = vec![0xaa];
        let mut reference_cc = cc;
        reference_write(pid, &mut reference_cc, first, &header, &payload, &mut expected);

        cuts.sort_unstable();
        let mut slices = Vec::new();
        let mut at = 0;
        for cut in cuts.into_iter().chain([payload.len()]) {
            slices.push(&payload[at..cut]);
            at = cut;
        }
        let mut out = vec![0xaa];
        let mut p = Pid::with_counter(pid, cc);
        let sliced = Payload { len: payload.len(), slices: slices.into_iter() };
        p.write(first, &header, sliced, &mut out);
        prop_assert_eq!(&out, &expected);
        prop_assert_eq!(p, Pid::with_counter(pid, reference_cc));
        prop_assert_eq!((out.len() - 1) % 188, 0);
    }
}
