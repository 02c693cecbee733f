use super::*;
use crate::mixer::canvas::Yuv;
use crate::mixer::layout::{Dim, InputKind, MixSpec, PlacedRect, Template};
use crate::mixer::test_support::{goertzel, input};

const RATE: u32 = 44_100;

fn spec(template: Template) -> MixSpec {
    let mut bg = input("a", 1);
    bg.width = Some(Dim::Px(320));
    bg.height = Some(Dim::Px(180));
    MixSpec {
        session_id: "s".into(),
        inputs: vec![bg, input("b", 2)],
        output: OutputSpec {
            name: "c".into(),
            replace: false,
            bitrate_kbps: Some(600),
            gop_s: 1,
            fps: 30,
            audio_bitrate_kbps: 96,
            audio_rate: 48_000,
            audio_channels: 1,
        },
        template,
    }
}

/// A synthetic input: a solid picture and a sine tone, encoded as a
/// publisher would send them.
struct Source {
    video: VideoEncoder,
    audio: AudioEncoder,
    colour: Yuv,
    freq: f64,
    vconfig: Option<Arc<VideoConfig>>,
    aconfig: Arc<AudioConfig>,
    samples: u64,
}

impl Source {
    fn new(colour: Yuv, freq: f64) -> Source {
        let audio = AudioEncoder::new(RATE, 1, 64_000).expect("aac");
        let aconfig = Arc::new(AudioConfig {
            codec: AudioCodec::Aac,
            sample_rate: RATE,
            channels: 1,
            asc: audio.asc.clone(),
            flv_header: 0xae,
        });
        Source {
            video: VideoEncoder::new(VideoSettings {
                bitrate_bps: 300_000,
                fps: 30,
                gop_frames: 30,
            })
            .expect("h264"),
            audio,
            colour,
            freq,
            vconfig: None,
            aconfig,
            samples: 0,
        }
    }

    fn tracks(&self) -> Tracks {
        Tracks {
            video: self.vconfig.clone(),
            audio: Some(self.aconfig.clone()),
        }
    }

    fn video(&mut self, i: u64) -> Option<Packet> {
        let pic = Picture::filled(160, 90, self.colour);
        let enc = self.video.encode(&pic, i * 33).expect("encode")?;
        if let Some(c) = enc.config {
            self.vconfig = Some(Arc::new(c));
        }
        Some(Packet {
            frame: Frame {
                track: Track::Video,
                dts: i as i64 * 33,
                cts: 0,
                keyframe: enc.keyframe,
                data: enc.data,
            },
            tracks: self.tracks(),
            wall_ms: 0,
        })
    }

    fn audio(&mut self) -> Option<Packet> {
        let pcm: Vec<i16> = (0..AAC_FRAME as u64)
            .map(|i| {
                let t = (self.samples + i) as f64 / f64::from(RATE);
                ((2.0 * std::f64::consts::PI * self.freq * t).sin() * 6000.0) as i16
            })
            .collect();
        self.samples += AAC_FRAME as u64;
        let au = self.audio.encode(&pcm).expect("encode")?;
        Some(Packet {
            frame: Frame {
                track: Track::Audio,
                dts: 0,
                cts: 0,
                keyframe: true,
                data: au,
            },
            tracks: self.tracks(),
            wall_ms: 0,
        })
    }
}

struct Output {
    decoder: VideoDecoder,
    picture: Option<Picture>,
    audio: Option<AudioInputDecoder>,
    pcm: Vec<f32>,
    /// The simulated clock: its start, the next video frame, the audio
    /// frames fed and produced so far.
    t0: Instant,
    frame: u64,
    audio_in: u64,
    audio_out: u64,
}

impl Output {
    fn new() -> Output {
        Output {
            decoder: VideoDecoder::new().expect("decoder"),
            picture: None,
            audio: None,
            pcm: Vec::new(),
            t0: Instant::now(),
            frame: 0,
            audio_in: 0,
            audio_out: 0,
        }
    }

    fn take(&mut self, p: Packet) {
        match p.frame.track {
            Track::Video => {
                let cfg = p.tracks.video.clone().expect("video config on video");
                if let Some(pic) = self.decoder.decode(&cfg, &p.frame).expect("decode") {
                    self.picture = Some(pic);
                }
            }
            Track::Audio => {
                let cfg = p.tracks.audio.clone().expect("audio config");
                let d = self
                    .audio
                    .get_or_insert_with(|| AudioInputDecoder::new(&cfg).expect("aac"));
                self.pcm.extend_from_slice(d.decode(&p.frame.data));
            }
        }
    }
}

/// Runs `frames` video ticks (and the audio frames due with them) on a
/// simulated clock that goes on across calls, feeding the sources in
/// real-time proportion.
fn run(engine: &mut Engine, sources: &mut [(&str, &mut Source)], frames: u64, out: &mut Output) {
    for _ in 0..frames {
        let i = out.frame;
        let now = out.t0 + Duration::from_micros(i * 33_333);
        for (name, src) in sources.iter_mut() {
            if let Some(p) = src.video(i) {
                engine.input(name, &p, now);
            }
        }
        // Input audio up to this frame's time (44.1 kHz, 1024 per frame).
        while out.audio_in * AAC_FRAME as u64 * 30 < (i + 1) * u64::from(RATE) {
            for (name, src) in sources.iter_mut() {
                if let Some(p) = src.audio() {
                    engine.input(name, &p, now);
                }
            }
            out.audio_in += 1;
        }
        if let Some(p) = engine.video_frame(i, now, 0).expect("video") {
            out.take(p);
        }
        while (out.audio_out + 1) * AAC_FRAME as u64 * 30 <= (i + 1) * 48_000 {
            if let Some(p) = engine.audio_frame(out.audio_out, 0).expect("audio") {
                out.take(p);
            }
            out.audio_out += 1;
        }
        out.frame += 1;
    }
}

fn near(a: Yuv, b: Yuv) -> bool {
    a.y.abs_diff(b.y) <= 16 && a.u.abs_diff(b.u) <= 16 && a.v.abs_diff(b.v) <= 16
}

/// An engine for the side-by-side template (a left, b right), the inputs'
/// sizes known up front (`size`) or learned from their pictures.
fn side_by_side(size: Option<(u32, u32)>) -> Engine {
    let s = spec(Template::SideBySide);
    let layout = Layout::resolve(&s, |_| size);
    let format = OutputFormat::new(&s.output, layout.width, layout.height);
    Engine::new(layout, format).expect("engine")
}

#[test]
fn composites_side_by_side_and_mixes_both_tones() {
    let red = Yuv::from_rgb(255, 0, 0);
    let blue = Yuv::from_rgb(0, 0, 255);
    let mut engine = side_by_side(Some((160, 90)));
    assert_eq!(engine.size(), (320, 180));
    let (mut a, mut b) = (Source::new(red, 440.0), Source::new(blue, 880.0));
    let mut out = Output::new();
    run(
        &mut engine,
        &mut [("a", &mut a), ("b", &mut b)],
        45,
        &mut out,
    );
    let pic = out.picture.take().expect("decoded output");
    assert_eq!((pic.width, pic.height), (320, 180));
    let l = pic.pixel(80, 90).expect("left");
    let r = pic.pixel(240, 90).expect("right");
    assert!(near(l, red), "left is red: {l:?}");
    assert!(near(r, blue), "right is blue: {r:?}");

    // 1.5 s of output audio, mono 48 kHz, both tones present.
    assert!(out.pcm.len() > 48_000, "{} samples", out.pcm.len());
    let tail = &out.pcm[out.pcm.len() - 24_000..];
    let (e440, e880) = (goertzel(tail, 48_000, 440.0), goertzel(tail, 48_000, 880.0));
    let off = goertzel(tail, 48_000, 660.0);
    assert!(
        e440 > 50.0 * off && e880 > 50.0 * off,
        "440 {e440} 880 {e880} 660 {off}"
    );
    assert!(engine.stats.video_frames >= 44);

    // Swapped positions: the next pictures show blue left, red right.
    let mut swapped = spec(Template::None);
    swapped.inputs[1].width = Some(Dim::Frac(0.5));
    swapped.inputs[1].height = Some(Dim::Px(180));
    swapped.inputs[1].x = Dim::Px(0);
    swapped.inputs[0].kind = InputKind::AudioOnly;
    let mut l2 = Layout::resolve(&swapped, |_| None);
    // The background is drawn at the right half here.
    l2.inputs[0].rect = Some(PlacedRect {
        x: 160,
        y: 0,
        width: Some(160),
        height: Some(180),
    });
    engine.set_layout(l2);
    run(
        &mut engine,
        &mut [("a", &mut a), ("b", &mut b)],
        10,
        &mut out,
    );
    let pic = out.picture.take().expect("decoded output");
    assert!(near(pic.pixel(80, 90).expect("left"), blue));
    assert!(near(pic.pixel(240, 90).expect("right"), red));

    // Input b leaves: its half shows the canvas colour (black).
    engine.input_gone("b");
    run(&mut engine, &mut [("a", &mut a)], 10, &mut out);
    let pic = out.picture.take().expect("decoded output");
    assert!(near(pic.pixel(80, 90).expect("left"), Yuv::BLACK));
    assert!(near(pic.pixel(240, 90).expect("right"), red));
}

#[test]
fn an_input_that_leaves_stays_gone_after_its_last_queued_packets() {
    let (red, blue) = (Yuv::from_rgb(255, 0, 0), Yuv::from_rgb(0, 0, 255));
    let mut engine = side_by_side(None);
    let (mut a, mut b) = (Source::new(red, 440.0), Source::new(blue, 880.0));
    let mut out = Output::new();
    run(
        &mut engine,
        &mut [("a", &mut a), ("b", &mut b)],
        10,
        &mut out,
    );
    let pic = out.picture.take().expect("decoded output");
    assert!(near(pic.pixel(240, 90).expect("right"), blue));
    // b's last second is still queued for the mix when its leaving is
    // known (the publisher's last reads arrive with its unpublish), a
    // keyframe among the packets.
    let queued: Vec<(Arc<str>, Packet)> = (10..41)
        .filter_map(|i| b.video(i))
        .map(|p| (Arc::from("b"), p))
        .collect();
    assert!(queued.iter().any(|(_, p)| p.frame.keyframe));
    let now = |out: &Output| out.t0 + Duration::from_micros(out.frame * 33_333);
    engine.input_gone_after("b", queued.clone(), now(&out));
    run(&mut engine, &mut [("a", &mut a)], 10, &mut out);
    let pic = out.picture.take().expect("decoded output");
    assert!(near(pic.pixel(80, 90).expect("left"), red));
    assert!(near(pic.pixel(240, 90).expect("right"), Yuv::BLACK));
    // The other order, what `input_gone_after` prevents: the queued
    // packets bring b's picture back after it left.
    engine.input_gone("b");
    let t = now(&out);
    for (input, p) in &queued {
        engine.input(input, p, t);
    }
    run(&mut engine, &mut [("a", &mut a)], 10, &mut out);
    let pic = out.picture.take().expect("decoded output");
    assert!(near(pic.pixel(240, 90).expect("right"), blue));
}

#[test]
fn an_input_that_stalls_keeps_its_last_picture() {
    let red = Yuv::from_rgb(255, 0, 0);
    let mut engine = side_by_side(None);
    let mut a = Source::new(red, 440.0);
    let mut out = Output::new();
    run(&mut engine, &mut [("a", &mut a)], 5, &mut out);
    // a sends nothing more; the mix goes on with its last picture.
    run(&mut engine, &mut [], 20, &mut out);
    let pic = out.picture.take().expect("decoded output");
    assert!(near(pic.pixel(80, 90).expect("left"), red));
    assert!(near(pic.pixel(240, 90).expect("right"), Yuv::BLACK));
    // And its audio ran out: silence, not an error.
    let tail = &out.pcm[out.pcm.len() - 4096..];
    assert!(tail.iter().all(|s| s.abs() < 0.01));
}

#[test]
fn output_format_defaults_scale_with_the_canvas() {
    let mut s = spec(Template::None);
    s.output.bitrate_kbps = None;
    let f = OutputFormat::new(&s.output, 640, 360);
    assert_eq!(f.video.bitrate_bps, 691_200);
    assert_eq!(f.video.gop_frames, 30);
    let f = OutputFormat::new(&s.output, 1280, 720);
    assert_eq!(f.video.bitrate_bps, 2_764_800);
}

#[test]
fn a_picture_waits_as_long_as_its_sound() {
    let red = Yuv::from_rgb(255, 0, 0);
    let mut s = spec(Template::None);
    s.inputs.truncate(1);
    let layout = Layout::resolve(&s, |_| None);
    let format = OutputFormat::new(&s.output, layout.width, layout.height);
    let mut engine = Engine::new(layout, format).expect("engine");
    let mut a = Source::new(red, 440.0);
    let mut out = Output::new();
    let t0 = out.t0;
    // About 250 ms of sound queued, all arrived at t0 with the picture.
    for _ in 0..12 {
        if let Some(p) = a.audio() {
            engine.input("a", &p, t0);
        }
    }
    let queued_ms = engine.inputs["a"].fifo.samples.len() * 1000 / 48_000;
    assert!(queued_ms >= 200, "{queued_ms} ms queued");
    engine.input("a", &a.video(0).expect("IDR"), t0);
    // Shown too early, the picture would run ahead of its sound.
    let at = |ms: u64| t0 + Duration::from_millis(ms);
    let p = engine
        .video_frame(0, at(50), 0)
        .expect("encode")
        .expect("frame");
    out.take(p);
    let early = out.picture.take().expect("decoded");
    assert!(near(early.pixel(160, 90).expect("px"), Yuv::BLACK));
    let p = engine
        .video_frame(1, at(queued_ms as u64 + 10), 0)
        .expect("encode")
        .expect("frame");
    out.take(p);
    let late = out.picture.take().expect("decoded");
    assert!(near(late.pixel(160, 90).expect("px"), red));
}

#[test]
fn canvas_layers_are_drawn_over_the_inputs_below() {
    let red = Yuv::from_rgb(255, 0, 0);
    let green = Yuv::from_rgb(0, 255, 0);
    let mut s = spec(Template::None);
    let mut bar = input("bar", 3);
    bar.kind = InputKind::Canvas;
    bar.colour = Some(green);
    bar.y = Dim::Frac(0.5);
    bar.height = Some(Dim::Frac(0.5));
    s.inputs.push(bar);
    let layout = Layout::resolve(&s, |_| None);
    let format = OutputFormat::new(&s.output, layout.width, layout.height);
    let mut engine = Engine::new(layout, format).expect("engine");
    let mut a = Source::new(red, 440.0);
    let mut out = Output::new();
    run(&mut engine, &mut [("a", &mut a)], 20, &mut out);
    let pic = out.picture.take().expect("decoded output");
    assert!(near(pic.pixel(160, 45).expect("top"), red));
    let bottom = pic.pixel(160, 135).expect("bottom");
    assert!(
        near(bottom, green),
        "bottom is the green canvas layer: {bottom:?}"
    );
}
