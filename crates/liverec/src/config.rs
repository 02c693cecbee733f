//! The one typed configuration (SPEC §1): built-in defaults, then a TOML
//! file, then `LIVEREC_*` environment variables, then command-line flags.
//! Validated once into [`Settings`], whose parts are handed to the modules
//! that own them. Knows nothing of sockets, SQL or media.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

mod names;

pub use crate::http_server::HttpLimits;

pub use names::{Hint, Source, Unknown, unknown_env};

/// The configuration as written by the operator.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Data directory (database, credentials, records). Default `./liverec-data`.
    pub data_dir: PathBuf,
    /// API + file server listen address. Default `127.0.0.1:8080`; port 0 picks a free port.
    pub api_listen: String,
    /// RTMP listen address. Default `0.0.0.0:1935`; port 0 picks a free port.
    pub rtmp_listen: String,
    /// Bootstrap SecretId. Default none (one is generated on first start).
    pub secret_id: Option<String>,
    /// Bootstrap SecretKey. Default none.
    pub secret_key: Option<String>,
    /// File holding the bootstrap SecretKey (must not be readable by others). Default none.
    pub secret_key_file: Option<PathBuf>,
    /// Database URL. Default `sqlite://<data_dir>/liverec.db`.
    pub database_url: Option<String>,
    /// Storage URL. Default `fs://<data_dir>/records`.
    pub storage: Option<String>,
    /// Public base URL of files. Default `http://<api listen address>`.
    pub public_url: Option<String>,
    /// Seconds of media kept in memory per live stream (pre-roll). Default 30.
    pub preroll_seconds: u64,
    /// Smallest accepted `record_interval`, seconds. Default 1800 (Tencent's floor).
    pub min_record_interval: u64,
    /// Legacy tasks created per account per day. Default 4000.
    pub max_tasks_per_day: u64,
    /// Legacy tasks running at once per account. Default 400.
    pub max_running_tasks: u64,
    /// Requests per second per SecretId for CreateLiveRecord. Default 100.
    pub rate_create_live_record: u32,
    /// Requests per second per SecretId for Stop/DeleteLiveRecord. Default 200.
    pub rate_stop_delete_live_record: u32,
    /// Requests per second per SecretId for every other action. Default 20.
    pub rate_other: u32,
    /// A publisher silent for this many seconds is disconnected. Default 10.
    pub rtmp_read_timeout_seconds: u64,
    /// Seconds a key replaced by `liverec keys rotate` keeps working. Default 86400.
    pub key_rotation_grace_seconds: u64,
    /// Most API/file-server connections at once. Default 1024.
    pub http_max_connections: usize,
    /// Seconds a client has to send a request's headers. Default 10.
    pub http_header_timeout_seconds: u64,
    /// Seconds a client has to send a request's body. Default 10.
    pub http_body_timeout_seconds: u64,
    /// Most RTMP connections at once. Default 2000.
    pub rtmp_max_connections: usize,
    /// Most RTMP connections at once from one IP address. Default 256 (a
    /// benchmark pushes a few hundred streams from one address).
    pub rtmp_max_connections_per_ip: usize,
    /// Seconds a new RTMP connection has to complete the handshake. Default 10.
    pub rtmp_handshake_timeout_seconds: u64,
    /// Seconds a new RTMP connection has to send `publish`. Default 30.
    pub rtmp_publish_timeout_seconds: u64,
    /// A peer that takes longer than this many seconds to take our bytes
    /// (it stopped reading) is dropped. Default 10.
    pub rtmp_write_timeout_seconds: u64,
    /// Forward timestamp jumps larger than this (ms) are repaired. Default 10000.
    pub max_timestamp_jump_ms: i64,
    /// Seconds allowed for finalizing recordings at shutdown. Default 8.
    pub shutdown_grace_seconds: u64,
    /// HLS segment target duration, seconds. Default 6.
    pub hls_segment_seconds: u64,
    /// Tasks per DescribeRecordTask page. Default 100.
    pub describe_task_page_size: u64,
    /// Below this many free bytes on the storage filesystem new recordings
    /// are refused and open ones finalized. Default 1 GiB; 0 disables.
    pub min_free_bytes: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./liverec-data"),
            api_listen: "127.0.0.1:8080".into(),
            rtmp_listen: "0.0.0.0:1935".into(),
            secret_id: None,
            secret_key: None,
            secret_key_file: None,
            database_url: None,
            storage: None,
            public_url: None,
            preroll_seconds: 30,
            min_record_interval: 1800,
            max_tasks_per_day: 4000,
            max_running_tasks: 400,
            rate_create_live_record: 100,
            rate_stop_delete_live_record: 200,
            rate_other: 20,
            rtmp_read_timeout_seconds: 10,
            key_rotation_grace_seconds: 86_400,
            http_max_connections: 1024,
            http_header_timeout_seconds: 10,
            http_body_timeout_seconds: 10,
            rtmp_max_connections: 2000,
            rtmp_max_connections_per_ip: 256,
            rtmp_handshake_timeout_seconds: 10,
            rtmp_publish_timeout_seconds: 30,
            rtmp_write_timeout_seconds: 10,
            max_timestamp_jump_ms: 10_000,
            shutdown_grace_seconds: 8,
            hls_segment_seconds: 6,
            describe_task_page_size: 100,
            min_free_bytes: 1 << 30,
        }
    }
}

/// Settings given on the command line (highest precedence).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Overrides {
    /// `--data-dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// `--api-listen`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_listen: Option<String>,
    /// `--rtmp-listen`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtmp_listen: Option<String>,
}

impl Config {
    /// Merges defaults, the TOML file (if any), the environment and flags.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(f) = file {
            if !f.exists() {
                return Err(ConfigError::Invalid(format!(
                    "configuration file {} does not exist",
                    f.display()
                )));
            }
            check_file_keys(f)?;
            fig = fig.merge(Toml::file(f));
        }
        fig = fig
            .merge(Env::prefixed("LIVEREC_").filter(|k| {
                names::KNOWN
                    .iter()
                    .any(|e| k.as_str().eq_ignore_ascii_case(e))
            }))
            .merge(Serialized::defaults(overrides));
        fig.extract()
            .map_err(|e| ConfigError::Invalid(e.to_string()))
    }

    /// The configuration as TOML, secrets masked: `secret_key` and the
    /// password of `database_url` (`liverec serve --print-config`).
    pub fn masked_toml(&self) -> Result<String, ConfigError> {
        let mut c = self.clone();
        if c.secret_key.is_some() {
            c.secret_key = Some(MASK.into());
        }
        c.database_url = c.database_url.as_deref().map(mask_url_password);
        toml::to_string(&c).map_err(|e| ConfigError::Invalid(e.to_string()))
    }

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
        let storage = self
            .storage
            .clone()
            .unwrap_or_else(|| format!("fs://{}/records", data_dir.display()));
        let storage_root = match storage.strip_prefix("fs://") {
            Some(p) => PathBuf::from(p),
            None => {
                return Err(ConfigError::Invalid(format!(
                    "storage {storage:?}: only fs://<path> is supported in this version"
                )));
            }
        };
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
        if self.preroll_seconds > 600 {
            return Err(ConfigError::Invalid(
                "preroll_seconds must be at most 600".into(),
            ));
        }
        if self.min_record_interval == 0 || self.min_record_interval > 7200 {
            return Err(ConfigError::Invalid(
                "min_record_interval must be between 1 and 7200 seconds".into(),
            ));
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
        Ok(Settings {
            data_dir,
            api_listen,
            rtmp_listen,
            bootstrap,
            database_url,
            storage_root,
            public_url: self
                .public_url
                .clone()
                .map(|u| u.trim_end_matches('/').to_string()),
            preroll_ms: i64::try_from(self.preroll_seconds).unwrap_or(30) * 1000,
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
                max_connections: self.rtmp_max_connections.max(1),
                max_connections_per_ip: self.rtmp_max_connections_per_ip.max(1),
            },
            max_timestamp_jump_ms: self.max_timestamp_jump_ms.max(1000),
            shutdown_grace: std::time::Duration::from_secs(self.shutdown_grace_seconds),
            hls_target_ms: i64::try_from(self.hls_segment_seconds).unwrap_or(6) * 1000,
            describe_task_page_size: self.describe_task_page_size.clamp(1, 1000),
            min_free_bytes: self.min_free_bytes,
        })
    }
}

/// What stands for a secret in printed configuration.
const MASK: &str = "********";

/// `scheme://user:password@host/...` with the password masked.
fn mask_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let Some(at) = rest[..auth_end].rfind('@') else {
        return url.to_string();
    };
    match rest[..at].split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:{MASK}{}", &rest[at..]),
        None => url.to_string(),
    }
}

/// Refuses a TOML file with a key liverec does not read, naming the
/// closest known setting (or saying SPEC names it but it is not built).
fn check_file_keys(path: &Path) -> Result<(), ConfigError> {
    // A file that does not parse is reported by the full extraction.
    let Ok(top) = Figment::from(Toml::file(path))
        .extract::<std::collections::BTreeMap<String, figment::value::Value>>()
    else {
        return Ok(());
    };
    let unknown = names::unknown_keys(top.keys().map(String::as_str));
    if unknown.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = unknown.iter().map(ToString::to_string).collect();
    Err(ConfigError::Invalid(format!(
        "{}: {}",
        path.display(),
        list.join("; ")
    )))
}

/// Reads a secret from a file that only its owner may read.
fn read_secret_file(path: &Path) -> Result<String, ConfigError> {
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
    /// Root directory of `fs://` storage.
    pub storage_root: PathBuf,
    /// Public base URL of files (None: derived from the bound API address).
    pub public_url: Option<String>,
    /// Pre-roll kept per stream, ms.
    pub preroll_ms: i64,
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
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value is wrong; the message names it.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate() {
        let s = Config::default().validate().unwrap();
        assert_eq!(s.api_listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.database_url, "sqlite://./liverec-data/liverec.db");
        assert_eq!(s.storage_root, PathBuf::from("./liverec-data/records"));
        assert_eq!(s.preroll_ms, 30_000);
        assert!(s.bootstrap.is_none());
    }

    #[test]
    fn file_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "api_listen = \"127.0.0.1:9000\"\npreroll_seconds = 5\n").unwrap();
        let o = Overrides {
            rtmp_listen: Some("127.0.0.1:0".into()),
            ..Default::default()
        };
        let c = Config::load(Some(&f), &o).unwrap();
        assert_eq!(c.api_listen, "127.0.0.1:9000");
        assert_eq!(c.rtmp_listen, "127.0.0.1:0");
        assert_eq!(c.preroll_seconds, 5);
    }

    #[test]
    fn rejects_unknown_keys_and_bad_values() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "no_such_setting = 1\n").unwrap();
        assert!(Config::load(Some(&f), &Overrides::default()).is_err());
        std::fs::write(&f, "preroll_secnds = 1\ntls_cert = \"c.pem\"\n").unwrap();
        let e = Config::load(Some(&f), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("preroll_secnds; did you mean preroll_seconds?"),
            "{e}"
        );
        assert!(
            e.contains("tls_cert is not supported by this liverec version yet"),
            "{e}"
        );
        let c = Config {
            secret_id: Some("AKID".into()),
            ..Config::default()
        };
        assert!(c.validate().is_err());
        let c = Config {
            api_listen: "nope".into(),
            ..Config::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("api_listen"));
    }

    #[test]
    fn printed_configuration_masks_secrets() {
        let c = Config {
            secret_id: Some("AKIDabc".into()),
            secret_key: Some("topsecret".into()),
            database_url: Some("postgres://rec:pw123@127.0.0.1:5432/db?sslmode=disable".into()),
            ..Config::default()
        };
        let t = c.masked_toml().unwrap();
        assert!(!t.contains("topsecret") && !t.contains("pw123"), "{t}");
        assert!(t.contains("secret_id = \"AKIDabc\""), "{t}");
        assert!(t.contains("secret_key = \"********\""), "{t}");
        assert!(
            t.contains("postgres://rec:********@127.0.0.1:5432/db?sslmode=disable"),
            "{t}"
        );
        assert!(t.contains("preroll_seconds = 30"), "{t}");
        // What is printed reads back as the same configuration.
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("printed.toml");
        std::fs::write(&f, Config::default().masked_toml().unwrap()).unwrap();
        let back = Config::load(Some(&f), &Overrides::default()).unwrap();
        assert_eq!(
            back.masked_toml().unwrap(),
            Config::default().masked_toml().unwrap()
        );
        assert_eq!(mask_url_password("sqlite://./x.db"), "sqlite://./x.db");
        assert_eq!(mask_url_password("postgres://u@h/db"), "postgres://u@h/db");
    }

    #[test]
    fn secret_file_must_be_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("key");
        std::fs::write(&f, "sekrit\n").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(read_secret_file(&f).is_err());
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_secret_file(&f).unwrap(), "sekrit");
    }
}
