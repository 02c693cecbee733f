//! Requests and responses of the push-domain actions: AddLiveDomain,
//! DescribeLiveDomains, DescribeLiveDomain, DeleteLiveDomain.

use serde::Serialize;
use serde_json::Value;

use super::{Empty, request};

request! {
    /// AddLiveDomain.
    AddLiveDomainRequest {
        domain_name: Option<String> = text("DomainName"),
        domain_type: Option<u64> = uint("DomainType"),
        /// Accepted, unused.
        _play_type: Option<Value> = ignored("PlayType"),
        /// Accepted, unused.
        _is_delay_live: Option<Value> = ignored("IsDelayLive"),
        /// Accepted, unused.
        _is_mini_program_live: Option<Value> = ignored("IsMiniProgramLive"),
        /// Accepted, unused.
        _verify_owner_type: Option<Value> = ignored("VerifyOwnerType"),
    }
}

/// AddLiveDomain's answer.
pub(in crate::api) type AddLiveDomainResponse = Empty;

request! {
    /// DescribeLiveDomains.
    DescribeLiveDomainsRequest {
        domain_status: Option<u64> = uint("DomainStatus"),
        domain_type: Option<u64> = uint("DomainType"),
        page_size: Option<u64> = uint("PageSize"),
        page_num: Option<u64> = uint("PageNum"),
        is_delay_live: Option<u64> = uint("IsDelayLive"),
        domain_prefix: Option<String> = text("DomainPrefix"),
        /// Accepted, unused.
        _play_type: Option<Value> = ignored("PlayType"),
    }
}

/// DescribeLiveDomains's answer.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(in crate::api) struct DescribeLiveDomainsResponse {
    /// Domains matching the filter.
    pub(in crate::api) all_count: u64,
    /// This page's domains.
    pub(in crate::api) domain_list: Vec<DomainInfo>,
    /// How many more domains the account may add.
    pub(in crate::api) create_limit_count: i64,
    /// Play domains per region (liverec has none): mainland, global,
    /// overseas.
    pub(in crate::api) play_type_count: Vec<i64>,
}

/// `DomainInfo`.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(in crate::api) struct DomainInfo {
    /// The domain.
    pub(in crate::api) name: String,
    /// 0: push.
    #[serde(rename = "Type")]
    pub(in crate::api) domain_type: u64,
    /// 1: enabled.
    pub(in crate::api) status: u64,
    /// When it was added, Beijing time `YYYY-MM-DD HH:MM:SS`.
    pub(in crate::api) create_time: String,
    /// 0: no CNAME to a fixed domain.
    #[serde(rename = "BCName")]
    pub(in crate::api) bc_name: u64,
    /// CNAME target ("": none).
    pub(in crate::api) target_domain: String,
    /// Play region (push domains: 1).
    pub(in crate::api) play_type: i64,
    /// 0: normal live.
    pub(in crate::api) is_delay_live: i64,
    /// Current CNAME ("": none).
    #[serde(rename = "CurrentCName")]
    pub(in crate::api) current_cname: String,
    /// Obsolete; 0.
    pub(in crate::api) rent_tag: i64,
    /// Obsolete; "".
    pub(in crate::api) rent_expire_time: String,
    /// 0: standard live.
    pub(in crate::api) is_mini_program_live: i64,
}

request! {
    /// DescribeLiveDomain.
    DescribeLiveDomainRequest {
        domain_name: Option<String> = text("DomainName"),
    }
}

/// DescribeLiveDomain's answer.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(in crate::api) struct DescribeLiveDomainResponse {
    /// The domain.
    pub(in crate::api) domain_info: DomainInfo,
}

request! {
    /// DeleteLiveDomain.
    DeleteLiveDomainRequest {
        domain_name: Option<String> = text("DomainName"),
        domain_type: Option<u64> = uint("DomainType"),
    }
}

/// DeleteLiveDomain's answer.
pub(in crate::api) type DeleteLiveDomainResponse = Empty;
