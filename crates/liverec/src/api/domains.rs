//! Push domains (SPEC §2 "Ownership"): AddLiveDomain, DescribeLiveDomains,
//! DescribeLiveDomain, DeleteLiveDomain. A push domain belongs to exactly
//! one account; a domain nobody claimed belongs to the bootstrap account.
//! Only push domains (DomainType 0) exist: liverec has no play domains.
//!
//! Codes (the SDK's lists for these actions): a domain another account
//! claimed is `FailedOperation.DomainAdded`, one the caller claimed already
//! `InvalidParameter.DomainAlreadyExist`; describing or deleting a domain
//! the caller did not claim is `ResourceNotFound.DomainNotExist` (whether
//! another account owns it is not told).

use super::AppState;
use super::endpoint::{ActionResult, Call};
use super::error::Error;
use super::params::{invalid, missing, required};
use super::wire::{
    AddLiveDomainRequest, AddLiveDomainResponse, DeleteLiveDomainRequest, DeleteLiveDomainResponse,
    DescribeLiveDomainRequest, DescribeLiveDomainResponse, DescribeLiveDomainsRequest,
    DescribeLiveDomainsResponse, DomainInfo, reply,
};
use crate::store::{Claim, Domain};
use crate::task::{is_domain_name, normalize_domain};

/// A domain name is at most this long (DNS: 253).
pub(super) const MAX_DOMAIN_LEN: usize = 253;
/// Domains one account may claim.
const MAX_DOMAINS: usize = 100;
/// DescribeLiveDomains PageSize bounds (Tencent: 10–100).
const PAGE_SIZE: (u64, u64) = (10, 100);
/// DescribeLiveDomains PageNum bound (Tencent: 100000).
const MAX_PAGE_NUM: u64 = 100_000;
/// The only domain type: push.
const PUSH: u64 = 0;

/// A DomainName, normalized (lower case, port and one trailing dot
/// removed): letters, digits, `.`, `-`, `_`, or an IP literal.
pub(super) fn domain_name(value: Option<String>) -> Result<String, Error> {
    let raw = required("DomainName", value)?;
    let d = normalize_domain(&raw);
    if d.len() > MAX_DOMAIN_LEN {
        return Err(Error::DomainTooLong(format!(
            "DomainName must be at most {MAX_DOMAIN_LEN} characters"
        )));
    }
    if !is_domain_name(&d) {
        return Err(Error::DomainFormat(format!(
            "DomainName {raw:?} is not a valid domain name"
        )));
    }
    Ok(d)
}

/// Whether `account_id` owns the (normalized) `domain`: it claimed it, or
/// nobody did and it is the bootstrap account.
pub(super) async fn owns(state: &AppState, account_id: &str, domain: &str) -> Result<bool, Error> {
    Ok(state.store.domain_owner(domain).await? == account_id)
}

/// Refuses with `refusal(domain)` unless `account_id` owns `domain`.
pub(super) async fn require_owner(
    state: &AppState,
    account_id: &str,
    domain: &str,
    refusal: fn(String) -> Error,
) -> Result<(), Error> {
    if owns(state, account_id, domain).await? {
        Ok(())
    } else {
        tracing::info!(%domain, account = %account_id, "refused: the domain belongs to another account");
        Err(refusal(domain.to_string()))
    }
}

fn domain_type(value: Option<u64>) -> Result<u64, Error> {
    value.ok_or_else(|| missing("DomainType"))
}

fn domain_info(d: &Domain) -> DomainInfo {
    DomainInfo {
        name: d.name.clone(),
        domain_type: PUSH,
        status: 1,
        create_time: crate::clock::cst_string(d.created_ms).unwrap_or_default(),
        play_type: 1,
        ..DomainInfo::default()
    }
}

/// AddLiveDomain: claims a push domain for the caller.
pub(super) async fn add(state: &AppState, call: &Call) -> ActionResult {
    let r = AddLiveDomainRequest::from_params(&call.req.params)?;
    let name = domain_name(r.domain_name)?;
    let kind = domain_type(r.domain_type)?;
    if kind != PUSH {
        return Err(invalid(format!(
            "DomainType must be 0 (push domain); liverec has no play domains, got {kind}"
        )));
    }
    let mine = state.store.domains(Some(&call.account_id)).await?;
    if mine.len() >= MAX_DOMAINS && !mine.iter().any(|d| d.name == name) {
        return Err(Error::TooManyDomains(MAX_DOMAINS));
    }
    match state
        .store
        .claim_domain(&name, &call.account_id, state.clock.now_ms())
        .await?
    {
        Claim::Added => {
            tracing::info!(domain = %name, account = %call.account_id, "push domain added");
            reply(&AddLiveDomainResponse::default())
        }
        Claim::AlreadyMine => Err(Error::DomainExists(name)),
        Claim::Taken(owner) => {
            tracing::info!(domain = %name, account = %call.account_id, %owner, "push domain refused: another account owns it");
            Err(Error::DomainTaken(name))
        }
    }
}

/// DescribeLiveDomains: the caller's domains (claimed ones; the domains
/// nobody claimed are not listed).
pub(super) async fn describe_list(state: &AppState, call: &Call) -> ActionResult {
    let r = DescribeLiveDomainsRequest::from_params(&call.req.params)?;
    let size = r.page_size.unwrap_or(PAGE_SIZE.0);
    if !(PAGE_SIZE.0..=PAGE_SIZE.1).contains(&size) {
        return Err(Error::InvalidValue(format!(
            "PageSize must be between {} and {}, got {size}",
            PAGE_SIZE.0, PAGE_SIZE.1
        )));
    }
    let num = r.page_num.unwrap_or(1);
    if !(1..=MAX_PAGE_NUM).contains(&num) {
        return Err(Error::InvalidValue(format!(
            "PageNum must be between 1 and {MAX_PAGE_NUM}, got {num}"
        )));
    }
    let prefix = r
        .domain_prefix
        .map(|p| p.trim().to_ascii_lowercase())
        .unwrap_or_default();
    // Every domain is a push domain, enabled, not a delayed-live one.
    let kinds_match = r.domain_type.is_none_or(|t| t == PUSH)
        && r.domain_status.is_none_or(|s| s == 1)
        && r.is_delay_live.is_none_or(|d| d == 0);
    let mine = state.store.domains(Some(&call.account_id)).await?;
    let matching: Vec<&Domain> = mine
        .iter()
        .filter(|d| kinds_match && d.name.starts_with(&prefix))
        .collect();
    let offset = usize::try_from((num - 1) * size).unwrap_or(usize::MAX);
    reply(&DescribeLiveDomainsResponse {
        all_count: matching.len() as u64,
        domain_list: matching
            .iter()
            .skip(offset)
            .take(usize::try_from(size).unwrap_or(usize::MAX))
            .map(|d| domain_info(d))
            .collect(),
        create_limit_count: i64::try_from(MAX_DOMAINS.saturating_sub(mine.len())).unwrap_or(0),
        play_type_count: vec![0, 0, 0],
    })
}

/// DescribeLiveDomain: one of the caller's domains.
pub(super) async fn describe(state: &AppState, call: &Call) -> ActionResult {
    let r = DescribeLiveDomainRequest::from_params(&call.req.params)?;
    let name = domain_name(r.domain_name)?;
    match state.store.domain(&name).await? {
        Some(d) if d.account_id == call.account_id => reply(&DescribeLiveDomainResponse {
            domain_info: domain_info(&d),
        }),
        _ => Err(Error::DomainNotFound(name)),
    }
}

/// DeleteLiveDomain: releases one of the caller's domains; it belongs to
/// the bootstrap account again. Tasks, rules and settings that name it
/// stay (they match only the owner's streams).
pub(super) async fn delete(state: &AppState, call: &Call) -> ActionResult {
    let r = DeleteLiveDomainRequest::from_params(&call.req.params)?;
    let name = domain_name(r.domain_name)?;
    let kind = domain_type(r.domain_type)?;
    if kind != PUSH
        || !state
            .store
            .release_domain(&name, Some(&call.account_id))
            .await?
    {
        return Err(Error::DomainNotFound(name));
    }
    tracing::info!(domain = %name, account = %call.account_id, "push domain deleted");
    reply(&DeleteLiveDomainResponse::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalized_and_checked() {
        let ok = |s: &str| domain_name(Some(s.into())).unwrap();
        assert_eq!(ok(" Push.Example.COM.:1935 "), "push.example.com");
        assert_eq!(ok("127.0.0.1"), "127.0.0.1");
        assert_eq!(ok("[::1]:1935"), "[::1]");
        let code = |s: Option<&str>| {
            domain_name(s.map(str::to_string))
                .unwrap_err()
                .to_api("")
                .code
                .as_str()
        };
        assert_eq!(code(None), "MissingParameter");
        assert_eq!(code(Some(" ")), "MissingParameter");
        for bad in ["a b.com", "a/b", "a..b", ".a.com", "ä.com", "a.com?x"] {
            assert_eq!(
                code(Some(bad)),
                "InvalidParameter.DomainFormatError",
                "{bad}"
            );
        }
        let long = format!("{}.com", "a".repeat(MAX_DOMAIN_LEN));
        assert_eq!(code(Some(&long)), "InvalidParameter.DomainTooLong");
        assert_eq!(
            domain_type(None).unwrap_err().to_api("").code.as_str(),
            "MissingParameter"
        );
    }

    #[test]
    fn info_renders() {
        let v = serde_json::to_value(domain_info(&Domain {
            name: "a.com".into(),
            account_id: "x".into(),
            domain_type: 0,
            created_ms: 1_546_603_200_000,
        }))
        .unwrap();
        assert_eq!(v["Name"], "a.com");
        assert_eq!(v["Type"], 0);
        assert_eq!(v["Status"], 1);
        assert_eq!(v["CreateTime"], "2019-01-04 20:00:00");
        assert_eq!(v["BCName"], 0);
        assert_eq!(v["CurrentCName"], "");
    }
}
