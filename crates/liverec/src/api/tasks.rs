//! The new task API (SPEC §3.2, reference §1.5-1.8): CreateRecordTask, StopRecordTask, DeleteRecordTask, DescribeRecordTask, with string TaskIds and Unix-second times.

use super::AppState;
use super::endpoint::{ActionResult, Call};

fn not_yet(action: &str) -> ActionResult {
    Err(tcapi::ApiError {
        code: tcapi::ErrorCode::UnsupportedOperation,
        message: format!("{action} is not implemented yet"),
    })
}

/// CreateRecordTask.
pub(super) async fn create(_state: &AppState, _call: &Call) -> ActionResult {
    not_yet("CreateRecordTask")
}

/// StopRecordTask.
pub(super) async fn stop(_state: &AppState, _call: &Call) -> ActionResult {
    not_yet("StopRecordTask")
}

/// DeleteRecordTask.
pub(super) async fn delete(_state: &AppState, _call: &Call) -> ActionResult {
    not_yet("DeleteRecordTask")
}

/// DescribeRecordTask.
pub(super) async fn describe(_state: &AppState, _call: &Call) -> ActionResult {
    not_yet("DescribeRecordTask")
}
