//! The `liverec-push` command line: parses the flags, sets up logging to
//! stderr, runs one push and turns its outcome into the exit status
//! (0 ok, 1 bad input, 2 usage error, 3 connection failed, 4 publish
//! rejected, 5 closed by the server). Everything else is the library's.

use clap::Parser;
use liverec_push::PushOptions;

/// Publish an FLV file over RTMP (exit 0 ok, 1 bad input, 3 connection
/// failed, 4 publish rejected, 5 closed by the server).
#[derive(Parser, Debug)]
#[command(name = "liverec-push", version)]
struct Cli {
    #[command(flatten)]
    push: PushOptions,
}

/// Human-readable logs on stderr (`RUST_LOG` filters; default `info`):
/// the publisher's output is read by people and tests, not collectors.
fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    init_tracing();
    if cli.push.streams.is_some() {
        match liverec_push::run_many(&cli.push).await {
            Ok(report) => {
                println!("{report}");
                if report.failed() > 0 {
                    eprintln!(
                        "liverec-push: {} of {} streams failed",
                        report.failed(),
                        report.streams.len()
                    );
                    std::process::exit(3);
                }
            }
            Err(e) => {
                eprintln!("liverec-push: {e}");
                std::process::exit(e.exit_code());
            }
        }
        return;
    }
    match liverec_push::run(&cli.push).await {
        Ok(report) => println!("liverec-push: {report}"),
        Err(e) => {
            eprintln!("liverec-push: {e}");
            std::process::exit(e.exit_code());
        }
    }
}
