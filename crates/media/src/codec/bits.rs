//! Big-endian bit reader with Exp-Golomb codes (H.264 §9.1), shared by the
//! parameter-set and AudioSpecificConfig parsers. Reads past the end return
//! [`CodecError::Truncated`]; Exp-Golomb prefixes are capped so a run of zero
//! bits cannot overflow.

use super::CodecError;

/// Longest Exp-Golomb prefix accepted (values up to 2^32 - 2).
const MAX_LEADING_ZEROS: u32 = 32;

pub(super) struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> BitReader<'a> {
    pub(super) fn new(data: &'a [u8], what: &'static str) -> Self {
        BitReader { data, pos: 0, what }
    }

    pub(super) fn bit(&mut self) -> Result<bool, CodecError> {
        let byte = self
            .data
            .get(self.pos / 8)
            .ok_or(CodecError::Truncated(self.what))?;
        let bit = (byte >> (7 - (self.pos % 8))) & 1;
        self.pos += 1;
        Ok(bit == 1)
    }

    /// Reads `n <= 64` bits as an unsigned number.
    pub(super) fn bits(&mut self, n: u32) -> Result<u64, CodecError> {
        debug_assert!(n <= 64);
        let mut v = 0u64;
        for _ in 0..n {
            v = (v << 1) | u64::from(self.bit()?);
        }
        Ok(v)
    }

    pub(super) fn skip(&mut self, n: usize) -> Result<(), CodecError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(CodecError::Truncated(self.what))?;
        if end > self.data.len().saturating_mul(8) {
            return Err(CodecError::Truncated(self.what));
        }
        self.pos = end;
        Ok(())
    }

    /// Unsigned Exp-Golomb `ue(v)`.
    pub(super) fn ue(&mut self) -> Result<u64, CodecError> {
        let mut zeros = 0u32;
        while !self.bit()? {
            zeros += 1;
            if zeros > MAX_LEADING_ZEROS {
                return Err(CodecError::Invalid(self.what));
            }
        }
        Ok((1u64 << zeros) - 1 + self.bits(zeros)?)
    }

    /// Signed Exp-Golomb `se(v)`.
    pub(super) fn se(&mut self) -> Result<i64, CodecError> {
        let k = self.ue()?;
        // k <= 2^33, so the conversions cannot overflow.
        let magnitude = k.div_ceil(2) as i64;
        Ok(if k % 2 == 1 { magnitude } else { -magnitude })
    }

    /// The error for a field whose value is not allowed.
    pub(super) fn invalid(&self) -> CodecError {
        CodecError::Invalid(self.what)
    }

    /// `ue(v)` that must not exceed `max`.
    pub(super) fn ue_max(&mut self, max: u64) -> Result<u64, CodecError> {
        let v = self.ue()?;
        if v > max {
            return Err(self.invalid());
        }
        Ok(v)
    }
}

/// Test-only bit writer (adds emulation prevention in `finish`).
#[cfg(test)]
#[derive(Default)]
pub(crate) struct BitWriter {
    out: Vec<u8>,
    n: u32,
}

#[cfg(test)]
impl BitWriter {
    pub(crate) fn bits(&mut self, v: u64, n: u32) {
        for i in (0..n).rev() {
            if self.n.is_multiple_of(8) {
                self.out.push(0);
            }
            let bit = v.checked_shr(i).map_or(0, |v| (v & 1) as u8);
            *self.out.last_mut().unwrap() |= bit << (7 - self.n % 8);
            self.n += 1;
        }
    }
    pub(crate) fn ue(&mut self, v: u64) {
        let x = v + 1;
        let len = 64 - x.leading_zeros();
        self.bits(0, len - 1);
        self.bits(x, len);
    }
    pub(crate) fn se(&mut self, v: i64) {
        self.ue(if v > 0 {
            (2 * v - 1) as u64
        } else {
            (-2 * v) as u64
        });
    }
    /// A present cropping (conformance) window with these offsets.
    pub(crate) fn crop(&mut self, left: u64, right: u64, top: u64, bottom: u64) {
        self.bits(1, 1);
        for offset in [left, right, top, bottom] {
            self.ue(offset);
        }
    }
    /// Adds emulation-prevention bytes.
    pub(crate) fn finish(self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut zeros = 0;
        for b in self.out {
            if zeros >= 2 && b <= 3 {
                out.push(3);
                zeros = 0;
            }
            zeros = if b == 0 { zeros + 1 } else { 0 };
            out.push(b);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_golomb() {
        // 1 | 010 | 011 | 00100 | 00101 -> ue 0, 1, 2, 3, 4
        let data = [0b1010_0110, 0b0100_0010, 0b1000_0000];
        let mut r = BitReader::new(&data, "t");
        let v: Vec<u64> = (0..5).map(|_| r.ue().unwrap()).collect();
        assert_eq!(v, [0, 1, 2, 3, 4]);
        let mut r = BitReader::new(&data, "t");
        let v: Vec<i64> = (0..5).map(|_| r.se().unwrap()).collect();
        assert_eq!(v, [0, 1, -1, 2, -2]);
    }

    #[test]
    fn bounded() {
        let mut r = BitReader::new(&[0u8; 8], "t");
        assert_eq!(r.ue(), Err(CodecError::Invalid("t")));
        let mut r = BitReader::new(&[0u8; 2], "t");
        assert_eq!(r.ue(), Err(CodecError::Truncated("t")));
        let mut r = BitReader::new(&[0xff], "t");
        assert!(r.skip(8).is_ok());
        assert!(r.bit().is_err());
        assert!(r.skip(usize::MAX).is_err());
    }
}
