//! MD5 shared-key signatures outside API 3.0: the push URL `txSecret` (`tencent-api.md` §4.2)
//! and the callback `sign` (§3.2).
//!
//! Owns only the hash inputs. Must not read a clock or judge expiry: the caller compares `txTime`
//! and `t` with its own time.

use crate::mac::md5_hex;

/// `txSecret = md5(key + stream_name + tx_time)` in lower-case hex (§4.2), with `tx_time` hashed
/// exactly as written in the URL (`5C271099` and `5c271099` give different secrets).
pub fn push_tx_secret(key: &str, stream_name: &str, tx_time: &str) -> String {
    md5_hex(format!("{key}{stream_name}{tx_time}").as_bytes())
}

/// Callback `sign = md5(key + t)` in lower-case hex, `t` in decimal (§3.2).
pub fn callback_sign(key: &str, t: i64) -> String {
    md5_hex(format!("{key}{t}").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p1_push_secret_both_cases() {
        assert_eq!(
            push_tx_secret("e12c46f2612d5106e2034781ab261ca3", "test", "5C271099"),
            "f85a2ab363fe4deaffef9754d79da6fe"
        );
        assert_eq!(
            push_tx_secret("e12c46f2612d5106e2034781ab261ca3", "test", "5c271099"),
            "9603387445825a481e6b7496aced5746"
        );
        assert_eq!(i64::from_str_radix("5C271099", 16).unwrap(), 1_546_064_025);
    }

    #[test]
    fn c1_callback_sign() {
        assert_eq!(
            callback_sign("callbackkey123", 1_545_030_873),
            "a563a8ad7820be820327f99dfb3616f8"
        );
    }
}
