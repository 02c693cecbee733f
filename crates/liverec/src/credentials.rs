//! API credentials: generation of SecretId/SecretKey pairs (each key its own
//! account), the bootstrap credential at first start (a changed configured
//! SecretId rotates the bootstrap account's key), key rotation with a grace
//! period and revocation, the `<data-dir>/credentials` file (mode 0600) and
//! the private data directory (0700) that holds it and the database.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use anyhow::Context;

use crate::config::Settings;
use crate::store::Store;

/// A new credential.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// Account id.
    pub account_id: String,
    /// SecretId (`AKID…`).
    pub secret_id: String,
    /// SecretKey.
    pub secret_key: String,
}

/// Generates a random credential (122 random bits per part, from the OS).
pub fn generate() -> NewKey {
    NewKey {
        account_id: format!("acct-{}", &uuid::Uuid::new_v4().simple().to_string()[..16]),
        secret_id: format!(
            "AKID{}",
            uuid::Uuid::new_v4().simple().to_string().to_uppercase()
        ),
        secret_key: uuid::Uuid::new_v4().simple().to_string(),
    }
}

/// Creates a new account with a new key.
pub async fn create(store: &Store, name: &str, now_ms: i64) -> anyhow::Result<NewKey> {
    let k = generate();
    store
        .create_account_with_key(&k.account_id, name, &k.secret_id, &k.secret_key, now_ms)
        .await?;
    Ok(k)
}

/// Creates the data directory (and missing parents) readable by the owner
/// only; an existing directory is left as the operator made it.
pub fn create_data_dir(path: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if path.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .with_context(|| format!("creating data directory {}", path.display()))
}

/// A rotated key: the new credential, and when the old one stops working.
#[derive(Debug, Clone)]
pub struct Rotated {
    /// The new credential (same account).
    pub key: NewKey,
    /// End of the old key's grace period, ms.
    pub old_expires_ms: i64,
}

/// Gives the account of `old_id` a new key; the old one keeps working for
/// `grace_ms`. None when `old_id` does not exist.
pub async fn rotate(
    store: &Store,
    old_id: &str,
    now_ms: i64,
    grace_ms: i64,
) -> anyhow::Result<Option<Rotated>> {
    let fresh = generate();
    let expires = now_ms.saturating_add(grace_ms);
    let account = store
        .rotate_key(old_id, &fresh.secret_id, &fresh.secret_key, now_ms, expires)
        .await?;
    Ok(account.map(|account_id| Rotated {
        key: NewKey {
            account_id,
            ..fresh
        },
        old_expires_ms: expires,
    }))
}

/// Makes sure a credential exists: the configured one, or on a first start
/// a generated one, written to `<data-dir>/credentials` and printed once.
pub async fn bootstrap(store: &Store, settings: &Settings, now_ms: i64) -> anyhow::Result<()> {
    if let Some((id, key)) = &settings.bootstrap {
        store
            .upsert_key(crate::store::BOOTSTRAP_ACCOUNT, "default", id, key, now_ms)
            .await?;
        return Ok(());
    }
    if store.count_keys().await? > 0 {
        return Ok(());
    }
    let k = generate();
    store
        .create_account_with_key(
            crate::store::BOOTSTRAP_ACCOUNT,
            "default",
            &k.secret_id,
            &k.secret_key,
            now_ms,
        )
        .await?;
    let path = settings.data_dir.join("credentials");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    writeln!(
        f,
        "LIVEREC_SECRET_ID={}\nLIVEREC_SECRET_KEY={}",
        k.secret_id, k.secret_key
    )?;
    println!(
        "liverec: generated an API credential (saved to {}):\n  SecretId:  {}\n  SecretKey: {}",
        path.display(),
        k.secret_id,
        k.secret_key
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_differ_and_look_right() {
        let a = generate();
        let b = generate();
        assert_ne!(a.secret_key, b.secret_key);
        assert!(a.secret_id.starts_with("AKID") && a.secret_id.len() == 36);
        assert_eq!(a.secret_key.len(), 32);
    }
}
