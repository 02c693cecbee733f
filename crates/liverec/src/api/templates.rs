//! Recording templates and rules (SPEC §3.2, reference §1.10): Create/Modify/Delete/DescribeLiveRecordTemplate(s), Create/Delete/DescribeLiveRecordRule(s).

use super::AppState;
use super::endpoint::{ActionResult, Call};

fn not_yet(action: &str) -> ActionResult {
    Err(tcapi::ApiError {
        code: tcapi::ErrorCode::UnsupportedOperation,
        message: format!("{action} is not implemented yet"),
    })
}

/// CreateLiveRecordTemplate.
pub(super) async fn create_template(_state: &AppState, _call: &Call) -> ActionResult {
    not_yet("CreateLiveRecordTemplate")
}

/// ModifyLiveRecordTemplate.
pub(super) async fn modify_template(_state: &AppState, _call: &Call) -> ActionResult {
    not_yet("ModifyLiveRecordTemplate")
}

/// DeleteLiveRecordTemplate.
pub(super) async fn delete_template(_state: &AppState, _call: &Call) -> ActionResult {
    not_yet("DeleteLiveRecordTemplate")
}

/// DescribeLiveRecordTemplate.
pub(super) async fn describe_template(_state: &AppState, _call: &Call) -> ActionResult {
    not_yet("DescribeLiveRecordTemplate")
}

/// DescribeLiveRecordTemplates.
pub(super) async fn describe_templates(_state: &AppState, _call: &Call) -> ActionResult {
    not_yet("DescribeLiveRecordTemplates")
}

/// CreateLiveRecordRule.
pub(super) async fn create_rule(_state: &AppState, _call: &Call) -> ActionResult {
    not_yet("CreateLiveRecordRule")
}

/// DeleteLiveRecordRule.
pub(super) async fn delete_rule(_state: &AppState, _call: &Call) -> ActionResult {
    not_yet("DeleteLiveRecordRule")
}

/// DescribeLiveRecordRules.
pub(super) async fn describe_rules(_state: &AppState, _call: &Call) -> ActionResult {
    not_yet("DescribeLiveRecordRules")
}
