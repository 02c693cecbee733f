//! Crash recovery on arbitrary bytes: the first byte picks the recoverer
//! of `media::recover` (FLV, ADTS, MP3, MPEG-TS, MP4 journal), the rest is
//! the file. Whatever the bytes, the cut lies within the file and the
//! patches within the cut; recovering an FLV or ADTS file already cut and
//! patched keeps all of it; the MP4 journal's output is as long as it says.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use media::recover::{self, Recovery};

type Recoverer = fn(&mut Cursor<&[u8]>, u64) -> std::io::Result<Recovery>;

fn run(f: Recoverer, file: &[u8]) -> Recovery {
    match f(&mut Cursor::new(file), file.len() as u64) {
        Ok(r) => r,
        Err(e) => panic!("reading a slice failed: {e}"),
    }
}

fn flv(r: &mut Cursor<&[u8]>, len: u64) -> std::io::Result<Recovery> {
    recover::flv(r, len)
}

fn adts(r: &mut Cursor<&[u8]>, len: u64) -> std::io::Result<Recovery> {
    recover::adts(r, len)
}

fn mp3(r: &mut Cursor<&[u8]>, len: u64) -> std::io::Result<Recovery> {
    recover::mp3(r, len)
}

fuzz_target!(|data: &[u8]| {
    let Some((&kind, file)) = data.split_first() else {
        return;
    };
    let (f, idempotent): (Recoverer, bool) = match kind % 5 {
        0 => (flv, true),
        1 => (adts, true),
        2 => (mp3, false),
        3 => {
            let t = recover::ts(file).unwrap_or_default();
            assert!(t.valid_len <= file.len() && t.valid_len % 188 == 0);
            return;
        }
        _ => {
            let mut out = Vec::new();
            let len = file.len() as u64;
            if let Ok(info) = recover::mp4_journal(&mut Cursor::new(file), len, &mut out) {
                assert_eq!(info.bytes_written, out.len() as u64);
            }
            return;
        }
    };
    let found = run(f, file);
    assert!(found.valid_len <= file.len() as u64);
    let mut fixed = file[..found.valid_len as usize].to_vec();
    for p in &found.patches {
        let at = p.offset as usize;
        assert!(at + p.bytes.len() <= fixed.len());
        fixed[at..at + p.bytes.len()].copy_from_slice(&p.bytes);
    }
    if idempotent {
        let again = run(f, &fixed);
        assert_eq!((again.valid_len, again.units), (found.valid_len, found.units));
    }
});
