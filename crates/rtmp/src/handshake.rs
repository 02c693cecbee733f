//! The RTMP handshake (RTMP 1.0 §5.2): C0/S0 version byte, C1/S1 and C2/S2
//! 1536-byte packets. Owns the order of the exchange and the choice between
//! the simple handshake and the FP9 digest handshake ([`digest`]). Consumes
//! only handshake bytes: whatever follows C2 (clients pipeline `connect`
//! right behind it) stays in the input for the chunk layer.

pub mod digest;

use bytes::{Buf, BufMut, BytesMut};

use crate::error::RtmpError;
use crate::rng::SplitMix64;
use digest::Schema;

/// Size of C1, C2, S1 and S2 (§5.2.3).
pub const HANDSHAKE_SIZE: usize = 1536;

/// The only protocol version spoken (§5.2.2).
pub const RTMP_VERSION: u8 = 3;

/// The version field of a digest S1: what nginx-rtmp announces (FMS
/// 13.14.10.13). Flash-era clients only check that it is non-zero.
const SERVER_VERSION: [u8; 4] = [0x0D, 0x0E, 0x0A, 0x0D];

fn read_packet(input: &mut BytesMut) -> [u8; HANDSHAKE_SIZE] {
    let mut packet = [0u8; HANDSHAKE_SIZE];
    input.copy_to_slice(&mut packet);
    packet
}

fn check_version(input: &BytesMut) -> Result<(), RtmpError> {
    match input.first() {
        Some(&v) if v != RTMP_VERSION => Err(RtmpError::UnexpectedVersion(v)),
        _ => Ok(()),
    }
}

/// Consumes the second packet (C2 or S2), which nothing depends on, once
/// all of it is there.
fn skip_packet(input: &mut BytesMut) -> bool {
    if input.len() < HANDSHAKE_SIZE {
        return false;
    }
    input.advance(HANDSHAKE_SIZE);
    true
}

/// Takes the version byte and the first packet (C0+C1 or S0+S1) once all
/// of it is there; refuses a wrong version as soon as its byte arrives.
fn take_version_and_packet(
    input: &mut BytesMut,
) -> Result<Option<[u8; HANDSHAKE_SIZE]>, RtmpError> {
    check_version(input)?;
    if input.len() < 1 + HANDSHAKE_SIZE {
        return Ok(None);
    }
    input.advance(1);
    Ok(Some(read_packet(input)))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ServerPhase {
    AwaitC0C1,
    AwaitC2,
    Done,
}

/// Server side: waits for C0+C1, answers S0+S1+S2 at once, then consumes C2.
#[derive(Debug)]
pub struct ServerHandshake {
    phase: ServerPhase,
    rng: SplitMix64,
    schema: Option<Schema>,
}

impl ServerHandshake {
    /// A handshake whose random bytes come from `random_seed`.
    pub fn new(random_seed: u64) -> Self {
        Self {
            phase: ServerPhase::AwaitC0C1,
            rng: SplitMix64::new(random_seed),
            schema: None,
        }
    }

    /// Whether C2 has been consumed.
    pub fn is_done(&self) -> bool {
        self.phase == ServerPhase::Done
    }

    /// The digest schema of the client's C1, if it used the FP9 handshake.
    pub fn digest_schema(&self) -> Option<Schema> {
        self.schema
    }

    /// Consumes handshake bytes from the front of `input` and appends the
    /// answer to `output`. Returns `Ok(true)` once C2 has been consumed;
    /// `Ok(false)` means "need more bytes".
    pub fn process(
        &mut self,
        input: &mut BytesMut,
        output: &mut BytesMut,
    ) -> Result<bool, RtmpError> {
        if self.phase == ServerPhase::AwaitC0C1 {
            let Some(c1) = take_version_and_packet(input)? else {
                return Ok(false);
            };
            self.answer(&c1, output);
            self.phase = ServerPhase::AwaitC2;
        }
        if self.phase == ServerPhase::AwaitC2 {
            // C2 is not validated: ffmpeg, librtmp and OBS differ in what they
            // echo, and nothing depends on it.
            if !skip_packet(input) {
                return Ok(false);
            }
            self.phase = ServerPhase::Done;
        }
        Ok(true)
    }

    fn answer(&mut self, c1: &[u8; HANDSHAKE_SIZE], output: &mut BytesMut) {
        output.reserve(1 + 2 * HANDSHAKE_SIZE);
        output.put_u8(RTMP_VERSION);
        let mut s1 = [0u8; HANDSHAKE_SIZE];
        self.rng.fill(&mut s1[8..]);
        match digest::find_digest(c1, digest::GENUINE_FP_KEY_PUBLIC) {
            Some((schema, c1_digest)) => {
                self.schema = Some(schema);
                s1[4..8].copy_from_slice(&SERVER_VERSION);
                digest::imprint_digest(&mut s1, schema, digest::GENUINE_FMS_KEY_PUBLIC);
                output.put_slice(&s1);
                let mut s2 = [0u8; HANDSHAKE_SIZE];
                self.rng.fill(&mut s2);
                digest::sign_response(&mut s2, &digest::genuine_fms_key(), &c1_digest);
                output.put_slice(&s2);
            }
            None => {
                // Simple handshake: S1 time and zero fields are 0, S2 echoes C1.
                output.put_slice(&s1);
                output.put_slice(c1);
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ClientPhase {
    AwaitS0S1,
    AwaitS2,
    Done,
}

/// Client side of the simple handshake: sends C0+C1, answers S1 with C2,
/// then waits for S2 (§5.2.1: no other data before S2).
#[derive(Debug)]
pub struct ClientHandshake {
    phase: ClientPhase,
}

impl ClientHandshake {
    /// Starts the handshake: appends C0+C1 (random bytes from `random_seed`)
    /// to `output`.
    pub fn new(random_seed: u64, output: &mut BytesMut) -> Self {
        let mut c1 = [0u8; HANDSHAKE_SIZE];
        SplitMix64::new(random_seed).fill(&mut c1[8..]);
        output.put_u8(RTMP_VERSION);
        output.put_slice(&c1);
        Self {
            phase: ClientPhase::AwaitS0S1,
        }
    }

    /// Whether S2 has been consumed.
    pub fn is_done(&self) -> bool {
        self.phase == ClientPhase::Done
    }

    /// Consumes S0/S1/S2 from `input`, appends C2 to `output`. Returns
    /// `Ok(true)` once S2 has been consumed.
    pub fn process(
        &mut self,
        input: &mut BytesMut,
        output: &mut BytesMut,
    ) -> Result<bool, RtmpError> {
        if self.phase == ClientPhase::AwaitS0S1 {
            let Some(s1) = take_version_and_packet(input)? else {
                return Ok(false);
            };
            output.put_slice(&s1);
            self.phase = ClientPhase::AwaitS2;
        }
        if self.phase == ClientPhase::AwaitS2 {
            if !skip_packet(input) {
                return Ok(false);
            }
            self.phase = ClientPhase::Done;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::digest::*;
    use super::*;

    fn server_answer(c0c1: &[u8]) -> (ServerHandshake, BytesMut) {
        let mut hs = ServerHandshake::new(42);
        let mut input = BytesMut::from(c0c1);
        let mut out = BytesMut::new();
        assert!(!hs.process(&mut input, &mut out).unwrap());
        assert!(input.is_empty());
        assert_eq!(out.len(), 1 + 2 * HANDSHAKE_SIZE);
        (hs, out)
    }

    #[test]
    fn simple_handshake_echoes_c1() {
        let mut c0c1 = vec![3u8];
        c0c1.extend((0..HANDSHAKE_SIZE).map(|i| (i % 251) as u8));
        let (mut hs, out) = server_answer(&c0c1);
        assert_eq!(hs.digest_schema(), None);
        assert_eq!(out[0], 3);
        assert_eq!(&out[1..9], &[0u8; 8]);
        assert_eq!(&out[1 + HANDSHAKE_SIZE..], &c0c1[1..]);
        // C2 plus pipelined bytes: only C2 is consumed.
        let mut input = BytesMut::from(&[7u8; HANDSHAKE_SIZE + 5][..]);
        let mut out = BytesMut::new();
        assert!(hs.process(&mut input, &mut out).unwrap());
        assert_eq!(input.len(), 5);
        assert!(out.is_empty());
    }

    #[test]
    fn complex_handshake_for_both_schemas() {
        for schema in Schema::ALL {
            let mut c1 = [0u8; HANDSHAKE_SIZE];
            SplitMix64::new(9).fill(&mut c1[8..]);
            c1[4..8].copy_from_slice(&[9, 0, 124, 2]); // ffmpeg's "9.0.124.2"
            let c1_digest = imprint_digest(&mut c1, schema, GENUINE_FP_KEY_PUBLIC);
            let mut c0c1 = vec![3u8];
            c0c1.extend_from_slice(&c1);
            let (hs, out) = server_answer(&c0c1);
            assert_eq!(hs.digest_schema(), Some(schema));
            let mut s1 = [0u8; HANDSHAKE_SIZE];
            s1.copy_from_slice(&out[1..1 + HANDSHAKE_SIZE]);
            assert_eq!(&s1[4..8], &SERVER_VERSION);
            let (s1_schema, _) = find_digest(&s1, GENUINE_FMS_KEY_PUBLIC).unwrap();
            assert_eq!(s1_schema, schema);
            let mut s2 = [0u8; HANDSHAKE_SIZE];
            s2.copy_from_slice(&out[1 + HANDSHAKE_SIZE..]);
            assert!(verify_response(&s2, &genuine_fms_key(), &c1_digest));
        }
    }

    #[test]
    fn wrong_version_fails_on_first_byte() {
        let mut hs = ServerHandshake::new(1);
        let mut input = BytesMut::from(&b"GET / HTTP/1.1"[..]);
        assert_eq!(
            hs.process(&mut input, &mut BytesMut::new()),
            Err(RtmpError::UnexpectedVersion(b'G'))
        );
        let mut input = BytesMut::from(&[6u8][..]);
        assert_eq!(
            ServerHandshake::new(1).process(&mut input, &mut BytesMut::new()),
            Err(RtmpError::UnexpectedVersion(6))
        );
    }

    #[test]
    fn client_and_server_complete_byte_by_byte() {
        let mut to_server = BytesMut::new();
        let mut client = ClientHandshake::new(5, &mut to_server);
        let mut server = ServerHandshake::new(6);
        let (mut s_in, mut c_in, mut to_client) =
            (BytesMut::new(), BytesMut::new(), BytesMut::new());
        for _ in 0..10_000 {
            if !to_server.is_empty() {
                s_in.extend_from_slice(&to_server.split_to(1));
                server.process(&mut s_in, &mut to_client).unwrap();
            }
            if !to_client.is_empty() {
                c_in.extend_from_slice(&to_client.split_to(1));
                client.process(&mut c_in, &mut to_server).unwrap();
            }
            if client.is_done() && server.is_done() {
                break;
            }
        }
        assert!(client.is_done() && server.is_done());
    }
}
