//! Helpers the mixer's unit tests share: a plain input of a layout, and a
//! Goertzel filter to find a tone in samples.

use super::layout::{Dim, InputKind, MixInput};

/// An audio+video input `name` on `layer`, at the origin, sized by the
/// layout's defaults.
pub(crate) fn input(name: &str, layer: u8) -> MixInput {
    MixInput {
        name: name.into(),
        layer,
        kind: InputKind::AudioVideo,
        width: None,
        height: None,
        x: Dim::Px(0),
        y: Dim::Px(0),
        colour: None,
        crop: None,
    }
}

/// Energy of `freq` in mono `samples` at `rate` (Goertzel), normalised by
/// length.
pub(crate) fn goertzel<T: Copy + Into<f64>>(samples: &[T], rate: u32, freq: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / f64::from(rate);
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s = x.into() + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (samples.len() as f64).powi(2)
}
