//! Schema migrations, one ordered list per dialect. Applied at open inside a
//! transaction each; the applied version is kept in `liverec_schema`.

use sqlx::Row;

use super::{Dialect, Result, Store};

/// The schema steps, written for SQLite; PostgreSQL differs only in the
/// auto-increment column (see [`for_dialect`]).
const STEPS: &[&str] = &[
    r#"
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE TABLE api_keys (
    secret_id TEXT PRIMARY KEY,
    secret_key TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    created_ms BIGINT NOT NULL
);
CREATE TABLE tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    family TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    domain TEXT NOT NULL,
    app TEXT NOT NULL,
    stream TEXT NOT NULL,
    start_ms BIGINT NOT NULL,
    end_ms BIGINT NOT NULL,
    highlight BIGINT NOT NULL,
    record_type TEXT NOT NULL,
    formats TEXT NOT NULL,
    stream_param TEXT NOT NULL,
    record_interval_s BIGINT NOT NULL,
    storage_time_s BIGINT NOT NULL,
    request_hash TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    stopped_ms BIGINT,
    deleted_ms BIGINT
);
CREATE INDEX tasks_by_account ON tasks(account_id, created_ms);
CREATE INDEX tasks_by_hash ON tasks(account_id, request_hash);
CREATE TABLE files (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    task_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    domain TEXT NOT NULL,
    app TEXT NOT NULL,
    stream TEXT NOT NULL,
    file_format TEXT NOT NULL,
    record_type TEXT NOT NULL,
    start_ms BIGINT NOT NULL,
    end_ms BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    file_size BIGINT NOT NULL,
    storage_key TEXT NOT NULL,
    spool_path TEXT NOT NULL,
    status TEXT NOT NULL,
    stream_param TEXT NOT NULL,
    media_info TEXT NOT NULL,
    storage_time_s BIGINT NOT NULL,
    expire_ms BIGINT,
    created_ms BIGINT NOT NULL,
    deleted_ms BIGINT
);
CREATE INDEX files_by_account ON files(account_id, start_ms);
CREATE INDEX files_by_status ON files(status);
"#,
    // 2: the new task API, templates, rules, stream sessions and controls,
    // push authentication.
    r#"
ALTER TABLE tasks ADD COLUMN public_id TEXT;
ALTER TABLE tasks ADD COLUMN template_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN stream_type BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX tasks_by_public_id ON tasks(public_id);
CREATE TABLE templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    deleted_ms BIGINT
);
CREATE INDEX templates_by_account ON templates(account_id);
CREATE TABLE rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    domain TEXT NOT NULL,
    app TEXT NOT NULL,
    stream TEXT NOT NULL,
    template_id BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);
CREATE UNIQUE INDEX rules_by_target ON rules(account_id, domain, app, stream);
CREATE TABLE push_auth (
    account_id TEXT NOT NULL REFERENCES accounts(id),
    domain TEXT NOT NULL,
    enabled BIGINT NOT NULL,
    master_key TEXT NOT NULL,
    backup_key TEXT NOT NULL,
    auth_delta_s BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (account_id, domain)
);
CREATE TABLE stream_sessions (
    id TEXT PRIMARY KEY,
    domain TEXT NOT NULL,
    app TEXT NOT NULL,
    stream TEXT NOT NULL,
    client_addr TEXT NOT NULL,
    stream_param TEXT NOT NULL,
    start_ms BIGINT NOT NULL,
    end_ms BIGINT,
    stop_reason TEXT NOT NULL,
    resolution TEXT NOT NULL
);
CREATE INDEX stream_sessions_by_start ON stream_sessions(start_ms);
CREATE TABLE stream_forbids (
    domain TEXT NOT NULL,
    app TEXT NOT NULL,
    stream TEXT NOT NULL,
    account_id TEXT NOT NULL,
    resume_ms BIGINT NOT NULL,
    reason TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (domain, app, stream)
);
"#,
    // 3: key rotation: an old key stays valid until expires_ms.
    r#"
ALTER TABLE api_keys ADD COLUMN expires_ms BIGINT;
"#,
    // 4: push domains and their owners; the account a publish session's
    // domain belonged to when it started (earlier sessions: the bootstrap
    // account's, as every domain was).
    r#"
CREATE TABLE domains (
    name TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    domain_type BIGINT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE INDEX domains_by_account ON domains(account_id, name);
ALTER TABLE stream_sessions ADD COLUMN account_id TEXT NOT NULL DEFAULT 'default';
CREATE INDEX stream_sessions_by_account ON stream_sessions(account_id, start_ms);
"#,
    // 5: callback templates (the notify URLs and key of an account) and
    // the rules binding one to (domain, app); AppName '' = every app.
    r#"
CREATE TABLE callback_templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    stream_begin_url TEXT NOT NULL,
    stream_end_url TEXT NOT NULL,
    record_url TEXT NOT NULL,
    record_status_url TEXT NOT NULL,
    snapshot_url TEXT NOT NULL,
    porn_censorship_url TEXT NOT NULL,
    stream_mix_url TEXT NOT NULL,
    push_exception_url TEXT NOT NULL,
    audio_audit_url TEXT NOT NULL,
    record_exception_url TEXT NOT NULL,
    record_exception_levels TEXT NOT NULL,
    callback_key TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);
CREATE INDEX callback_templates_by_account ON callback_templates(account_id, id);
CREATE TABLE callback_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    domain TEXT NOT NULL,
    app TEXT NOT NULL,
    template_id BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);
CREATE UNIQUE INDEX callback_rules_by_target ON callback_rules(account_id, domain, app);
CREATE INDEX callback_rules_by_template ON callback_rules(account_id, template_id);
"#,
    // 6: the quota counts visit only the account's tasks of one family created
    // today, or ending after the new task starts.
    r#"
CREATE INDEX tasks_created_by_family ON tasks(account_id, family, created_ms);
CREATE INDEX tasks_ending_by_family ON tasks(account_id, family, end_ms);
"#,
    // 7: the callback outbox: one row per event to deliver, written in the
    // transaction of the change it announces; `seq` orders the events of a
    // stream, `lease_until_ms`/`lease_owner` let one node at a time try one.
    r#"
CREATE TABLE callback_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    event_type BIGINT NOT NULL,
    stream_key TEXT NOT NULL,
    domain TEXT NOT NULL,
    app TEXT NOT NULL,
    stream TEXT NOT NULL,
    url TEXT NOT NULL,
    sign_key TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_ms BIGINT NOT NULL,
    lease_until_ms BIGINT NOT NULL,
    lease_owner TEXT NOT NULL,
    last_http_status BIGINT NOT NULL,
    last_error TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    expire_ms BIGINT NOT NULL,
    done_ms BIGINT
);
CREATE UNIQUE INDEX callback_outbox_by_event ON callback_outbox(event_id);
CREATE INDEX callback_outbox_due ON callback_outbox(status, next_attempt_ms);
CREATE INDEX callback_outbox_by_stream ON callback_outbox(stream_key, status, seq);
CREATE INDEX callback_outbox_by_account ON callback_outbox(account_id, created_ms)
"#,
    // 8: several nodes on one database: each node's heartbeat (`seen_ms`;
    // `swept_ms` once a peer took over after it died), the cluster-wide
    // registry of live streams (one row per stream: the node that holds the
    // publisher), and the node that wrote each session and file.
    r#"
CREATE TABLE nodes (
    node_id TEXT PRIMARY KEY,
    started_ms BIGINT NOT NULL,
    seen_ms BIGINT NOT NULL,
    swept_ms BIGINT
);
CREATE TABLE live_streams (
    domain TEXT NOT NULL,
    app TEXT NOT NULL,
    stream TEXT NOT NULL,
    account_id TEXT NOT NULL,
    node_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    started_ms BIGINT NOT NULL,
    PRIMARY KEY (domain, app, stream)
);
CREATE INDEX live_streams_by_node ON live_streams(node_id);
CREATE INDEX live_streams_by_account ON live_streams(account_id, domain, app, stream);
ALTER TABLE stream_sessions ADD COLUMN node_id TEXT NOT NULL DEFAULT '';
ALTER TABLE files ADD COLUMN node_id TEXT NOT NULL DEFAULT '';
CREATE INDEX stream_sessions_open_by_node ON stream_sessions(node_id, end_ms);
CREATE INDEX files_by_node_status ON files(node_id, status)
"#,
    // 9: the multipart upload of each file being recorded into a bucket and
    // the parts sent so far, so a peer can complete it after the recording
    // node died with its spool.
    r#"
CREATE TABLE file_uploads (
    file_id TEXT PRIMARY KEY,
    storage_key TEXT NOT NULL,
    upload_id TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE TABLE file_upload_parts (
    file_id TEXT NOT NULL,
    part BIGINT NOT NULL,
    size BIGINT NOT NULL,
    etag TEXT NOT NULL,
    media_ms BIGINT NOT NULL,
    sealed BIGINT NOT NULL,
    PRIMARY KEY (file_id, part)
);
CREATE INDEX files_by_storage_key ON files(storage_key)
"#,
    // 10: a number every change of the rows each API request reads (keys,
    // domain claims, forbids) bumps, by whichever process or node makes it:
    // servers poll it to keep their copy of those rows fresh
    // (`store::lookups`). SQLite triggers are per row; the PostgreSQL
    // version is in `POSTGRES_STEPS`.
    r#"
CREATE TABLE lookup_revision (id INTEGER PRIMARY KEY, n BIGINT NOT NULL);
INSERT INTO lookup_revision (id, n) VALUES (1, 0);
CREATE TRIGGER api_keys_insert_bumps AFTER INSERT ON api_keys BEGIN UPDATE lookup_revision SET n = n + 1; END;
CREATE TRIGGER api_keys_update_bumps AFTER UPDATE ON api_keys BEGIN UPDATE lookup_revision SET n = n + 1; END;
CREATE TRIGGER api_keys_delete_bumps AFTER DELETE ON api_keys BEGIN UPDATE lookup_revision SET n = n + 1; END;
CREATE TRIGGER domains_insert_bumps AFTER INSERT ON domains BEGIN UPDATE lookup_revision SET n = n + 1; END;
CREATE TRIGGER domains_update_bumps AFTER UPDATE ON domains BEGIN UPDATE lookup_revision SET n = n + 1; END;
CREATE TRIGGER domains_delete_bumps AFTER DELETE ON domains BEGIN UPDATE lookup_revision SET n = n + 1; END;
CREATE TRIGGER stream_forbids_insert_bumps AFTER INSERT ON stream_forbids BEGIN UPDATE lookup_revision SET n = n + 1; END;
CREATE TRIGGER stream_forbids_update_bumps AFTER UPDATE ON stream_forbids BEGIN UPDATE lookup_revision SET n = n + 1; END;
CREATE TRIGGER stream_forbids_delete_bumps AFTER DELETE ON stream_forbids BEGIN UPDATE lookup_revision SET n = n + 1; END
"#,
    // 11: listing files (DescribeRecordFiles) counts and pages the
    // account's files that are not deleted, mostly of one stream: indexes
    // in the listing's order with `deleted_ms` among the equality columns
    // let the count read only the index and the page stop after LIMIT rows
    // (an account's 1,000 files of one stream: the count 508 → 32 µs, the
    // page 126 → 41 µs). Not partial indexes: SQLite re-prepares a
    // statement at every new binding when a partial index could serve it.
    // And the retry check of a create (same account and request hash within
    // 60 s) seeks by hash and time: on (account_id, request_hash) alone,
    // SQLite walked the account's tasks of the last 60 s instead, which at
    // 1,000 creates/s was 60,000 rows per create. `tasks_by_account` is
    // served by the per-family indexes now; one index less to write per
    // create.
    r#"
CREATE INDEX files_live_by_stream ON files(account_id, stream, deleted_ms, start_ms, id);
CREATE INDEX files_live_by_account ON files(account_id, deleted_ms, start_ms, id);
DROP INDEX tasks_by_hash;
DROP INDEX tasks_by_account;
CREATE INDEX tasks_by_hash_time ON tasks(account_id, request_hash, created_ms)
"#,
    // 12: v1 nonces seen by any node of a cluster (PostgreSQL only writes
    // here): a request replayed through another node inside the signature
    // window is refused as on the node that saw it first.
    r#"
CREATE TABLE api_nonces (
    secret_id TEXT NOT NULL,
    nonce BIGINT NOT NULL,
    ts BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    PRIMARY KEY (secret_id, nonce, ts)
);
CREATE INDEX api_nonces_by_expiry ON api_nonces(expires_ms)
"#,
];

/// Steps whose PostgreSQL text differs by more than the serial type: (step
/// number, SQL).
const POSTGRES_STEPS: &[(usize, &str)] = &[(
    10,
    r#"
CREATE TABLE lookup_revision (id INTEGER PRIMARY KEY, n BIGINT NOT NULL);
INSERT INTO lookup_revision (id, n) VALUES (1, 0);
CREATE FUNCTION liverec_bump_lookup_revision() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE lookup_revision SET n = n + 1; RETURN NULL; END $$;
CREATE TRIGGER api_keys_bumps AFTER INSERT OR UPDATE OR DELETE ON api_keys FOR EACH STATEMENT EXECUTE FUNCTION liverec_bump_lookup_revision();
CREATE TRIGGER domains_bumps AFTER INSERT OR UPDATE OR DELETE ON domains FOR EACH STATEMENT EXECUTE FUNCTION liverec_bump_lookup_revision();
CREATE TRIGGER stream_forbids_bumps AFTER INSERT OR UPDATE OR DELETE ON stream_forbids FOR EACH STATEMENT EXECUTE FUNCTION liverec_bump_lookup_revision()
"#,
)];

/// SQLite's never-reused integer key, the PostgreSQL equivalent.
const SQLITE_SERIAL: &str = "INTEGER PRIMARY KEY AUTOINCREMENT";
const POSTGRES_SERIAL: &str = "BIGSERIAL PRIMARY KEY";

fn for_dialect(number: usize, step: &'static str, dialect: Dialect) -> String {
    match dialect {
        Dialect::Sqlite => step.to_string(),
        Dialect::Postgres => match POSTGRES_STEPS.iter().find(|(n, _)| *n == number) {
            Some((_, sql)) => sql.to_string(),
            None => step.replace(SQLITE_SERIAL, POSTGRES_SERIAL),
        },
    }
}

/// The statements of a step: they end with `;` at the end of a line (a
/// trigger's body holds `;` inside a line).
fn statements(sql: &str) -> impl Iterator<Item = &str> {
    sql.split(";\n").map(str::trim).filter(|s| !s.is_empty())
}

/// Brings the schema up to date.
pub(super) async fn apply(store: &Store) -> Result<()> {
    let pool = store.pool();
    sqlx::query("CREATE TABLE IF NOT EXISTS liverec_schema (version BIGINT NOT NULL)")
        .execute(pool)
        .await?;
    let mut tx = pool.begin().await?;
    if store.dialect == Dialect::Postgres {
        // Serialize concurrent node start-ups on one shared database.
        sqlx::query("LOCK TABLE liverec_schema IN EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
    }
    let row = sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM liverec_schema")
        .fetch_one(&mut *tx)
        .await?;
    let current: i64 = row.try_get("v")?;
    for (i, step) in STEPS.iter().enumerate() {
        let version = i as i64 + 1;
        if version <= current {
            continue;
        }
        let sql = for_dialect(i + 1, step, store.dialect);
        for stmt in statements(&sql) {
            sqlx::query(super::dynamic(stmt.to_string()))
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("INSERT INTO liverec_schema (version) VALUES ($1)")
            .bind(version)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::store;

    #[tokio::test]
    async fn applies_once_and_reopens() {
        let (s, dir) = store().await;
        s.ping().await.unwrap();
        s.close().await;
        let url = format!("sqlite://{}/t.db", dir.path().display());
        let again = super::Store::open(&url).await.unwrap();
        again.ping().await.unwrap();
    }
}
