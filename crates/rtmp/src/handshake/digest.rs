//! The Flash Player 9 ("complex") handshake digests. Not in the RTMP 1.0
//! spec; as implemented by Flash, FMS, librtmp, ffmpeg (`rtmpdigest.c`,
//! `rtmpproto.c`), nginx-rtmp and SRS. Owns the keys, the digest offsets of
//! both schemas and the HMAC computations; knows nothing of handshake order.
//!
//! A 1536-byte C1/S1 is `time(4) version(4)` followed by two 764-byte
//! blocks. Schema 0 puts the key block first and the digest block second,
//! schema 1 the other way round. A digest block starts with four offset
//! bytes whose sum (mod 728) locates the 32-byte digest inside it. The digest
//! is HMAC-SHA256 of the other 1504 bytes, keyed with the first 30 bytes of
//! the Flash Player key (client) or the first 36 of the FMS key (server).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::HANDSHAKE_SIZE;

/// Length of an HMAC-SHA256 digest.
pub const DIGEST_LEN: usize = 32;

/// The tail shared by both Adobe keys.
const KEY_TAIL: [u8; 32] = [
    0xF0, 0xEE, 0xC2, 0x4A, 0x80, 0x68, 0xBE, 0xE8, 0x2E, 0x00, 0xD0, 0xD1, 0x02, 0x9E, 0x7E, 0x57,
    0x6E, 0xEC, 0x5D, 0x2D, 0x29, 0x80, 0x6F, 0xAB, 0x93, 0xB8, 0xE6, 0x36, 0xCF, 0xEB, 0x31, 0xAE,
];

/// The public part of the Flash Player key, which keys the C1 digest.
pub const GENUINE_FP_KEY_PUBLIC: &[u8; 30] = b"Genuine Adobe Flash Player 001";

/// The public part of the FMS key, which keys the S1 digest.
pub const GENUINE_FMS_KEY_PUBLIC: &[u8; 36] = b"Genuine Adobe Flash Media Server 001";

/// The full 68-byte FMS key (public part + shared tail); keys the S2
/// signature's intermediate key.
pub fn genuine_fms_key() -> [u8; 68] {
    let mut key = [0u8; 68];
    key[..36].copy_from_slice(GENUINE_FMS_KEY_PUBLIC);
    key[36..].copy_from_slice(&KEY_TAIL);
    key
}

/// The full 62-byte Flash Player key (public part + shared tail); keys the
/// C2 signature's intermediate key.
pub fn genuine_fp_key() -> [u8; 62] {
    let mut key = [0u8; 62];
    key[..30].copy_from_slice(GENUINE_FP_KEY_PUBLIC);
    key[30..].copy_from_slice(&KEY_TAIL);
    key
}

/// Where the digest block sits in a C1/S1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schema {
    /// Key block at byte 8, digest block at byte 772 (what Flash Player 9 sends).
    Zero,
    /// Digest block at byte 8, key block at byte 772 (what ffmpeg and
    /// librtmp send).
    One,
}

impl Schema {
    /// Both schemas, in the order a server tries them.
    pub const ALL: [Schema; 2] = [Schema::Zero, Schema::One];

    fn block_start(self) -> usize {
        match self {
            Schema::Zero => 772,
            Schema::One => 8,
        }
    }
}

/// Range of a digest-block's bytes that can hold the digest (764 minus the
/// four offset bytes minus the digest itself).
const DIGEST_POSITIONS: usize = 728;

/// Byte offset of the 32-byte digest in `packet` under `schema`.
pub fn digest_offset(packet: &[u8; HANDSHAKE_SIZE], schema: Schema) -> usize {
    let start = schema.block_start();
    let sum: usize = packet[start..start + 4]
        .iter()
        .map(|&b| usize::from(b))
        .sum();
    start + 4 + sum % DIGEST_POSITIONS
}

fn mac(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length (RFC 2104 §2), so this cannot fail.
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts every key length"),
    }
}

/// HMAC-SHA256 of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; DIGEST_LEN] {
    let mut m = mac(key);
    m.update(data);
    m.finalize().into_bytes().into()
}

/// The MAC over `packet` without its digest bytes at `offset`.
fn packet_mac(packet: &[u8; HANDSHAKE_SIZE], offset: usize, key: &[u8]) -> Hmac<Sha256> {
    let mut m = mac(key);
    m.update(&packet[..offset]);
    m.update(&packet[offset + DIGEST_LEN..]);
    m
}

/// Finds a valid digest in a C1 (or S1) keyed with `key`, trying both
/// schemas; the comparison is constant-time. Returns the schema and digest.
pub fn find_digest(
    packet: &[u8; HANDSHAKE_SIZE],
    key: &[u8],
) -> Option<(Schema, [u8; DIGEST_LEN])> {
    Schema::ALL.into_iter().find_map(|schema| {
        let offset = digest_offset(packet, schema);
        let digest = &packet[offset..offset + DIGEST_LEN];
        packet_mac(packet, offset, key)
            .verify_slice(digest)
            .ok()
            .map(|()| {
                let mut out = [0u8; DIGEST_LEN];
                out.copy_from_slice(digest);
                (schema, out)
            })
    })
}

/// Writes the digest of `packet` (keyed with `key`) into it at the place
/// `schema` and the packet's offset bytes select. Returns the digest.
pub fn imprint_digest(
    packet: &mut [u8; HANDSHAKE_SIZE],
    schema: Schema,
    key: &[u8],
) -> [u8; DIGEST_LEN] {
    let offset = digest_offset(packet, schema);
    let digest: [u8; DIGEST_LEN] = packet_mac(packet, offset, key)
        .finalize()
        .into_bytes()
        .into();
    packet[offset..offset + DIGEST_LEN].copy_from_slice(&digest);
    digest
}

/// Signs a C2/S2: its last 32 bytes become HMAC(HMAC(`full_key`,
/// `peer_digest`), first 1504 bytes). The server uses the full FMS key and
/// the C1 digest.
pub fn sign_response(
    packet: &mut [u8; HANDSHAKE_SIZE],
    full_key: &[u8],
    peer_digest: &[u8; DIGEST_LEN],
) {
    let key = hmac_sha256(full_key, peer_digest);
    let split = HANDSHAKE_SIZE - DIGEST_LEN;
    let signature = hmac_sha256(&key, &packet[..split]);
    packet[split..].copy_from_slice(&signature);
}

/// Whether a C2/S2 carries the signature [`sign_response`] would write
/// (constant-time).
pub fn verify_response(
    packet: &[u8; HANDSHAKE_SIZE],
    full_key: &[u8],
    peer_digest: &[u8; DIGEST_LEN],
) -> bool {
    let key = hmac_sha256(full_key, peer_digest);
    let split = HANDSHAKE_SIZE - DIGEST_LEN;
    let mut m = mac(&key);
    m.update(&packet[..split]);
    m.verify_slice(&packet[split..]).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_the_published_lengths() {
        assert_eq!(genuine_fms_key().len(), 68);
        assert_eq!(genuine_fp_key().len(), 62);
        assert_eq!(&genuine_fms_key()[..36], GENUINE_FMS_KEY_PUBLIC);
        assert_eq!(genuine_fp_key()[30], 0xF0);
    }

    #[test]
    fn offsets_stay_inside_their_block() {
        let mut p = [0xFFu8; HANDSHAKE_SIZE];
        assert_eq!(digest_offset(&p, Schema::One), 12 + (4 * 255) % 728);
        assert!(digest_offset(&p, Schema::Zero) + DIGEST_LEN <= HANDSHAKE_SIZE);
        p[8..12].copy_from_slice(&[0, 0, 0, 0]);
        assert_eq!(digest_offset(&p, Schema::One), 12);
    }

    #[test]
    fn imprint_then_find_for_both_schemas() {
        for schema in Schema::ALL {
            let mut p = [0u8; HANDSHAKE_SIZE];
            for (i, b) in p.iter_mut().enumerate() {
                *b = (i * 7 + 3) as u8;
            }
            let d = imprint_digest(&mut p, schema, GENUINE_FP_KEY_PUBLIC);
            assert_eq!(find_digest(&p, GENUINE_FP_KEY_PUBLIC), Some((schema, d)));
            assert_eq!(find_digest(&p, GENUINE_FMS_KEY_PUBLIC), None);
        }
    }

    #[test]
    fn response_signature_roundtrip() {
        let mut p = [9u8; HANDSHAKE_SIZE];
        let peer = [1u8; DIGEST_LEN];
        sign_response(&mut p, &genuine_fms_key(), &peer);
        assert!(verify_response(&p, &genuine_fms_key(), &peer));
        assert!(!verify_response(&p, &genuine_fms_key(), &[2u8; DIGEST_LEN]));
    }
}
