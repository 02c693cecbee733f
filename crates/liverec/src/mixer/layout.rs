//! What a mix session draws and plays: the validated request
//! ([`MixSpec`]: inputs with their layer, type and geometry, the output
//! parameters, an optional preset template) and its resolution into pixel
//! rectangles on the output canvas ([`Layout::resolve`]). Geometry is given
//! in pixels or as 0.01–0.99 fractions of the canvas (Tencent's
//! `LayoutParams`); the background (`ImageLayer` 1) sets the canvas size.
//! Canvas layers (`InputType` 3) are rectangles of a colour, not streams;
//! `CropParams` picks the part of an input's picture that is scaled into
//! its rectangle ([`Crop::region`]). Pure: no codecs, no hub.

use super::canvas::{Rect, Yuv};

/// The canvas when neither the background's `ImageWidth`/`ImageHeight`
/// nor its picture gives one (Tencent's default output is 720p too).
pub(crate) const DEFAULT_CANVAS: (u32, u32) = (1280, 720);
/// Largest canvas side, pixels (H.264 level 5.1 handles 4096×2304).
pub(crate) const MAX_SIDE: u32 = 4096;

/// A length: pixels, or a fraction of the canvas side (0.01–0.99).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Dim {
    /// Pixels.
    Px(u32),
    /// Fraction of the canvas width (x, width) or height (y, height).
    Frac(f64),
}

impl Dim {
    /// Reads Tencent's convention: a value in (0, 1) is a fraction, any
    /// other non-negative value pixels. `None` for negatives and NaN.
    pub(crate) fn from_value(v: f64) -> Option<Dim> {
        if !v.is_finite() || v < 0.0 || v > f64::from(MAX_SIDE) * 4.0 {
            None
        } else if v > 0.0 && v < 1.0 {
            Some(Dim::Frac(v))
        } else {
            Some(Dim::Px(v.round() as u32))
        }
    }

    fn px(self, side: u32) -> i64 {
        match self {
            Dim::Px(p) => i64::from(p),
            Dim::Frac(f) => (f * f64::from(side)).round() as i64,
        }
    }
}

/// `InputType` of `LayoutParams`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InputKind {
    /// 0: audio and video.
    AudioVideo,
    /// 4: audio only (not drawn).
    AudioOnly,
    /// 5: video only (not heard).
    VideoOnly,
    /// 3: a canvas layer, a rectangle of its `Color` (no stream behind
    /// `InputStreamName`, which only names the layer).
    Canvas,
}

impl InputKind {
    /// Whether the input is drawn.
    pub(crate) fn has_video(self) -> bool {
        self != InputKind::AudioOnly
    }
    /// Whether the input is heard.
    pub(crate) fn has_audio(self) -> bool {
        matches!(self, InputKind::AudioVideo | InputKind::AudioOnly)
    }
    /// Whether a live stream stands behind the input.
    pub(crate) fn is_stream(self) -> bool {
        self != InputKind::Canvas
    }
}

/// `CropParams`: the part of an input's picture that is shown, in pixels
/// or 0.01–0.99 fractions of the picture (as the layout's lengths are of
/// the canvas).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Crop {
    /// `CropStartLocationX`.
    pub(crate) x: Dim,
    /// `CropStartLocationY`.
    pub(crate) y: Dim,
    /// `CropWidth`; `None` (or 0) runs to the picture's right edge.
    pub(crate) width: Option<Dim>,
    /// `CropHeight`; `None` (or 0) runs to the picture's bottom edge.
    pub(crate) height: Option<Dim>,
}

impl Crop {
    /// The region of a `w` × `h` picture this crop shows, clipped to the
    /// picture; `None` when nothing of it is left.
    pub(crate) fn region(&self, (w, h): (usize, usize)) -> Option<Rect> {
        let (pw, ph) = (w as u32, h as u32);
        let x = self.x.px(pw).clamp(0, i64::from(pw));
        let y = self.y.px(ph).clamp(0, i64::from(ph));
        let side = |d: Option<Dim>, s: u32, start: i64| match d.map(|d| d.px(s)) {
            Some(v) if v > 0 => v.min(i64::from(s) - start),
            _ => i64::from(s) - start,
        };
        let (cw, ch) = (side(self.width, pw, x), side(self.height, ph, y));
        (cw > 0 && ch > 0).then_some(Rect {
            x,
            y,
            width: cw as usize,
            height: ch as usize,
        })
    }
}

/// One `CommonMixInputParam`, validated.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct MixInput {
    /// `InputStreamName`.
    pub(crate) name: String,
    /// `ImageLayer`, 1 (background) to 16, unique in the session.
    pub(crate) layer: u8,
    pub(crate) kind: InputKind,
    pub(crate) width: Option<Dim>,
    pub(crate) height: Option<Dim>,
    pub(crate) x: Dim,
    pub(crate) y: Dim,
    /// `Color` (the canvas colour when given on the background; a canvas
    /// layer's colour).
    pub(crate) colour: Option<Yuv>,
    /// `CropParams`.
    pub(crate) crop: Option<Crop>,
}

/// `CommonMixOutputParams`, validated, defaults applied.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct OutputSpec {
    /// `OutputStreamName`.
    pub(crate) name: String,
    /// `OutputStreamType` 0 (A+B=A): the output replaces the input of the
    /// same name; 1 (A+B=C): a new stream.
    pub(crate) replace: bool,
    /// `OutputStreamBitRate`, kbit/s; `None` picks one from the size.
    pub(crate) bitrate_kbps: Option<u32>,
    /// `OutputStreamGop`, seconds.
    pub(crate) gop_s: u32,
    /// `OutputStreamFrameRate`.
    pub(crate) fps: u32,
    /// `OutputAudioBitRate`, kbit/s.
    pub(crate) audio_bitrate_kbps: u32,
    /// `OutputAudioSampleRate`, Hz.
    pub(crate) audio_rate: u32,
    /// `OutputAudioChannels`.
    pub(crate) audio_channels: u8,
}

/// A CreateCommonMixStream request, validated.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct MixSpec {
    /// `MixStreamSessionId`.
    pub(crate) session_id: String,
    /// Inputs, ordered by layer (background first).
    pub(crate) inputs: Vec<MixInput>,
    pub(crate) output: OutputSpec,
    /// `MixStreamTemplateId` (0 = none).
    pub(crate) template: Template,
}

/// Preset layouts (`MixStreamTemplateId`): the inputs' own positions are
/// ignored and each input fills a cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Template {
    /// 0: the inputs' LayoutParams.
    None,
    /// 10: picture-in-picture: the background full, the second input a
    /// quarter-size window at the lower right.
    PictureInPicture,
    /// 20: two inputs side by side, each half the width.
    SideBySide,
    /// 30: one input on the left half, two stacked on the right.
    Three,
    /// 40: four inputs in a 2×2 grid.
    Grid,
}

impl Template {
    /// The template of an id, `None` for ids liverec has no preset for.
    pub(crate) fn from_id(id: u64) -> Option<Template> {
        Some(match id {
            0 => Template::None,
            10 => Template::PictureInPicture,
            20 => Template::SideBySide,
            30 => Template::Three,
            40 => Template::Grid,
            _ => return None,
        })
    }

    /// How many inputs the template lays out (`None`: any).
    pub(crate) fn inputs(self) -> Option<usize> {
        match self {
            Template::None => None,
            Template::PictureInPicture | Template::SideBySide => Some(2),
            Template::Three => Some(3),
            Template::Grid => Some(4),
        }
    }

    /// Cell `i` as fractions (x, y, w, h) of the canvas.
    fn cell(self, i: usize) -> Option<(f64, f64, f64, f64)> {
        let cells: &[(f64, f64, f64, f64)] = match self {
            Template::None => &[],
            Template::PictureInPicture => &[(0.0, 0.0, 1.0, 1.0), (0.7, 0.7, 0.25, 0.25)],
            Template::SideBySide => &[(0.0, 0.0, 0.5, 1.0), (0.5, 0.0, 0.5, 1.0)],
            Template::Three => &[
                (0.0, 0.0, 0.5, 1.0),
                (0.5, 0.0, 0.5, 0.5),
                (0.5, 0.5, 0.5, 0.5),
            ],
            Template::Grid => &[
                (0.0, 0.0, 0.5, 0.5),
                (0.5, 0.0, 0.5, 0.5),
                (0.0, 0.5, 0.5, 0.5),
                (0.5, 0.5, 0.5, 0.5),
            ],
        };
        cells.get(i).copied()
    }
}

/// One input placed on the canvas.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Placed {
    pub(crate) name: String,
    /// Where its picture goes; `None` when it is not drawn (audio only).
    /// A side left to the picture's own size is filled in at draw time.
    pub(crate) rect: Option<PlacedRect>,
    /// Whether it is heard.
    pub(crate) audio: bool,
    /// A canvas layer's colour (`None` for streams).
    pub(crate) fill: Option<Yuv>,
    /// The part of the picture shown.
    pub(crate) crop: Option<Crop>,
}

/// A rectangle whose size may follow the input picture.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct PlacedRect {
    pub(crate) x: i64,
    pub(crate) y: i64,
    pub(crate) width: Option<usize>,
    pub(crate) height: Option<usize>,
}

impl PlacedRect {
    /// The rectangle for a picture of `size`.
    pub(crate) fn for_picture(&self, (w, h): (usize, usize)) -> Rect {
        Rect {
            x: self.x,
            y: self.y,
            width: self.width.unwrap_or(w),
            height: self.height.unwrap_or(h),
        }
    }
}

/// A session's layout in output pixels.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Layout {
    pub(crate) width: usize,
    pub(crate) height: usize,
    pub(crate) colour: Yuv,
    /// Drawing order: background first.
    pub(crate) inputs: Vec<Placed>,
}

/// Rounds a side up to even (4:2:0 chroma) within 16..=MAX_SIDE.
fn even(side: i64) -> usize {
    let s = side.clamp(16, i64::from(MAX_SIDE));
    (s + (s & 1)) as usize
}

impl Layout {
    /// Resolves `spec`; `source` gives an input's picture size if known
    /// (the background's sets the canvas when it has no ImageWidth/Height).
    pub(crate) fn resolve(spec: &MixSpec, source: impl Fn(&str) -> Option<(u32, u32)>) -> Layout {
        let bg = spec.inputs.first();
        let bg_size = bg
            .filter(|b| b.kind.is_stream())
            .and_then(|b| source(&b.name));
        let side = |d: Option<Dim>, src: Option<u32>, default: u32| -> i64 {
            match d {
                Some(Dim::Px(p)) if p > 0 => i64::from(p),
                // A fraction of the background's own picture.
                Some(Dim::Frac(f)) => (f * f64::from(src.unwrap_or(default))).round() as i64,
                _ => i64::from(src.unwrap_or(default)),
            }
        };
        let width = even(side(
            bg.and_then(|b| b.width),
            bg_size.map(|s| s.0),
            DEFAULT_CANVAS.0,
        ));
        let height = even(side(
            bg.and_then(|b| b.height),
            bg_size.map(|s| s.1),
            DEFAULT_CANVAS.1,
        ));
        let (cw, ch) = (width as u32, height as u32);
        let colour = bg.and_then(|b| b.colour).unwrap_or(Yuv::BLACK);
        let inputs = spec
            .inputs
            .iter()
            .enumerate()
            .map(|(i, input)| {
                let rect = input.kind.has_video().then(|| {
                    if let Some((fx, fy, fw, fh)) = spec.template.cell(i) {
                        let f = |v: f64, s: u32| (v * f64::from(s)).round() as i64;
                        PlacedRect {
                            x: f(fx, cw),
                            y: f(fy, ch),
                            width: Some(f(fw, cw) as usize),
                            height: Some(f(fh, ch) as usize),
                        }
                    } else if i == 0 {
                        PlacedRect {
                            x: 0,
                            y: 0,
                            width: Some(width),
                            height: Some(height),
                        }
                    } else {
                        let size = |d: Option<Dim>, s: u32| {
                            d.map(|d| d.px(s).max(0) as usize).filter(|&v| v > 0)
                        };
                        // A canvas layer has no picture to take a size
                        // from: a missing side is the canvas's.
                        let canvas = input.kind == InputKind::Canvas;
                        PlacedRect {
                            x: input.x.px(cw),
                            y: input.y.px(ch),
                            width: size(input.width, cw).or(canvas.then_some(width)),
                            height: size(input.height, ch).or(canvas.then_some(height)),
                        }
                    }
                });
                let fill =
                    (input.kind == InputKind::Canvas).then(|| input.colour.unwrap_or(Yuv::BLACK));
                Placed {
                    name: input.name.clone(),
                    rect,
                    audio: input.kind.has_audio(),
                    fill,
                    crop: input.crop,
                }
            })
            .collect();
        Layout {
            width,
            height,
            colour,
            inputs,
        }
    }
}

/// Parses `Color` (`0xRRGGBB`, `#RRGGBB` or `RRGGBB`).
pub(crate) fn parse_colour(s: &str) -> Option<Yuv> {
    let t = s.trim();
    let hex = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .or_else(|| t.strip_prefix('#'))
        .unwrap_or(t);
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let v = u32::from_str_radix(hex, 16).ok()?;
    Some(Yuv::from_rgb((v >> 16) as u8, (v >> 8) as u8, v as u8))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mixer::test_support::input;

    fn spec(inputs: Vec<MixInput>, template: Template) -> MixSpec {
        MixSpec {
            session_id: "s".into(),
            inputs,
            output: OutputSpec {
                name: "c".into(),
                replace: false,
                bitrate_kbps: None,
                gop_s: 2,
                fps: 25,
                audio_bitrate_kbps: 128,
                audio_rate: 48_000,
                audio_channels: 2,
            },
            template,
        }
    }

    #[test]
    fn dims_follow_tencents_pixel_or_fraction_rule() {
        assert_eq!(Dim::from_value(0.0), Some(Dim::Px(0)));
        assert_eq!(Dim::from_value(0.5), Some(Dim::Frac(0.5)));
        assert_eq!(Dim::from_value(1.0), Some(Dim::Px(1)));
        assert_eq!(Dim::from_value(320.0), Some(Dim::Px(320)));
        assert_eq!(Dim::from_value(-1.0), None);
        assert_eq!(Dim::from_value(f64::NAN), None);
    }

    #[test]
    fn pixels_and_fractions_resolve_on_the_background_canvas() {
        let mut bg = input("a", 1);
        bg.width = Some(Dim::Px(640));
        bg.height = Some(Dim::Px(360));
        bg.colour = parse_colour("0x00FF00");
        let mut px = input("b", 2);
        (px.x, px.y, px.width, px.height) = (
            Dim::Px(320),
            Dim::Px(10),
            Some(Dim::Px(100)),
            Some(Dim::Px(50)),
        );
        let mut frac = input("c", 3);
        (frac.x, frac.y, frac.width, frac.height) = (
            Dim::Frac(0.5),
            Dim::Frac(0.25),
            Some(Dim::Frac(0.25)),
            Some(Dim::Frac(0.5)),
        );
        let mut audio = input("d", 4);
        audio.kind = InputKind::AudioOnly;
        let l = Layout::resolve(&spec(vec![bg, px, frac, audio], Template::None), |_| {
            Some((1920, 1080))
        });
        assert_eq!((l.width, l.height), (640, 360));
        assert_eq!(l.colour, Yuv::from_rgb(0, 255, 0));
        let r = |i: usize| l.inputs[i].rect.expect("drawn").for_picture((999, 999));
        assert_eq!(
            r(0),
            Rect {
                x: 0,
                y: 0,
                width: 640,
                height: 360
            }
        );
        assert_eq!(
            r(1),
            Rect {
                x: 320,
                y: 10,
                width: 100,
                height: 50
            }
        );
        assert_eq!(
            r(2),
            Rect {
                x: 320,
                y: 90,
                width: 160,
                height: 180
            }
        );
        assert_eq!(l.inputs[3].rect, None);
        assert!(l.inputs[3].audio);
    }

    #[test]
    fn canvas_defaults_to_the_background_picture_then_720p() {
        let s = spec(vec![input("a", 1), input("b", 2)], Template::None);
        let l = Layout::resolve(&s, |n| (n == "a").then_some((853, 479)));
        assert_eq!((l.width, l.height), (854, 480), "rounded up to even");
        let l = Layout::resolve(&s, |_| None);
        assert_eq!((l.width, l.height), (1280, 720));
        // Without ImageWidth/Height an overlay keeps its picture's size.
        let r = l.inputs[1].rect.expect("drawn").for_picture((200, 100));
        assert_eq!((r.width, r.height), (200, 100));
    }

    #[test]
    fn templates_place_inputs_in_cells() {
        let mut a = input("a", 1);
        a.width = Some(Dim::Px(640));
        a.height = Some(Dim::Px(360));
        let s = spec(vec![a.clone(), input("b", 2)], Template::SideBySide);
        let l = Layout::resolve(&s, |_| None);
        let rects: Vec<Rect> = l
            .inputs
            .iter()
            .map(|p| p.rect.expect("drawn").for_picture((1, 1)))
            .collect();
        assert_eq!(
            rects,
            vec![
                Rect {
                    x: 0,
                    y: 0,
                    width: 320,
                    height: 360
                },
                Rect {
                    x: 320,
                    y: 0,
                    width: 320,
                    height: 360
                }
            ]
        );
        let s = spec(vec![a, input("b", 2)], Template::PictureInPicture);
        let l = Layout::resolve(&s, |_| None);
        assert_eq!(
            l.inputs[1].rect.expect("drawn").for_picture((1, 1)),
            Rect {
                x: 448,
                y: 252,
                width: 160,
                height: 90
            }
        );
        assert_eq!(Template::from_id(40).and_then(Template::inputs), Some(4));
        assert_eq!(Template::from_id(30).and_then(Template::inputs), Some(3));
        assert_eq!(Template::from_id(390), None);
    }

    #[test]
    fn colours_parse_in_the_usual_spellings() {
        let red = Some(Yuv::from_rgb(255, 0, 0));
        assert_eq!(parse_colour("0xFF0000"), red);
        assert_eq!(parse_colour("#ff0000"), red);
        assert_eq!(parse_colour("FF0000"), red);
        assert_eq!(parse_colour("0xFF00"), None);
        assert_eq!(parse_colour("red"), None);
    }
    #[test]
    fn crops_resolve_on_the_input_picture_and_clip() {
        let px = |x, y, w, h| Crop {
            x: Dim::Px(x),
            y: Dim::Px(y),
            width: Some(Dim::Px(w)),
            height: Some(Dim::Px(h)),
        };
        let rect = |x, y, width, height| Rect {
            x,
            y,
            width,
            height,
        };
        assert_eq!(
            px(10, 20, 100, 50).region((320, 180)),
            Some(rect(10, 20, 100, 50))
        );
        // Past the right and bottom edges: clipped to the picture.
        assert_eq!(
            px(300, 170, 100, 50).region((320, 180)),
            Some(rect(300, 170, 20, 10))
        );
        // Starting outside: nothing left.
        assert_eq!(px(320, 0, 10, 10).region((320, 180)), None);
        // Fractions of the picture; no size runs to the edge.
        let frac = Crop {
            x: Dim::Frac(0.5),
            y: Dim::Frac(0.25),
            width: None,
            height: Some(Dim::Frac(0.5)),
        };
        assert_eq!(frac.region((320, 180)), Some(rect(160, 45, 160, 90)));
    }

    #[test]
    fn canvas_layers_are_colour_rectangles_without_a_stream() {
        let mut bg = input("bg", 1);
        bg.kind = InputKind::Canvas;
        bg.colour = parse_colour("0x0000FF");
        bg.width = Some(Dim::Px(640));
        bg.height = Some(Dim::Px(360));
        let a = input("a", 2);
        let mut bar = input("bar", 3);
        bar.kind = InputKind::Canvas;
        bar.colour = parse_colour("0xFF0000");
        (bar.x, bar.y, bar.height) = (Dim::Px(0), Dim::Frac(0.9), Some(Dim::Frac(0.1)));
        let l = Layout::resolve(&spec(vec![bg, a, bar], Template::None), |n| {
            // A stream named like a canvas layer does not size the canvas.
            (n == "bg").then_some((1920, 1080))
        });
        assert_eq!((l.width, l.height), (640, 360));
        assert_eq!(l.colour, Yuv::from_rgb(0, 0, 255));
        assert_eq!(l.inputs[0].fill, Some(Yuv::from_rgb(0, 0, 255)));
        assert!(
            !l.inputs[0].audio && !l.inputs[2].audio,
            "canvases are silent"
        );
        assert_eq!(l.inputs[1].fill, None);
        // No width given: the canvas's; the height a fraction of it.
        assert_eq!(
            l.inputs[2].rect.expect("drawn").for_picture((1, 1)),
            Rect {
                x: 0,
                y: 324,
                width: 640,
                height: 36
            }
        );
        assert!(!InputKind::Canvas.is_stream() && InputKind::Canvas.has_video());
    }
}
