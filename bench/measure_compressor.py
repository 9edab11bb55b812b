#!/usr/bin/env python3
"""What the speech compressor does to real espeak-ng speech; prints numbers, asserts nothing.

Speech: the demo feed's stories, normalised as for air and spoken by
espeak-ng in its three Vietnamese voices, assembled speech-only (no jingles)
with the bulletin's pauses. For the compressor as configured (and, with
--threshold/--ratio, another setting) it prints, over active speech:

- gain reduction per 2 ms control block: mean, median, 90th percentile,
  maximum, and how much of it is static (the mean, which the loudness gain
  gives back) against how much moves (the spread);
- movement of the gain reduction: mean absolute change per 50 ms (pumping
  shows as a large one) and the share of 400 ms windows where it swings
  more than 6 dB;
- on the mastered result (-16 LUFS, -1 dBTP, measured by ffmpeg's ebur128
  on a WAV of it): loudness range (LRA), and the spread of the momentary
  loudness over speech (90th minus 10th percentile of 400 ms windows);
- peak-to-loudness ratio before the limiter, and how much the limiter
  then has to take (its largest cut).

    python bench/measure_compressor.py [--threshold DB] [--ratio R]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from broadcast.audio import master as m  # noqa: E402
from broadcast.audio.ffmpeg import run_ffmpeg  # noqa: E402
from broadcast.audio.measure import integrated_loudness, k_weighting, parse_ebur128  # noqa: E402
from broadcast.audio.mix import Part, assemble  # noqa: E402
from broadcast.config import AudioConfig, TTSConfig  # noqa: E402
from broadcast.feeds import parse_feed  # noqa: E402
from broadcast.speech.espeak import EspeakEngine  # noqa: E402
from broadcast.textnorm import normalize  # noqa: E402

FEED = Path(__file__).resolve().parents[1] / "tests" / "data" / "demo-feed.xml"
RATE = 44100
VOICES = ("vi", "vi-vn-x-central", "vi-vn-x-south")


def paragraphs() -> list[str]:
    """The demo feed's titles and summaries, normalised for reading aloud."""
    import datetime as dt

    from broadcast.config import FeedConfig
    from broadcast.models import VN_TZ

    now = dt.datetime(2026, 3, 12, 5, 30, tzinfo=VN_TZ)
    items = parse_feed(FEED.read_bytes(), FeedConfig(name="demo", url=str(FEED)), now=now).items
    out = []
    for item in items:
        for text in (item.title, item.summary):
            if text and text.strip():
                out.append(normalize(text.strip()))
    return out


def speech_parts(folder: Path, voices: int, hiss_db: float | None, wobble_db: float | None) -> list[Part]:
    parts: list[Part] = []
    rng = np.random.default_rng(1)
    for v, voice in enumerate(VOICES[:voices]):
        engine = EspeakEngine(TTSConfig(espeak_voice=voice))
        for i, text in enumerate(paragraphs()):
            wav = folder / f"{v}-{i}.wav"
            engine.synthesize(text, wav)
            if wobble_db is not None:
                # A livelier voice than espeak-ng's: its level drifts up and down by up to wobble_db
                # from phrase to phrase (random, smooth over about a second), as a recorded reader's does.
                with wave.open(str(wav), "rb") as w:
                    rate, x = w.getframerate(), np.frombuffer(w.readframes(w.getnframes()), "<i2") / 32768
                knots = rng.uniform(-wobble_db, wobble_db, len(x) // rate + 2)
                curve = np.interp(np.arange(len(x)) / rate, np.arange(len(knots)), knots)
                write_wav(wav, x * 10 ** (curve / 20) * 10 ** (-wobble_db / 20), rate)
            if hiss_db is not None:
                # The steady hiss of a recorded or MP3-coded voice, under the words and in its pauses.
                with wave.open(str(wav), "rb") as w:
                    rate, x = w.getframerate(), np.frombuffer(w.readframes(w.getnframes()), "<i2") / 32768
                write_wav(wav, x + rng.normal(0, 10 ** (hiss_db / 20), len(x)), rate)
            if parts:
                parts.append(Part("pause", duration_ms=600 if i else 900))
            parts.append(Part("speech", wav, label=f"{v}:{i}"))
    return parts


def write_wav(path: Path, x: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.clip(np.rint(x * 32768), -32768, 32767).astype("<i2").tobytes())


def momentary_spread(x: np.ndarray, rate: int, seconds: float = 0.4) -> float:
    """90th minus 10th percentile of K-weighted loudness in `seconds` windows with speech (above -40 LUFS)."""
    from scipy import signal

    w = signal.sosfilt(k_weighting(rate), x.astype(np.float64))
    win, hop = int(seconds * rate), int(min(0.1, seconds / 2) * rate)
    c = np.concatenate(([0.0], np.cumsum(w * w)))
    starts = np.arange(0, len(w) - win, hop)
    lufs = -0.691 + 10 * np.log10((c[starts + win] - c[starts]) / win + 1e-20)
    lufs = lufs[lufs > -40]
    return float(np.percentile(lufs, 90) - np.percentile(lufs, 10))


def quiet_level(x: np.ndarray, rate: int) -> float:
    """K-weighted level (LUFS) of the 5th percentile of 50 ms windows that are not digital silence."""
    from scipy import signal

    w = signal.sosfilt(k_weighting(rate), x.astype(np.float64))
    win = int(0.05 * rate)
    e = (w[: len(w) // win * win].reshape(-1, win) ** 2).mean(axis=1)
    lufs = -0.691 + 10 * np.log10(e[e > 1e-12])
    return float(np.percentile(lufs, 5))


def measure(program: np.ndarray, label: str, tmp: Path, compress: bool, hiss_db: float | None) -> None:
    x = program.copy()
    block = m._block_size(RATE)
    energy, power, peaks = m._analyse(x, RATE, block, 120.0)  # x is high-passed in place, as in master()
    gains = m._compressor_gains(power, block, RATE) if compress else np.ones(len(power))
    gr = -20 * np.log10(gains)
    # Active speech: 2 ms blocks within 100 ms of a block less than 30 dB under the speech working level.
    loud = 10 * np.log10(power + 1e-20) > m.SPEECH_LEVEL_DB - 30
    near = np.convolve(loud, np.ones(101), mode="same") > 0
    g = gr[near]
    per50 = gr[: len(gr) // 25 * 25].reshape(-1, 25).mean(axis=1)  # 50 ms means
    act50 = near[: len(near) // 25 * 25].reshape(-1, 25).all(axis=1)
    moves = np.abs(np.diff(per50))[act50[1:] & act50[:-1]]
    w400 = gr[: len(gr) // 200 * 200].reshape(-1, 200)
    a400 = near[: len(near) // 200 * 200].reshape(-1, 200).all(axis=1)
    swing = (w400.max(axis=1) - w400.min(axis=1))[a400]
    out = m.master(program.copy(), RATE, AudioConfig(compress=compress), -16.0, -2.0)
    wav = tmp / f"{label}.wav"
    write_wav(wav, out.samples, RATE)
    log = run_ffmpeg(["-i", str(wav), "-af", "ebur128=peak=true:framelog=quiet", "-f", "null", "-"],
                     what="đo", quiet=False).stderr.decode()
    r = parse_ebur128(log, label)
    curve = np.concatenate([gains.repeat(block), np.full(len(x) - len(gains) * block, gains[-1])])
    gained = x * curve.astype(np.float32)
    plr = 20 * np.log10(np.abs(gained).max()) - integrated_loudness(gained, RATE)
    hiss = ""
    if hiss_db is not None:
        # Level of the hiss in the pauses inside paragraphs (their quietest 50 ms windows) under the loudness.
        quiet = quiet_level(out.samples, RATE)
        hiss = f", hiss in pauses {quiet - r.integrated:+.1f} LU under the speech"
    print(f"{label:<22} GR mean {g.mean():4.1f} dB, median {np.median(g):4.1f}, p90 {np.percentile(g, 90):4.1f}, "
          f"max {g.max():4.1f}, spread (sd) {g.std():3.1f} | GR moves {moves.mean():4.2f} dB/50 ms, "
          f"400 ms windows swinging >6 dB {100 * np.mean(swing > 6):4.1f}% | mastered: {r.integrated:.1f} LUFS, "
          f"LRA {r.lra:4.1f} LU, momentary p90-p10 {momentary_spread(out.samples, RATE):4.1f} LU, "
          f"50 ms p90-p10 {momentary_spread(out.samples, RATE, 0.05):4.1f} LU, "
          f"gain {out.gain_db:+.1f} dB, sample-peak to loudness {plr:4.1f} dB{hiss}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threshold", type=float, help="another threshold (dBFS) to compare")
    ap.add_argument("--ratio", type=float, help="another ratio to compare")
    ap.add_argument("--hiss", type=float, help="add steady noise at this RMS (dBFS) to each speech file")
    ap.add_argument("--wobble", type=float, help="make the voice's level drift by up to this many dB")
    ap.add_argument("--voices", type=int, default=3, help="how many of the three espeak-ng voices to speak")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="measure-comp-") as tmp:
        folder = Path(tmp)
        parts = speech_parts(folder, args.voices, args.hiss, args.wobble)
        program = assemble(parts, AudioConfig(jingles=False), RATE).samples
        print(f"{len(parts)} parts, {len(program) / RATE / 60:.1f} min of espeak-ng speech "
              f"({', '.join(VOICES[:args.voices])}); load {os.getloadavg()[0]:.1f}")
        print(f"compressor: threshold {m.COMP_THRESHOLD_DB:.0f} dBFS, ratio {m.COMP_RATIO}, knee {m.COMP_KNEE_DB:.0f} dB, "
              f"attack {m.COMP_ATTACK_S * 1000:.0f} ms, release {m.COMP_RELEASE_S * 1000:.0f} ms")
        measure(program, "off", folder, False, args.hiss)
        measure(program, "as configured", folder, True, args.hiss)
        if args.threshold is not None or args.ratio is not None:
            m.COMP_THRESHOLD_DB = args.threshold if args.threshold is not None else m.COMP_THRESHOLD_DB
            m.COMP_RATIO = args.ratio if args.ratio is not None else m.COMP_RATIO
            measure(program, f"{m.COMP_THRESHOLD_DB:.0f} dBFS {m.COMP_RATIO}:1", folder, True, args.hiss)


if __name__ == "__main__":
    main()
