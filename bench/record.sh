#!/usr/bin/env bash
# Recording throughput of nginx-rtmp and liverec, one after the other under
# the same load (the project's load generator, liverec-push --streams).
#   usage: bench/record.sh N FORMAT SECONDS [--source 720p|600k] [--preroll S] [--no-nginx]
# Builds the release binaries first; see bench/record.py for what is measured.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 3 ]; then
  sed -n '2,5p' "$0"
  exit 2
fi
cargo build --release --locked -p liverec -p liverec-push >&2
exec python3 bench/record.py "$@"
