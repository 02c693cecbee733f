#!/usr/bin/env bash
# Signed API throughput and latency, SQLite and PostgreSQL (wrk with pre-signed TC3 requests).
#   usage: bench/api.sh [--seconds 10] [--connections 64] [--store sqlite|postgres|both]
# Builds the release binary first; see bench/api.py for what is measured.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 1; }
cargo build --release --locked -p liverec >&2
exec python3 bench/api.py "$@"
