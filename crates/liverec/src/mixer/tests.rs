use super::*;
use crate::clock::SystemClock;
use crate::hub::{Publisher, SessionInfo};
use crate::store::test_support::{store, two_accounts};

fn publish(hub: &Arc<Hub>, owner: &str, stream: &str) -> Publisher {
    hub.publish(
        StreamKey::new("push.example.com", "live", stream),
        SessionInfo {
            session_id: format!("p-{stream}"),
            started_ms: 0,
            client_addr: "127.0.0.1:5".into(),
            stream_param: String::new(),
            owner: owner.into(),
        },
    )
    .expect("publish")
}

fn spec(session: &str, inputs: &[&str], output: &str) -> MixSpec {
    MixSpec {
        session_id: session.into(),
        inputs: inputs
            .iter()
            .enumerate()
            .map(|(i, name)| MixInput {
                name: (*name).into(),
                layer: i as u8 + 1,
                kind: InputKind::AudioVideo,
                // A small canvas: the test encodes real frames.
                width: Some(Dim::Px(64)),
                height: Some(Dim::Px(36)),
                x: Dim::Px(0),
                y: Dim::Px(0),
                colour: None,
                crop: None,
            })
            .collect(),
        output: OutputSpec {
            name: output.into(),
            replace: false,
            bitrate_kbps: Some(100),
            gop_s: 1,
            fps: 10,
            audio_bitrate_kbps: 64,
            audio_rate: 44_100,
            audio_channels: 1,
        },
        template: Template::None,
    }
}

#[tokio::test]
async fn sessions_are_scoped_to_their_account_and_keep_their_output() {
    let (store, _dir) = store().await;
    two_accounts(&store).await;
    let hub = Hub::new(1000);
    let mixer = Mixer::new(
        hub.clone(),
        store,
        Callbacks::without_default(),
        Arc::new(SystemClock),
    );
    let _a = publish(&hub, "a", "in1");
    let _b = publish(&hub, "a", "in2");
    let _taken = publish(&hub, "a", "busy");
    let output = StreamKey::new("push.example.com", "live", "out");

    // Another account's streams do not exist for it; nor does an offline one.
    assert_eq!(
        mixer.create("b", spec("s", &["in1", "in2"], "out")).await,
        Err(MixError::StreamNotExist("in1".into()))
    );
    assert_eq!(
        mixer.create("a", spec("s", &["in1", "gone"], "out")).await,
        Err(MixError::StreamNotExist("gone".into()))
    );
    // The output must not be live already.
    assert_eq!(
        mixer.create("a", spec("s", &["in1", "in2"], "busy")).await,
        Err(MixError::OutputTaken("busy".into()))
    );

    mixer
        .create("a", spec("s", &["in1", "in2"], "out"))
        .await
        .expect("started");
    let c = hub.get(&output).expect("C is in the hub");
    assert_eq!(c.info.owner, "a", "C belongs to the caller");
    assert!(mixer.is_output("a", &output));
    assert!(!mixer.is_output("b", &output));

    // Same id: a layout update, but not to another output.
    mixer
        .create("a", spec("s", &["in2", "in1"], "out"))
        .await
        .expect("updated");
    assert!(matches!(
        mixer.create("a", spec("s", &["in1", "in2"], "out2")).await,
        Err(MixError::OutputChanged { .. })
    ));

    // Only the owner cancels; then C ends.
    assert_eq!(
        mixer.cancel("b", "s").await,
        Err(MixError::SessionNotExist("s".into()))
    );
    mixer.cancel("a", "s").await.expect("cancelled");
    assert!(hub.get(&output).is_none(), "C ended");
    assert!(!mixer.is_output("a", &output));
    assert_eq!(
        mixer.cancel("a", "s").await,
        Err(MixError::SessionNotExist("s".into()))
    );

    // Shutdown ends what still runs.
    mixer
        .create("a", spec("t", &["in1"], "out"))
        .await
        .expect("started");
    mixer.shutdown().await;
    assert!(hub.get(&output).is_none());
}
