#!/usr/bin/env python3
"""Signed API throughput and latency on the real binary: wrk with pre-signed TC3 requests.

usage: bench/api.py [--seconds 10] [--connections 64] [--threads 2] [--store sqlite|postgres|both]
                    [--binary target/release/liverec] [--creates 200000] [--check]

For each store (SQLite, the embedded default; PostgreSQL: a throwaway cluster started with
scripts/test-postgres.sh and stopped afterwards) a fresh liverec is started on free loopback
ports with the rate limits and task quotas raised (no publisher: the read actions answer from
the store and the hub). Then, for each action, wrk runs SECONDS with
CONNECTIONS connections over pre-signed TC3 requests (TC3 has no nonce, so a signed request
stays valid for its 5-minute window):
  - DescribeLiveStreamState: one request, repeated;
  - DescribeRecordFiles: one request (the account holds 1,000 file rows), repeated;
  - CreateLiveRecord: a distinct request per call (a new stream name each; scheduled an hour
    ahead, so nothing records), cycled without repeats within a run.
Then each action again, paced at about 1,000 requests/s (10 connections, each pausing 10 ms
after an answer; --no-paced skips it), for latency at a fixed load.
The Lua script counts answers carrying an "Error". Prints one JSON line per (store, action)
and a Markdown table of requests/s and wrk's latency percentiles. Needs wrk (Debian package).
Every process it starts is stopped by PID.
"""
import argparse
import datetime
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import formats  # noqa: E402  (helpers: stop, SECRET_ID, SECRET_KEY)

ROOT = formats.ROOT
LUA = r"""
local reqs = {}
local n, i, step, pause = 0, 0, 1, 0
errors = 0  -- a global: done() reads it from each thread
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  local file = args[1]
  for line in io.lines(file) do
    local ts, action, auth, body = line:match("^(%d+)\t(%w+)\t([^\t]+)\t(.*)$")
    local headers = {}
    headers["Content-Type"] = "application/json; charset=utf-8"
    headers["X-TC-Action"] = action
    headers["X-TC-Version"] = "2018-08-01"
    headers["X-TC-Timestamp"] = ts
    headers["Authorization"] = auth
    table.insert(reqs, wrk.format("POST", "/", headers, body))
  end
  n = #reqs
  step = tonumber(args[2]) or 1
  pause = tonumber(args[3]) or 0
  i = (id or 0) % n
end
function delay()
  return pause
end
function request()
  local r = reqs[i + 1]
  i = (i + step) % n
  return r
end
function response(status, headers, body)
  if status ~= 200 or string.find(body, '"Error"', 1, true) then
    errors = errors + 1
  end
end
function done(summary, latency, requests)
  local e = 0
  for _, t in ipairs(threads) do e = e + (t:get("errors") or 0) end
  io.write(string.format("RESULT %d %d %.3f %.3f %.3f %.3f %d\n", summary.requests, summary.duration,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e))
end
"""


def sign(host, action, body, ts):
    """TC3-HMAC-SHA256 Authorization for a POST JSON request to `host`."""
    date = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%d")
    canonical = ("POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:%s\n\n"
                 "content-type;host\n%s") % (host, hashlib.sha256(body.encode()).hexdigest())
    scope = f"{date}/live/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{ts}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"

    def h(key, msg):
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()
    k = h(h(h(("TC3" + formats.SECRET_KEY).encode(), date), "live"), "tc3_request")
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    return (f"TC3-HMAC-SHA256 Credential={formats.SECRET_ID}/{scope}, "
            f"SignedHeaders=content-type;host, Signature={sig}")


def post(host, action, params):
    body = json.dumps(params)
    ts = int(time.time())
    req = urllib.request.Request(f"http://{host}/", data=body.encode(), method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "X-TC-Action": action,
        "X-TC-Version": "2018-08-01", "X-TC-Timestamp": str(ts),
        "Authorization": sign(host, action, body, ts)})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())["Response"]


def cst(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone(datetime.timedelta(hours=8))) \
        .strftime("%Y-%m-%d %H:%M:%S")


def requests_file(host, action, count):
    """`count` pre-signed requests of `action`, one per line: ts, action, auth, body."""
    ts = int(time.time())
    f = tempfile.NamedTemporaryFile("w", prefix=f"api-{action}-", suffix=".tsv", delete=False)
    for i in range(count):
        if action == "DescribeLiveStreamState":
            params = {"AppName": "live", "DomainName": "127.0.0.1", "StreamName": "bench"}
        elif action == "DescribeRecordFiles":
            params = {"StreamName": "seeded", "PageSize": 20}
        else:
            params = {"StreamName": f"c{i}-{uuid.uuid4().hex[:8]}", "AppName": "live",
                      "DomainName": "127.0.0.1", "StartTime": cst(ts + 3600), "EndTime": cst(ts + 3660)}
        body = json.dumps(params)
        f.write(f"{ts}\t{action}\t{sign(host, action, body, ts)}\t{body}\n")
    f.close()
    return f.name


def seed_files(db, n):
    """`n` finished file rows of stream `seeded`, written straight into SQLite (WAL: the
    running server sees them)."""
    c = sqlite3.connect(db)
    info = list(c.execute("PRAGMA table_info(files)"))
    now = int(time.time() * 1000)
    for i in range(n):
        row = {name: ("" if "TEXT" in typ.upper() else 0) for _, name, typ, notnull, _, _ in info if notnull}
        row.update(id=uuid.uuid4().hex, account_id="default", task_id="1", session_id="bench",
                   domain="127.0.0.1", app="live", stream="seeded", file_format="flv",
                   record_type="video", start_ms=now - 60_000 - i * 1000, end_ms=now - i * 1000,
                   duration_ms=60_000, file_size=1_000_000, storage_key=f"seeded/{i}.flv",
                   status="finished", created_ms=now)
        c.execute(f"INSERT INTO files ({','.join(row)}) VALUES ({','.join('?' * len(row))})",
                  list(row.values()))
    c.commit()
    c.close()


def start(binary, env_extra):
    """liverec with the rate limits raised and task quotas off; (process, data dir, API address)."""
    server, data, ports = formats.start_liverec(binary, dict(
        LIVEREC_RATE_CREATE_LIVE_RECORD="1000000", LIVEREC_RATE_STOP_DELETE_LIVE_RECORD="1000000",
        LIVEREC_RATE_OTHER="1000000", LIVEREC_MAX_TASKS_PER_DAY="0", LIVEREC_MAX_RUNNING_TASKS="0",
        **env_extra))
    return server, data, ports["api"]


def wrk(host, reqs, seconds, connections, threads, pause_ms=0):
    """wrk over the requests in `reqs`; with `pause_ms`, each connection waits that long
    between an answer and its next request (a paced load: about connections × 1000 /
    (pause_ms + latency) requests/s)."""
    lua = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    lua.write(LUA)
    lua.close()
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
                          "--timeout", "10s", "-s", lua.name, f"http://{host}/", "--", reqs, str(threads),
                          str(pause_ms)],
                         capture_output=True, text=True, timeout=seconds + 120)
    os.unlink(lua.name)
    m = re.search(r"RESULT (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) (\d+)", out.stdout)
    if not m:
        raise RuntimeError(f"wrk said: {out.stdout}\n{out.stderr}")
    n, us = int(m.group(1)), int(m.group(2))
    return dict(requests=n, rps=round(n / (us / 1e6)), p50_ms=float(m.group(3)), p90_ms=float(m.group(4)),
                p99_ms=float(m.group(5)), max_ms=float(m.group(6)), errors=int(m.group(7)))


PACED_CONNECTIONS, PACED_PAUSE_MS = 10, 10


def run(store, binary, seconds, connections, threads, creates, paced=True):
    pg_dir, env = None, {}
    if store == "postgres":
        pg_dir = tempfile.mkdtemp(prefix="liverec-api-pg-")
        os.chmod(pg_dir, 0o755)
        url = subprocess.run([os.path.join(ROOT, "scripts", "test-postgres.sh"), "start", f"{pg_dir}/pg"],
                             capture_output=True, text=True, check=True).stdout.strip()
        env["LIVEREC_DATABASE_URL"] = url
    server, data, host = start(binary, env)
    rows = []
    try:
        if store == "sqlite":
            # File rows to list: written while the server runs (WAL), 1,000 of them.
            seed_files(os.path.join(data, "liverec.db"), 1000)
        else:
            for i in range(20):  # a few real rows through the API instead
                post(host, "CreateLiveRecord", {"StreamName": f"seed{i}", "AppName": "live",
                                                "DomainName": "127.0.0.1", "StartTime": cst(time.time() + 7200),
                                                "EndTime": cst(time.time() + 7260)})
        for action in ["DescribeLiveStreamState", "DescribeRecordFiles", "CreateLiveRecord"]:
            count = 1 if action != "CreateLiveRecord" else creates
            sample = post(host, action, json.loads(open(requests_file(host, action, 1)).read()
                                                   .split("\t", 3)[3]))
            if "Error" in sample:
                raise RuntimeError(f"{action}: {sample}")
            reqs = requests_file(host, action, count)
            r = wrk(host, reqs, seconds, connections, threads)
            r.update(store=store, action=action, connections=connections, load="flat out")
            print(json.dumps(r), flush=True)
            rows.append(r)
            if paced:
                # About 1,000 requests/s: 10 connections, each pausing 10 ms after an answer.
                # Creates get fresh requests (a repeat within 60 s would be answered as a retry).
                if action == "CreateLiveRecord":
                    os.unlink(reqs)
                    reqs = requests_file(host, action, seconds * 1500)
                r = wrk(host, reqs, seconds, PACED_CONNECTIONS, 1, PACED_PAUSE_MS)
                r.update(store=store, action=action, connections=PACED_CONNECTIONS, load="paced")
                print(json.dumps(r), flush=True)
                rows.append(r)
            os.unlink(reqs)
        return rows
    finally:
        formats.stop([server])
        formats.stop([server], signal.SIGKILL)
        shutil.rmtree(data, ignore_errors=True)
        if pg_dir:
            subprocess.run([os.path.join(ROOT, "scripts", "test-postgres.sh"), "stop", f"{pg_dir}/pg"],
                           capture_output=True)
            shutil.rmtree(pg_dir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--store", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "liverec"))
    ap.add_argument("--creates", type=int, default=200_000,
                    help="distinct pre-signed CreateLiveRecord requests (more than a run sends)")
    ap.add_argument("--no-paced", action="store_true",
                    help="skip the paced pass (about 1,000 requests/s: 10 connections pausing 10 ms)")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 if an action got no answer or an error answer (the smoke run in scripts/test.sh)")
    a = ap.parse_args()
    rows = []
    for store in (["sqlite", "postgres"] if a.store == "both" else [a.store]):
        rows += run(store, a.binary, a.seconds, a.connections, a.threads, a.creates, not a.no_paced)
    print()
    print(f"wrk, {a.seconds} s per pass; pre-signed TC3. flat out: {a.connections} connections, "
          f"{a.threads} threads; paced: {PACED_CONNECTIONS} connections, each pausing "
          f"{PACED_PAUSE_MS} ms after an answer")
    print()
    print("| store | action | load | requests/s | p50 ms | p90 ms | p99 ms | max ms | error answers |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['store']} | {r['action']} | {r['load']} | {r['rps']} | {r['p50_ms']} | {r['p90_ms']} "
              f"| {r['p99_ms']} | {r['max_ms']} | {r['errors']} |")
    if a.check:
        bad = [r for r in rows if r["requests"] == 0 or r["errors"] > 0]
        if bad:
            print(f"check failed: {bad}", file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    main()
