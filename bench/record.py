#!/usr/bin/env python3
"""Recording throughput, nginx-rtmp and liverec one after the other under the same load.

usage: bench/record.py N FORMAT SECONDS [--source 720p|600k] [--preroll S] [--preroll-storage memory|disk]
                       [--no-nginx] [--check]
                       [--binary target/release/liverec] [--push target/release/liverec-push]

For each server: a fresh instance on free loopback ports; one `liverec-push --streams N`
process (the project's load generator: one copy of the file, paced in real time, tags due
within 20 ms sent in one write, connects spread over up to 5 s) publishes N streams
`live/s_<i>` of the source for SECONDS; every stream is recorded from its first frame
(nginx-rtmp: `record all` for FLV, `hls on` for HLS; liverec: a recording rule with a
template of FORMAT, created before the publishes). CPU (user + system of the server's
process tree, from /proc) and peak RSS are measured from 3 s after the last connect to 2 s
before the end; the load generator's own CPU is measured over the same window. After the
push the server is stopped gracefully (files finalized), and the video frames in every
recorded file are counted (FLV: coded-frame tags; HLS: ffprobe's packet count per
playlist) and compared with what the generator reports it sent, per stream.

Prints one JSON line per server and a Markdown table. Needs a release build of both
binaries (`cargo build --release -p liverec -p liverec-push`), ffmpeg/ffprobe, the Tencent
Cloud Python SDK (scripts/test.sh puts it in .venv) and, for the reference, nginx with
libnginx-mod-rtmp. Every process it starts is stopped by PID.
"""
import argparse
import glob
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import formats  # noqa: E402  (helpers: ensure_sdk, free_port, tree, ticks, rss_mib, stop, sdk_client)

ROOT = formats.ROOT
CLK = formats.CLK


def source(kind):
    """The 720p30 ~2.2 Mbit/s source of bench/formats.py, or a 640x360 25 fps ~600 kbit/s one."""
    if kind == "720p":
        return formats.source()
    return formats.source("h264_aac_360p_600k_60s.flv", "640x360", 25, "540k", "64k", 1)


def flv_frames(path):
    """Coded video frames in an FLV file (tags of type 9 whose AVC/HEVC packet type is 1,
    or enhanced CodedFrames/CodedFramesX); stops at the first incomplete tag."""
    n = 0
    with open(path, "rb") as f:
        head = f.read(9)
        if len(head) < 9 or head[:3] != b"FLV":
            return 0
        f.seek(struct.unpack(">I", head[5:9])[0] + 4)
        while True:
            h = f.read(11)
            if len(h) < 11:
                break
            kind = h[0] & 0x1F
            size = int.from_bytes(h[1:4], "big")
            body = f.read(size)
            if len(body) < size or len(f.read(4)) < 4:
                break
            if kind == 9 and len(body) >= 2:
                if body[0] & 0x80:
                    n += (body[0] & 0x0F) in (1, 3)
                else:
                    n += body[1] == 1
    return n


def probe_frames(path):
    """Video packets ffprobe counts (HLS playlists, MP4)."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets",
         "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", path],
        capture_output=True, text=True, timeout=120)
    try:
        return int(out.stdout.strip().split("\n")[0])
    except ValueError:
        return 0


def decodes(path):
    """Whether ffmpeg decodes the whole file without an error line."""
    out = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-i", path,
                          "-f", "null", "-"], capture_output=True, text=True, timeout=300)
    return out.returncode == 0 and not out.stderr.strip()


def stream_of(name):
    """The stream name `s_<i>` a recorded file belongs to (both servers put it first)."""
    base = os.path.basename(name)
    parts = base.split("_")
    if len(parts) >= 2 and parts[0] == "s" and parts[1].split("-")[0].split(".")[0].isdigit():
        return "s_" + parts[1].split("-")[0].split(".")[0]
    return None


def count(files, fmt):
    """Frames per stream over `files`, and (valid, checked) of a sample of them."""
    per = {}
    for f in files:
        s = stream_of(f)
        if s is None:
            continue
        per[s] = per.get(s, 0) + (flv_frames(f) if fmt == "flv" else probe_frames(f))
    sample = files[:3]
    return per, (sum(1 for f in sample if decodes(f)), len(sample))


def generator(push, n, seconds, src, url):
    out = tempfile.NamedTemporaryFile(prefix="liverec-push-", suffix=".json", delete=False)
    ramp = min(5000, n * 20)
    proc = subprocess.Popen(
        [push, "--streams", str(n), "--realtime", "--loop", "--seconds", str(seconds),
         "--batch-ms", "20", "--ramp-ms", str(ramp), src, url],
        stdout=out, stderr=subprocess.DEVNULL, env=dict(os.environ, RUST_LOG="error"))
    return proc, out.name, ramp / 1000


def measure(server_pid, gen_pid, start_in, window):
    time.sleep(start_in)
    spids, gpids = formats.tree(server_pid), [gen_pid]
    t0, s0, g0, peak = time.time(), formats.ticks(spids), formats.ticks(gpids), 0.0
    w0 = formats.switches(spids)
    while time.time() - t0 < window:
        time.sleep(0.5)
        spids = formats.tree(server_pid)
        peak = max(peak, formats.rss_mib(spids))
    t1 = time.time()
    s1, g1, w1 = formats.ticks(spids), formats.ticks(gpids), formats.switches(spids)
    pct = lambda a, b: round((b - a) / CLK / (t1 - t0) * 100, 2)  # noqa: E731
    return {"cpu_core_pct": pct(s0, s1), "loadgen_cpu_core_pct": pct(g0, g1), "rss_mib": round(peak, 1),
            "switches_per_s": round((w1 - w0) / (t1 - t0))}


def finish(gen, report_path, timeout):
    try:
        gen.wait(timeout)
    except subprocess.TimeoutExpired:
        gen.kill()
        gen.wait()
    try:
        with open(report_path) as f:
            return json.loads(f.read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        return {"streams": 0, "failed": -1, "video_frames": 0, "per_stream": []}
    finally:
        os.unlink(report_path)


def result(peer, fmt, n, m, sent, per, valid):
    sent_per = {s["stream"]: s.get("video_frames", 0) for s in sent["per_stream"]}
    lost = sum(max(0, v - per.get(s, 0)) for s, v in sent_per.items())
    extra = sum(max(0, per.get(s, 0) - v) for s, v in sent_per.items())
    return dict(peer=peer, format=fmt, streams=n, push_failed=sent.get("failed"),
                frames_sent=sent.get("video_frames"), frames_recorded=sum(per.values()),
                frames_lost=lost, frames_extra=extra, streams_recorded=len(per),
                files_valid=f"{valid[0]}/{valid[1]}",
                rss_kib_per_stream=round(m["rss_mib"] * 1024 / max(n, 1), 1), **m)


def run_liverec(binary, push, fmt, n, seconds, src, preroll, preroll_storage="memory"):
    server, data, ports = formats.start_liverec(binary, dict(
        LIVEREC_PREROLL_SECONDS=str(preroll), LIVEREC_PREROLL_STORAGE=preroll_storage,
        LIVEREC_RTMP_MAX_CONNECTIONS_PER_IP=str(n + 10),
        LIVEREC_RTMP_MAX_CONNECTIONS=str(n + 100)))
    gen = None
    try:
        rtmp = int(ports["rtmp"].rsplit(":", 1)[1])
        api = int(ports["api"].rsplit(":", 1)[1])
        client = formats.sdk_client(api)
        # FORMAT may name several formats ("flv+hls+mp4"): one template (one recording per
        # stream) writing all of them; frames are counted in the first one's files.
        kinds = fmt.split("+")
        body = {"TemplateName": "bench"}
        for k in kinds:
            body[f"{k.capitalize()}Param"] = {"Enable": 1,
                                              "RecordInterval": 7200 if k in ("aac", "mp3") else 43200}
        tpl = client.call_json("CreateLiveRecordTemplate", body)["Response"]["TemplateId"]
        client.call_json("CreateLiveRecordRule", {"DomainName": "127.0.0.1", "AppName": "live",
                                                  "StreamName": "", "TemplateId": tpl})
        gen, report, ramp = generator(push, n, seconds, src, f"rtmp://127.0.0.1:{rtmp}/live/s")
        m = measure(server.pid, gen.pid, ramp + 3, max(1, seconds - ramp - 5))
        sent = finish(gen, report, seconds + 60)
        formats.stop([server], timeout=60)
        ext = {"hls": "m3u8"}.get(kinds[0], kinds[0])
        files = sorted(glob.glob(os.path.join(data, "records", "**", f"*.{ext}"), recursive=True))
        per, valid = count(files, kinds[0])
        r = result("liverec", fmt, n, m, sent, per, valid)
        r["clean_exit"] = server.returncode == 0
        return r
    finally:
        if gen is not None:
            formats.stop([gen], signal.SIGKILL)
        formats.stop([server], signal.SIGKILL)
        shutil.rmtree(data, ignore_errors=True)


def run_nginx(push, fmt, n, seconds, src):
    work = tempfile.mkdtemp(prefix="nginx-bench-")
    os.chmod(work, 0o755)
    rec = os.path.join(work, "rec")
    os.makedirs(rec)
    os.chmod(rec, 0o777)
    rtmp, http = formats.free_port(), formats.free_port()
    record = ("record all; record_path {rec}; record_unique on; record_suffix .flv;" if fmt == "flv"
              else "hls on; hls_path {rec}; hls_fragment 6s; hls_playlist_length 86400s; hls_nested on;"
              " hls_cleanup off;").format(rec=rec)
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;
worker_processes 1;
worker_rlimit_nofile 65536;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 65536; }}
rtmp {{ server {{ listen 127.0.0.1:{rtmp}; chunk_size 4096;
  application live {{ live on; {record} }} }} }}
http {{ access_log off; client_body_temp_path {work}/b; proxy_temp_path {work}/p; fastcgi_temp_path {work}/f;
  uwsgi_temp_path {work}/u; scgi_temp_path {work}/s; server {{ listen 127.0.0.1:{http}; }} }}
""")
    server = subprocess.Popen(["nginx", "-p", work, "-c", conf, "-g", "daemon off;"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    gen = None
    try:
        time.sleep(1)
        gen, report, ramp = generator(push, n, seconds, src, f"rtmp://127.0.0.1:{rtmp}/live/s")
        m = measure(server.pid, gen.pid, ramp + 3, max(1, seconds - ramp - 5))
        sent = finish(gen, report, seconds + 60)
        server.send_signal(signal.SIGQUIT)
        server.wait(30)
        if fmt == "flv":
            files = sorted(glob.glob(os.path.join(rec, "*.flv")))
        else:
            # hls_nested: rec/<stream>/index.m3u8; name the playlist after its stream.
            files = []
            for d in sorted(glob.glob(os.path.join(rec, "s_*"))):
                pl = os.path.join(d, "index.m3u8")
                if os.path.exists(pl):
                    # Segment URIs are relative to the stream directory.
                    named = os.path.join(rec, os.path.basename(d) + ".m3u8")
                    with open(pl) as f2:
                        text = f2.read()
                    # nginx-rtmp leaves the playlist open (no ENDLIST): close it,
                    # or ffprobe waits for it to grow.
                    if "#EXT-X-ENDLIST" not in text:
                        text = text.rstrip("\n") + "\n#EXT-X-ENDLIST\n"
                    with open(named, "w") as f2:
                        f2.write("\n".join(l if l.startswith("#") or not l else
                                           os.path.join(os.path.basename(d), l)
                                           for l in text.split("\n")))
                    files.append(named)
        per, valid = count(files, fmt)
        return result("nginx-rtmp", fmt, n, m, sent, per, valid)
    finally:
        if gen is not None:
            formats.stop([gen], signal.SIGKILL)
        formats.stop([server], signal.SIGKILL)
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("streams", type=int)
    ap.add_argument("format", help="flv, hls, mp4, aac or mp3, or several joined by + (one "
                    "recording writing them all, e.g. flv+hls+mp4; liverec only)")
    ap.add_argument("seconds", type=int)
    ap.add_argument("--source", choices=["720p", "600k"], default="720p")
    ap.add_argument("--preroll", type=int, default=30)
    ap.add_argument("--preroll-storage", choices=["memory", "disk"], default="memory")
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "liverec"))
    ap.add_argument("--push", default=os.path.join(ROOT, "target", "release", "liverec-push"))
    ap.add_argument("--no-nginx", action="store_true")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 unless every push succeeded, no frame was lost and the sampled files decode"
                         " (the smoke run in scripts/test.sh)")
    a = ap.parse_args()
    if any(k not in ("flv", "hls", "mp4", "aac", "mp3") for k in a.format.split("+")):
        ap.error(f"unknown format {a.format!r}")
    formats.ensure_sdk()
    src = source(a.source)
    rows = []
    if not a.no_nginx and a.format in ("flv", "hls") and shutil.which("nginx"):
        rows.append(run_nginx(a.push, a.format, a.streams, a.seconds, src))
        print(json.dumps(rows[-1]), flush=True)
    rows.append(run_liverec(a.binary, a.push, a.format, a.streams, a.seconds, src, a.preroll,
                            a.preroll_storage))
    print(json.dumps(rows[-1]), flush=True)
    ref = rows[0]["cpu_core_pct"] if len(rows) == 2 else None
    print()
    print(f"{a.streams} streams, {a.source} source, {a.seconds} s, liverec pre-roll {a.preroll} s "
          f"({a.preroll_storage})")
    print()
    print("| server | format | CPU % of one core | vs nginx | load generator CPU % | context switches/s "
          "| RSS MiB | RSS KiB/stream | frames sent | recorded | lost | streams recorded | files valid |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ratio = f"{r['cpu_core_pct'] / ref:.2f}x" if ref else "—"
        print(f"| {r['peer']} | {r['format']} | {r['cpu_core_pct']} | {ratio} | {r['loadgen_cpu_core_pct']} "
              f"| {r['switches_per_s']} | {r['rss_mib']} | {r['rss_kib_per_stream']} | {r['frames_sent']} | {r['frames_recorded']} "
              f"| {r['frames_lost']} | {r['streams_recorded']}/{r['streams']} | {r['files_valid']} |")
    if a.check:
        bad = [r for r in rows if r["push_failed"] != 0 or r["frames_lost"] > 0 or r["frames_sent"] == 0
               or r["streams_recorded"] != r["streams"] or r["files_valid"].split("/")[0] != r["files_valid"].split("/")[1]]
        if bad:
            print(f"check failed: {bad}", file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    main()
