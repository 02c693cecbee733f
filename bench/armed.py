#!/usr/bin/env python3
"""API cost of one CreateRecordTask as armed tasks grow, on the real binary.

usage: bench/armed.py [--armed 100000] [--accounts 1000] [--calls 300] [--binary target/release/liverec]

Three runs: no armed task; ARMED armed tasks spread over ACCOUNTS other
accounts (the server's quotas at their defaults, 4,000 a day and 400 at
once per account); ARMED armed tasks all on the calling account (quotas
off, 0, since no default quota lets one account hold that many: with a
quota on, each count stops at the quota).
Each run starts the release binary on free loopback ports with a fresh
SQLite data directory, creates one task through the official Python SDK,
stops the server, clones that task row in the database (each clone on its
own stream, windows opening over the next hours, so every clone is armed and
none records), starts the server again (timing the start: every armed task
is loaded into the scheduler), then times CALLS CreateRecordTask calls (each
on a new stream, window open now, so the scheduler arms and checks it) and
CALLS DescribeLiveStreamOnlineList calls for comparison. Prints one JSON line
per run and a Markdown table of p50/p99 per call as the SDK sees it
(signing and HTTP included). Rate limits are raised. Every process it starts
is stopped by PID.
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


def start(binary, data, raise_quotas):
    quotas = dict(LIVEREC_MAX_TASKS_PER_DAY="0",
                  LIVEREC_MAX_RUNNING_TASKS="0") if raise_quotas else {}
    env = dict(os.environ, LIVEREC_DATA_DIR=data, LIVEREC_API_LISTEN="127.0.0.1:0",
               LIVEREC_RTMP_LISTEN="127.0.0.1:0", LIVEREC_SECRET_ID=formats.SECRET_ID,
               LIVEREC_SECRET_KEY=formats.SECRET_KEY, **quotas, LIVEREC_RATE_CREATE_LIVE_RECORD="100000",
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


def run(binary, armed, accounts, calls):
    """ARMED tasks over ACCOUNTS other accounts (0: on the calling account)."""
    data = tempfile.mkdtemp(prefix="liverec-bench-armed-")
    server = None
    raise_quotas = accounts == 0 and armed > 0
    try:
        server, api, _ = start(binary, data, raise_quotas)
        now = int(time.time())
        formats.sdk_client(api).call_json("CreateRecordTask", {
            "DomainName": "push.example.com", "AppName": "live", "StreamName": "seed",
            "StartTime": now + 3600, "EndTime": now + 7200})
        formats.stop([server])
        db = sqlite3.connect(os.path.join(data, "liverec.db"))
        cols = [r[1] for r in db.execute("PRAGMA table_info(tasks)") if r[1] != "id"]
        seed = dict(zip(cols, db.execute(f"SELECT {','.join(cols)} FROM tasks").fetchone()))
        acols = [r[1] for r in db.execute("PRAGMA table_info(accounts)")]
        aseed = dict(zip(acols, db.execute(
            f"SELECT {','.join(acols)} FROM accounts WHERE id = ?", (seed["account_id"],)).fetchone()))
        for a in range(accounts):
            row = dict(aseed, id=f"bench-account-{a}", name=f"bench-account-{a}")
            db.execute(f"INSERT INTO accounts ({','.join(acols)}) VALUES ({','.join('?' * len(acols))})",
                       tuple(row[c] for c in acols))
        rows = []
        for i in range(armed):
            r = dict(seed)
            if accounts:
                r["account_id"] = f"bench-account-{i % accounts}"
            r["stream"] = f"armed{i}"
            r["start_ms"] = (now + 3600 + i % 7200) * 1000
            r["end_ms"] = r["start_ms"] + 3600 * 1000
            r["request_hash"] = f"bench{i}"
            if r.get("public_id"):
                r["public_id"] = f"{r['public_id']}-bench{i}"
            rows.append(tuple(r[c] for c in cols))
        db.executemany(f"INSERT INTO tasks ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})", rows)
        db.commit()
        total = db.execute("SELECT COUNT(*) FROM tasks").fetchone()[0]
        db.close()
        server, api, start_s = start(binary, data, raise_quotas)
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
        return dict(armed=armed, accounts=accounts if armed else 0, quotas="off (0)" if raise_quotas else "default",
                    tasks_in_db=total, start_s=round(start_s, 2), create_p50_ms=c50,
                    create_p99_ms=c99, online_list_p50_ms=r50, online_list_p99_ms=r99,
                    clean_exit=server.returncode == 0)
    finally:
        if server is not None:
            formats.stop([server], signal.SIGKILL)
        shutil.rmtree(data, ignore_errors=True)


def ensure_sdk():
    """Re-executes this script under ROOT/.venv's Python when the running
    Python lacks the Tencent Cloud SDK (as formats.ensure_sdk does for its own)."""
    try:
        import tencentcloud.common.common_client  # noqa: F401
    except ImportError:
        python = os.path.join(formats.ROOT, ".venv", "bin", "python")
        if os.path.exists(python) and not os.environ.get("LIVEREC_BENCH_REEXEC"):
            os.environ["LIVEREC_BENCH_REEXEC"] = "1"
            os.execv(python, [python, os.path.abspath(__file__)] + sys.argv[1:])
        raise


def main():
    ensure_sdk()
    ap = argparse.ArgumentParser()
    ap.add_argument("--armed", type=int, default=100_000)
    ap.add_argument("--accounts", type=int, default=1000)
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--binary", default=os.path.join(formats.ROOT, "target", "release", "liverec"))
    a = ap.parse_args()
    results = []
    for n, accounts in [(0, 0), (a.armed, a.accounts), (a.armed, 0)]:
        r = run(a.binary, n, accounts, a.calls)
        print(json.dumps(r), flush=True)
        results.append(r)
    print("\n| armed tasks | on | quotas | start (s) | CreateRecordTask p50 / p99 (ms) | DescribeLiveStreamOnlineList p50 / p99 (ms) |")
    print("|---|---|---|---|---|---|")
    for r in results:
        on = f"{r['accounts']:,} other accounts" if r["accounts"] else ("the caller" if r["armed"] else "-")
        print(f"| {r['armed']:,} | {on} | {r['quotas']} | {r['start_s']} | {r['create_p50_ms']} / {r['create_p99_ms']} | "
              f"{r['online_list_p50_ms']} / {r['online_list_p99_ms']} |")


if __name__ == "__main__":
    main()
