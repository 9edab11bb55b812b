"""Mastering for horn loudspeakers: high-pass, gentle compression, loudness and true-peak control.

Like loudnorm's two-pass mode, but with static gains so the sound is never
pumped by a dynamic normaliser:
1. `analyse`: high-pass + compressor, a gain estimated from the mix's
   working level (aimed slightly high) and a look-ahead peak limiter set
   below the true-peak target (MP3 encoding adds inter-sample peaks), into a
   temporary float file; ebur128 measures before and after the limiter.
2. `finish`: the small gain that lands exactly on target (normally a cut,
   so the limiter has nothing more to do) and the same limiter as a safety,
   into the MP3 (and WAV) encoders.
The renderer then decodes the MP3 and measures it, corrects once if needed,
and reports what the loudspeakers will actually play.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

from broadcast.audio.encode import mp3_output_args
from broadcast.audio.measure import Loudness, parse_ebur128
from broadcast.audio.ffmpeg import run_ffmpeg
from broadcast.audio.mix import SPEECH_LEVEL_DB, Program
from broadcast.config import AudioConfig

log = logging.getLogger(__name__)

# Gentle speech compression around the working level of the mix: about 2 dB
# on average, up to 6-7 dB on the loudest syllables. It lifts quiet word
# endings over wind and traffic without audible pumping.
COMP_THRESHOLD_DB = SPEECH_LEVEL_DB - 3.0
COMP_RATIO = 2.5
COMP_ATTACK_MS = 10
COMP_RELEASE_MS = 200
COMP_KNEE_DB = 6.0
# The limiter works on samples; MP3 encoding and inter-sample peaks add up to
# about a decibel above that, so it sits this far below the true-peak target.
LIMIT_MARGIN_DB = 1.0
MIN_CEILING_DB = -20.0
OVERSAMPLE_BELOW = 32000
LIMIT_RATE = 88200  # oversampled limiting runs at the output rate times 4
MAX_GAIN_DB = 40.0


def chain(audio: AudioConfig) -> list[str]:
    """ffmpeg filters before the loudness gain: float, high-pass, compressor."""
    filters = ["aformat=sample_fmts=flt"]
    if audio.highpass_hz > 0:
        # 12 dB/octave: horns cannot reproduce lows, they only eat amplifier power and blur words.
        filters.append(f"highpass=f={audio.highpass_hz:g}:poles=2")
    if audio.compress:
        filters.append(
            "acompressor="
            f"threshold={10 ** (COMP_THRESHOLD_DB / 20):.6f}:ratio={COMP_RATIO:g}:"
            f"attack={COMP_ATTACK_MS}:release={COMP_RELEASE_MS}:knee={10 ** (COMP_KNEE_DB / 20):.4f}:"
            "makeup=1:detection=rms"
        )
    return filters


def _raw_input(path: Path, rate: int, fmt: str) -> list[str]:
    return ["-f", fmt, "-ar", str(rate), "-ac", "1", "-i", str(path)]


def _gain_and_limit(gain_db: float, ceiling_db: float, rate: int) -> list[str]:
    limit = 10 ** (max(MIN_CEILING_DB, min(0.0, ceiling_db)) / 20)
    # latency=1 removes the look-ahead delay so the timeline stays exact; level=0 keeps our gain.
    limiter = f"alimiter=limit={limit:.5f}:attack=5:release=50:level=0:latency=1"
    if rate >= OVERSAMPLE_BELOW:
        return [f"volume={gain_db:.2f}dB", limiter]
    # At 22.05/24 kHz speech reaches up to Nyquist and peaks between samples
    # run 1-2 dB over the sample peaks: limit oversampled (a true-peak limiter).
    # At 32 kHz and up the overshoot stays well inside LIMIT_MARGIN_DB.
    factor = math.ceil(LIMIT_RATE / rate)
    return [f"volume={gain_db:.2f}dB", f"aresample={rate * factor}", limiter, f"aresample={rate}"]


def analyse(
    program: Program, audio: AudioConfig, processed: Path, gain_db: float, ceiling_db: float
) -> tuple[Loudness, Loudness]:
    """Pass 1: chain, gain and limiter into `processed` (raw float); loudness before and after the limiter.

    One ffmpeg run measures the program twice: right after the compressor
    (what a plain gain would start from) and after gain + limiter (what the
    encoder will get), so the limiter's cost in loudness is known without
    another pass.
    """
    graph = (
        f"[0:a]{','.join(chain(audio))},asplit=2[pre][main];"
        "[pre]ebur128@pre=framelog=quiet,anullsink;"
        f"[main]{','.join(_gain_and_limit(gain_db, ceiling_db, program.rate))},ebur128@post=framelog=quiet[out]"
    )
    proc = run_ffmpeg(
        ["-f", "s16le", "-ar", str(program.rate), "-ac", "1", "-i", "pipe:0",
         "-filter_complex", graph, "-map", "[out]", "-f", "f32le", "-ac", "1", "-y", str(processed)],
        stdin=program.pcm, what="xử lý âm thanh bản tin (lượt 1)", quiet=False,
    )
    text = proc.stderr.decode("utf-8", "replace")
    return parse_ebur128(text, "bản tin", "pre"), parse_ebur128(text, "bản tin", "post")


def finish(
    processed: Path, rate: int, gain_db: float, ceiling_db: float | None,
    mp3_path: Path, bitrate: str, wav_path: Path | None = None,
) -> None:
    """Pass 2: a small gain correction (and the limiter again if given a ceiling), then encode.

    A cut needs no limiter: every peak only gets lower than pass 1 left it.
    """
    if ceiling_db is None:
        graph = f"volume={gain_db:.2f}dB"
    else:
        graph = ",".join(_gain_and_limit(gain_db, ceiling_db, rate))
    args = _raw_input(processed, rate, "f32le")
    if wav_path is None:
        args += ["-af", graph] + mp3_output_args(bitrate, rate) + ["-y", str(mp3_path)]
    else:
        args += ["-filter_complex", f"[0:a]{graph},asplit=2[mp3][wav]"]
        args += ["-map", "[mp3]"] + mp3_output_args(bitrate, rate) + ["-y", str(mp3_path)]
        args += ["-map", "[wav]", "-c:a", "pcm_s16le", "-ar", str(rate), "-ac", "1",
                 "-map_metadata", "-1", "-f", "wav", "-y", str(wav_path)]
    run_ffmpeg(args, what="mã hóa MP3 bản tin")
