#!/usr/bin/env python3
"""A stand-in speech program for the `command` engine tests.

Usage: fake_tts.py [--mode ok|fail|sleep|nothing] [--stereo] [--voice V] INPUT OUTPUT
Writes a tone whose length follows the text length; `fail` exits 3 with a
message on stderr, `sleep` hangs, `nothing` exits 0 without writing audio.
With OUTPUT "-" the WAV goes to standard output; with INPUT "-" the text
comes from standard input.
"""

from __future__ import annotations

import argparse
import io
import math
import struct
import sys
import time
import wave


def tone(seconds: float, rate: int, channels: int) -> bytes:
    frames = bytearray()
    for i in range(int(seconds * rate)):
        v = int(8000 * math.sin(2 * math.pi * 330 * i / rate))
        frames += struct.pack("<h", v) * channels
    return bytes(frames)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", default="ok")
    ap.add_argument("--stereo", action="store_true")
    ap.add_argument("--voice", default="")
    ap.add_argument("input")
    ap.add_argument("output")
    args = ap.parse_args()
    if args.mode == "sleep":
        time.sleep(60)
        return 0
    if args.mode == "fail":
        sys.stderr.write("fake_tts: không nạp được mô hình giọng vi_VN\n")
        return 3
    text = sys.stdin.read() if args.input == "-" else open(args.input, encoding="utf-8").read()
    if args.mode == "nothing":
        return 0
    if args.voice == "bad":
        sys.stderr.write("fake_tts: unknown voice\n")
        return 4
    rate, channels = 16000, 2 if args.stereo else 1
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(tone(0.05 + 0.02 * len(text.split()), rate, channels))
    if args.output == "-":
        sys.stdout.buffer.write(buf.getvalue())
    else:
        with open(args.output, "wb") as fh:
            fh.write(buf.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
