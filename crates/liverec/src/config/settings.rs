//! The validated configuration: [`Settings`] and its parts, each handed to
//! the module that owns it, built once by [`Config::validate`] from what
//! the operator wrote. Checks ranges and formats; resolves defaults that
//! depend on other settings (database URL and storage under `data_dir`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::{Config, ConfigError, HttpLimits};
use crate::callbacks::{DeliverySettings, RetryPolicy};
use crate::tls::TlsPaths;

impl Config {
    /// Checks the values and resolves defaults that depend on others.
    pub fn validate(&self) -> Result<Settings, ConfigError> {
        let api_listen: SocketAddr = self.api_listen.parse().map_err(|_| {
            ConfigError::Invalid(format!("api_listen {:?} is not host:port", self.api_listen))
        })?;
        let rtmp_listen: SocketAddr = self.rtmp_listen.parse().map_err(|_| {
            ConfigError::Invalid(format!(
                "rtmp_listen {:?} is not host:port",
                self.rtmp_listen
            ))
        })?;
        let (tls, rtmps_listen) = self.tls_settings()?;
        let data_dir = self.data_dir.clone();
        let database_url = self
            .database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}/liverec.db", data_dir.display()));
        if !(database_url.starts_with("sqlite:") || database_url.starts_with("postgres")) {
            return Err(ConfigError::Invalid(
                "database_url must start with sqlite:// or postgres://".into(),
            ));
        }
        let (storage_root, bucket) =
            self.storage_settings(&data_dir, &|k| std::env::var(k).ok())?;
        let secret_key = match (&self.secret_key, &self.secret_key_file) {
            (Some(k), _) => Some(k.clone()),
            (None, Some(f)) => Some(read_secret_file(f)?),
            (None, None) => None,
        };
        let bootstrap = match (&self.secret_id, secret_key) {
            (Some(id), Some(key)) => Some((id.clone(), key)),
            (None, None) => None,
            _ => {
                return Err(ConfigError::Invalid(
                    "secret_id and secret_key must be given together".into(),
                ));
            }
        };
        let preroll_on_disk = match self.preroll_storage.as_str() {
            "memory" => false,
            "disk" => true,
            other => {
                return Err(ConfigError::Invalid(format!(
                    "preroll_storage {other:?} must be \"memory\" or \"disk\""
                )));
            }
        };
        let max_preroll = if preroll_on_disk { 3600 } else { 600 };
        if self.preroll_seconds > max_preroll {
            return Err(ConfigError::Invalid(format!(
                "preroll_seconds must be at most {max_preroll} with preroll_storage = {:?}",
                self.preroll_storage
            )));
        }
        if self.min_record_interval == 0 || self.min_record_interval > 7200 {
            return Err(ConfigError::Invalid(
                "min_record_interval must be between 1 and 7200 seconds".into(),
            ));
        }
        if !(2..=600).contains(&self.node_lease_seconds) {
            return Err(ConfigError::Invalid(
                "node_lease_seconds must be between 2 and 600".into(),
            ));
        }
        if let Some(id) = &self.node_id
            && !crate::cluster::valid_node_id(id)
        {
            return Err(ConfigError::Invalid(format!(
                "node_id {id:?} must be 1-64 letters, digits, '-', '_' or '.'"
            )));
        }
        if self.reconnect_window_seconds > crate::task::template::MAX_FLOW_CONTINUE_S {
            return Err(ConfigError::Invalid(format!(
                "reconnect_window_seconds must be between 0 and {}",
                crate::task::template::MAX_FLOW_CONTINUE_S
            )));
        }
        if !(1..=60).contains(&self.hls_segment_seconds) {
            return Err(ConfigError::Invalid(
                "hls_segment_seconds must be between 1 and 60".into(),
            ));
        }
        for (name, v) in [
            ("rate_create_live_record", self.rate_create_live_record),
            (
                "rate_stop_delete_live_record",
                self.rate_stop_delete_live_record,
            ),
            ("rate_other", self.rate_other),
        ] {
            if v == 0 {
                return Err(ConfigError::Invalid(format!("{name} must be at least 1")));
            }
        }
        let callbacks = self.callback_settings()?;
        Ok(Settings {
            callbacks,
            data_dir,
            api_listen,
            rtmp_listen,
            bootstrap,
            database_url,
            storage_root,
            bucket,
            public_url: self
                .public_url
                .clone()
                .map(|u| u.trim_end_matches('/').to_string()),
            preroll_ms: i64::try_from(self.preroll_seconds).unwrap_or(30) * 1000,
            preroll_on_disk,
            min_record_interval_s: self.min_record_interval,
            max_tasks_per_day: self.max_tasks_per_day,
            max_running_tasks: self.max_running_tasks,
            rates: Rates {
                create_live_record: self.rate_create_live_record,
                stop_delete_live_record: self.rate_stop_delete_live_record,
                other: self.rate_other,
            },
            key_rotation_grace_ms: i64::try_from(self.key_rotation_grace_seconds)
                .unwrap_or(i64::MAX / 1000)
                .saturating_mul(1000),
            http: HttpLimits {
                header_timeout: secs(self.http_header_timeout_seconds),
                body_timeout: secs(self.http_body_timeout_seconds),
                max_connections: self.http_max_connections.max(1),
            },
            rtmp: RtmpLimits {
                read_timeout: secs(self.rtmp_read_timeout_seconds),
                handshake_timeout: secs(self.rtmp_handshake_timeout_seconds),
                publish_timeout: secs(self.rtmp_publish_timeout_seconds),
                write_timeout: secs(self.rtmp_write_timeout_seconds),
                read_tick: std::time::Duration::from_millis(self.rtmp_read_tick_ms.min(1000)),
                max_connections: self.rtmp_max_connections.max(1),
                max_connections_per_ip: self.rtmp_max_connections_per_ip.max(1),
            },
            max_timestamp_jump_ms: self.max_timestamp_jump_ms.max(1000),
            shutdown_grace: std::time::Duration::from_secs(self.shutdown_grace_seconds),
            hls_target_ms: i64::try_from(self.hls_segment_seconds).unwrap_or(6) * 1000,
            describe_task_page_size: self.describe_task_page_size.clamp(1, 1000),
            min_free_bytes: self.min_free_bytes,
            reconnect_window_ms: i64::try_from(self.reconnect_window_seconds).unwrap_or(0) * 1000,
            strict_domains: self.strict_domains,
            tls,
            rtmps_listen,
            node_id: self.node_id.clone(),
            node_lease_ms: i64::try_from(self.node_lease_seconds).unwrap_or(0) * 1000,
        })
    }

    /// The `callback_*` settings: the default receiver (an http(s) URL;
    /// its key from `callback_key` or `callback_key_file`) and delivery.
    fn callback_settings(&self) -> Result<DeliverySettings, ConfigError> {
        let key = match (&self.callback_key, &self.callback_key_file) {
            (Some(k), _) => k.clone(),
            (None, Some(f)) => read_secret_file(f)?,
            (None, None) => String::new(),
        };
        let default = match self.callback_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(u) => {
                let parsed = url::Url::parse(u).map_err(|e| {
                    ConfigError::Invalid(format!("callback_url {u:?} is not a URL: {e}"))
                })?;
                if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
                    return Err(ConfigError::Invalid(format!(
                        "callback_url {u:?} must be an http:// or https:// URL"
                    )));
                }
                Some((u.to_string(), key))
            }
        };
        let policy = match self.callback_retry_policy.as_str() {
            "backoff" => RetryPolicy::Backoff {
                first_ms: i64::try_from(self.callback_retry_first_ms.max(1)).unwrap_or(1000),
                max_ms: i64::try_from(self.callback_retry_max_delay_seconds.max(1))
                    .unwrap_or(600)
                    .saturating_mul(1000),
            },
            "tencent" => RetryPolicy::Tencent,
            other => {
                return Err(ConfigError::Invalid(format!(
                    "callback_retry_policy {other:?} must be \"backoff\" or \"tencent\""
                )));
            }
        };
        if !(1..=300).contains(&self.callback_timeout_seconds) {
            return Err(ConfigError::Invalid(
                "callback_timeout_seconds must be between 1 and 300".into(),
            ));
        }
        Ok(DeliverySettings {
            default,
            retry_ms: i64::try_from(self.callback_retry_seconds)
                .unwrap_or(i64::MAX / 1000)
                .saturating_mul(1000),
            policy,
            timeout: std::time::Duration::from_secs(self.callback_timeout_seconds),
            max_per_host: self.callback_max_per_host.clamp(1, 64),
            ca_file: self.callback_ca_file.clone(),
            allow_private: self.callback_allow_private,
        })
    }

    /// `tls_cert` and `tls_key` (both or neither) and `rtmps_listen`
    /// (which needs them). The files are read at start-up (`tls::Tls`).
    fn tls_settings(&self) -> Result<(Option<TlsPaths>, Option<SocketAddr>), ConfigError> {
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(TlsPaths {
                cert: cert.clone(),
                key: key.clone(),
            }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(ConfigError::Invalid(
                    "tls_cert is set but tls_key (LIVEREC_TLS_KEY) is missing".into(),
                ));
            }
            (None, Some(_)) => {
                return Err(ConfigError::Invalid(
                    "tls_key is set but tls_cert (LIVEREC_TLS_CERT) is missing".into(),
                ));
            }
        };
        let rtmps_listen = match &self.rtmps_listen {
            None => None,
            Some(a) => Some(a.parse::<SocketAddr>().map_err(|_| {
                ConfigError::Invalid(format!("rtmps_listen {a:?} is not host:port"))
            })?),
        };
        if rtmps_listen.is_some() && tls.is_none() {
            return Err(ConfigError::Invalid(
                "rtmps_listen needs tls_cert and tls_key (LIVEREC_TLS_CERT, LIVEREC_TLS_KEY)"
                    .into(),
            ));
        }
        Ok((tls, rtmps_listen))
    }
}

/// Reads a secret from a file that only its owner may read.
pub(super) fn read_secret_file(path: &Path) -> Result<String, ConfigError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path)
        .map_err(|e| ConfigError::Invalid(format!("secret_key_file {}: {e}", path.display())))?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(ConfigError::Invalid(format!(
            "secret_key_file {} is readable by others (chmod 600 it)",
            path.display()
        )));
    }
    let s = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::Invalid(format!("secret_key_file {}: {e}", path.display())))?;
    Ok(s.trim().to_string())
}

/// A duration of whole seconds, at least one.
fn secs(n: u64) -> std::time::Duration {
    std::time::Duration::from_secs(n.max(1))
}

/// What an RTMP connection may cost before and after it publishes
/// (SPEC §2 "Limits before a publish is accepted").
#[derive(Clone, Debug)]
pub struct RtmpLimits {
    /// A publisher silent this long is disconnected.
    pub read_timeout: std::time::Duration,
    /// From accept to a completed handshake.
    pub handshake_timeout: std::time::Duration,
    /// From accept to `publish`.
    pub publish_timeout: std::time::Duration,
    /// Longest wait for the peer to take bytes we send.
    pub write_timeout: std::time::Duration,
    /// A publishing plain-TCP connection is read on a shared tick of this
    /// period instead of on each arrival; zero reads on arrival.
    pub read_tick: std::time::Duration,
    /// Connections at once.
    pub max_connections: usize,
    /// Connections at once from one IP address.
    pub max_connections_per_ip: usize,
}

/// Per-action rate limits, requests per second per SecretId.
#[derive(Clone, Debug)]
pub struct Rates {
    /// CreateLiveRecord.
    pub create_live_record: u32,
    /// StopLiveRecord and DeleteLiveRecord.
    pub stop_delete_live_record: u32,
    /// Everything else.
    pub other: u32,
}

/// Validated settings.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Callback delivery and the default receiver.
    pub callbacks: DeliverySettings,
    /// Data directory.
    pub data_dir: PathBuf,
    /// API listen address.
    pub api_listen: SocketAddr,
    /// RTMP listen address.
    pub rtmp_listen: SocketAddr,
    /// Bootstrap credential (SecretId, SecretKey).
    pub bootstrap: Option<(String, String)>,
    /// Database URL.
    pub database_url: String,
    /// Root directory of `fs://` storage, or the local spool of S3 storage.
    pub storage_root: PathBuf,
    /// The bucket of `s3://` storage.
    pub bucket: Option<crate::storage::BucketSettings>,
    /// Public base URL of files (None: derived from the bound API address).
    pub public_url: Option<String>,
    /// Pre-roll kept per stream, ms.
    pub preroll_ms: i64,
    /// Pre-roll kept on disk (`<data_dir>/preroll`) instead of in memory.
    pub preroll_on_disk: bool,
    /// Smallest accepted record_interval, s.
    pub min_record_interval_s: u64,
    /// Legacy tasks per account per day.
    pub max_tasks_per_day: u64,
    /// Legacy tasks running at once per account.
    pub max_running_tasks: u64,
    /// Rate limits.
    pub rates: Rates,
    /// How long a rotated-out key keeps working, ms.
    pub key_rotation_grace_ms: i64,
    /// Bounds on API/file-server connections.
    pub http: HttpLimits,
    /// Bounds on RTMP connections.
    pub rtmp: RtmpLimits,
    /// Timestamp jump threshold, ms.
    pub max_timestamp_jump_ms: i64,
    /// Time allowed for finalizing at shutdown.
    pub shutdown_grace: std::time::Duration,
    /// HLS segment target, ms.
    pub hls_target_ms: i64,
    /// Tasks per DescribeRecordTask page.
    pub describe_task_page_size: u64,
    /// Free-space floor of the storage filesystem, bytes (0 = none).
    pub min_free_bytes: u64,
    /// Reconnect window for outputs whose template sets none, ms.
    pub reconnect_window_ms: i64,
    /// Refuse publishes to domains nobody claimed.
    pub strict_domains: bool,
    /// TLS certificate and key (HTTPS on the API listener, and RTMPS).
    pub tls: Option<TlsPaths>,
    /// RTMPS listen address (only with `tls`).
    pub rtmps_listen: Option<SocketAddr>,
    /// This node's configured name (None: the one kept in the data dir).
    pub node_id: Option<String>,
    /// Node lease, ms.
    pub node_lease_ms: i64,
}
