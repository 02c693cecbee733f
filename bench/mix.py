#!/usr/bin/env python3
"""CPU cost of one A+B=C mix session (CreateCommonMixStream), per output size.

For each size (default 640x360 and 1280x720, 30 fps): a fresh liverec release
build on free loopback ports, two ffmpeg pushers (`-re -stream_loop -1 -c copy`)
of a pre-encoded 60 s H.264 + AAC source of that size (B-frames as x264's
veryfast preset makes them), WARMUP s, the server's CPU over WINDOW s with the
inputs only, then one side-by-side mix session of the two at that size and 30
fps, WARMUP s, and over WINDOW s: the server's CPU (user + system of the
process, from /proc), the mix thread's CPU (`liverec_mix_cpu_microseconds_total`
from /metrics), and the output frames encoded and dropped
(`liverec_mix_frames_total`, `liverec_mix_frames_dropped_total`). Prints one
JSON line per size; CPU is in % of one core.

usage: bench/mix.py [--window S] [--warmup S] [--sizes 640x360,1280x720] [--binary PATH]
"""

import argparse
import json
import os
import re
import signal
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import formats  # noqa: E402  (helpers: ensure_sdk, source, start_liverec, measure, pushers, stop, sdk_client)


def metrics(api):
    text = urllib.request.urlopen(f"http://127.0.0.1:{api}/metrics", timeout=10).read().decode()
    out = {}
    for name in ("liverec_mix_cpu_microseconds_total", "liverec_mix_frames_total",
                 "liverec_mix_frames_dropped_total", "liverec_mix_input_packets_dropped_total",
                 "liverec_mix_decode_errors_total"):
        m = re.search(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M)
        out[name] = float(m.group(1)) if m else 0.0
    return out


def run(binary, size, window, warmup):
    w, h = (int(v) for v in size.split("x"))
    src = formats.source(name=f"h264_aac_{size}_60s.flv", size=size, rate=30,
                         vbit="2M" if w >= 1280 else "800k")
    server, data, ports = formats.start_liverec(binary)
    pubs = []
    try:
        rtmp = int(ports["rtmp"].rsplit(":", 1)[1])
        api = int(ports["api"].rsplit(":", 1)[1])
        pubs = formats.pushers(2, f"rtmp://127.0.0.1:{rtmp}/live", src)
        time.sleep(warmup)
        base = formats.measure(server.pid, window)
        client = formats.sdk_client(api)
        client.call_json("CreateCommonMixStream", {
            "MixStreamSessionId": "bench",
            "InputStreamList": [
                {"InputStreamName": "s0", "LayoutParams": {"ImageLayer": 1, "ImageWidth": w, "ImageHeight": h}},
                {"InputStreamName": "s1", "LayoutParams": {"ImageLayer": 2, "ImageWidth": 0.5,
                                                           "ImageHeight": h, "LocationX": 0.5}},
            ],
            "OutputParams": {"OutputStreamName": "mix", "OutputStreamType": 1, "OutputStreamFrameRate": 30},
        })
        time.sleep(warmup)
        m0, t0 = metrics(api), time.time()
        mixed = formats.measure(server.pid, window)
        m1, t1 = metrics(api), time.time()
        client.call_json("CancelCommonMixStream", {"MixStreamSessionId": "bench"})
        d = {k: m1[k] - m0[k] for k in m0}
        result = {
            "size": size, "fps": 30, "inputs": 2, "window_s": window,
            "server_cpu_inputs_only_pct": base["cpu_core_pct"],
            "server_cpu_with_mix_pct": mixed["cpu_core_pct"],
            "mix_thread_cpu_pct": round(d["liverec_mix_cpu_microseconds_total"] / 1e6 / (t1 - t0) * 100, 1),
            "output_fps": round(d["liverec_mix_frames_total"] / (t1 - t0), 1),
            "frames_dropped": int(d["liverec_mix_frames_dropped_total"]),
            "input_packets_dropped": int(d["liverec_mix_input_packets_dropped_total"]),
            "decode_errors": int(d["liverec_mix_decode_errors_total"]),
            "rss_mib": mixed["rss_mib"],
        }
        print(json.dumps(result), flush=True)
    finally:
        formats.stop_server(server, pubs, data)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--window", type=float, default=20)
    ap.add_argument("--warmup", type=float, default=5)
    ap.add_argument("--sizes", default="640x360,1280x720")
    ap.add_argument("--binary", default=os.path.join(formats.ROOT, "target", "release", "liverec"))
    args = ap.parse_args()
    formats.ensure_sdk()
    for size in args.sizes.split(","):
        run(args.binary, size, args.window, args.warmup)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    main()
