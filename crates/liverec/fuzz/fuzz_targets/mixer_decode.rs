//! The mixer's input decoding (`liverec::mixer::fuzz::decode`): an AVC
//! configuration record and AVCC access units through OpenH264 and the
//! compositor, or an AudioSpecificConfig and AAC frames through symphonia
//! and the resampler. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    liverec::mixer::fuzz::decode(data);
});
