//! The database: accounts and keys, tasks, files, the callback outbox. One code path for SQLite
//! (the embedded default) and PostgreSQL through sqlx's `Any` driver; ids are
//! TEXT or BIGINT and times are BIGINT milliseconds since the epoch, because
//! `Any` has no uuid/time types. Only this module knows SQL.

mod accounts;
mod callback_rules;
mod direct;
mod domains;
mod files;
mod listing;
mod lookups;
mod migrations;
mod nodes;
mod outbox;
mod rules;
mod streams;
mod tasks;
mod templates;
mod uploads;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Row};

pub use accounts::{ApiKey, KeyListing};
pub use callback_rules::{
    CallbackFields, CallbackRule, CallbackTarget, CallbackTemplate, NewCallbackRule,
};
pub use domains::{BOOTSTRAP_ACCOUNT, Claim, Domain};
pub use files::{FileFilter, FileRow, FileStatus};
pub use lookups::{MAX_STALE as LOOKUP_MAX_STALE, POLL as LOOKUP_POLL};
pub use nodes::{Beat, ClusterLock, LiveEntry};
pub use outbox::{Delivery, DeliveryFilter, DeliveryStatus, NewEvent, OutboxStats, Route};
pub use rules::{NewRule, Rule};
pub use streams::{Forbid, NewSession, PushAuth, SessionQuery, SessionRow};
pub use tasks::{Inserted, NewTask, Task, TaskQuery, TaskSpec};
pub use templates::{Outcome, Refused, Template};
pub use uploads::{FileUpload, UploadPart};

/// A database failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The driver reported an error.
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
    /// A stored value could not be read back.
    #[error("database holds an invalid value: {0}")]
    Corrupt(String),
}

/// Result of store operations.
pub type Result<T> = std::result::Result<T, StoreError>;

/// Which SQL dialect the URL selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite (embedded default).
    Sqlite,
    /// PostgreSQL (shared store).
    Postgres,
}

/// Handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
    /// The node this process is (written on its sessions and files; see
    /// [`Store::for_node`]); empty until set.
    node: std::sync::Arc<str>,
    /// The copy of keys, domain claims and forbids (see [`lookups`]);
    /// shared by every handle of one pool.
    lookups: std::sync::Arc<lookups::Lookups>,
    /// Read-only SQLite connections read on the calling thread (see
    /// [`direct`]); None on PostgreSQL and in-memory SQLite.
    direct: Option<std::sync::Arc<direct::DirectReads>>,
}

/// Creates the SQLite database file with mode 0600 before SQLite does (its
/// journal and WAL files take the database file's mode), and tightens an
/// existing one that others could read.
fn private_db_file(url: &str) -> Result<()> {
    private_db_file_io(url).map_err(|e| StoreError::Sql(sqlx::Error::Io(e)))
}

fn private_db_file_io(url: &str) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    let path = std::path::Path::new(path);
    match std::fs::metadata(path) {
        Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)?;
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

impl Store {
    /// Connects (creating a SQLite file if needed) and applies migrations.
    pub async fn open(url: &str) -> Result<Store> {
        install_default_drivers();
        let dialect = if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else {
            Dialect::Postgres
        };
        if dialect == Dialect::Sqlite {
            private_db_file(url)?;
        }
        let url = match dialect {
            Dialect::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_string(),
        };
        let max = match dialect {
            Dialect::Sqlite => 4,
            Dialect::Postgres => 16,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        sqlx::query("PRAGMA busy_timeout = 10000")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA synchronous = NORMAL")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        if dialect == Dialect::Sqlite {
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        let direct = match dialect {
            Dialect::Sqlite => direct::DirectReads::new(&url).map(std::sync::Arc::new),
            Dialect::Postgres => None,
        };
        let store = Store {
            pool,
            dialect,
            node: "".into(),
            lookups: Default::default(),
            direct,
        };
        migrations::apply(&store).await?;
        Ok(store)
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        let row = sqlx::query("SELECT 1").fetch_one(&self.pool).await?;
        let one: i32 = row
            .try_get(0)
            .or_else(|_| row.try_get::<i64, _>(0).map(|v| v as i32))?;
        if one == 1 {
            Ok(())
        } else {
            Err(StoreError::Corrupt("SELECT 1 did not return 1".into()))
        }
    }

    /// The same database, writing `node` as the node of the publish
    /// sessions and files it inserts.
    pub fn for_node(&self, node: &str) -> Store {
        Store {
            node: node.into(),
            ..self.clone()
        }
    }

    /// The node this handle writes as.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// The dialect in use.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The direct SQLite reads, if this store has them.
    fn direct(&self) -> Option<&direct::DirectReads> {
        self.direct.as_deref()
    }

    /// The same store reading only through the pool (tests compare the
    /// two paths).
    #[cfg(test)]
    pub(crate) fn without_direct_reads(&self) -> Store {
        Store {
            direct: None,
            ..self.clone()
        }
    }

    /// Begins a transaction that will write. On SQLite it takes the write
    /// lock at once (`BEGIN IMMEDIATE`, waiting up to the busy timeout): a
    /// deferred transaction that read first and then writes after another
    /// connection committed fails at once with "database is locked" (its
    /// snapshot is stale), which a write racing start-up recovery hit.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.dialect {
            Dialect::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Dialect::Postgres => self.pool.begin().await?,
        })
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Reads the text column `column` through `parse`; a value `parse` does not
/// know makes the row [`StoreError::Corrupt`], named by `what`.
fn parsed<T>(
    r: &sqlx::any::AnyRow,
    column: &str,
    what: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T> {
    let text: String = sqlx::Row::try_get(r, column)?;
    parse(&text).ok_or_else(|| StoreError::Corrupt(format!("{what} {text:?}")))
}

/// `LIMIT n OFFSET m` as literals (negative values as 0). SQLite re-prepares
/// a statement at every binding of a parameter its plan depends on, which
/// LIMIT is; numbers formatted from integers cannot inject anything.
fn limit_offset(limit: i64, offset: i64) -> String {
    format!("LIMIT {} OFFSET {}", limit.max(0), offset.max(0))
}

/// Marks SQL assembled at run time as safe: callers build it only from
/// constants of this module (column lists, numbered placeholders) and bind
/// every value.
fn dynamic(sql: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(sql)
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::Store;
    pub(crate) use super::files::tests::file as file_row;

    /// A fresh SQLite store in a temporary directory.
    pub(crate) async fn store() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db", dir.path().display());
        (Store::open(&url).await.unwrap(), dir)
    }

    /// A fresh store of every dialect available: SQLite always, and
    /// PostgreSQL when `LIVEREC_TEST_POSTGRES_URL` names a server
    /// (`scripts/test.sh` starts one); each gets its own new database.
    pub(crate) async fn stores() -> Vec<(Store, Option<tempfile::TempDir>)> {
        let (sqlite, dir) = store().await;
        let mut v = vec![(sqlite, Some(dir))];
        if let Ok(admin_url) = std::env::var("LIVEREC_TEST_POSTGRES_URL") {
            v.push((postgres(&admin_url).await, None));
        }
        v
    }

    /// Accounts "a" and "b" with one key each.
    pub(crate) async fn two_accounts(s: &Store) {
        s.create_account_with_key("a", "a", "AKa", "k", 0)
            .await
            .unwrap();
        s.create_account_with_key("b", "b", "AKb", "k", 0)
            .await
            .unwrap();
    }

    /// Creates a new database on the server of `admin_url` and opens it.
    pub(crate) async fn postgres(admin_url: &str) -> Store {
        use sqlx::any::AnyPoolOptions;
        sqlx::any::install_default_drivers();
        let name = format!("liverec_t_{}", uuid::Uuid::new_v4().simple());
        let admin = AnyPoolOptions::new()
            .max_connections(1)
            .connect(admin_url)
            .await
            .unwrap();
        sqlx::query(super::dynamic(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap();
        Store::open(&format!("{base}/{name}")).await.unwrap()
    }
}
