//! Stream actions (SPEC §3.3): online list, state, drop, publish event list, forbid/resume, push authentication keys. Streams are global to the server; push-auth settings belong to the account that wrote them.

use super::AppState;
use super::endpoint::{ActionResult, Call};

fn not_yet(action: &str) -> ActionResult {
    Err(tcapi::ApiError {
        code: tcapi::ErrorCode::UnsupportedOperation,
        message: format!("{action} is not implemented yet"),
    })
}

/// DescribeLiveStreamOnlineList.
pub(super) async fn describe_online_list(_state: &AppState, _call: &Call) -> ActionResult {
    not_yet("DescribeLiveStreamOnlineList")
}

/// DescribeLiveStreamState.
pub(super) async fn describe_state(_state: &AppState, _call: &Call) -> ActionResult {
    not_yet("DescribeLiveStreamState")
}

/// DropLiveStream.
pub(super) async fn drop_stream(_state: &AppState, _call: &Call) -> ActionResult {
    not_yet("DropLiveStream")
}

/// DescribeLiveStreamEventList.
pub(super) async fn describe_event_list(_state: &AppState, _call: &Call) -> ActionResult {
    not_yet("DescribeLiveStreamEventList")
}

/// ForbidLiveStream.
pub(super) async fn forbid(_state: &AppState, _call: &Call) -> ActionResult {
    not_yet("ForbidLiveStream")
}

/// ResumeLiveStream.
pub(super) async fn resume(_state: &AppState, _call: &Call) -> ActionResult {
    not_yet("ResumeLiveStream")
}

/// DescribeLivePushAuthKey.
pub(super) async fn describe_push_auth_key(_state: &AppState, _call: &Call) -> ActionResult {
    not_yet("DescribeLivePushAuthKey")
}

/// ModifyLivePushAuthKey.
pub(super) async fn modify_push_auth_key(_state: &AppState, _call: &Call) -> ActionResult {
    not_yet("ModifyLivePushAuthKey")
}
