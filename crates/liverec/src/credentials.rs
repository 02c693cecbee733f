//! API credentials: generation of SecretId/SecretKey pairs (each key its own
//! account), the bootstrap credential at first start, and the
//! `<data-dir>/credentials` file (mode 0600).

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

/// Makes sure a credential exists: the configured one, or on a first start
/// a generated one, written to `<data-dir>/credentials` and printed once.
pub async fn bootstrap(store: &Store, settings: &Settings, now_ms: i64) -> anyhow::Result<()> {
    if let Some((id, key)) = &settings.bootstrap {
        store
            .upsert_key("default", "default", id, key, now_ms)
            .await?;
        return Ok(());
    }
    if store.count_keys().await? > 0 {
        return Ok(());
    }
    let k = generate();
    store
        .create_account_with_key("default", "default", &k.secret_id, &k.secret_key, now_ms)
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
