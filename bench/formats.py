#!/usr/bin/env python3
"""Recording cost per format, side by side with nginx-rtmp in the same run.

usage: bench/formats.py [--streams N] [--window S] [--warmup S] [--formats flv,hls,mp4,aac,mp3]
                        [--binary target/release/liverec] [--no-nginx]

For each configuration it starts the server on free loopback ports with a
fresh data directory, starts N ffmpeg pushers (`-re -stream_loop -1 -c copy`)
of a 720p30 H.264 + AAC source (about 2.2 Mbit/s, generated once into
target/bench/ with ffmpeg), waits WARMUP seconds, records every stream (liverec:
one highlight CreateLiveRecord per stream through the official Python SDK;
nginx-rtmp: `record all` to FLV), then measures the server's CPU (user + system
from /proc, all threads and children) and peak RSS over WINDOW seconds. Prints
one JSON line per configuration and a Markdown table; CPU relative to
liverec's FLV figure in the last column. Every process it starts is stopped
by PID. Needs ffmpeg, the Tencent Cloud SDK (scripts/test.sh puts it in
.venv; without it in the running Python the script re-executes under
.venv's) and, for the reference, nginx with libnginx-mod-rtmp.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK = os.sysconf("SC_CLK_TCK")
SECRET_ID, SECRET_KEY = "AKIDbenchmark000000000000000000000", "benchmarkSecretKey00000000000000"


def ensure_sdk():
    """Re-executes this script under ROOT/.venv's Python (where scripts/test.sh
    installs the Tencent Cloud SDK) when the running Python lacks the SDK."""
    try:
        import tencentcloud.common.common_client  # noqa: F401
        return
    except ImportError:
        venv = os.path.join(ROOT, ".venv")
        python = os.path.join(venv, "bin", "python")
        if os.path.exists(python) and not os.environ.get("LIVEREC_BENCH_REEXEC"):
            os.environ["LIVEREC_BENCH_REEXEC"] = "1"  # once: no loop if the venv lacks it too
            os.execv(python, [python, os.path.abspath(sys.argv[0])] + sys.argv[1:])
        raise


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def source(name="h264_aac_720p_60s.flv", size="1280x720", rate=30, vbit="2M", abit="128k", channels=2):
    """A 60 s H.264 + AAC FLV made once with ffmpeg into target/bench/ (by default
    the 720p30 ~2.2 Mbit/s source, GOP 2 s)."""
    path = os.path.join(ROOT, "target", "bench", name)
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        subprocess.run([
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", "60",
            "-c:v", "libx264", "-preset", "veryfast", "-b:v", vbit, "-maxrate", vbit,
            "-bufsize", "4M", "-g", str(2 * rate), "-keyint_min", str(2 * rate), "-sc_threshold", "0",
            "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", abit, "-ac", str(channels), "-f", "flv", path],
            check=True)
    return path


def tree(pid):
    """pid and all its descendants."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def ticks(pids):
    t = 0
    for p in pids:
        try:
            f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            t += int(f[11]) + int(f[12])
        except (OSError, IndexError):
            pass
    return t


def switches(pids):
    """Context switches (voluntary + involuntary) of every thread of pids so far."""
    n = 0
    for p in pids:
        try:
            tids = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in tids:
            try:
                for line in open(f"/proc/{p}/task/{t}/status"):
                    if "ctxt_switches:" in line:
                        n += int(line.split()[1])
            except (OSError, ValueError, IndexError):
                pass
    return n


def rss_mib(pids):
    kb = 0
    for p in pids:
        try:
            for line in open(f"/proc/{p}/status"):
                if line.startswith("VmRSS:"):
                    kb += int(line.split()[1])
        except OSError:
            pass
    return kb / 1024


def measure(pid, window):
    pids = tree(pid)
    t0, c0, peak = time.time(), ticks(pids), 0.0
    while time.time() - t0 < window:
        time.sleep(0.5)
        pids = tree(pid)
        peak = max(peak, rss_mib(pids))
    c1, t1 = ticks(pids), time.time()
    return {"cpu_core_pct": round((c1 - c0) / CLK / (t1 - t0) * 100, 2), "rss_mib": round(peak, 1)}


def pushers(n, url_prefix, src):
    procs = []
    for i in range(n):
        procs.append(subprocess.Popen(
            ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1",
             "-i", src, "-c", "copy", "-f", "flv", f"{url_prefix}/s{i}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(0.05)
    return procs


def stop(procs, sig=signal.SIGTERM, timeout=10):
    for p in procs:
        if p.poll() is None:
            p.send_signal(sig)
    for p in procs:
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def stop_server(server, pubs, data, keep=False):
    """Stops the publishers and the server; removes its data directory unless it failed
    (or `keep`), then says where its log is."""
    stop(pubs)
    stop([server])
    if server.returncode not in (0, None) or keep:
        print(f"liverec exited {server.returncode}; log in {data}/server.log", file=sys.stderr)
    else:
        shutil.rmtree(data, ignore_errors=True)


def sdk_client(port):
    from tencentcloud.common import credential
    from tencentcloud.common.common_client import CommonClient
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    hp = HttpProfile(protocol="http", endpoint=f"127.0.0.1:{port}", reqTimeout=30)
    cp = ClientProfile(httpProfile=hp, disable_region_breaker=True)
    return CommonClient("live", "2018-08-01", credential.Credential(SECRET_ID, SECRET_KEY), "ap-guangzhou", profile=cp)


def start_liverec(binary, extra_env=None):
    """`binary serve` with a fresh data directory on free loopback ports and the benchmark
    key; returns (process, data dir, the bound addresses from listen.json). Waits at most 30 s."""
    data = tempfile.mkdtemp(prefix="liverec-bench-")
    env = dict(os.environ, LIVEREC_DATA_DIR=data, LIVEREC_API_LISTEN="127.0.0.1:0",
               LIVEREC_RTMP_LISTEN="127.0.0.1:0", LIVEREC_SECRET_ID=SECRET_ID, LIVEREC_SECRET_KEY=SECRET_KEY,
               RUST_LOG="warn")
    env.update(extra_env or {})
    server = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL,
                              stderr=open(os.path.join(data, "server.log"), "w"))
    listen = os.path.join(data, "listen.json")
    for _ in range(300):  # 30 s
        try:
            with open(listen) as f:
                return server, data, json.load(f)
        except (OSError, ValueError):  # not written yet, or half written
            if server.poll() is not None:
                raise RuntimeError(f"liverec exited early ({server.returncode}); see {data}/server.log")
            time.sleep(0.1)
    stop([server], signal.SIGKILL)
    raise RuntimeError("liverec wrote no listen.json within 30 s")


def run_liverec(binary, fmt, n, warmup, window, src):
    server, data, ports = start_liverec(binary)
    pubs = []
    try:
        rtmp = int(ports["rtmp"].rsplit(":", 1)[1])
        api = int(ports["api"].rsplit(":", 1)[1])
        pubs = pushers(n, f"rtmp://127.0.0.1:{rtmp}/live", src)
        time.sleep(warmup)
        if fmt != "none":
            client = sdk_client(api)
            for i in range(n):
                client.call_json("CreateLiveRecord", {"StreamName": f"s{i}", "Highlight": 1, "FileFormat": fmt})
            time.sleep(2)
        m = measure(server.pid, window)
        alive = sum(1 for p in pubs if p.poll() is None)
        stop(pubs)
        stop([server])
        ok = server.returncode == 0
        rec_bytes = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(os.path.join(data, "records")) for f in fs)
        return dict(peer="liverec", format=fmt, streams=n, publishing=alive, clean_exit=ok,
                    recorded_mib=round(rec_bytes / 2**20, 1), **m)
    finally:
        stop(pubs, signal.SIGKILL)
        stop([server], signal.SIGKILL)
        shutil.rmtree(data, ignore_errors=True)


def run_nginx(n, warmup, window, src):
    work = tempfile.mkdtemp(prefix="nginx-bench-")
    os.chmod(work, 0o755)
    rec = os.path.join(work, "rec")
    os.makedirs(rec)
    os.chmod(rec, 0o777)
    rtmp, http = free_port(), free_port()
    mod = "/usr/lib/nginx/modules/ngx_rtmp_module.so"
    conf = os.path.join(work, "nginx.conf")
    open(conf, "w").write(f"""load_module {mod};
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 4096; }}
rtmp {{ server {{ listen 127.0.0.1:{rtmp}; chunk_size 4096;
  application live {{ live on; record all; record_path {rec}; record_unique on; record_suffix .flv; }} }} }}
http {{ access_log off; client_body_temp_path {work}/b; proxy_temp_path {work}/p; fastcgi_temp_path {work}/f;
  uwsgi_temp_path {work}/u; scgi_temp_path {work}/s; server {{ listen 127.0.0.1:{http}; }} }}
""")
    server = subprocess.Popen(["nginx", "-p", work, "-c", conf, "-g", "daemon off;"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pubs = []
    try:
        time.sleep(1)
        pubs = pushers(n, f"rtmp://127.0.0.1:{rtmp}/live", src)
        time.sleep(warmup + 2)
        m = measure(server.pid, window)
        alive = sum(1 for p in pubs if p.poll() is None)
        stop(pubs)
        server.send_signal(signal.SIGQUIT)
        server.wait(15)
        rec_bytes = sum(os.path.getsize(os.path.join(rec, f)) for f in os.listdir(rec))
        return dict(peer="nginx-rtmp", format="flv", streams=n, publishing=alive, clean_exit=True,
                    recorded_mib=round(rec_bytes / 2**20, 1), **m)
    finally:
        stop(pubs, signal.SIGKILL)
        stop([server], signal.SIGKILL)
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--streams", type=int, default=10)
    ap.add_argument("--window", type=float, default=30)
    ap.add_argument("--warmup", type=float, default=8)
    ap.add_argument("--formats", default="none,flv,hls,mp4,aac,mp3")
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "liverec"))
    ap.add_argument("--no-nginx", action="store_true")
    a = ap.parse_args()
    if any(f != "none" for f in a.formats.split(",")):
        ensure_sdk()
    src = source()
    rows = []
    if not a.no_nginx and shutil.which("nginx") and os.path.exists("/usr/lib/nginx/modules/ngx_rtmp_module.so"):
        rows.append(run_nginx(a.streams, a.warmup, a.window, src))
        print(json.dumps(rows[-1]), flush=True)
    for fmt in a.formats.split(","):
        rows.append(run_liverec(a.binary, fmt, a.streams, a.warmup, a.window, src))
        print(json.dumps(rows[-1]), flush=True)
    flv = next((r["cpu_core_pct"] for r in rows if r["peer"] == "liverec" and r["format"] == "flv"), None)
    print("\n| server | recording | streams | CPU % of one core | per stream | RSS MiB | vs liverec flv |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        rel = f"{r['cpu_core_pct'] / flv:.2f}x" if flv else "-"
        label = "ingest only" if r["format"] == "none" else r["format"]
        print(f"| {r['peer']} | {label} | {r['streams']} ({r['publishing']} live) | {r['cpu_core_pct']} | "
              f"{r['cpu_core_pct'] / r['streams']:.2f} | {r['rss_mib']} | {rel} |")
    if any(not r["clean_exit"] or r["publishing"] != r["streams"] for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
