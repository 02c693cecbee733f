#!/usr/bin/env bash
# CPU per A+B=C mix session at 640x360 and 1280x720, 30 fps, two inputs.
#   usage: bench/mix.sh [--window S] [--warmup S] [--sizes WxH,...]
# Builds the release binary first; see bench/mix.py for what is measured.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p liverec >&2
exec python3 bench/mix.py "$@"
