//! HLS tests: the cutting rule, the playlist text exactly, parsing and its
//! round trip here; fixture recordings checked with ffprobe/ffmpeg in
//! `fixtures`.

mod fixtures;

use bytes::Bytes;
use proptest::prelude::*;

use super::*;

fn frame(track: Track, dts: i64, keyframe: bool) -> Frame {
    Frame {
        track,
        dts,
        cts: 0,
        keyframe,
        data: Bytes::from_static(&[1]),
    }
}

#[test]
fn cuts_at_keyframes_after_the_target() {
    let mut s = Segmenter::new(2000);
    assert_eq!((s.closed_duration_ms(), s.open_duration_ms()), (0, 0));
    let mut cuts = Vec::new();
    for i in 0..300 {
        let dts = i * 33;
        // Keyframe every 30 frames (990 ms); audio in between never cuts.
        let v = frame(Track::Video, dts, i % 30 == 0);
        if s.should_cut(&v, true) {
            cuts.push((dts, s.closed_duration_ms()));
        }
        assert!(!s.should_cut(&frame(Track::Audio, dts + 10, true), true));
    }
    // 1980 ms is short of the target: the cut waits for the next keyframe.
    assert_eq!(cuts, [(2970, 2970), (5940, 2970), (8910, 2970)]);
    // The open segment ends with the last audio frame: 9877 + its 33 ms.
    assert_eq!(s.open_duration_ms(), 9910 - 8910);
}

#[test]
fn audio_only_cuts_on_any_audio_frame() {
    let mut s = Segmenter::new(1000);
    let cut: Vec<i64> = (0..100)
        .map(|i| i * 23)
        .filter(|&dts| s.should_cut(&frame(Track::Audio, dts, true), false))
        .collect();
    assert_eq!(cut, [1012, 2024]);
    assert_eq!(s.closed_duration_ms(), 1012);
    assert_eq!(s.open_duration_ms(), 99 * 23 + 23 - 2024);
    // Video frames of a stream declared audio-only do not cut.
    assert!(!s.should_cut(&frame(Track::Video, 99_999, true), false));
}

fn seg(uri: &str, duration_ms: i64) -> Segment {
    Segment {
        uri: uri.into(),
        duration_ms,
        discontinuity: false,
    }
}

#[test]
fn renders_exact_text() {
    let mut p = Playlist::new(2000);
    p.mark_discontinuity(); // nothing to be discontinuous with yet
    assert_eq!(
        p.render(false),
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-TARGETDURATION:2\n\
         #EXT-X-MEDIA-SEQUENCE:0\n"
    );
    p.push(seg("a-0.ts", 2000));
    p.push(seg("a-1.ts", 2033));
    p.mark_discontinuity();
    p.push(seg("a-2.ts", 1500));
    p.push(seg("a-3.ts", 7));
    assert_eq!(p.duration_ms(), 5540);
    assert_eq!(
        p.render(true),
        "#EXTM3U\n\
         #EXT-X-VERSION:3\n\
         #EXT-X-PLAYLIST-TYPE:EVENT\n\
         #EXT-X-TARGETDURATION:3\n\
         #EXT-X-MEDIA-SEQUENCE:0\n\
         #EXTINF:2.000,\n\
         a-0.ts\n\
         #EXTINF:2.033,\n\
         a-1.ts\n\
         #EXT-X-DISCONTINUITY\n\
         #EXTINF:1.500,\n\
         a-2.ts\n\
         #EXTINF:0.007,\n\
         a-3.ts\n\
         #EXT-X-ENDLIST\n"
    );
    assert_eq!(p.target_duration_s(), 3);
}

#[test]
fn parses_back_what_it_wrote() {
    let mut p = Playlist::new(6000);
    p.push(seg("x0.ts", 6006));
    p.mark_discontinuity();
    p.push(seg("x1.ts", 4000));
    for ended in [false, true] {
        let text = p.render(ended);
        let back = Playlist::parse(&text).unwrap();
        assert_eq!(back.segments(), p.segments());
        assert_eq!(back.target_ms(), 7000);
        assert_eq!(back.render(ended), text);
        // CRLF line ends and foreign tags are fine.
        let crlf = text.replace('\n', "\r\n").replace(
            "#EXT-X-MEDIA-SEQUENCE:0",
            "#EXT-X-MEDIA-SEQUENCE:0\r\n#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00Z",
        );
        assert_eq!(Playlist::parse(&crlf).unwrap().segments(), p.segments());
    }
    // `#EXT-X-ENDLIST` is accepted and changes nothing read back.
    assert_eq!(
        Playlist::parse(&p.render(true)).unwrap(),
        Playlist::parse(&p.render(false)).unwrap()
    );
    // A discontinuity after the last segment carries over to the next push.
    let mut back = Playlist::parse("#EXTM3U\n#EXTINF:1,\na.ts\n#EXT-X-DISCONTINUITY\n").unwrap();
    back.push(seg("b.ts", 1000));
    assert!(back.segments()[1].discontinuity);
}

#[test]
fn rejects_what_it_cannot_read() {
    assert_eq!(Playlist::parse(""), Err(HlsError::NotAPlaylist));
    assert_eq!(Playlist::parse("a.ts\n"), Err(HlsError::NotAPlaylist));
    assert_eq!(
        Playlist::parse("#EXTM3U\n#EXTINF:2.0,\na.ts\nb.ts\n"),
        Err(HlsError::Invalid {
            line: 4,
            what: "segment URI without #EXTINF"
        })
    );
    for bad in ["-1", "1e3", "", "abc", "1.2.3", "99999999999"] {
        let text = format!("#EXTM3U\n#EXTINF:{bad},\na.ts\n");
        assert!(Playlist::parse(&text).is_err(), "{bad}");
    }
    let ok = |v: &str| {
        Playlist::parse(&format!("#EXTM3U\n#EXTINF:{v},title\na.ts\n"))
            .unwrap()
            .segments()[0]
            .duration_ms
    };
    assert_eq!(ok("2"), 2000);
    assert_eq!(ok("2.5"), 2500);
    assert_eq!(ok(".25"), 250);
    assert_eq!(ok("2.0005"), 2001);
    assert_eq!(ok("2.0004"), 2000);
}

fn segments_strategy() -> impl Strategy<Value = Vec<Segment>> {
    prop::collection::vec(
        ("[a-z0-9_/-]{1,12}\\.ts", 0i64..100_000, any::<bool>()).prop_map(
            |(uri, duration_ms, discontinuity)| Segment {
                uri,
                duration_ms,
                discontinuity,
            },
        ),
        0..30,
    )
}

proptest! {
    #[test]
    fn render_parse_round_trip(segs in segments_strategy(), target in 1i64..20_000, ended in any::<bool>()) {
        let mut p = Playlist::new(target);
        for s in &segs {
            p.push(s.clone());
        }
        let text = p.render(ended);
        let back = Playlist::parse(&text).unwrap();
        prop_assert_eq!(back.segments(), &segs[..]);
        prop_assert_eq!(back.duration_ms(), p.duration_ms());
        prop_assert_eq!(back.render(ended), text);
        let largest = segs.iter().map(|s| (s.duration_ms + 999) / 1000).max().unwrap_or(0);
        prop_assert!(p.target_duration_s() >= largest);
    }

    #[test]
    fn parse_never_panics(text in "(#EXTM3U\n)?((#EXTINF:[0-9.,]{0,8}|#EXT-X-[A-Z]{0,12}:?[0-9]{0,3}|[a-z.]{0,5}|\u{0}|é)\r?\n){0,10}") {
        let _ = Playlist::parse(&text);
    }

    #[test]
    fn segmenter_durations_add_up(steps in prop::collection::vec((any::<bool>(), 1i64..200, any::<bool>()), 1..200), target in 0i64..3000, has_video in any::<bool>()) {
        let mut s = Segmenter::new(target);
        let mut dts = 0;
        let mut total = 0;
        let mut first = None;
        for (video, step, key) in steps {
            dts += step;
            let f = frame(if video { Track::Video } else { Track::Audio }, dts, key || !video);
            first.get_or_insert(dts);
            if s.should_cut(&f, has_video) {
                prop_assert!(s.closed_duration_ms() >= target);
                total += s.closed_duration_ms();
            }
        }
        // All closed segments plus the open one cover first DTS to last DTS
        // (plus one frame duration at most 1 s).
        let whole = total + s.open_duration_ms();
        let span = dts - first.unwrap();
        prop_assert!(whole >= span && whole <= span + 1000, "{} vs {}", whole, span);
    }
}
