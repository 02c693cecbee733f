//! Requests and responses of the A+B=C mixing actions
//! (`reference/tencent-api.md` §4.3). The nested `InputStreamList`,
//! `LayoutParams` and `OutputParams` are decoded by the handler
//! (`api::mix`), which validates them into a `mixer::MixSpec`.

use super::{Empty, request};

request! {
    /// CreateCommonMixStream.
    CreateCommonMixStreamRequest {
        session_id: Option<String> = text("MixStreamSessionId"),
        inputs: Option<Vec<tcapi::Params>> = objects("InputStreamList"),
        output: Option<tcapi::Params> = object("OutputParams"),
        template_id: Option<u64> = uint("MixStreamTemplateId"),
        control: Option<serde_json::Value> = ignored("ControlParams"),
    }
}

/// CreateCommonMixStream's answer (RequestId only).
pub(in crate::api) type CreateCommonMixStreamResponse = Empty;

request! {
    /// CancelCommonMixStream.
    CancelCommonMixStreamRequest {
        session_id: Option<String> = text("MixStreamSessionId"),
    }
}

/// CancelCommonMixStream's answer (RequestId only).
pub(in crate::api) type CancelCommonMixStreamResponse = Empty;
