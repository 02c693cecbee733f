//! The H.265 + AAC fixture (enhanced RTMP `hvc1`, written by our muxer
//! through `fixtures/make-hevc-fixture.sh`) read back by the scanner and
//! the demuxer: FFmpeg 5.1 cannot read it, so this is its check.

use super::*;
use crate::codec::h265;
use crate::test_support::H265_AAC;

#[test]
fn hevc_fixture_reads_back() {
    let header = read_header(H265_AAC).unwrap();
    assert!(header.has_video && header.has_audio);
    assert_eq!(scan(H265_AAC).valid_len, H265_AAC.len());
    let (events, d) = demux_file(&Bytes::from_static(H265_AAC));
    assert_eq!(d.ignored(), 0);
    let t = d.tracks();
    let v = t.video.unwrap();
    assert_eq!(
        (v.codec, v.width, v.height, v.nal_length_size),
        (VideoCodec::H265, 640, 360, 4)
    );
    let record = h265::parse_record(&v.record).unwrap();
    for nal_type in [
        h265::nal_type::VPS,
        h265::nal_type::SPS,
        h265::nal_type::PPS,
    ] {
        assert_eq!(record.nalus(nal_type).count(), 1);
    }
    let a = t.audio.unwrap();
    assert_eq!(
        (a.codec, a.sample_rate, a.channels),
        (AudioCodec::Aac, 44100, 2)
    );
    let meta = metadata_event(&events);
    assert_eq!(meta.unwrap().get("height"), Some(&Value::Number(360.0)));

    let fs = frames(&events);
    let video: Vec<&Frame> = fs.iter().filter(|f| f.track == Track::Video).collect();
    let audio: Vec<&Frame> = fs.iter().filter(|f| f.track == Track::Audio).collect();
    assert!((295..=305).contains(&video.len()), "{}", video.len());
    assert!((425..=440).contains(&audio.len()), "{}", audio.len());
    // A keyframe every 60 frames = 2 s, and only there.
    let keys: Vec<usize> = (0..video.len()).filter(|&i| video[i].keyframe).collect();
    assert_eq!(keys, (0..video.len()).step_by(60).collect::<Vec<_>>());
    assert!(keys.iter().all(|&i| video[i].dts == 2000 * (i as i64 / 60)));
    // B-frames: composition offsets vary, and presentation times put in
    // order step by one frame.
    assert!(video.iter().any(|f| f.cts != video[0].cts));
    let mut pts: Vec<i64> = video.iter().map(|f| f.pts()).collect();
    pts.sort_unstable();
    assert!(pts.windows(2).all(|w| (33..=34).contains(&(w[1] - w[0]))));
    for track in [&video, &audio] {
        assert!(track.windows(2).all(|w| w[0].dts < w[1].dts));
    }
}
