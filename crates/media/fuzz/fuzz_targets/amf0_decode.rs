//! AMF0 decoding (RTMP commands, FLV script data), and re-encoding whatever
//! decodes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use media::amf0;

fuzz_target!(|data: &[u8]| {
    let mut input = data;
    while let Ok(value) = amf0::decode(&mut input) {
        let mut out = Vec::new();
        amf0::encode(&value, &mut out);
        let mut again = &out[..];
        assert!(amf0::decode(&mut again).is_ok());
    }
});
