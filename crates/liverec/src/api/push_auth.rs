//! Push-authentication keys (`tencent-api.md` §4.2):
//! DescribeLivePushAuthKey and ModifyLivePushAuthKey. Only the owner of a
//! domain (SPEC §2 "Ownership") reads and changes its keys; another account
//! gets `ResourceNotFound.PushDomainNoRecord`. A publish must satisfy the
//! owner's keys when the owner enabled push auth (`ingest/auth.rs`).

use super::AppState;
use super::domains::require_owner;
use super::endpoint::{ActionResult, Call};
use super::error::Error;
use super::params::{check_name, flag_value, invalid_value, required};
use super::wire::{
    DescribeLivePushAuthKeyRequest, DescribeLivePushAuthKeyResponse, ModifyLivePushAuthKeyRequest,
    ModifyLivePushAuthKeyResponse, PushAuthKeyInfo, reply,
};
use crate::store::PushAuth;
use crate::task::normalize_domain;

/// Push-auth keys: at most this long, of `[A-Za-z0-9_-]`.
const MAX_KEY_LEN: usize = 64;
/// AuthDelta at most (30 days).
const MAX_AUTH_DELTA_S: u64 = 30 * 86_400;

/// The required DomainName (normalized), refused unless the caller owns it.
async fn push_domain(
    state: &AppState,
    call: &Call,
    value: Option<String>,
) -> Result<String, Error> {
    let d = required("DomainName", value)?;
    check_name("DomainName", &d)?;
    let d = normalize_domain(&d);
    require_owner(state, &call.account_id, &d, Error::PushDomainNotOwned).await?;
    Ok(d)
}

/// DescribeLivePushAuthKey: the caller's settings for DomainName.
pub(super) async fn describe_push_auth_key(state: &AppState, call: &Call) -> ActionResult {
    let r = DescribeLivePushAuthKeyRequest::from_params(&call.req.params)?;
    let domain = push_domain(state, call, r.domain_name).await?;
    let a = state
        .store
        .push_auth(&call.account_id, &domain)
        .await?
        .unwrap_or_default();
    reply(&DescribeLivePushAuthKeyResponse {
        push_auth_key_info: PushAuthKeyInfo {
            domain_name: domain,
            enable: i64::from(a.enabled),
            master_auth_key: a.master_key,
            backup_auth_key: a.backup_key,
            auth_delta: a.auth_delta_s,
        },
    })
}

fn auth_key(name: &str, value: Option<String>) -> Result<Option<String>, Error> {
    let Some(k) = value else {
        return Ok(None);
    };
    if k.len() > MAX_KEY_LEN
        || !k
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(invalid_value(format!(
            "{name} must be at most {MAX_KEY_LEN} characters of letters, digits, '_' and '-'"
        )));
    }
    Ok(Some(k))
}

/// ModifyLivePushAuthKey: changes the given fields of the caller's settings
/// for DomainName; absent fields keep their value.
pub(super) async fn modify_push_auth_key(state: &AppState, call: &Call) -> ActionResult {
    let r = ModifyLivePushAuthKeyRequest::from_params(&call.req.params)?;
    let domain = push_domain(state, call, r.domain_name).await?;
    let enable = flag_value("Enable", r.enable)?;
    let master = auth_key("MasterAuthKey", r.master_auth_key)?;
    let backup = auth_key("BackupAuthKey", r.backup_auth_key)?;
    let delta = r.auth_delta;
    if let Some(d) = delta.filter(|d| *d > MAX_AUTH_DELTA_S) {
        return Err(invalid_value(format!(
            "AuthDelta must be between 0 and {MAX_AUTH_DELTA_S} seconds, got {d}"
        )));
    }
    let mut a = state
        .store
        .push_auth(&call.account_id, &domain)
        .await?
        .unwrap_or_else(|| PushAuth {
            account_id: call.account_id.clone(),
            domain: domain.clone(),
            ..Default::default()
        });
    a.enabled = enable.unwrap_or(a.enabled);
    a.master_key = master.unwrap_or(a.master_key);
    a.backup_key = backup.unwrap_or(a.backup_key);
    a.auth_delta_s = delta.map_or(a.auth_delta_s, |d| i64::try_from(d).unwrap_or(0));
    if a.enabled && a.master_key.is_empty() && a.backup_key.is_empty() {
        return Err(invalid_value(
            "Enabling push authentication needs a MasterAuthKey or BackupAuthKey",
        ));
    }
    state.store.put_push_auth(&a, state.clock.now_ms()).await?;
    tracing::info!(%domain, account = %call.account_id, enabled = a.enabled, auth_delta_s = a.auth_delta_s, "push authentication changed");
    reply(&ModifyLivePushAuthKeyResponse::default())
}
