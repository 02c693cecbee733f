//! The keyed and plain hashes the signature schemes are built from: HMAC-SHA256 (TC3, v1),
//! HMAC-SHA1 (v1), SHA-256 (TC3 payload and canonical request), MD5 (push and callback keys).
//!
//! Owns constant-time tag comparison: every check goes through `Mac::verify_slice`. Must not
//! know any scheme's string layout.

use hmac::{Hmac, KeyInit, Mac};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;
type HmacSha1 = Hmac<Sha1>;

// HMAC accepts keys of any length (RFC 2104 §2: longer keys are hashed first), so
// `new_from_slice` cannot fail; the `Option`s below only keep that fact out of `expect`.

/// HMAC of `data` under `key` with the hash of `M`.
fn hmac<M: Mac + KeyInit>(key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    let mut mac = <M as KeyInit>::new_from_slice(key).ok()?;
    mac.update(data);
    Some(mac.finalize().into_bytes().to_vec())
}

/// Whether `tag` is the HMAC of `data` under `key` with the hash of `M`,
/// compared in constant time.
fn verify_hmac<M: Mac + KeyInit>(key: &[u8], data: &[u8], tag: &[u8]) -> bool {
    <M as KeyInit>::new_from_slice(key).is_ok_and(|mut mac| {
        mac.update(data);
        mac.verify_slice(tag).is_ok()
    })
}

/// HMAC-SHA256 of `data` under `key`.
pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    hmac::<HmacSha256>(key, data)
}

/// HMAC-SHA1 of `data` under `key`.
pub(crate) fn hmac_sha1(key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    hmac::<HmacSha1>(key, data)
}

/// Whether `tag` is HMAC-SHA256 of `data` under `key`, compared in constant time.
pub(crate) fn verify_hmac_sha256(key: &[u8], data: &[u8], tag: &[u8]) -> bool {
    verify_hmac::<HmacSha256>(key, data, tag)
}

/// Whether `tag` is HMAC-SHA1 of `data` under `key`, compared in constant time.
pub(crate) fn verify_hmac_sha1(key: &[u8], data: &[u8], tag: &[u8]) -> bool {
    verify_hmac::<HmacSha1>(key, data, tag)
}

/// Lower-case hex SHA-256.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Lower-case hex MD5.
pub(crate) fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_constants() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(b"UNSIGNED-PAYLOAD"),
            "438d4109ef0d676b8c2c7ed13cdfcb418e494d53b843d4634ce3b1085f07bb96"
        );
    }

    /// Key and data of RFC 4231 test case 2 and RFC 2202 test case 2.
    const KEY: &[u8] = b"Jefe";
    const DATA: &[u8] = b"what do ya want for nothing?";

    #[test]
    fn rfc4231_case_2_and_verify() {
        let tag = hmac_sha256(KEY, DATA).unwrap();
        assert_eq!(
            hex::encode(&tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(verify_hmac_sha256(KEY, DATA, &tag));
        let changed = b"what do ya want for nothing!";
        assert!(!verify_hmac_sha256(KEY, changed, &tag));
        assert!(!verify_hmac_sha256(KEY, DATA, &tag[..31]));
        let long_key = [0xaa_u8; 131];
        assert!(hmac_sha256(&long_key, b"x").is_some());
    }

    #[test]
    fn rfc2202_sha1_case_2() {
        let tag = hmac_sha1(KEY, DATA).unwrap();
        assert_eq!(
            hex::encode(&tag),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        assert!(verify_hmac_sha1(KEY, DATA, &tag));
        assert!(!verify_hmac_sha1(b"jefe", DATA, &tag));
    }
}
