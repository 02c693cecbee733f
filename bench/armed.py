#!/usr/bin/env python3
"""API cost of one CreateRecordTask as armed tasks grow, on the real binary.

usage: bench/armed.py [--armed 100000] [--calls 300] [--binary target/release/liverec]

For each armed count (0 and --armed) it starts the release binary on free
loopback ports with a fresh SQLite data directory, creates one task through
the official Python SDK, stops the server, clones that task row ARMED times
in the database (each on its own stream, windows opening over the next
hours, so every clone is armed and none records), starts the server again
(timing the start: every armed task is loaded into the scheduler), then
times CALLS CreateRecordTask calls (each on a new stream, window open now,
so the scheduler arms and checks it) and CALLS DescribeLiveStreamOnlineList
calls for comparison. Prints one JSON line per armed count and a Markdown
table of p50/p99 per call as the SDK sees it (signing and HTTP included).
Rate limits and quotas are raised. Every process it starts is stopped by PID.
"""
import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import formats  # noqa: E402  (helpers: ensure_sdk, sdk_client, stop)


def start(binary, data):
    env = dict(os.environ, LIVEREC_DATA_DIR=data, LIVEREC_API_LISTEN="127.0.0.1:0",
               LIVEREC_RTMP_LISTEN="127.0.0.1:0", LIVEREC_SECRET_ID=formats.SECRET_ID,
               LIVEREC_SECRET_KEY=formats.SECRET_KEY, LIVEREC_MAX_TASKS_PER_DAY="100000000",
               LIVEREC_MAX_RUNNING_TASKS="100000000", LIVEREC_RATE_CREATE_LIVE_RECORD="100000",
               LIVEREC_RATE_STOP_DELETE_LIVE_RECORD="100000", LIVEREC_RATE_OTHER="100000",
               RUST_LOG="warn")
    listen = os.path.join(data, "listen.json")
    if os.path.exists(listen):
        os.remove(listen)
    t0 = time.time()
    server = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL,
                              stderr=open(os.path.join(data, "server.log"), "a"))
    for _ in range(1200):  # 120 s
        try:
            with open(listen) as f:
                api = int(json.load(f)["api"].rsplit(":", 1)[1])
            return server, api, time.time() - t0
        except (OSError, ValueError):
            if server.poll() is not None:
                raise RuntimeError(f"liverec exited early ({server.returncode})")
            time.sleep(0.1)
    formats.stop([server], signal.SIGKILL)
    raise RuntimeError("liverec wrote no listen.json within 120 s")


def percentiles(xs):
    xs = sorted(xs)
    return round(xs[len(xs) // 2] * 1000, 2), round(xs[min(len(xs) - 1, int(len(xs) * 0.99))] * 1000, 2)


def run(binary, armed, calls):
    data = tempfile.mkdtemp(prefix="liverec-bench-armed-")
    server = None
    try:
        server, api, _ = start(binary, data)
        now = int(time.time())
        formats.sdk_client(api).call_json("CreateRecordTask", {
            "DomainName": "push.example.com", "AppName": "live", "StreamName": "seed",
            "StartTime": now + 3600, "EndTime": now + 7200})
        formats.stop([server])
        db = sqlite3.connect(os.path.join(data, "liverec.db"))
        cols = [r[1] for r in db.execute("PRAGMA table_info(tasks)") if r[1] != "id"]
        seed = dict(zip(cols, db.execute(f"SELECT {','.join(cols)} FROM tasks").fetchone()))
        rows = []
        for i in range(armed):
            r = dict(seed)
            r["stream"] = f"armed{i}"
            r["start_ms"] = (now + 3600 + i % 7200) * 1000
            r["end_ms"] = r["start_ms"] + 3600 * 1000
            r["request_hash"] = f"bench{i}"
            rows.append(tuple(r[c] for c in cols))
        db.executemany(f"INSERT INTO tasks ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})", rows)
        db.commit()
        total = db.execute("SELECT COUNT(*) FROM tasks").fetchone()[0]
        db.close()
        server, api, start_s = start(binary, data)
        client = formats.sdk_client(api)
        client.call_json("DescribeLiveStreamOnlineList", {})  # warm the connection
        creates, reads = [], []
        now = int(time.time())
        for i in range(calls):
            t = time.perf_counter()
            client.call_json("CreateRecordTask", {
                "DomainName": "push.example.com", "AppName": "live", "StreamName": f"new{i}",
                "StartTime": now, "EndTime": now + 3600})
            creates.append(time.perf_counter() - t)
        for _ in range(calls):
            t = time.perf_counter()
            client.call_json("DescribeLiveStreamOnlineList", {})
            reads.append(time.perf_counter() - t)
        formats.stop([server])
        c50, c99 = percentiles(creates)
        r50, r99 = percentiles(reads)
        return dict(armed=armed, tasks_in_db=total, start_s=round(start_s, 2), create_p50_ms=c50,
                    create_p99_ms=c99, online_list_p50_ms=r50, online_list_p99_ms=r99,
                    clean_exit=server.returncode == 0)
    finally:
        if server is not None:
            formats.stop([server], signal.SIGKILL)
        shutil.rmtree(data, ignore_errors=True)


def main():
    formats.ensure_sdk()
    ap = argparse.ArgumentParser()
    ap.add_argument("--armed", type=int, default=100_000)
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--binary", default=os.path.join(formats.ROOT, "target", "release", "liverec"))
    a = ap.parse_args()
    results = []
    for n in [0, a.armed]:
        r = run(a.binary, n, a.calls)
        print(json.dumps(r), flush=True)
        results.append(r)
    print("\n| armed tasks | start (s) | CreateRecordTask p50 / p99 (ms) | DescribeLiveStreamOnlineList p50 / p99 (ms) |")
    print("|---|---|---|---|")
    for r in results:
        print(f"| {r['armed']:,} | {r['start_s']} | {r['create_p50_ms']} / {r['create_p99_ms']} | "
              f"{r['online_list_p50_ms']} / {r['online_list_p99_ms']} |")


if __name__ == "__main__":
    main()
