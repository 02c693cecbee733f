//! Where finished recordings live: local disk under a root directory
//! (`fs://`), or an S3-compatible bucket (`s3://`, [`bucket`]) with the
//! local directory as its spool. Files are written under a temporary
//! `.part` name next to their final place and renamed when complete, so a
//! reader never sees a half written file under its final key; with a
//! bucket, the renamed file waits there for its upload
//! (`recorder::upload`). Only this module knows paths.

mod bucket;

#[cfg(test)]
pub(crate) use bucket::tests::test_settings as test_bucket_settings;
pub use bucket::{Bucket, BucketSettings, DEFAULT_PART_SIZE, Multipart, PARTS_PER_STEP};

use std::io;
use std::path::{Component, Path, PathBuf};

/// Content types of recorded files by extension: `/files` answers with
/// them, and objects are stored with them (presigned URLs serve them).
pub const CONTENT_TYPES: &[(&str, &str)] = &[
    ("flv", "video/x-flv"),
    ("m3u8", "application/vnd.apple.mpegurl"),
    ("ts", "video/mp2t"),
    ("mp4", "video/mp4"),
    ("m4s", "video/iso.segment"),
    ("aac", "audio/aac"),
    ("mp3", "audio/mpeg"),
];

/// Suffix of files still being written.
pub const PART_SUFFIX: &str = ".part";
/// Suffix of the MP4 journal of a file being recorded.
const JOURNAL_SUFFIX: &str = ".journal.part";

/// Local file storage.
#[derive(Debug, Clone)]
pub struct Storage {
    root: PathBuf,
    bucket: Option<Bucket>,
}

/// [`Storage::commit`] on the calling thread, to `dest` (from
/// [`Storage::path_of`]): for work already on a blocking-pool thread.
pub fn publish_now(spool: &Path, dest: &Path) -> io::Result<u64> {
    std::fs::rename(spool, dest)?;
    Ok(std::fs::metadata(dest)?.len())
}

/// A storage key that would escape the root or is not a plain relative path.
fn bad_key(key: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("invalid storage key {key:?}"),
    )
}

impl Storage {
    /// Storage rooted at `root` (created if missing).
    pub fn open(root: &Path) -> io::Result<Storage> {
        std::fs::create_dir_all(root)?;
        Ok(Storage {
            root: root.to_path_buf(),
            bucket: None,
        })
    }

    /// Puts finished files in `bucket`; the root becomes its spool.
    pub fn with_bucket(mut self, bucket: Bucket) -> Storage {
        self.bucket = Some(bucket);
        self
    }

    /// The bucket files are uploaded to, if any.
    pub fn bucket(&self) -> Option<&Bucket> {
        self.bucket.as_ref()
    }

    /// Uploads the local file of `key` to the bucket (the local copy stays);
    /// returns its size. Without a bucket, only the size.
    pub async fn upload(&self, key: &str) -> io::Result<u64> {
        let path = self.path(key)?;
        match &self.bucket {
            Some(b) => b.put_file(key, &path).await,
            None => Ok(tokio::fs::metadata(&path).await?.len()),
        }
    }

    /// Removes the local copy of an uploaded `key` (nothing without a
    /// bucket: there the local file is the file).
    pub async fn drop_local(&self, key: &str) -> io::Result<()> {
        if self.bucket.is_none() {
            return Ok(());
        }
        match tokio::fs::remove_file(self.path(key)?).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Size of `key` where readers find it: the bucket if any, else disk.
    pub async fn stored_size(&self, key: &str) -> io::Result<Option<u64>> {
        match &self.bucket {
            Some(b) => {
                self.path(key)?;
                b.size(key).await
            }
            None => self.size(key).await,
        }
    }

    /// The path of `key`, refusing anything but plain relative components.
    fn path(&self, key: &str) -> io::Result<PathBuf> {
        let rel = Path::new(key);
        if key.is_empty()
            || key.ends_with(PART_SUFFIX)
            || key
                .split('/')
                .any(|seg| seg.is_empty() || seg == "." || seg == "..")
            || !rel.components().all(|c| matches!(c, Component::Normal(_)))
        {
            return Err(bad_key(key));
        }
        Ok(self.root.join(rel))
    }

    /// The final path of `key` (recovery only; readers use `open_read`).
    pub fn path_of(&self, key: &str) -> io::Result<PathBuf> {
        self.path(key)
    }

    /// Where to write `key` while it is being recorded (parent created).
    pub fn spool_path(&self, key: &str) -> io::Result<PathBuf> {
        self.with_suffix(key, PART_SUFFIX)
    }

    fn with_suffix(&self, key: &str, suffix: &str) -> io::Result<PathBuf> {
        let p = self.path(key)?;
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut s = p.into_os_string();
        s.push(suffix);
        Ok(PathBuf::from(s))
    }

    /// Where the crash-safe journal of `key` is written while recording
    /// (MP4), parent created. Never served: it ends in `.part` too.
    pub fn journal_path(&self, key: &str) -> io::Result<PathBuf> {
        self.with_suffix(key, JOURNAL_SUFFIX)
    }

    /// Publishes a finished spool file under `key`; returns its size. See
    /// [`publish_now`] for a caller already on a blocking thread.
    pub async fn commit(&self, spool: &Path, key: &str) -> io::Result<u64> {
        let (spool, dest) = (spool.to_path_buf(), self.path(key)?);
        tokio::task::spawn_blocking(move || publish_now(&spool, &dest))
            .await
            .map_err(io::Error::other)?
    }

    /// Opens the local file of `key` for reading with its size; None if it
    /// does not exist (with a bucket, readers use [`Bucket::read`]).
    pub async fn open_read(&self, key: &str) -> io::Result<Option<(tokio::fs::File, u64)>> {
        let p = self.path(key)?;
        match tokio::fs::File::open(&p).await {
            Ok(f) => {
                let meta = f.metadata().await?;
                if !meta.is_file() {
                    return Ok(None);
                }
                Ok(Some((f, meta.len())))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Size of `key`, if it exists.
    pub async fn size(&self, key: &str) -> io::Result<Option<u64>> {
        match tokio::fs::metadata(self.path(key)?).await {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Deletes `key` (local copy and object); a missing key is not an error.
    pub async fn delete(&self, key: &str) -> io::Result<()> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        match &self.bucket {
            Some(b) => b.delete(key).await,
            None => Ok(()),
        }
    }

    /// Every file under the root with its storage key (spool and journal
    /// suffixes removed), skipping hidden entries (node markers, health
    /// probes).
    pub fn local_files(&self) -> io::Result<Vec<(PathBuf, String)>> {
        let mut out = Vec::new();
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir)? {
                let entry = entry?;
                let path = entry.path();
                if entry.file_name().to_string_lossy().starts_with('.') {
                    continue;
                }
                if entry.file_type()?.is_dir() {
                    stack.push(path);
                    continue;
                }
                let Ok(rel) = path.strip_prefix(&self.root) else {
                    continue;
                };
                let Some(rel) = rel.to_str() else { continue };
                let key = rel
                    .strip_suffix(JOURNAL_SUFFIX)
                    .or_else(|| rel.strip_suffix(PART_SUFFIX))
                    .unwrap_or(rel)
                    .to_string();
                out.push((path, key));
            }
        }
        Ok(out)
    }

    /// Bytes available to this process on the storage's filesystem.
    pub fn free_bytes(&self) -> io::Result<u64> {
        let st = rustix::fs::statvfs(&self.root).map_err(io::Error::from)?;
        Ok(st.f_bavail.saturating_mul(st.f_frsize))
    }

    /// Checks that the root is a writable directory (health check).
    pub async fn check(&self) -> io::Result<()> {
        // A name of its own per call: concurrent checks must not remove
        // each other's probe (that answered 503 to a healthy server).
        let probe = self
            .root
            .join(format!(".liverec-health-{}", uuid::Uuid::new_v4().simple()));
        tokio::fs::write(&probe, b"ok").await?;
        tokio::fs::remove_file(&probe).await?;
        match &self.bucket {
            Some(b) => b.check().await,
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn concurrent_health_checks_all_pass() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(&dir.path().join("rec")).unwrap();
        let checks: Vec<_> = (0..64)
            .map(|_| {
                let s = s.clone();
                tokio::spawn(async move { s.check().await })
            })
            .collect();
        for c in checks {
            c.await.unwrap().unwrap();
        }
        let left = std::fs::read_dir(dir.path().join("rec")).unwrap().count();
        assert_eq!(left, 0, "no probe left behind");
    }

    #[tokio::test]
    async fn spool_commit_read_delete() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(&dir.path().join("rec")).unwrap();
        s.check().await.unwrap();
        let spool = s.spool_path("a/b/c.flv").unwrap();
        assert!(spool.to_string_lossy().ends_with("a/b/c.flv.part"));
        tokio::fs::write(&spool, b"hello").await.unwrap();
        assert!(
            s.open_read("a/b/c.flv").await.unwrap().is_none(),
            "not visible before commit"
        );
        assert_eq!(s.commit(&spool, "a/b/c.flv").await.unwrap(), 5);
        let (_, len) = s.open_read("a/b/c.flv").await.unwrap().unwrap();
        assert_eq!(len, 5);
        assert_eq!(s.size("a/b/c.flv").await.unwrap(), Some(5));
        s.delete("a/b/c.flv").await.unwrap();
        s.delete("a/b/c.flv").await.unwrap();
        assert!(s.free_bytes().unwrap() > 0);
        assert_eq!(s.size("a/b/c.flv").await.unwrap(), None);
    }

    #[tokio::test]
    async fn with_a_bucket_the_directory_is_a_spool() {
        let Some(b) = test_bucket_settings(0) else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(&dir.path().join("spool"))
            .unwrap()
            .with_bucket(Bucket::open(&b).unwrap());
        s.check().await.unwrap();
        let spool = s.spool_path("d/a/s/x.mp3").unwrap();
        tokio::fs::write(&spool, b"mp3 bytes").await.unwrap();
        s.commit(&spool, "d/a/s/x.mp3").await.unwrap();
        assert_eq!(
            s.stored_size("d/a/s/x.mp3").await.unwrap(),
            None,
            "not yet up"
        );
        assert_eq!(s.upload("d/a/s/x.mp3").await.unwrap(), 9);
        assert_eq!(s.stored_size("d/a/s/x.mp3").await.unwrap(), Some(9));
        s.drop_local("d/a/s/x.mp3").await.unwrap();
        assert_eq!(
            s.size("d/a/s/x.mp3").await.unwrap(),
            None,
            "local copy gone"
        );
        assert_eq!(s.stored_size("d/a/s/x.mp3").await.unwrap(), Some(9));
        assert!(s.stored_size("../x").await.is_err(), "keys are checked");
        s.delete("d/a/s/x.mp3").await.unwrap();
        assert_eq!(s.stored_size("d/a/s/x.mp3").await.unwrap(), None);
    }

    #[test]
    fn local_files_are_listed_with_their_keys() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(dir.path()).unwrap();
        std::fs::write(s.spool_path("d/a/x.flv").unwrap(), b"1").unwrap();
        std::fs::write(s.journal_path("d/a/y.mp4").unwrap(), b"2").unwrap();
        std::fs::write(s.path_of("d/a/z.ts").unwrap(), b"3").unwrap();
        std::fs::create_dir_all(dir.path().join(".liverec-nodes")).unwrap();
        std::fs::write(dir.path().join(".liverec-nodes/n1"), b"").unwrap();
        let mut keys: Vec<_> = s
            .local_files()
            .unwrap()
            .into_iter()
            .map(|(_, k)| k)
            .collect();
        keys.sort();
        assert_eq!(keys, ["d/a/x.flv", "d/a/y.mp4", "d/a/z.ts"]);
    }

    #[tokio::test]
    async fn refuses_escaping_keys() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(dir.path()).unwrap();
        for k in [
            "",
            "../x",
            "/etc/passwd",
            "a/../../x",
            "a/./b",
            "x.flv.part",
        ] {
            assert!(s.open_read(k).await.is_err(), "{k}");
        }
    }
}
