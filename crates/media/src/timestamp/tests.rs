//! Unit tests of `timestamp`.

use super::*;
use crate::frame::Frame;
use Track::{Audio as A, Video as V};
use bytes::Bytes;
use proptest::prelude::*;

fn frame(track: Track, dts: i64, cts: i32) -> Frame {
    Frame {
        track,
        dts,
        cts,
        keyframe: true,
        data: Bytes::new(),
    }
}

/// Applies `inputs` in order; returns (track, input, output or None if dropped).
fn run(repair: &mut TimestampRepair, inputs: &[(Track, i64)]) -> Vec<(Track, i64, Option<i64>)> {
    inputs
        .iter()
        .map(|&(track, dts)| {
            let mut f = frame(track, dts, 0);
            let kept = repair.apply(&mut f);
            (track, dts, kept.then_some(f.dts))
        })
        .collect()
}

/// The output DTS of `inputs` (None where dropped) through a fresh repair
/// with a 10 s jump limit.
fn repaired(inputs: &[(Track, i64)]) -> Vec<Option<i64>> {
    run(&mut TimestampRepair::new(10_000), inputs)
        .into_iter()
        .map(|o| o.2)
        .collect()
}

/// Interleaved A/V inputs: video every 33 ms, audio every 23 ms, in
/// timestamp order, from `start` for `len` ms.
fn av(start: i64, len: i64) -> Vec<(Track, i64)> {
    let mut v: Vec<(Track, i64)> = (0..)
        .map(|i| (Track::Video, start + i * 33))
        .take_while(|&(_, t)| t < start + len)
        .chain(
            (0..)
                .map(|i| (Track::Audio, start + i * 23))
                .take_while(|&(_, t)| t < start + len),
        )
        .collect();
    v.sort_by_key(|&(t, d)| (d, t == Track::Audio));
    v
}

/// The output DTS of `track` in `out`, dropped frames left out.
fn outputs_of(out: &[(Track, i64, Option<i64>)], track: Track) -> Vec<i64> {
    out.iter()
        .filter(|o| o.0 == track)
        .filter_map(|o| o.2)
        .collect()
}

fn assert_strictly_increasing(out: &[(Track, i64, Option<i64>)]) {
    for track in [V, A] {
        let dts = outputs_of(out, track);
        assert!(
            dts.windows(2).all(|w| w[0] < w[1]),
            "{track:?} not increasing: {dts:?}"
        );
    }
}

#[test]
fn unwrap_across_wrap() {
    let mut u = Unwrap32::new();
    let near = u32::MAX - 40;
    assert_eq!(u.unwrap(near), i64::from(near));
    assert_eq!(u.unwrap(near + 33), i64::from(near) + 33);
    assert_eq!(u.unwrap(25), (1i64 << 32) + 25);
    assert_eq!(u.unwrap(58), (1i64 << 32) + 58);
    // Out-of-order packets around the wrap go back, not forward by 2^32.
    assert_eq!(u.unwrap(u32::MAX - 2), i64::from(u32::MAX) - 2);
    assert_eq!(u.unwrap(91), (1i64 << 32) + 91);
    // A second wrap.
    let mut u = Unwrap32::new();
    let mut ts = 0u32;
    let mut expect = 0i64;
    for _ in 0..10 {
        ts = ts.wrapping_add(1 << 30);
        expect += 1 << 30;
        assert_eq!(u.unwrap(ts), expect);
    }
}

#[test]
fn starts_at_zero_and_keeps_av_offsets() {
    let mut r = TimestampRepair::new(10_000);
    let out = run(&mut r, &av(5_000, 2_000));
    for &(_, input, output) in &out {
        assert_eq!(output, Some(input - 5_000));
    }
    assert_eq!(r.last_dts(), out.iter().filter_map(|o| o.2).max());
}

#[test]
fn backward_jump_continues_one_interval_on() {
    let mut r = TimestampRepair::new(10_000);
    let mut inputs: Vec<(Track, i64)> = (0..31).map(|i| (Track::Video, i * 33)).collect();
    inputs.extend((0..10).map(|i| (Track::Video, 200 + i * 33)));
    let out = run(&mut r, &inputs);
    assert_eq!(out[30].2, Some(990));
    assert_eq!(out[31].2, Some(1023));
    assert_eq!(out[32].2, Some(1056));
    assert_strictly_increasing(&out);
}

#[test]
fn forward_jump_of_the_whole_stream_is_closed_in_sync() {
    // Like fixtures/h264_aac_ts_jump.flv: 0-5 s, then everything +30 s.
    let mut inputs = av(0, 5_000);
    inputs.extend(av(35_000, 5_000));
    let mut r = TimestampRepair::new(10_000);
    let out = run(&mut r, &inputs);
    assert_strictly_increasing(&out);
    assert!(out.iter().all(|o| o.2.is_some()));
    for track in [V, A] {
        let dts = outputs_of(&out, track);
        let max_gap = dts.windows(2).map(|w| w[1] - w[0]).max().unwrap();
        assert!(max_gap <= 66, "{track:?} gap {max_gap}");
    }
    // A/V sync: after the jump, input-to-output offset is the same for both tracks.
    let shift: Vec<i64> = out
        .iter()
        .filter(|o| o.1 >= 35_000)
        .map(|o| o.1 - o.2.unwrap())
        .collect();
    assert!(shift.iter().all(|&s| s == shift[0]), "{shift:?}");
    assert!((29_900..=30_000).contains(&shift[0]), "{}", shift[0]);
}

#[test]
fn forward_jump_under_the_limit_is_kept() {
    let dts = repaired(&[(V, 0), (V, 33), (V, 9_000)]);
    assert_eq!(dts[2], Some(9_000));
}

#[test]
fn audio_gap_while_video_continues_is_not_a_jump() {
    let inputs: Vec<(Track, i64)> = av(0, 20_000)
        .into_iter()
        .filter(|&(t, d)| t == Track::Video || !(1_000..16_000).contains(&d))
        .collect();
    let mut r = TimestampRepair::new(10_000);
    for (_, input, output) in run(&mut r, &inputs) {
        assert_eq!(output, Some(input));
    }
}

#[test]
fn one_track_jumping_alone_does_not_move_the_other() {
    // Video jumps back by 3 s at 2 s; audio stays on its clock.
    let inputs: Vec<(Track, i64)> = av(0, 4_000)
        .into_iter()
        .map(|(t, d)| {
            if t == Track::Video && d >= 2_000 {
                (t, d - 3_000)
            } else {
                (t, d)
            }
        })
        .collect();
    let mut r = TimestampRepair::new(10_000);
    let out = run(&mut r, &inputs);
    assert_strictly_increasing(&out);
    for &(track, input, output) in &out {
        if track == Track::Audio {
            assert_eq!(output, Some(input));
        }
    }
    let video = outputs_of(&out, V);
    assert!(video.windows(2).all(|w| w[1] - w[0] <= 66), "{video:?}");
}

#[test]
fn interleave_glitch_moves_one_ms_on() {
    let dts = repaired(&[(A, 0), (A, 23), (A, 22), (A, 46), (A, 46)]);
    assert_eq!(dts, [Some(0), Some(23), Some(24), Some(46), Some(47)]);
}

#[test]
fn b_frames_keep_their_cts() {
    let mut r = TimestampRepair::new(10_000);
    for (i, cts) in [(0, 66), (1, 132), (2, 33), (3, 0), (4, -33)] {
        let mut f = frame(Track::Video, 1_000 + i * 33, cts);
        assert!(r.apply(&mut f));
        assert_eq!((f.dts, f.cts), (i * 33, cts));
    }
}

#[test]
fn a_splice_never_presents_before_what_was_presented() {
    // A publisher reconnects: B-frame GOP (decode I P B B, present I B B P),
    // then the timeline restarts at 0 with a keyframe whose cts is 0.
    let mut r = TimestampRepair::new(10_000);
    let mut max_pts = i64::MIN;
    let gop = [
        (0, 0, true),
        (33, 100, false),
        (66, 0, false),
        (100, 0, false),
    ];
    for base in [1000, 0] {
        for &(d, cts, key) in &gop {
            let mut f = frame(Track::Video, base + d, cts);
            f.keyframe = key;
            assert!(r.apply(&mut f));
            if base == 0 && d == 0 {
                assert!(
                    f.pts() > max_pts,
                    "first frame after the splice presents at {} <= {max_pts}",
                    f.pts()
                );
            }
            max_pts = max_pts.max(f.pts());
        }
    }
}

#[test]
fn audio_before_first_keyframe_is_clamped_or_dropped() {
    let dts = repaired(&[(V, 10_000), (A, 9_990), (A, 9_995), (A, 10_013)]);
    assert_eq!(dts, [Some(0), Some(0), Some(1), Some(13)]);
    let dts = repaired(&[(V, 10_000), (A, 8_500), (A, 9_500), (A, 10_010)]);
    assert_eq!(dts, [Some(0), None, Some(0), Some(10)]);
}

#[test]
fn a_track_on_another_time_base_joins_at_the_current_time() {
    let dts = repaired(&[(V, 500_000), (V, 500_033), (A, 3), (A, 26)]);
    assert_eq!(dts, [Some(0), Some(33), Some(33), Some(56)]);
}

#[test]
fn media_span() {
    let mut s = MediaSpan::new();
    assert_eq!(s.duration_ms(), 0);
    s.observe(Track::Video, 0);
    assert_eq!(s.duration_ms(), 0);
    for i in 1..30 {
        s.observe(Track::Video, i * 33);
    }
    s.observe(Track::Audio, 10);
    s.observe(Track::Audio, 33);
    assert_eq!(s.duration_ms(), 29 * 33 + 33);
    assert_eq!(s.first_dts(), Some(0));
}

proptest! {
    #[test]
    fn output_is_strictly_increasing(
        steps in prop::collection::vec((any::<bool>(), -50_000i64..50_000), 1..200),
        start in any::<i64>(),
    ) {
        let mut r = TimestampRepair::new(10_000);
        let mut dts = start / 2;
        let mut last = [None::<i64>; 2];
        for (video, step) in steps {
            dts = dts.saturating_add(step);
            let track = if video { Track::Video } else { Track::Audio };
            let mut f = frame(track, dts, 7);
            if r.apply(&mut f) {
                let slot = &mut last[usize::from(video)];
                if let Some(prev) = *slot {
                    prop_assert!(f.dts > prev);
                }
                prop_assert!(f.dts >= 0);
                prop_assert_eq!(f.cts, 7);
                *slot = Some(f.dts);
            }
        }
    }

    #[test]
    fn unwrap_tracks_small_steps(start in any::<u32>(), steps in prop::collection::vec(-100_000i64..1_000_000, 1..100)) {
        let mut u = Unwrap32::new();
        let mut expect = i64::from(start);
        prop_assert_eq!(u.unwrap(start), expect);
        for s in steps {
            expect += s;
            prop_assert_eq!(u.unwrap(expect as u32), expect);
        }
    }
}

/// A reconnect: a first session of 5 s whose audio runs `overhang` ms past
/// its last video frame (the publisher left after sending audio ahead), then
/// a second one, through a splice, whose timeline starts at `second_start`
/// with its audio `audio_lead` ms ahead of its first video keyframe (negative:
/// behind). Returns the outputs of both sessions and where the second starts.
fn spliced_with(
    second_start: i64,
    overhang: i64,
    audio_lead: i64,
) -> (Vec<(Track, i64, Option<i64>)>, usize) {
    let mut r = TimestampRepair::new(10_000);
    let mut first_session = av(0, 5_000);
    let last_of = |s: &[(Track, i64)], track| s.iter().filter(|f| f.0 == track).map(|f| f.1).max();
    let (last_video, last_audio) = (last_of(&first_session, V), last_of(&first_session, A));
    let (last_video, last_audio) = (last_video.unwrap(), last_audio.unwrap());
    first_session.extend(
        (1..)
            .map(|i| (A, last_audio + i * 23))
            .take_while(|&(_, d)| d <= last_video + overhang),
    );
    let mut out = run(&mut r, &first_session);
    let first = out.len();
    r.splice();
    // The new session starts with a video keyframe (the recorder waits for
    // one); its audio follows in timestamp order.
    let mut second: Vec<(Track, i64)> = av(second_start, 3_000)
        .into_iter()
        .map(|(t, d)| if t == A { (t, d - audio_lead) } else { (t, d) })
        .collect();
    second.sort_by_key(|&(t, d)| (t == A, d));
    let key = second.remove(0);
    second.sort_by_key(|&(t, d)| (d, t == A));
    second.insert(0, key);
    out.extend(run(&mut r, &second));
    (out, first)
}

/// [`spliced_with`] when both sessions end and start as `av` makes them.
fn spliced(second_start: i64) -> (Vec<(Track, i64, Option<i64>)>, usize) {
    spliced_with(second_start, 0, 0)
}

/// The largest output DTS of `track` before the join and the smallest after.
fn join_of(out: &[(Track, i64, Option<i64>)], first: usize, track: Track) -> (i64, i64) {
    (
        outputs_of(&out[..first], track).into_iter().max().unwrap(),
        outputs_of(&out[first..], track).into_iter().min().unwrap(),
    )
}

#[test]
fn a_splice_continues_the_file_whatever_the_new_timeline() {
    // New session from 0 (ffmpeg), overlapping the old one's end (a
    // publisher keeping its clock), a little after it, far after it.
    for start in [0, 4_900, 4_960, 5_040, 9_000, 600_000] {
        let (out, first) = spliced(start);
        assert_strictly_increasing(&out);
        assert!(
            out.iter().all(|o| o.2.is_some()),
            "start {start}: a frame dropped"
        );
        // The video goes on one frame interval later; the audio, which
        // ended as the video did, after its last frame's end and less than
        // a video interval after it.
        let (before, after) = join_of(&out, first, V);
        assert_eq!(after - before, 33, "start {start}: {before} → {after}");
        let (before, after) = join_of(&out, first, A);
        assert!(
            (23..23 + 33).contains(&(after - before)),
            "start {start}: {before} → {after}"
        );
        // Both tracks of the new session keep one offset: A/V in sync.
        let shift: Vec<i64> = out[first..].iter().map(|o| o.2.unwrap() - o.1).collect();
        assert!(
            shift.iter().all(|&s| s == shift[0]),
            "start {start}: {shift:?}"
        );
    }
}

#[test]
fn a_session_ending_on_audio_is_joined_on_its_video() {
    // The old session's audio runs 77 ms past its last video frame (4983):
    // the last audio frame is at 5060, its media ends at 5083.
    let mut r = TimestampRepair::new(10_000);
    let mut old = av(0, 5_000);
    old.extend([(A, 5_014), (A, 5_037), (A, 5_060)]);
    let before = run(&mut r, &old);
    assert_eq!(outputs_of(&before, V).last(), Some(&4_983));
    assert_eq!(outputs_of(&before, A).last(), Some(&5_060));
    r.splice();
    // The new session restarts at 0: a keyframe, then audio from 0.
    let out = run(&mut r, &av(0, 200));
    // The keyframe goes one video interval after the old video, not after
    // the old audio (that was 5083: a three-frame hole in the video).
    assert_eq!(out[0], (V, 0, Some(5_016)));
    let video = outputs_of(&out, V);
    assert_eq!(video[..4], [5_016, 5_049, 5_082, 5_115]);
    // The audio keeps the video's offset; the frames that would begin
    // before the old audio ends (5016, 5039, 5062 < 5083) are dropped.
    let audio: Vec<(i64, Option<i64>)> = out
        .iter()
        .filter(|o| o.0 == A)
        .map(|o| (o.1, o.2))
        .take(5)
        .collect();
    assert_eq!(
        audio,
        [
            (0, None),
            (23, None),
            (46, None),
            (69, Some(5_085)),
            (92, Some(5_108))
        ]
    );
    assert_eq!(r.take_join_drops(), Some(3));
    assert_eq!(r.take_join_drops(), None, "reported once");
}

#[test]
fn the_video_interval_at_a_join_is_the_median_of_the_last_ones() {
    // The publisher dropped a frame just before leaving: the last video
    // step is 66 ms, the interval is still 33.
    let mut r = TimestampRepair::new(10_000);
    let mut old: Vec<(Track, i64)> = (0..30).map(|i| (V, i * 33)).collect();
    old.push((V, 29 * 33 + 66));
    run(&mut r, &old);
    r.splice();
    let out = run(&mut r, &[(V, 0), (V, 33)]);
    assert_eq!(outputs_of(&out, V), [29 * 33 + 66 + 33, 29 * 33 + 66 + 66]);
}

#[test]
fn a_join_without_video_to_anchor_on_goes_on_from_the_audio() {
    // Audio-only file: the new session continues one audio interval on.
    let mut r = TimestampRepair::new(10_000);
    let old: Vec<(Track, i64)> = (0..10).map(|i| (A, 100 + i * 23)).collect();
    run(&mut r, &old);
    r.splice();
    assert_eq!(
        repaired_with(&mut r, &[(A, 7), (A, 30)]),
        [Some(230), Some(253)]
    );
    // A file with audio so far, whose new session brings video: the video
    // starts where the audio ends and the audio follows at the same offset.
    let mut r = TimestampRepair::new(10_000);
    run(&mut r, &old);
    r.splice();
    assert_eq!(
        repaired_with(&mut r, &[(V, 1_000), (A, 1_000), (A, 1_023), (V, 1_033)]),
        [Some(230), Some(230), Some(253), Some(263)]
    );
}

#[test]
fn a_following_track_on_another_time_base_continues_at_its_end() {
    // After the join the audio's timestamps are 50 s behind the video's:
    // it continues where the old audio ended, not 50 s back.
    let mut r = TimestampRepair::new(10_000);
    let old = run(&mut r, &av(0, 1_000));
    let audio_end = outputs_of(&old, A).last().unwrap() + 23;
    r.splice();
    let out = repaired_with(&mut r, &[(V, 60_000), (A, 10_000), (A, 10_023)]);
    assert_eq!(out, [Some(1_023), Some(audio_end), Some(audio_end + 23)]);
    assert_eq!(r.take_join_drops(), None);
}

/// The outputs of `inputs` through `r`, None where dropped.
fn repaired_with(r: &mut TimestampRepair, inputs: &[(Track, i64)]) -> Vec<Option<i64>> {
    run(r, inputs).into_iter().map(|o| o.2).collect()
}

proptest! {
    #[test]
    fn splices_never_overlap_or_gap(start in -1_000_000i64..1_000_000) {
        let (out, first) = spliced(start);
        assert_strictly_increasing(&out);
        let before = out[..first].iter().filter_map(|o| o.2).max().unwrap();
        let after = out[first..].iter().filter_map(|o| o.2).min().unwrap();
        prop_assert!(after > before && after - before <= 33, "{} → {}", before, after);
    }

    #[test]
    fn a_join_leaves_the_video_no_hole_and_the_audio_no_overlap(
        start in -1_000_000i64..1_000_000,
        overhang in 0i64..300,
        audio_lead in -200i64..200,
    ) {
        let (out, first) = spliced_with(start, overhang, audio_lead);
        assert_strictly_increasing(&out);
        // The video: every frame kept, one interval at the join.
        let (before, after) = join_of(&out, first, V);
        prop_assert_eq!(after - before, 33);
        prop_assert!(out.iter().filter(|o| o.0 == V).all(|o| o.2.is_some()));
        // The audio: nothing before the old audio's end, and what is
        // dropped is only what would have begun before it.
        let (last_audio, first_audio) = join_of(&out, first, A);
        prop_assert!(first_audio >= last_audio + 23, "{} → {}", last_audio, first_audio);
        let shift = out[first].2.unwrap() - out[first].1;
        for o in &out[first..] {
            match o.2 {
                // A/V in sync: one offset for the whole new session.
                Some(d) => prop_assert_eq!(d - o.1, shift),
                None => prop_assert!(o.0 == A && o.1 + shift < last_audio + 23),
            }
        }
    }
}

/// The fixtures' H.264 B-frame pattern (decode order): DTS and CTS, ms.
const GOP: [(i64, i32); 9] = [
    (0, 67),
    (34, 133),
    (67, 33),
    (100, 34),
    (134, 166),
    (167, 67),
    (200, 0),
    (234, 33),
    (267, 167),
];

#[test]
fn presenting_from_zero_starts_the_picture_and_the_sound_at_0() {
    let mut r = TimestampRepair::new(10_000).presenting_from_zero();
    let base = 5_000;
    let mut inputs: Vec<Frame> = GOP
        .iter()
        .map(|&(d, cts)| frame(V, base + d, cts))
        .collect();
    // Audio from 44 ms after the keyframe's DTS: before it presents (67).
    inputs.extend((0..10).map(|i| frame(A, base + 44 + i * 23, 0)));
    inputs.sort_by_key(|f| (f.dts, f.track == A));
    let mut video = Vec::new();
    let mut audio = Vec::new();
    for mut f in inputs {
        let pts_in = f.pts();
        let input = f.dts;
        if !r.apply(&mut f) {
            assert_eq!((f.track, input), (A, base + 44), "only the early audio");
            continue;
        }
        // Every frame presents when it did, counted from the keyframe's
        // presentation; none decodes after it presents.
        assert_eq!(f.pts(), pts_in - base - 67, "{f:?}");
        assert!(f.cts >= 0);
        match f.track {
            Track::Video => video.push((f.dts, f.cts)),
            Track::Audio => audio.push(f.dts),
        }
    }
    assert_eq!(video[0], (0, 0), "the keyframe decodes and presents at 0");
    assert!(video.windows(2).all(|w| w[0].0 < w[1].0), "{video:?}");
    // From the fourth frame on nothing had to move.
    assert_eq!(
        video[3..],
        [
            (33, 34),
            (67, 166),
            (100, 67),
            (133, 0),
            (167, 33),
            (200, 167)
        ]
    );
    assert_eq!(audio[0], 0, "the audio starts with the picture");
}

#[test]
fn presenting_from_zero_drops_leading_pictures() {
    // An open GOP: the keyframe is followed by B-frames presenting before
    // it, which need the GOP before it.
    let mut r = TimestampRepair::new(10_000).presenting_from_zero();
    let mut kept = Vec::new();
    for (d, cts) in [(0, 100), (33, 0), (67, 0), (100, 67)] {
        let mut f = frame(V, d, cts);
        if r.apply(&mut f) {
            kept.push((f.dts, f.cts));
        }
    }
    assert_eq!(kept, [(0, 0), (1, 66)]);
}

proptest! {
    #[test]
    fn presenting_from_zero_keeps_every_presentation_time(
        start in -1_000_000i64..1_000_000,
        gops in 1usize..4,
        audio_offset in -300i64..300,
    ) {
        let mut r = TimestampRepair::new(10_000).presenting_from_zero();
        let mut inputs: Vec<Frame> = (0..gops as i64)
            .flat_map(|g| GOP.iter().map(move |&(d, cts)| frame(V, start + g * 300 + d, cts)))
            .collect();
        inputs.extend((0..40).map(|i| frame(A, start + audio_offset + i * 23, 0)));
        inputs.sort_by_key(|f| (f.dts, f.track == A));
        // The recorder starts at the first video keyframe.
        let inputs = inputs.into_iter().skip_while(|f| f.track == A);
        let origin = start + 67;
        let mut last = [None::<i64>; 2];
        let mut first_audio = None;
        for mut f in inputs {
            let pts_in = f.pts();
            if r.apply(&mut f) {
                let slot = &mut last[usize::from(f.track == V)];
                prop_assert!(slot.is_none_or(|p| f.dts > p));
                *slot = Some(f.dts);
                prop_assert!(f.dts >= 0 && f.cts >= 0);
                prop_assert_eq!(f.pts(), pts_in - origin);
                if f.track == A && first_audio.is_none() {
                    first_audio = Some(f.dts);
                }
            } else {
                // Only audio before the first picture.
                prop_assert!(f.track == A && pts_in < origin);
            }
        }
        if let Some(a) = first_audio {
            prop_assert!(a < 23 || audio_offset > 67);
        }
    }
}
