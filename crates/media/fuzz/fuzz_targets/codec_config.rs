//! Every codec configuration parser; the first byte picks the parser.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use media::codec::{aac, h264, h265, length_prefixed_to_annexb, mp3};

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let bytes = Bytes::copy_from_slice(rest);
    match which % 7 {
        0 => {
            if let Ok(cfg) = h264::parse_record(&bytes) {
                for sps in &cfg.sps {
                    let _ = h264::parse_sps(sps);
                }
            }
        }
        1 => {
            let _ = h264::parse_sps(rest);
        }
        2 => {
            if let Ok(cfg) = h265::parse_record(&bytes) {
                for sps in cfg.nalus(h265::nal_type::SPS) {
                    let _ = h265::parse_sps(sps);
                }
            }
        }
        3 => {
            let _ = h265::parse_sps(rest);
        }
        4 => {
            if let Ok(info) = aac::parse_asc(rest) {
                let _ = aac::adts_header(&info, rest.len() * 97);
            }
        }
        5 => {
            let _ = mp3::parse_header(rest);
        }
        _ => {
            let mut out = Vec::new();
            let size = rest.first().map_or(4, |b| b % 6);
            let _ = length_prefixed_to_annexb(rest.get(1..).unwrap_or_default(), size, &mut out);
            assert!(out.len() <= rest.len() * 5);
        }
    }
});
