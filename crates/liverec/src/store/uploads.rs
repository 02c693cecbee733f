//! Multipart uploads of files being recorded into a bucket (S3 storage):
//! the upload id and object key of each open file, and every part sent so
//! far with its size, ETag and the media time it ends at. Written by the
//! recording node as parts complete, read by a peer that takes the node
//! over after its death, which completes the upload from these rows alone
//! (`recorder::recovery`). The rows go with the file's final row.

use sqlx::Row;

use super::{Result, Store};

/// One part of a recorded upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadPart {
    /// Part index, 0-based (S3's part number minus one).
    pub index: i64,
    /// Bytes in the part.
    pub size: i64,
    /// The ETag the bucket answered for it.
    pub etag: String,
    /// Media time at the end of the part, ms from the file's start.
    pub media_ms: i64,
    /// False for the growing last part sent early (`s3_part_seconds`),
    /// which a later upload of the same index replaces.
    pub sealed: bool,
}

/// The multipart upload of one open file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileUpload {
    /// Object key (storage key).
    pub storage_key: String,
    /// The bucket's upload id.
    pub upload_id: String,
    /// Parts sent, by index.
    pub parts: Vec<UploadPart>,
}

impl FileUpload {
    /// The parts from index 0 on without a hole (a completed upload must
    /// list parts 1..n).
    pub fn contiguous(&self) -> Vec<UploadPart> {
        self.parts
            .iter()
            .enumerate()
            .take_while(|(i, p)| p.index == *i as i64)
            .map(|(_, p)| p.clone())
            .collect()
    }
}

impl Store {
    /// Records that `file_id`'s object `key` is uploaded as `upload_id`.
    pub async fn record_upload(
        &self,
        file_id: &str,
        key: &str,
        upload_id: &str,
        now_ms: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO file_uploads (file_id, storage_key, upload_id, created_ms) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (file_id) DO UPDATE SET \
             storage_key = excluded.storage_key, upload_id = excluded.upload_id",
        )
        .bind(file_id)
        .bind(key)
        .bind(upload_id)
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records (or replaces) a part of `file_id`'s upload.
    pub async fn record_part(&self, file_id: &str, p: &UploadPart) -> Result<()> {
        sqlx::query(
            "INSERT INTO file_upload_parts (file_id, part, size, etag, media_ms, sealed) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (file_id, part) DO UPDATE SET \
             size = excluded.size, etag = excluded.etag, media_ms = excluded.media_ms, \
             sealed = excluded.sealed",
        )
        .bind(file_id)
        .bind(p.index)
        .bind(p.size)
        .bind(&p.etag)
        .bind(p.media_ms)
        .bind(i64::from(p.sealed))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The recorded upload of `file_id`, parts in order.
    pub async fn file_upload(&self, file_id: &str) -> Result<Option<FileUpload>> {
        let Some(head) =
            sqlx::query("SELECT storage_key, upload_id FROM file_uploads WHERE file_id = $1")
                .bind(file_id)
                .fetch_optional(self.pool())
                .await?
        else {
            return Ok(None);
        };
        let rows = sqlx::query(
            "SELECT part, size, etag, media_ms, sealed FROM file_upload_parts \
             WHERE file_id = $1 ORDER BY part",
        )
        .bind(file_id)
        .fetch_all(self.pool())
        .await?;
        let parts = rows
            .iter()
            .map(|r| {
                Ok(UploadPart {
                    index: r.try_get("part")?,
                    size: r.try_get("size")?,
                    etag: r.try_get("etag")?,
                    media_ms: r.try_get("media_ms")?,
                    sealed: r.try_get::<i64, _>("sealed")? != 0,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(FileUpload {
            storage_key: head.try_get("storage_key")?,
            upload_id: head.try_get("upload_id")?,
            parts,
        }))
    }

    /// Forgets `file_id`'s upload (the file was sent whole instead).
    pub async fn forget_upload(&self, file_id: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        forget_upload_in(&mut tx, file_id).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Deletes the upload rows of `file_id` inside `tx`.
pub(super) async fn forget_upload_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    file_id: &str,
) -> Result<()> {
    for sql in [
        "DELETE FROM file_upload_parts WHERE file_id = $1",
        "DELETE FROM file_uploads WHERE file_id = $1",
    ] {
        sqlx::query(sql).bind(file_id).execute(&mut **tx).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::files::tests::file;
    use super::super::test_support::{stores, two_accounts};
    use super::*;
    use crate::store::FileStatus;

    fn part(index: i64, size: i64, sealed: bool) -> UploadPart {
        UploadPart {
            index,
            size,
            etag: format!("\"e{index}-{size}\""),
            media_ms: size / 10,
            sealed,
        }
    }

    #[tokio::test]
    async fn a_dead_nodes_file_is_claimed_only_while_the_node_is_swept() {
        for (s, _db) in stores().await {
            two_accounts(&s).await;
            let (a, b) = (s.for_node("a"), s.for_node("b"));
            a.node_started(1_000).await.unwrap();
            b.node_started(1_000).await.unwrap();
            let f = file("cl1", "a", "1", 10);
            a.insert_file(&f, 10).await.unwrap();
            let owner = |x: Option<(FileStatus, String)>| x.map(|(_, n)| n);
            assert!(!b.claim_file("cl1", "a").await.unwrap(), "a is alive");
            b.heartbeat(5_000).await.unwrap();
            assert!(b.sweep_node("a", 2_000, 5_000).await.unwrap());
            assert!(b.claim_file("cl1", "a").await.unwrap());
            assert!(!b.claim_file("cl1", "a").await.unwrap(), "claimed once");
            assert_eq!(
                owner(a.file_by_key("k/cl1.flv").await.unwrap()).as_deref(),
                Some("b")
            );
            assert!(
                a.open_files("a").await.unwrap().is_empty(),
                "not a's any more"
            );
            // Finishing failed: handed back; a's restart clears the mark,
            // and then b cannot take it again.
            b.release_file("cl1", "a").await.unwrap();
            assert_eq!(a.open_files("a").await.unwrap().len(), 1);
            a.node_started(6_000).await.unwrap();
            assert!(!b.claim_file("cl1", "a").await.unwrap(), "a is back");
            assert_eq!(a.file_by_key("k/none.flv").await.unwrap(), None);
        }
    }

    #[tokio::test]
    async fn parts_are_recorded_replaced_and_go_with_the_final_row() {
        for (s, _db) in stores().await {
            two_accounts(&s).await;
            let f = file("up1", "a", "1", 10);
            s.insert_file(&f, 10).await.unwrap();
            assert_eq!(s.file_upload("up1").await.unwrap(), None);
            s.record_upload("up1", "k/up1.flv", "U1", 20).await.unwrap();
            s.record_part("up1", &part(1, 800, true)).await.unwrap();
            s.record_part("up1", &part(0, 100, false)).await.unwrap();
            s.record_part("up1", &part(0, 900, true)).await.unwrap();
            s.record_part("up1", &part(3, 50, false)).await.unwrap();
            let u = s.file_upload("up1").await.unwrap().unwrap();
            assert_eq!(
                (u.storage_key.as_str(), u.upload_id.as_str()),
                ("k/up1.flv", "U1")
            );
            assert_eq!(u.parts.len(), 3);
            assert_eq!(u.parts[0], part(0, 900, true), "replaced");
            assert_eq!(u.contiguous(), [part(0, 900, true), part(1, 800, true)]);

            // A peer claims the dead node's file; the final row takes the
            // upload rows with it, and only the first completion counts.
            let mut done = f.clone();
            done.status = FileStatus::Recovered;
            assert!(s.complete_file(&done, &[]).await.unwrap());
            assert_eq!(s.file_upload("up1").await.unwrap(), None);
            done.status = FileStatus::Finished;
            assert!(!s.complete_file(&done, &[]).await.unwrap(), "final once");
            let (_, rows) = s
                .list_files(
                    "a",
                    &crate::store::FileFilter {
                        limit: 10,
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            assert_eq!(rows[0].status, FileStatus::Recovered);
        }
    }
}
