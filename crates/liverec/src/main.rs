//! The `liverec` command line: `serve` and `keys create|list`. Parses flags,
//! loads the configuration, sets up logging and metrics, and hands over to
//! the library.

use std::path::PathBuf;

use anyhow::Context;
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
    },
    /// Manage API credentials.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
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

fn now_ms() -> i64 {
    liverec::clock::Clock::now_ms(&liverec::clock::SystemClock)
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
    } = &cli.command
    {
        overrides.api_listen = api_listen.clone();
        overrides.rtmp_listen = rtmp_listen.clone();
    }
    let config = Config::load(cli.config.as_deref(), &overrides)?;
    let settings = config.validate()?;
    init_tracing();
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
            std::fs::create_dir_all(&settings.data_dir)
                .with_context(|| format!("creating {}", settings.data_dir.display()))?;
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
                    println!("{:<40} {:<24} NAME", "SECRET_ID", "ACCOUNT");
                    for k in store.list_keys().await? {
                        println!(
                            "{:<40} {:<24} {}",
                            k.secret_id, k.account_id, k.account_name
                        );
                    }
                }
            }
            store.close().await;
            Ok(())
        }
    }
}
