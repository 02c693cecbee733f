//! The one typed configuration (SPEC §1): built-in defaults, then a TOML
//! file, then `LIVEREC_*` environment variables, then command-line flags.
//! Validated once into [`Settings`], whose parts are handed to the modules
//! that own them. Knows nothing of sockets, SQL or media.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

mod names;
mod settings;
mod storage;

pub use crate::http_server::HttpLimits;

pub use names::{Hint, Source, Unknown, unknown_env};
pub use settings::{Rates, RtmpLimits, Settings};

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
    /// Where the pre-roll is kept: `memory` (default), or `disk` (segment
    /// files under `<data-dir>/preroll`: a long look-back costs disk, not
    /// RAM; `preroll_seconds` may then be up to 3600).
    pub preroll_storage: String,
    /// Smallest accepted `record_interval`, seconds. Default 1800 (Tencent's floor).
    pub min_record_interval: u64,
    /// Tasks created per account per day, per family. Default 4000; 0 = no
    /// limit (and no counting).
    pub max_tasks_per_day: u64,
    /// Tasks armed at once per account, per family. Default 400; 0 = no
    /// limit (and no counting).
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
    /// Once a plain-TCP connection publishes, its socket is read on a
    /// shared tick of this many milliseconds (every connection on the same
    /// tick, everything that arrived since in one go) instead of on each
    /// arrival: far fewer thread wake-ups per media message, at up to this
    /// much added ingest delay. 0 reads on each arrival. Default 50.
    pub rtmp_read_tick_ms: u64,
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
    /// Seconds a publisher may be gone and come back to continue the same
    /// file or playlist, for recordings whose template sets no window of
    /// its own (0–1800). Default 0: each publish session gets its own
    /// files, as Tencent does.
    pub reconnect_window_seconds: u64,
    /// Refuse a publish to a domain nobody claimed (AddLiveDomain, `liverec
    /// domains add`) instead of giving it to the bootstrap account. Default
    /// false (the embedded default with one account needs no domain setup).
    pub strict_domains: bool,
    /// PEM certificate chain for TLS on the API/file listener (and RTMPS).
    /// Default none (plain HTTP); set together with `tls_key`.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`. Default none.
    pub tls_key: Option<PathBuf>,
    /// RTMPS listen address (RTMP over TLS with `tls_cert`/`tls_key`).
    /// Default none (no RTMPS listener); port 0 picks a free port.
    pub rtmps_listen: Option<String>,
    /// Callback URL for streams without a callback rule: every event type
    /// (1, 0, 100, 332, 341) goes there. Default none (no default receiver).
    pub callback_url: Option<String>,
    /// CallbackKey of `callback_url` (`sign = md5(key + t)`). Default none
    /// (an empty key).
    pub callback_key: Option<String>,
    /// File holding `callback_key` (must not be readable by others). Default none.
    pub callback_key_file: Option<PathBuf>,
    /// Seconds a callback is retried until a receiver answers 200; then it
    /// is `failed`. Default 86400.
    pub callback_retry_seconds: u64,
    /// `backoff` (exponential back-off with jitter for
    /// `callback_retry_seconds`) or `tencent` (3 attempts, 60 s apart).
    /// Default `backoff`.
    pub callback_retry_policy: String,
    /// First retry delay of `backoff`, ms; it doubles with each failure.
    /// Default 1000.
    pub callback_retry_first_ms: u64,
    /// Longest delay between two attempts of `backoff`, seconds. Default 600.
    pub callback_retry_max_delay_seconds: u64,
    /// Seconds one attempt waits for the receiver's answer. Default 20
    /// (Tencent's).
    pub callback_timeout_seconds: u64,
    /// Deliveries at once to one receiver host. Default 4.
    pub callback_max_per_host: usize,
    /// PEM CA bundle trusted for `https://` callback receivers. Default
    /// none: the system bundle `/etc/ssl/certs/ca-certificates.crt`.
    pub callback_ca_file: Option<PathBuf>,
    /// Let callback templates (chosen by tenants) send to loopback,
    /// private and link-local addresses. Default false: such URLs are
    /// refused when saved and at delivery (after DNS). The operator's own
    /// `callback_url` may point anywhere.
    pub callback_allow_private: bool,
    /// This node's name among several sharing one database (letters,
    /// digits, `-`, `_`, `.`; at most 64). Default none: generated once and
    /// kept in `<data-dir>/node-id`, so a restarted node is the same node.
    pub node_id: Option<String>,
    /// Seconds a node stays alive in its peers' eyes after its last
    /// heartbeat (sent every quarter of it); after that a peer takes over
    /// its publish sessions (and, on shared storage, its open files).
    /// 2–600. Default 10.
    pub node_lease_seconds: u64,
    /// S3 endpoint URL for `storage = "s3://…"` (`http://` allowed).
    /// Default none: AWS for `s3_region`.
    pub s3_endpoint: Option<String>,
    /// S3 region (request signing). Default `us-east-1`.
    pub s3_region: String,
    /// Path-style bucket addressing (`endpoint/bucket/key`), which most
    /// self-hosted S3 servers need. Default false (virtual-hosted style).
    pub s3_path_style: bool,
    /// S3 access key id. Default none: `AWS_ACCESS_KEY_ID`.
    pub s3_access_key_id: Option<String>,
    /// S3 secret access key. Default none: `AWS_SECRET_ACCESS_KEY`.
    pub s3_secret_access_key: Option<String>,
    /// File holding `s3_secret_access_key` (must not be readable by others). Default none.
    pub s3_secret_access_key_file: Option<PathBuf>,
    /// With S3 storage, DescribeRecordFiles' VideoUrl is a presigned bucket
    /// URL valid this many seconds (at most 604800). Default 0: the
    /// `/files` URL of liverec, which streams from the bucket.
    pub s3_presign_seconds: u64,
    /// Local spool of S3 storage: files being recorded and files waiting
    /// for their upload. Default `<data_dir>/spool`.
    pub s3_spool_dir: Option<PathBuf>,
    /// Size of the multipart parts a recording (FLV, AAC, MP3) sends to
    /// the bucket while it is written, MiB (5–1024: S3's floor for every
    /// part but the last). A node killed with its spool lost loses at most
    /// the last part not yet sent. Default 5; past the 1,000th part each
    /// 1,000 parts are one size larger (`storage::PARTS_PER_STEP`).
    pub s3_part_mib: u64,
    /// Also re-sends the growing last part every this many seconds (its
    /// part number is sent again, S3 keeps the newest), so a node killed
    /// with its spool lost loses at most about this much media plus a
    /// second. Costs bucket traffic: the tail part goes up again each
    /// time. Default 0: off (the bound is then `s3_part_mib`).
    pub s3_part_seconds: u64,
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
            preroll_storage: "memory".into(),
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
            rtmp_read_tick_ms: 50,
            max_timestamp_jump_ms: 10_000,
            shutdown_grace_seconds: 8,
            hls_segment_seconds: 6,
            describe_task_page_size: 100,
            min_free_bytes: 1 << 30,
            reconnect_window_seconds: 0,
            strict_domains: false,
            tls_cert: None,
            tls_key: None,
            rtmps_listen: None,
            callback_url: None,
            callback_key: None,
            callback_key_file: None,
            callback_retry_seconds: 86_400,
            callback_retry_policy: "backoff".into(),
            callback_retry_first_ms: 1000,
            callback_retry_max_delay_seconds: 600,
            callback_timeout_seconds: 20,
            callback_max_per_host: 4,
            callback_ca_file: None,
            callback_allow_private: false,
            node_id: None,
            node_lease_seconds: 10,
            s3_endpoint: None,
            s3_region: "us-east-1".into(),
            s3_path_style: false,
            s3_access_key_id: None,
            s3_secret_access_key: None,
            s3_secret_access_key_file: None,
            s3_presign_seconds: 0,
            s3_spool_dir: None,
            s3_part_mib: 5,
            s3_part_seconds: 0,
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
                names::known()
                    .iter()
                    .any(|e| k.as_str().eq_ignore_ascii_case(e))
            }))
            .merge(Serialized::defaults(overrides));
        fig.extract()
            .map_err(|e| ConfigError::Invalid(e.to_string()))
    }

    /// The configuration as TOML, secrets masked: `secret_key`, `callback_key`,
    /// `s3_secret_access_key` and the
    /// password of `database_url` (`liverec serve --print-config`).
    pub fn masked_toml(&self) -> Result<String, ConfigError> {
        let mut c = self.clone();
        if c.secret_key.is_some() {
            c.secret_key = Some(MASK.into());
        }
        if c.callback_key.is_some() {
            c.callback_key = Some(MASK.into());
        }
        if c.s3_secret_access_key.is_some() {
            c.s3_secret_access_key = Some(MASK.into());
        }
        c.database_url = c.database_url.as_deref().map(mask_url_password);
        toml::to_string(&c).map_err(|e| ConfigError::Invalid(e.to_string()))
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
        std::fs::write(&f, "preroll_secnds = 1\ns3_regoin = \"x\"\n").unwrap();
        let e = Config::load(Some(&f), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("preroll_secnds; did you mean preroll_seconds?"),
            "{e}"
        );
        assert!(e.contains("s3_regoin; did you mean s3_region?"), "{e}");
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
            s3_secret_access_key: Some("s3topsecret".into()),
            database_url: Some("postgres://rec:pw123@127.0.0.1:5432/db?sslmode=disable".into()),
            ..Config::default()
        };
        let t = c.masked_toml().unwrap();
        assert!(!t.contains("topsecret") && !t.contains("pw123"), "{t}");
        assert!(t.contains("s3_secret_access_key = \"********\""), "{t}");
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
    fn tls_cert_and_key_go_together_and_rtmps_needs_them() {
        let only_cert = Config {
            tls_cert: Some("c.pem".into()),
            ..Config::default()
        };
        let e = only_cert.validate().unwrap_err().to_string();
        assert!(e.contains("tls_key (LIVEREC_TLS_KEY) is missing"), "{e}");
        let only_key = Config {
            tls_key: Some("k.pem".into()),
            ..Config::default()
        };
        let e = only_key.validate().unwrap_err().to_string();
        assert!(e.contains("tls_cert (LIVEREC_TLS_CERT) is missing"), "{e}");
        let rtmps = Config {
            rtmps_listen: Some("127.0.0.1:0".into()),
            ..Config::default()
        };
        let e = rtmps.validate().unwrap_err().to_string();
        assert!(e.contains("rtmps_listen needs tls_cert and tls_key"), "{e}");
        let both = Config {
            tls_cert: Some("c.pem".into()),
            tls_key: Some("k.pem".into()),
            rtmps_listen: Some("127.0.0.1:1936".into()),
            ..Config::default()
        };
        let s = both.validate().unwrap();
        assert_eq!(s.tls.unwrap().key, PathBuf::from("k.pem"));
        assert_eq!(s.rtmps_listen.unwrap().port(), 1936);
        assert!(Config::default().validate().unwrap().tls.is_none());
    }

    #[test]
    fn callback_settings_are_checked_and_the_key_masked() {
        use crate::callbacks::RetryPolicy;
        let d = Config::default().validate().unwrap().callbacks;
        assert_eq!(d.default, None);
        assert_eq!(d.retry_ms, 86_400_000);
        assert_eq!(
            d.policy,
            RetryPolicy::Backoff {
                first_ms: 1000,
                max_ms: 600_000
            }
        );
        assert_eq!((d.timeout.as_secs(), d.max_per_host), (20, 4));
        let c = Config {
            callback_url: Some("http://127.0.0.1:9000/cb".into()),
            callback_key: Some("k3y".into()),
            callback_retry_policy: "tencent".into(),
            callback_retry_seconds: 60,
            ..Config::default()
        };
        let d = c.validate().unwrap().callbacks;
        assert_eq!(
            d.default,
            Some(("http://127.0.0.1:9000/cb".into(), "k3y".into()))
        );
        assert_eq!((d.policy, d.retry_ms), (RetryPolicy::Tencent, 60_000));
        let t = c.masked_toml().unwrap();
        assert!(
            !t.contains("k3y") && t.contains("callback_key = \"********\""),
            "{t}"
        );
        for (bad, what) in [
            (
                Config {
                    callback_url: Some("ftp://h/x".into()),
                    ..Config::default()
                },
                "callback_url",
            ),
            (
                Config {
                    callback_url: Some("not a url".into()),
                    ..Config::default()
                },
                "callback_url",
            ),
            (
                Config {
                    callback_retry_policy: "forever".into(),
                    ..Config::default()
                },
                "callback_retry_policy",
            ),
            (
                Config {
                    callback_timeout_seconds: 0,
                    ..Config::default()
                },
                "callback_timeout_seconds",
            ),
        ] {
            let e = bad.validate().unwrap_err().to_string();
            assert!(e.contains(what), "{e}");
        }
    }

    #[test]
    fn secret_file_must_be_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("key");
        std::fs::write(&f, "sekrit\n").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(settings::read_secret_file(&f).is_err());
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(settings::read_secret_file(&f).unwrap(), "sekrit");
    }
}
