#!/usr/bin/env python3
"""A/V drift of an A+B=C mix over a long run (issue 14: |audio - video| drift < 40 ms
over 10 minutes of mixed output). Not part of the test suite.

A fresh liverec (release build by default) on free loopback ports; two ffmpeg
publishers from lavfi (`-re`): A is black 320x180 with a white flash of 100 ms
every 2 s and a 1 kHz beep of 100 ms at the same instants (one lavfi clock for
both, so A itself is in sync); B is plain grey and silent. One mix session
(A the 640x360 background, B a small window in a corner, 30 fps, 44.1 kHz
mono), C recorded as FLV with CreateLiveRecord MixStream=1, for DURATION s;
then cancel, and analyse the recorded file:
  - video flash onsets: the first frame whose mean luma (ffmpeg signalstats,
    centre crop away from B's window) jumps above the midpoint;
  - audio beep onsets: the first 1 ms window whose RMS passes a threshold;
  - each flash paired with the nearest beep: offset = beep - flash;
  - the median offset over the first and the last N flashes, drift = last -
    first, and the audio and video stream durations (ffprobe);
and the median offset per minute; plus the mixer's frame and loss counters
from /metrics at the end.
Prints one JSON line. Exit status 1 when |drift| >= 40 ms.

usage: bench/mix_drift.py [--duration 600] [--binary PATH] [--pairs 20] [--keep]
"""

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import formats  # noqa: E402  (helpers: ensure_sdk, start_liverec, sdk_client, stop)

RATE = 44100
PERIOD_S = 2.0
FLASH_S = 0.1


def metrics(api):
    """The mixer's counters from /metrics (frames encoded and dropped, input losses)."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{api}/metrics", timeout=10).read().decode()
    out = {}
    for name, key in (("liverec_mix_frames_total", "frames"),
                      ("liverec_mix_frames_dropped_total", "frames_dropped"),
                      ("liverec_mix_input_packets_dropped_total", "input_packets_dropped"),
                      ("liverec_mix_decode_errors_total", "decode_errors")):
        m = re.search(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M)
        out[key] = int(float(m.group(1))) if m else 0
    return out


def publish(url, video, audio):
    return subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re",
         "-f", "lavfi", "-i", video, "-f", "lavfi", "-i", audio,
         "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", "-f", "flv", url],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def flash_times(path):
    """(pts seconds, mean luma) of every video frame, centre crop."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-f", "lavfi", "-i",
         f"movie={path},crop=iw/4:ih/4:iw*3/8:ih*3/8,signalstats",
         "-show_entries", "frame=best_effort_timestamp_time:frame_tags=lavfi.signalstats.YAVG",
         "-of", "csv=p=0"], check=True, capture_output=True, text=True).stdout
    frames = []
    for line in out.splitlines():
        parts = line.strip().split(",")
        if len(parts) >= 2 and parts[0] not in ("", "N/A"):
            frames.append((float(parts[0]), float(parts[1])))
    lo, hi = min(y for _, y in frames), max(y for _, y in frames)
    mid = (lo + hi) / 2
    onsets, was = [], True
    for t, y in frames:
        on = y > mid
        if on and not was:
            onsets.append(t)
        was = on
    return onsets


def stream_info(path):
    """(first pts, last pts + its duration) of each stream, from its packets
    (FLV declares no stream durations)."""
    info = {}
    for kind, sel in (("video", "v:0"), ("audio", "a:0")):
        out = subprocess.run(
            ["ffprobe", "-v", "error", "-select_streams", sel, "-show_entries",
             "packet=pts_time,duration_time", "-of", "csv=p=0", path],
            check=True, capture_output=True, text=True).stdout
        pts = []
        for line in out.splitlines():
            parts = line.strip().split(",")
            if parts and parts[0] not in ("", "N/A"):
                dur = float(parts[1]) if len(parts) > 1 and parts[1] not in ("", "N/A") else 0.0
                pts.append((float(parts[0]), dur))
        if pts:
            start = min(p for p, _ in pts)
            end = max(p + d for p, d in pts)
            info[kind] = (start, round(end - start, 3))
    return info


def beep_times(path, audio_start):
    pcm = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-i", path,
         "-vn", "-ac", "1", "-ar", str(RATE), "-f", "s16le", "-"],
        check=True, capture_output=True).stdout
    n = len(pcm) // 2
    win = RATE // 1000
    import array
    a = array.array("h")
    a.frombytes(pcm[: n * 2])
    peak = max(1, max(abs(v) for v in a))
    threshold = peak * 0.25
    onsets, was = [], True
    for i in range(0, n - win, win):
        block = a[i:i + win]
        rms = (sum(v * v for v in block) / win) ** 0.5
        on = rms > threshold
        if on and not was:
            onsets.append(audio_start + i / RATE)
        was = on
    return onsets


def pair(flashes, beeps):
    """beep - flash (s) for each flash with a beep within half a period."""
    out = []
    j = 0
    for f in flashes:
        while j + 1 < len(beeps) and abs(beeps[j + 1] - f) <= abs(beeps[j] - f):
            j += 1
        if beeps and abs(beeps[j] - f) < PERIOD_S / 2:
            out.append((f, beeps[j] - f))
    return out


def analyse(path, n):
    info = stream_info(path)
    flashes = flash_times(path)
    beeps = beep_times(path, info.get("audio", (0.0, 0.0))[0])
    pairs = pair(flashes, beeps)
    if len(pairs) < 2 * n:
        raise RuntimeError(f"only {len(pairs)} flash/beep pairs in {path}")
    first = statistics.median(o for _, o in pairs[:n])
    last = statistics.median(o for _, o in pairs[-n:])
    return {
        "flashes": len(flashes), "beeps": len(beeps), "pairs": len(pairs),
        "offset_start_ms": round(first * 1000, 1),
        "offset_end_ms": round(last * 1000, 1),
        "drift_ms": round((last - first) * 1000, 1),
        "offset_min_ms": round(min(o for _, o in pairs) * 1000, 1),
        "offset_max_ms": round(max(o for _, o in pairs) * 1000, 1),
        "first_pair_at_s": round(pairs[0][0], 2), "last_pair_at_s": round(pairs[-1][0], 2),
        # Median offset per minute: a step (a re-primed FIFO) looks other than a slope.
        "minute_offsets_ms": [round(statistics.median(o for t, o in pairs if k * 60 <= t < (k + 1) * 60) * 1000)
                              for k in range(int(pairs[-1][0] // 60) + 1)
                              if any(k * 60 <= t < (k + 1) * 60 for t, _ in pairs)],
        "video_duration_s": info.get("video", (0, 0))[1],
        "audio_duration_s": info.get("audio", (0, 0))[1],
    }


def run(binary, duration, n, keep):
    server, data, ports = formats.start_liverec(binary)
    pubs = []
    try:
        rtmp = int(ports["rtmp"].rsplit(":", 1)[1])
        api = int(ports["api"].rsplit(":", 1)[1])
        url = f"rtmp://127.0.0.1:{rtmp}/live"
        on = f"lt(mod(t\\,{PERIOD_S})\\,{FLASH_S})"
        pubs.append(publish(
            f"{url}/a",
            f"color=c=black:s=320x180:r=30,drawbox=c=white:t=fill:enable='{on}'",
            f"aevalsrc='if({on}\\,0.5*sin(2*PI*1000*t)\\,0)':s={RATE}"))
        pubs.append(publish(f"{url}/b", "color=c=gray:s=320x180:r=30", f"aevalsrc=0:s={RATE}"))
        time.sleep(5)
        client = formats.sdk_client(api)
        client.call_json("CreateCommonMixStream", {
            "MixStreamSessionId": "drift",
            "InputStreamList": [
                {"InputStreamName": "a", "LayoutParams": {"ImageLayer": 1, "ImageWidth": 640, "ImageHeight": 360}},
                {"InputStreamName": "b", "LayoutParams": {"ImageLayer": 2, "ImageWidth": 80, "ImageHeight": 45,
                                                          "LocationX": 8, "LocationY": 8}},
            ],
            "OutputParams": {"OutputStreamName": "c", "OutputStreamType": 1, "OutputStreamFrameRate": 30,
                             "OutputAudioSampleRate": RATE, "OutputAudioChannels": 1},
        })
        time.sleep(2)
        task = client.call_json("CreateLiveRecord", {"StreamName": "c", "MixStream": 1, "Highlight": 1})["Response"]["TaskId"]
        started = time.time()
        time.sleep(duration)
        counters = metrics(api)
        client.call_json("CancelCommonMixStream", {"MixStreamSessionId": "drift"})
        wall = time.time() - started
        files = []
        for _ in range(60):
            files = client.call_json("DescribeRecordFiles", {"TaskId": str(task)})["Response"]["FileList"]
            if files and all(f["Status"] != "recording" for f in files):
                break
            time.sleep(1)
        files.sort(key=lambda f: f["StartTimeMs"])
        tmp = tempfile.mkdtemp(prefix="mix-drift-")
        path = os.path.join(tmp, "c.flv")
        with urllib.request.urlopen(files[0]["VideoUrl"], timeout=60) as r, open(path, "wb") as out:
            shutil.copyfileobj(r, out)
        result = {"duration_s": duration, "recorded_wall_s": round(wall, 1), "files": len(files),
                  **counters, **analyse(path, n)}
        print(json.dumps(result), flush=True)
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"file kept: {path}", file=sys.stderr)
        return abs(result["drift_ms"]) < 40
    finally:
        formats.stop_server(server, pubs, data, keep)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=600)
    ap.add_argument("--pairs", type=int, default=20, help="flashes averaged at each end")
    ap.add_argument("--keep", action="store_true", help="keep the recorded file and the server data")
    ap.add_argument("--binary", default=os.path.join(formats.ROOT, "target", "release", "liverec"))
    ap.add_argument("--analyse", help="only analyse this recorded file")
    args = ap.parse_args()
    if args.analyse:
        print(json.dumps(analyse(args.analyse, args.pairs)))
        return
    formats.ensure_sdk()
    sys.exit(0 if run(args.binary, args.duration, args.pairs, args.keep) else 1)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    main()
