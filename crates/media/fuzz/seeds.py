#!/usr/bin/env python3
"""Writes the seed corpora in seeds/<target>/ from the FLV fixtures and the
unit-test tables (the libx265 HEVC parameter sets, the fixture ASC and MP3
header). The `recover` seeds are a kind byte and the start of a file of each
format: FLV, ADTS and MP3 from the fixtures' tags, MPEG-TS and fragmented
MP4 (the journal's layout) remuxed by ffmpeg when it is installed.
Usage: python3 seeds.py  (from this directory)."""
import os
import shutil
import struct
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "..", "fixtures")
NAMES = ["h264_aac_10s", "h264_mp3_10s", "aac_only_10s", "h264_only_10s", "h264_aac_ts_jump"]


def tags(data):
    off = struct.unpack(">I", data[5:9])[0] + 4
    while off + 11 <= len(data):
        kind = data[off] & 0x1F
        size = int.from_bytes(data[off + 1:off + 4], "big")
        yield kind, data[off + 11:off + 11 + size]
        off += 11 + size + 4


def write(target, name, blob):
    d = os.path.join(HERE, "seeds", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(blob)


VPS = bytes.fromhex("40010c01ffff01600000030090000003000003003c928090")
SPS265 = bytes.fromhex("42010101600000030090000003000003003ca00a080f16592a4932bc05a020000003002000000303c1")
PPS265 = bytes.fromhex("4401c172b46240")


def hevc_record():
    out = bytes([1, 0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 60, 0xF0, 0, 0xFC, 0xFD, 0xF8, 0xF8, 0, 0, 0x0F, 3])
    for t, nal in ((32, VPS), (33, SPS265), (34, PPS265)):
        out += bytes([0x80 | t]) + struct.pack(">HH", 1, len(nal)) + nal
    return out


def adts(payload):
    # AAC-LC, 44.1 kHz (index 4), stereo, no CRC: the fixtures' ASC.
    n = len(payload) + 7
    return bytes([0xFF, 0xF1, (1 << 6) | (4 << 2), (2 << 6) | (n >> 11), (n >> 3) & 0xFF,
                  ((n & 7) << 5) | 0x1F, 0xFC]) + payload


def ffmpeg(src, args):
    if shutil.which("ffmpeg") is None:
        return None
    cmd = ["ffmpeg", "-v", "error", "-i", src, "-t", "1", "-c", "copy"] + args + ["-"]
    return subprocess.run(cmd, check=True, capture_output=True).stdout


def recover_seeds():
    h264_aac = os.path.join(FIXTURES, "h264_aac_10s.flv")
    data = open(h264_aac, "rb").read()
    write("recover", "flv_h264_aac", b"\x00" + data[:16384])
    aac = b"".join(adts(body[2:]) for kind, body in tags(data) if kind == 8 and body[:2] == b"\xaf\x01")
    write("recover", "adts", b"\x01" + aac[:8192])
    mp3 = open(os.path.join(FIXTURES, "h264_mp3_10s.flv"), "rb").read()
    frames = b"".join(body[1:] for kind, body in tags(mp3) if kind == 8)
    write("recover", "mp3", b"\x02" + frames[:8192])
    ts = ffmpeg(h264_aac, ["-f", "mpegts"])
    if ts is not None:
        write("recover", "ts", b"\x03" + ts[:188 * 64])
    frag = ffmpeg(h264_aac, ["-f", "mp4", "-movflags", "frag_keyframe+empty_moov"])
    if frag is not None:
        write("recover", "mp4_journal", b"\x04" + frag[:32768])


def main():
    recover_seeds()
    for name in NAMES:
        data = open(os.path.join(FIXTURES, name + ".flv"), "rb").read()
        write("flv_demux", name + "_head", data[:8192])
        messages = b""
        for i, (kind, body) in enumerate(tags(data)):
            if i >= 12:
                break
            body = body[:2048]
            messages += bytes([kind]) + struct.pack(">H", len(body)) + body
            if kind == 18:
                write("amf0_decode", name + "_onmetadata", body)
            if kind == 9 and body[:2] == b"\x17\x00":
                write("codec_config", "avc_record", b"\x00" + body[5:])
                sps_len = int.from_bytes(body[11:13], "big")
                write("codec_config", "avc_sps", b"\x01" + body[13:13 + sps_len])
            if kind == 8 and body[:2] == b"\xaf\x00":
                write("codec_config", "asc", b"\x04" + body[2:])
            if kind == 8 and body[0] >> 4 == 2:
                write("codec_config", "mp3_header", b"\x05" + body[1:9])
        write("flv_demux", name + "_messages", messages)
    record = hevc_record()
    write("codec_config", "hevc_record", b"\x02" + record)
    write("codec_config", "hevc_sps", b"\x03" + SPS265)
    write("codec_config", "annexb", b"\x06\x04" + b"\x00\x00\x00\x02\x65\x01\x00\x00\x00\x01\x41")
    write("flv_demux", "enhanced_hevc_messages",
          b"\x09" + struct.pack(">H", 5 + len(record)) + b"\x90hvc1" + record
          + b"\x09\x00\x0d\x91hvc1\xff\xff\xfe\x00\x00\x00\x01\x26"
          + b"\x09\x00\x0a\xa3hvc1\x00\x00\x00\x01\x02"
          + b"\x08\x00\x09\x91.mp3\xff\xfb\x90\x64")
    connect = (b"\x02\x00\x07connect\x00\x3f\xf0\x00\x00\x00\x00\x00\x00"
               b"\x03\x00\x03app\x02\x00\x04live\x00\x05tcUrl\x02\x00\x0frtmp://h/live/s\x00\x00\x09")
    write("amf0_decode", "connect", connect)


if __name__ == "__main__":
    main()
