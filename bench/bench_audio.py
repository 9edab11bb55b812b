"""Benchmark: mix + master + encode a 10-minute bulletin vs ffmpeg alone encoding a WAV to MP3.

Speech comes from a cache directory of mono 16-bit WAVs at 22.05 kHz (what
espeak-ng produces); here it is a deterministic speech-like signal, so the
benchmark needs no TTS engine. The baseline encodes a 44.1 kHz mono WAV of
the same length with the same encoder settings. Target: ratio <= 3.

    /work/venv/bin/python bench/bench_audio.py [--minutes 10] [--repeat 2] [--bed]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from broadcast.audio import Part, Tags, ffmpeg_version, find_ffmpeg, render
from broadcast.audio import testsignal
from broadcast.audio.ffmpeg import run_ffmpeg
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
    ap.add_argument("--repeat", type=int, default=2, help="runs of each; the best time counts")
    ap.add_argument("--bed", action="store_true", help="also mix a ducked music bed")
    args = ap.parse_args()

    print(f"ffmpeg {ffmpeg_version()} ({find_ffmpeg()})")
    with tempfile.TemporaryDirectory(prefix="bench-audio-") as tmp:
        d = Path(tmp)
        t0 = time.perf_counter()
        parts = build_cache(d, args.minutes)
        audio = AudioConfig()
        if args.bed:
            audio.bed = write_default("jingle", d / "bed.wav")
            audio.bed_enabled = True
        print(f"speech cache: {sum(p.kind == 'speech' for p in parts)} paragraphs "
              f"({time.perf_counter() - t0:.1f} s to generate)")
        tags = Tags("Bản tin thử", "Đài thử", "2025-06-01", "bench")
        render(parts, audio, d / "warmup.mp3", tags)  # first run pays for jingle synthesis

        ours = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            result = render(parts, audio, d / "bulletin.mp3", tags)
            ours.append(time.perf_counter() - t)

        # Baseline: a WAV of exactly the same length, encoded with the same settings.
        wav = d / "same_length.wav"
        run_ffmpeg(["-i", str(d / "bulletin.mp3"), "-ac", "1", "-ar", str(audio.sample_rate),
                    "-c:a", "pcm_s16le", "-y", str(wav)], what="bench")
        base = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            run_ffmpeg(["-i", str(wav), "-c:a", "libmp3lame", "-b:a", audio.bitrate, "-ac", "1",
                        "-ar", str(audio.sample_rate), "-y", str(d / "baseline.mp3")], what="bench")
            base.append(time.perf_counter() - t)

    print(f"bulletin: {result.duration / 60:.2f} min, {result.loudness:.1f} LUFS, "
          f"{result.true_peak:.1f} dBTP, warnings: {result.warnings or 'none'}")
    print(f"render (mix+master+encode+measure): {min(ours):.2f} s  (runs: "
          + ", ".join(f"{t:.2f}" for t in ours) + ")")
    print(f"ffmpeg alone, WAV -> MP3:            {min(base):.2f} s  (runs: "
          + ", ".join(f"{t:.2f}" for t in base) + ")")
    print(f"ratio: {min(ours) / min(base):.2f}x (target <= 3x)")


if __name__ == "__main__":
    main()
