//! The storage settings: `storage` (`fs://<path>` or `s3://bucket/prefix`)
//! and the `s3_*` settings of an S3-compatible bucket, resolved into the
//! local root (the records themselves, or the spool in front of the bucket)
//! and [`BucketSettings`]. Credentials fall back to the standard
//! `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` variables.

use std::path::{Path, PathBuf};

use super::{Config, ConfigError};
use crate::storage::{BucketSettings, DEFAULT_PART_SIZE};

/// Where files go: the local root and, for `s3://`, the bucket.
pub(super) type StorageParts = (PathBuf, Option<BucketSettings>);

impl Config {
    /// Resolves `storage` and the `s3_*` settings.
    pub(super) fn storage_settings(
        &self,
        data_dir: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<StorageParts, ConfigError> {
        let storage = self
            .storage
            .clone()
            .unwrap_or_else(|| format!("fs://{}/records", data_dir.display()));
        if let Some(p) = storage.strip_prefix("fs://") {
            if p.is_empty() {
                return Err(ConfigError::Invalid("storage fs:// needs a path".into()));
            }
            return Ok((PathBuf::from(p), None));
        }
        let Some(rest) = storage.strip_prefix("s3://") else {
            return Err(ConfigError::Invalid(format!(
                "storage {storage:?} must be fs://<path> or s3://<bucket>[/<prefix>]"
            )));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(ConfigError::Invalid(format!(
                "storage {storage:?}: the bucket name is missing"
            )));
        }
        let prefix = prefix.trim_matches('/');
        if prefix
            .split('/')
            .any(|s| s == "." || s == ".." || (s.is_empty() && !prefix.is_empty()))
        {
            return Err(ConfigError::Invalid(format!(
                "storage {storage:?}: the prefix must be plain path segments"
            )));
        }
        if let Some(e) = &self.s3_endpoint
            && !(e.starts_with("http://") || e.starts_with("https://"))
        {
            return Err(ConfigError::Invalid(format!(
                "s3_endpoint {e:?} must start with http:// or https://"
            )));
        }
        let secret = match (&self.s3_secret_access_key, &self.s3_secret_access_key_file) {
            (Some(k), _) => Some(k.clone()),
            (None, Some(f)) => Some(super::settings::read_secret_file(f)?),
            (None, None) => env("AWS_SECRET_ACCESS_KEY"),
        };
        let key_id = self
            .s3_access_key_id
            .clone()
            .or_else(|| env("AWS_ACCESS_KEY_ID"));
        if key_id.is_some() != secret.is_some() {
            return Err(ConfigError::Invalid(
                "the S3 access key id and secret access key must be given together".into(),
            ));
        }
        if self.s3_presign_seconds > 7 * 86_400 {
            return Err(ConfigError::Invalid(
                "s3_presign_seconds must be at most 604800 (7 days, SigV4's limit)".into(),
            ));
        }
        if !(5..=1024).contains(&self.s3_part_mib) {
            return Err(ConfigError::Invalid(
                "s3_part_mib must be 5–1024 (S3 refuses parts under 5 MiB)".into(),
            ));
        }
        if self.s3_part_seconds > 3600 {
            return Err(ConfigError::Invalid(
                "s3_part_seconds must be 0 (off) to 3600".into(),
            ));
        }
        let spool = self
            .s3_spool_dir
            .clone()
            .unwrap_or_else(|| data_dir.join("spool"));
        Ok((
            spool,
            Some(BucketSettings {
                bucket: bucket.to_string(),
                prefix: prefix.to_string(),
                endpoint: self.s3_endpoint.clone(),
                region: self.s3_region.clone(),
                path_style: self.s3_path_style,
                access_key_id: key_id,
                secret_access_key: secret,
                presign_seconds: self.s3_presign_seconds,
                part_size: usize::try_from(self.s3_part_mib << 20).unwrap_or(DEFAULT_PART_SIZE),
                part_seconds: self.s3_part_seconds,
            }),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn fs_and_s3_urls() {
        let c = Config::default();
        let (root, b) = c.storage_settings(Path::new("/d"), &no_env).unwrap();
        assert_eq!((root, b), (PathBuf::from("/d/records"), None));

        let c = Config {
            storage: Some("s3://rec/live/a/".into()),
            s3_endpoint: Some("http://127.0.0.1:9000".into()),
            s3_path_style: true,
            ..Config::default()
        };
        let env = |k: &str| match k {
            "AWS_ACCESS_KEY_ID" => Some("id".to_string()),
            "AWS_SECRET_ACCESS_KEY" => Some("secret".to_string()),
            _ => None,
        };
        let (root, b) = c.storage_settings(Path::new("/d"), &env).unwrap();
        let b = b.unwrap();
        assert_eq!(root, PathBuf::from("/d/spool"));
        assert_eq!((b.bucket.as_str(), b.prefix.as_str()), ("rec", "live/a"));
        assert_eq!(b.region, "us-east-1");
        assert!(b.path_style);
        assert_eq!(b.access_key_id.as_deref(), Some("id"));
        assert_eq!(b.secret_access_key.as_deref(), Some("secret"));
        assert_eq!(b.presign_seconds, 0);
        assert_eq!((b.part_size, b.part_seconds), (5 << 20, 0));
    }

    #[test]
    fn bad_storage_settings_are_refused() {
        for (storage, endpoint, key) in [
            ("ftp://x", None, None),
            ("s3://", None, None),
            ("s3://b/../x", None, None),
            ("s3://b", Some("127.0.0.1:9000"), None),
            ("s3://b", None, Some("only-the-id")),
        ] {
            let c = Config {
                storage: Some(storage.into()),
                s3_endpoint: endpoint.map(String::from),
                s3_access_key_id: key.map(String::from),
                ..Config::default()
            };
            assert!(
                c.storage_settings(Path::new("/d"), &no_env).is_err(),
                "{storage} {endpoint:?} {key:?}"
            );
        }
        let c = Config {
            storage: Some("s3://b".into()),
            s3_presign_seconds: 8 * 86_400,
            ..Config::default()
        };
        assert!(c.storage_settings(Path::new("/d"), &no_env).is_err());
        for (mib, secs) in [(4, 0), (1025, 0), (8, 3601)] {
            let c = Config {
                storage: Some("s3://b".into()),
                s3_part_mib: mib,
                s3_part_seconds: secs,
                ..Config::default()
            };
            assert!(
                c.storage_settings(Path::new("/d"), &no_env).is_err(),
                "{mib} MiB, {secs} s"
            );
        }
    }
}
