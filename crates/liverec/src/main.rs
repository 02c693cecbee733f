//! The `liverec` command line: `serve` (and `serve --print-config`), `keys
//! create|list|rotate|revoke` and `domains add|list|remove`. Parses flags, loads the configuration (warning
//! about `LIVEREC_*` variables it does not know), sets up logging and metrics, and hands over to
//! the library.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use liverec::config::{Config, Overrides};

#[derive(Parser, Debug)]
#[command(
    name = "liverec",
    version,
    about = "Live-stream recording server with a Tencent Cloud Live compatible API"
)]
struct Cli {
    /// TOML configuration file.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Data directory (database, credentials, records).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server.
    Serve {
        /// API + file server listen address (host:port).
        #[arg(long)]
        api_listen: Option<String>,
        /// RTMP listen address (host:port).
        #[arg(long)]
        rtmp_listen: Option<String>,
        /// Print the merged configuration (defaults, file, environment,
        /// flags) as TOML with secrets masked, and exit.
        #[arg(long)]
        print_config: bool,
    },
    /// Manage API credentials.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Manage push domains and the accounts that own them.
    Domains {
        #[command(subcommand)]
        action: DomainsAction,
    },
}

#[derive(Subcommand, Debug)]
enum DomainsAction {
    /// Give a push domain to an account (refused when another owns it).
    Add {
        /// The domain (normalized: lower case, port and trailing dot removed).
        domain: String,
        /// The owning account's id (`liverec keys list`).
        #[arg(long, default_value = liverec::store::BOOTSTRAP_ACCOUNT)]
        account: String,
    },
    /// List claimed domains and their accounts (every other domain belongs
    /// to the bootstrap account).
    List,
    /// Release a domain: it belongs to the bootstrap account again.
    Remove {
        /// The domain.
        domain: String,
    },
}

#[derive(Subcommand, Debug)]
enum KeysAction {
    /// Create a new account with a new SecretId/SecretKey and print them.
    Create {
        /// A name for the account.
        #[arg(long, default_value = "account")]
        name: String,
    },
    /// List SecretIds and their accounts (never the keys).
    List,
    /// Give the key's account a new key; the old one keeps working for
    /// `key_rotation_grace_seconds` (default a day).
    Rotate {
        /// The SecretId to replace.
        secret_id: String,
    },
    /// Delete a key at once.
    Revoke {
        /// The SecretId to delete.
        secret_id: String,
    },
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("LIVEREC_LOG_FORMAT").is_ok_and(|v| v == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// A Unix time in ms as RFC 3339 UTC.
fn format_ms(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

/// Waits until running servers have seen a change of keys or domains
/// (they refresh their copy of those rows within this time), so the change
/// is in force everywhere once the command reports it.
async fn settle() {
    tokio::time::sleep(liverec::store::LOOKUP_MAX_STALE).await;
}

fn now_ms() -> i64 {
    liverec::clock::Clock::now_ms(&liverec::clock::SystemClock)
}

async fn domains(store: &liverec::store::Store, action: DomainsAction) -> anyhow::Result<()> {
    use liverec::store::Claim;
    use liverec::task::normalize_domain;
    match action {
        DomainsAction::Add { domain, account } => {
            let name = normalize_domain(&domain);
            if !liverec::task::is_domain_name(&name) {
                anyhow::bail!("{domain:?} is not a valid domain name");
            }
            if !store.account_exists(&account).await? {
                anyhow::bail!("no account {account} (see `liverec keys list`)");
            }
            match store.claim_domain(&name, &account, now_ms()).await? {
                Claim::Added => {
                    settle().await;
                    println!("{name} belongs to account {account}")
                }
                Claim::AlreadyMine => println!("{name} already belongs to account {account}"),
                Claim::Taken(owner) => {
                    anyhow::bail!("{name} belongs to account {owner}; remove it first")
                }
            }
        }
        DomainsAction::List => {
            println!("{:<40} {:<24} ADDED", "DOMAIN", "ACCOUNT");
            for d in store.domains(None).await? {
                println!(
                    "{:<40} {:<24} {}",
                    d.name,
                    d.account_id,
                    format_ms(d.created_ms)
                );
            }
        }
        DomainsAction::Remove { domain } => {
            let name = normalize_domain(&domain);
            if !store.release_domain(&name, None).await? {
                anyhow::bail!("no claimed domain {name}");
            }
            settle().await;
            println!("removed {name}; it belongs to the bootstrap account again");
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut overrides = Overrides {
        data_dir: cli.data_dir.clone(),
        ..Default::default()
    };
    if let Command::Serve {
        api_listen,
        rtmp_listen,
        ..
    } = &cli.command
    {
        overrides.api_listen = api_listen.clone();
        overrides.rtmp_listen = rtmp_listen.clone();
    }
    let config = Config::load(cli.config.as_deref(), &overrides)?;
    if let Command::Serve {
        print_config: true, ..
    } = &cli.command
    {
        print!("{}", config.masked_toml()?);
        return Ok(());
    }
    let settings = config.validate()?;
    init_tracing();
    // Variables that are not valid UTF-8 cannot be liverec's settings.
    let env = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().unwrap_or_default())));
    for unknown in liverec::config::unknown_env(env) {
        tracing::warn!(setting = %unknown.name, "{unknown}");
    }
    match cli.command {
        Command::Serve { .. } => {
            let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
                .install_recorder()
                .map_err(|e| tracing::warn!(error = %e, "metrics disabled"))
                .ok();
            if let Err(e) = liverec::server::serve(settings, metrics).await {
                tracing::error!(error = format!("{e:#}"), "liverec failed");
                return Err(e);
            }
            Ok(())
        }
        Command::Keys { action } => {
            liverec::credentials::create_data_dir(&settings.data_dir)?;
            let store = liverec::store::Store::open(&settings.database_url).await?;
            match action {
                KeysAction::Create { name } => {
                    let k = liverec::credentials::create(&store, &name, now_ms()).await?;
                    println!(
                        "Account:   {} ({name})\nSecretId:  {}\nSecretKey: {}",
                        k.account_id, k.secret_id, k.secret_key
                    );
                }
                KeysAction::List => {
                    println!(
                        "{:<40} {:<24} {:<24} NAME",
                        "SECRET_ID", "ACCOUNT", "EXPIRES"
                    );
                    for k in store.list_keys().await? {
                        let expires = k.expires_ms.map_or("-".to_string(), format_ms);
                        println!(
                            "{:<40} {:<24} {:<24} {}",
                            k.secret_id, k.account_id, expires, k.account_name
                        );
                    }
                }
                KeysAction::Rotate { secret_id } => {
                    let grace = settings.key_rotation_grace_ms;
                    let rotated =
                        liverec::credentials::rotate(&store, &secret_id, now_ms(), grace).await?;
                    if rotated.is_some() {
                        settle().await;
                    }
                    match rotated {
                        Some(r) => println!(
                            "Account:   {}\nSecretId:  {}\nSecretKey: {}\n{secret_id} stays valid until {}",
                            r.key.account_id,
                            r.key.secret_id,
                            r.key.secret_key,
                            format_ms(r.old_expires_ms)
                        ),
                        None => anyhow::bail!("no key {secret_id}"),
                    }
                }
                KeysAction::Revoke { secret_id } => {
                    if !store.revoke_key(&secret_id).await? {
                        anyhow::bail!("no key {secret_id}");
                    }
                    settle().await;
                    println!("revoked {secret_id}");
                }
            }
            store.close().await;
            Ok(())
        }
        Command::Domains { action } => {
            liverec::credentials::create_data_dir(&settings.data_dir)?;
            let store = liverec::store::Store::open(&settings.database_url).await?;
            let result = domains(&store, action).await;
            store.close().await;
            result
        }
    }
}
