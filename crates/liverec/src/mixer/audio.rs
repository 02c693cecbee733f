//! Audio for the mixer: a streaming linear resampler with channel mapping
//! ([`Resampler`], any input rate and 1–2 channels to the output's), a
//! jitter FIFO per input ([`Fifo`]), and the saturating sum of the inputs
//! ([`mix_into`]): loud inputs clip at full scale instead of wrapping
//! around. Pure sample arithmetic: no codec, no clock.

use std::collections::VecDeque;

/// Converts interleaved `f32` audio (±1.0 full scale) of one rate and
/// channel count to interleaved `i16` of another, keeping its phase across
/// calls (the input arrives one codec frame at a time).
#[derive(Debug)]
pub(crate) struct Resampler {
    in_channels: usize,
    out_channels: usize,
    /// Input frames per output frame.
    step: f64,
    /// Position of the next output frame, in input frames from the start
    /// of the next chunk (−1 is `prev`).
    pos: f64,
    /// The last input frame of the previous chunk (already mapped to the
    /// output channels).
    prev: Vec<f32>,
}

impl Resampler {
    /// A resampler from `in_rate` Hz × `in_channels` to `out_rate` Hz ×
    /// `out_channels` (channel counts of 1 or 2; rates above 0).
    pub(crate) fn new(
        in_rate: u32,
        in_channels: usize,
        out_rate: u32,
        out_channels: usize,
    ) -> Resampler {
        Resampler {
            in_channels: in_channels.max(1),
            out_channels: out_channels.max(1),
            step: f64::from(in_rate.max(1)) / f64::from(out_rate.max(1)),
            pos: 0.0,
            prev: vec![0.0; out_channels.max(1)],
        }
    }

    /// One input frame mapped to the output channels.
    fn frame(&self, input: &[f32], i: usize, out: &mut [f32]) {
        let f = &input[i * self.in_channels..(i + 1) * self.in_channels];
        match (self.in_channels, self.out_channels) {
            (a, b) if a == b => out.copy_from_slice(f),
            (1, _) => out.fill(f[0]),
            (_, 1) => out[0] = f.iter().sum::<f32>() / f.len() as f32,
            _ => {
                for (c, o) in out.iter_mut().enumerate() {
                    *o = f[c.min(f.len() - 1)];
                }
            }
        }
    }

    /// Resamples `input` (interleaved, whole frames) and appends to `out`.
    pub(crate) fn push(&mut self, input: &[f32], out: &mut VecDeque<i16>) {
        let n = input.len() / self.in_channels;
        if n == 0 {
            return;
        }
        let oc = self.out_channels;
        let (mut a, mut b) = (vec![0.0f32; oc], vec![0.0f32; oc]);
        while self.pos < (n - 1) as f64 {
            let base = self.pos.floor();
            let frac = (self.pos - base) as f32;
            let i = base as i64;
            if i < 0 {
                a.copy_from_slice(&self.prev);
            } else {
                self.frame(input, i as usize, &mut a);
            }
            self.frame(input, (i + 1) as usize, &mut b);
            for c in 0..oc {
                out.push_back(to_i16(a[c] + (b[c] - a[c]) * frac));
            }
            self.pos += self.step;
        }
        let mut last = vec![0.0f32; oc];
        self.frame(input, n - 1, &mut last);
        self.prev = last;
        self.pos -= n as f64;
    }
}

/// A float sample (±1.0) to 16 bits, saturating.
pub(crate) fn to_i16(x: f32) -> i16 {
    (x * 32767.0).round().clamp(-32768.0, 32767.0) as i16
}

/// Adds `input` to the accumulator `acc` (one `i32` per output sample).
pub(crate) fn accumulate(acc: &mut [i32], input: impl IntoIterator<Item = i16>) {
    for (a, s) in acc.iter_mut().zip(input) {
        *a += i32::from(s);
    }
}

/// The mix of the accumulated inputs, saturated to 16 bits: a sum beyond
/// full scale clips instead of wrapping around to the opposite sign.
pub(crate) fn mix_into(acc: &[i32], out: &mut Vec<i16>) {
    out.clear();
    out.extend(
        acc.iter()
            .map(|&s| s.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16),
    );
}

/// One input's resampled audio waiting to be mixed, with a jitter
/// allowance: after a gap it is mixed again only once `prime` samples are
/// queued, and once it holds more than `cap` the oldest go until `prime`
/// are left, so network jitter neither clicks nor grows the delay (a
/// backlog, such as the pre-roll a subscription starts with, would
/// otherwise stay as a constant lag behind the video).
#[derive(Debug)]
pub(crate) struct Fifo {
    pub(crate) samples: VecDeque<i16>,
    prime: usize,
    cap: usize,
    primed: bool,
}

impl Fifo {
    /// A FIFO priming at `prime` samples and capped at `cap`.
    pub(crate) fn new(prime: usize, cap: usize) -> Fifo {
        Fifo {
            samples: VecDeque::new(),
            prime,
            cap: cap.max(prime),
            primed: false,
        }
    }

    /// Over the cap, drops the oldest samples down to the priming level.
    pub(crate) fn trim(&mut self) {
        if self.samples.len() > self.cap {
            let over = self.samples.len() - self.prime;
            self.samples.drain(..over);
        }
    }

    /// Takes `n` samples for the next output frame: real samples while
    /// primed, silence (zeros) otherwise or on underrun.
    pub(crate) fn take(&mut self, n: usize, out: &mut Vec<i16>) {
        out.clear();
        if !self.primed && self.samples.len() >= self.prime {
            self.primed = true;
        }
        if self.primed {
            let k = n.min(self.samples.len());
            out.extend(self.samples.drain(..k));
            if k < n {
                self.primed = false;
            }
        }
        out.resize(n, 0);
    }

    /// Forgets everything (the input left).
    pub(crate) fn clear(&mut self) {
        self.samples.clear();
        self.primed = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mixer::test_support::goertzel;

    fn sine(freq: f64, rate: u32, channels: usize, frames: usize, amp: f32) -> Vec<f32> {
        (0..frames)
            .flat_map(|i| {
                let s = (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin();
                std::iter::repeat_n(s as f32 * amp, channels)
            })
            .collect()
    }

    #[test]
    fn resampling_keeps_length_and_pitch() {
        let mut r = Resampler::new(44_100, 2, 48_000, 1);
        let mut out = VecDeque::new();
        let input = sine(440.0, 44_100, 2, 44_100, 0.5);
        // In codec-frame pieces, as it arrives.
        for chunk in input.chunks(1024 * 2) {
            r.push(chunk, &mut out);
        }
        let got = out.len() as i64;
        assert!((got - 48_000).abs() <= 2, "{got} samples");
        let v: Vec<i16> = out.into_iter().collect();
        let at = goertzel(&v, 48_000, 440.0);
        let off = goertzel(&v, 48_000, 880.0);
        assert!(at > 100.0 * off, "440 Hz {at} vs 880 Hz {off}");
    }

    #[test]
    fn mono_is_duplicated_to_stereo() {
        let mut r = Resampler::new(48_000, 1, 48_000, 2);
        let mut out = VecDeque::new();
        r.push(&[0.5, -0.5, 0.25, 0.0], &mut out);
        let v: Vec<i16> = out.iter().copied().collect();
        assert_eq!(&v[..4], &[16384, 16384, -16384, -16384]);
        // The last input frame waits for the next chunk (interpolation).
        r.push(&[0.0], &mut out);
        assert!(out.len() >= 2);
    }

    #[test]
    fn loud_inputs_saturate_instead_of_wrapping() {
        let mut acc = vec![0i32; 4];
        accumulate(&mut acc, [30_000, -30_000, 20_000, 100]);
        accumulate(&mut acc, [30_000, -30_000, -20_000, 100]);
        let mut out = Vec::new();
        mix_into(&acc, &mut out);
        assert_eq!(out, vec![i16::MAX, i16::MIN, 0, 200]);
        assert_eq!(to_i16(4.0), i16::MAX);
        assert_eq!(to_i16(-4.0), i16::MIN);
    }

    #[test]
    fn fifo_primes_and_pads_underruns_with_silence() {
        let mut f = Fifo::new(4, 8);
        let mut out = Vec::new();
        f.samples.extend([1, 2, 3]);
        f.take(2, &mut out);
        assert_eq!(out, vec![0, 0], "not primed yet");
        f.samples.extend([4]);
        f.take(3, &mut out);
        assert_eq!(out, vec![1, 2, 3]);
        f.take(3, &mut out);
        assert_eq!(out, vec![4, 0, 0], "underrun pads");
        f.samples.extend(0..8);
        f.trim();
        assert_eq!(f.samples.len(), 8, "at the cap nothing goes");
        f.samples.extend(8..20);
        f.trim();
        assert_eq!(f.samples.len(), 4, "over it, back to the priming level");
        assert_eq!(f.samples.front(), Some(&16), "the newest stay");
    }
}
