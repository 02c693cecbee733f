#!/usr/bin/env python3
"""Control-path latency of liverec (issue 12's latency targets), measured on a live stream.

usage: bench/latency.py [--runs N] [--check] [--binary target/release/liverec]
                        [--push target/release/liverec-push]

A fresh liverec on free loopback ports (RUST_LOG=info, its log read for time stamps); one
`liverec-push --realtime --loop` publisher of a 640x360 25 fps ~600 kbit/s source (keyframe
every 2 s). Each measurement runs N times (default 5) and prints min / median / max in ms:

- highlight → first bytes: CreateLiveRecord Highlight=1 sent (raw signed HTTP, no SDK
  start-up) → the recording's spool file under records/ holds bytes (polled every 2 ms);
- stop → listed finished: StopLiveRecord sent → DescribeRecordFiles lists the file finished
  (the reply of StopLiveRecord already waits for it; the listing confirms);
- EndTime → finished: a task whose EndTime is a whole second ~3 s ahead → the file listed
  finished (polled every 10 ms), minus EndTime;
- publish → recording: a task armed before the publish → from the server's "publish started"
  log line to its "recording file opened" line (the source starts with a keyframe).

Targets (issue 12): 100, 200, 500 and 100 ms. With --check, exits 1 if a median misses its
target. Every process it starts is stopped by PID.
"""
import argparse
import glob
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import api  # noqa: E402  (post: a signed TC3 request without the SDK; cst)
import formats  # noqa: E402  (start_liverec, source, stop)

TARGETS_MS = {"highlight_first_bytes": 100, "stop_listed_finished": 200,
              "endtime_finished": 500, "publish_to_recording": 100}
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def log_times(path, text, stream):
    """Time stamps (s) of the log lines containing `text` and `stream`."""
    out = []
    with open(path, errors="replace") as f:
        for line in f:
            line = ANSI.sub("", line)
            if text in line and stream in line:
                stamp = line.split()[0].rstrip("Z")
                day, clock = stamp.split("T")
                t = time.mktime(time.strptime(day + " " + clock.split(".")[0], "%Y-%m-%d %H:%M:%S"))
                out.append(t - time.timezone + float("0." + clock.split(".")[1]))
    return out


def files(host, task):
    return api.post(host, "DescribeRecordFiles", {"TaskId": str(task)}).get("FileList", [])


def wait(cond, limit, step):
    end = time.time() + limit
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(step)
    raise RuntimeError("timed out")


def publisher(push, src, url):
    return subprocess.Popen([push, "--realtime", "--loop", "--seconds", "600", src, url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, RUST_LOG="error"))


def spool_bytes(records, stream):
    return sum(os.path.getsize(p) for p in glob.glob(os.path.join(records, "**", f"{stream}_*"), recursive=True)
               if os.path.isfile(p))


def run(binary, push, runs):
    src = formats.source("h264_aac_360p_600k_60s.flv", "640x360", 25, "540k", "64k", 1)
    server, data, ports = formats.start_liverec(binary, {"RUST_LOG": "info", "LIVEREC_PREROLL_SECONDS": "10"})
    log = os.path.join(data, "server.log")
    records = os.path.join(data, "records")
    host = ports["api"]
    rtmp = ports["rtmp"].rsplit(":", 1)[1]
    procs = [server]
    out = {k: [] for k in TARGETS_MS}
    try:
        procs.append(publisher(push, src, f"rtmp://127.0.0.1:{rtmp}/live/lat"))
        wait(lambda: log_times(log, "publish started", "lat"), 15, 0.05)
        time.sleep(3)
        for i in range(runs):
            before = spool_bytes(records, "lat")
            t0 = time.time()
            # StreamParam differs per run: an identical create within 60 s is a retry.
            task = api.post(host, "CreateLiveRecord", {"StreamName": "lat", "AppName": "live",
                                                       "DomainName": "127.0.0.1", "Highlight": 1,
                                                       "StreamParam": f"run={i}"})["TaskId"]
            wait(lambda: spool_bytes(records, "lat") > before, 5, 0.002)
            out["highlight_first_bytes"].append((time.time() - t0) * 1000)
            time.sleep(1.5)
            t0 = time.time()
            api.post(host, "StopLiveRecord", {"StreamName": "lat", "TaskId": task})
            wait(lambda: [f for f in files(host, task) if f["Status"] == "finished"], 5, 0.005)
            out["stop_listed_finished"].append((time.time() - t0) * 1000)
        for _ in range(runs):
            end = int(time.time()) + 3
            task = api.post(host, "CreateLiveRecord", {
                "StreamName": "lat", "AppName": "live", "DomainName": "127.0.0.1",
                "StartTime": api.cst(end - 10), "EndTime": api.cst(end)})["TaskId"]
            wait(lambda: [f for f in files(host, task) if f["Status"] == "finished"], 10, 0.01)
            out["endtime_finished"].append((time.time() - end) * 1000)
        for i in range(runs):
            name = f"arm{i}"
            now = int(time.time())
            api.post(host, "CreateLiveRecord", {"StreamName": name, "AppName": "live", "DomainName": "127.0.0.1",
                                                "StartTime": api.cst(now - 5), "EndTime": api.cst(now + 600)})
            p = publisher(push, src, f"rtmp://127.0.0.1:{rtmp}/live/{name}")
            procs.append(p)
            opened = wait(lambda: log_times(log, "recording file opened", f"/{name}/"), 15, 0.05)
            started = log_times(log, "publish started", f"live/{name} ")
            out["publish_to_recording"].append((opened[0] - started[0]) * 1000)
            formats.stop([p], signal.SIGTERM)
    finally:
        formats.stop(procs[1:], signal.SIGKILL)
        formats.stop([server], signal.SIGTERM)
        shutil.rmtree(data, ignore_errors=True)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--binary", default=os.path.join(formats.ROOT, "target/release/liverec"))
    ap.add_argument("--push", default=os.path.join(formats.ROOT, "target/release/liverec-push"))
    a = ap.parse_args()
    out = run(a.binary, a.push, a.runs)
    print("| measurement | min ms | median ms | max ms | target ms | met |")
    print("|---|---|---|---|---|---|")
    missed = []
    for k, v in out.items():
        med = statistics.median(v)
        ok = med <= TARGETS_MS[k]
        if not ok:
            missed.append(k)
        print(f"| {k} | {min(v):.1f} | {med:.1f} | {max(v):.1f} | {TARGETS_MS[k]} | {'yes' if ok else 'no'} |")
    print(json.dumps({k: [round(x, 1) for x in v] for k, v in out.items()}))
    if a.check and missed:
        print("missed: " + ", ".join(missed), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
