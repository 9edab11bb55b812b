"""Benchmark: mix + master + encode a 10-minute bulletin vs ffmpeg alone encoding the same audio to MP3.

Speech comes from a cache directory of mono 16-bit WAVs at 22.05 kHz (what
espeak-ng produces); here it is a deterministic speech-like signal, so the
benchmark needs no TTS engine. The floor, measured in the same run and
interleaved with our runs so both see the same machine load: bare ffmpeg
encoding a 44.1 kHz mono WAV of the bulletin itself with the same encoder
settings. Target: ratio <= 1.3.

    python bench/bench_audio.py [--minutes 10] [--repeat 5] [--bed] [--rate 44100] [--bitrate 128k]

Below 128 kbit/s or under 32 kHz the render also decodes and measures its
MP3 (and masters again while the true peak is over): --rate 24000
--bitrate 32k times that path against the same floor.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from floor import cpu_seconds, decode_to_wav, encode_all, load

from broadcast.audio import Part, Tags, ffmpeg_version, find_ffmpeg, measure, render, testsignal
from broadcast.audio.jingle import write_default
from broadcast.config import AudioConfig

SPEECH_RATE = 22050
PARAGRAPH_S = 10.0


def build_cache(folder: Path, minutes: float) -> list[Part]:
    """Write speech-like paragraphs and return the bulletin's parts in playing order."""
    parts = [Part("jingle", label="Nhạc hiệu"), Part("pause", duration_ms=400)]
    n = int(minutes * 60 / (PARAGRAPH_S + 0.9))
    for i in range(n):
        wav = folder / f"p{i:03d}.wav"
        level = -18.0 - (i % 4) * 3  # paragraphs from different engines differ in level
        testsignal.write_wav(wav, testsignal.speechlike(PARAGRAPH_S, SPEECH_RATE, seed=i, level_db=level),
                             SPEECH_RATE)
        parts.append(Part("speech", wav, label=f"Đoạn {i + 1}"))
        if i % 6 == 5:
            parts += [Part("pause", duration_ms=400), Part("sting", label="Chuyển mục"),
                      Part("pause", duration_ms=400)]
        else:
            parts.append(Part("pause", duration_ms=600))
    parts.append(Part("outro", label="Nhạc kết"))
    return parts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--repeat", type=int, default=5, help="runs of each, alternating; the best time counts")
    ap.add_argument("--bed", action="store_true", help="also mix a ducked music bed")
    ap.add_argument("--rate", type=int, default=44100, help="output sample rate")
    ap.add_argument("--bitrate", default="128k", help="MP3 bit rate")
    args = ap.parse_args()

    print(f"ffmpeg {ffmpeg_version()} ({find_ffmpeg()}); load {load()}")
    with tempfile.TemporaryDirectory(prefix="bench-audio-") as tmp:
        d = Path(tmp)
        t0 = time.perf_counter()
        parts = build_cache(d, args.minutes)
        audio = AudioConfig(sample_rate=args.rate, bitrate=args.bitrate)
        if args.bed:
            audio.bed = write_default("jingle", d / "bed.wav")
            audio.bed_enabled = True
        print(f"speech cache: {sum(p.kind == 'speech' for p in parts)} paragraphs "
              f"({time.perf_counter() - t0:.1f} s to generate)")
        tags = Tags("Bản tin thử", "Đài thử", "2025-06-01", "bench")
        render(parts, audio, d / "warmup.mp3", tags)  # first run pays for imports and jingle synthesis
        wav = d / "same_audio.wav"
        decode_to_wav(d / "warmup.mp3", wav, audio.sample_rate)

        ours, base, ours_cpu, base_cpu = [], [], [], []
        stages: dict[str, float] = {}
        for _ in range(args.repeat):
            t, c = time.perf_counter(), cpu_seconds()
            result = render(parts, audio, d / "bulletin.mp3", tags)
            ours.append(time.perf_counter() - t)
            ours_cpu.append(cpu_seconds() - c)
            if ours[-1] == min(ours):
                stages = result.stages
            c = cpu_seconds()
            base.append(encode_all([wav], d / "floor", audio.bitrate, audio.sample_rate, 1))
            base_cpu.append(cpu_seconds() - c)
        measured = measure(d / "bulletin.mp3")

    print(f"bulletin: {result.duration / 60:.2f} min; reported {result.loudness:.2f} LUFS, "
          f"{result.true_peak:.2f} dBTP; decoded MP3 {measured.integrated:.2f} LUFS, "
          f"{measured.true_peak:.2f} dBTP; warnings: {result.warnings or 'none'}")
    print("render stages (best run, wall s): " + ", ".join(f"{k} {v:.2f}" for k, v in stages.items())
          + f"; before the encoder starts {sum(v for k, v in stages.items() if k not in ('encode', 'check')):.2f}")
    print(f"render (mix+master+encode): {min(ours):.2f} s wall, {min(ours_cpu):.2f} s CPU  (runs: "
          + ", ".join(f"{t:.2f}" for t in ours) + ")")
    print(f"floor, ffmpeg WAV -> MP3:   {min(base):.2f} s wall, {min(base_cpu):.2f} s CPU  (runs: "
          + ", ".join(f"{t:.2f}" for t in base) + ")")
    print(f"ratio: {min(ours) / min(base):.2f}x wall (target <= 1.3x), "
          f"{min(ours_cpu) / min(base_cpu):.2f}x CPU; load now {load()}")


if __name__ == "__main__":
    main()
