//! The same byte stream, cut anywhere, gives the same events and output.

use proptest::prelude::*;

use super::*;

/// A whole publisher session as the server receives it, plus the reference
/// events and output from feeding it as the client wrote it.
fn recorded_session() -> (Vec<u8>, Vec<ServerEvent>, Vec<u8>) {
    let mut client = ClientSession::new(TC_URL, "live", NAME, 31);
    let mut server = ServerSession::new(ServerConfig::default(), 32);
    let mut ex = pump(&mut client, &mut server, accept_all);
    send_plan(&mut client, &media_plan(7, 40));
    client.unpublish();
    let tail = pump(&mut client, &mut server, accept_all);
    ex.to_server.extend(tail.to_server);
    ex.to_client.extend(tail.to_client);
    ex.server_events.extend(tail.server_events);
    (ex.to_server, ex.server_events, ex.to_client)
}

/// Feeds `bytes` cut at `cuts` into a fresh server with the same seed.
fn replay(bytes: &[u8], cuts: &[usize]) -> (Vec<ServerEvent>, Vec<u8>) {
    let mut server = ServerSession::new(ServerConfig::default(), 32);
    let mut events = Vec::new();
    let mut output = Vec::new();
    let mut start = 0;
    for &end in cuts.iter().chain(std::iter::once(&bytes.len())) {
        let end = end.clamp(start, bytes.len());
        events.extend(feed_deciding(&mut server, &bytes[start..end], accept_all));
        output.extend_from_slice(&server.take_output());
        start = end;
    }
    (events, output)
}

#[test]
fn one_byte_reads_give_the_same_events() {
    let (bytes, events, output) = recorded_session();
    assert!(events.len() > 40);
    let cuts: Vec<usize> = (1..bytes.len()).collect();
    let (got, got_output) = replay(&bytes, &cuts);
    assert_eq!(got, events);
    assert_eq!(got_output, output);
}

#[test]
fn one_read_gives_the_same_events() {
    let (bytes, events, output) = recorded_session();
    assert_eq!(replay(&bytes, &[]), (events, output));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_splits_give_the_same_events(mut cuts in prop::collection::vec(0usize..200_000, 0..60)) {
        let (bytes, events, output) = recorded_session();
        let cuts: Vec<usize> = {
            for c in &mut cuts { *c %= bytes.len(); }
            cuts.sort_unstable();
            cuts
        };
        let (got, got_output) = replay(&bytes, &cuts);
        prop_assert_eq!(got, events);
        prop_assert_eq!(got_output, output);
    }
}
