"""Benchmark the nightly run: many stations sharing the same news, offline espeak voice.

Prints, from one run:
- the cold build (empty speech cache) of N stations through
  broadcast.api.build, and the peak resident memory of all its
  processes together;
- the floor: the same audio (the built bulletins decoded back to WAV)
  encoded to MP3 by bare ffmpeg, as many processes at once as cores;
- the ratio of the two (target <= 1.5 at 100 stations) and a projection for
  the 10,599 communes of Vietnam on a 16-core machine.
With --rebuilds, also a warm rebuild (nothing changed) and a re-master
(speech from the cache, audio mastered again).

    python bench/bench_build.py --stations 100
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import tempfile
import time
from pathlib import Path

from floor import PeakRSS, cpu_seconds, decode_to_wav, encode_all, load

from broadcast.api import build
from broadcast.config import load_config
from broadcast.models import VN_TZ

FEED = Path(__file__).resolve().parent.parent / "broadcast" / "data" / "demo" / "tin-mau-cchc.xml"
COMMUNES = 10_599
TARGET_CORES = 16


def write_config(root: Path, stations: int) -> Path:
    shutil.copy(FEED, root / "tin.xml")
    parts = ['[general]\ndata_dir = "data"\n',
             '[[feeds]]\nname = "tinh"\nurl = "tin.xml"\nsource = "Cổng Thông tin điện tử tỉnh"\n',
             '[tts]\nengine = "espeak"\n']
    for i in range(stations):
        parts.append(f'[[stations]]\nid = "xa-{i:03d}"\nname = "Đài truyền thanh xã số {i + 1}"\n'
                     'target_minutes = 3\n')
    path = root / "broadcast.toml"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def run(config_path: Path, out: Path, date: dt.date, **kw) -> tuple[float, object]:
    config = load_config(config_path)
    start = time.perf_counter()
    report = build(config, out, date, dt.datetime.now(VN_TZ), **kw)
    return time.perf_counter() - start, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stations", type=int, default=20)
    parser.add_argument("--date", type=dt.date.fromisoformat, default=None,
                        help="bulletin date (default: today in Vietnam)")
    parser.add_argument("--rebuilds", action="store_true", help="also time a warm rebuild and a re-master")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print(f"machine: {cores} cores; load {load()}")
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        root = Path(tmp)
        config = write_config(root, args.stations)
        out = root / "audio_out"
        date = args.date or dt.datetime.now(VN_TZ).date()  # the bench, not the library, reads the clock
        cpu = cpu_seconds()
        with PeakRSS() as rss:
            cold, report = run(config, out, date)
        cold_cpu = cpu_seconds() - cpu
        built = [r for r in report.results if r.status == "built" and r.audio]
        audio_s = sum(r.duration for r in built)
        unique = len({p.name for p in (root / "data" / "speech-cache").rglob("*.wav")})
        print(f"stations: {args.stations}, built {len(built)}, failed {len(report.failed)}, "
              f"audio {audio_s / 60:.1f} min")
        if not built:
            print("no bulletin was built: " + "; ".join(r.message for r in report.results[:3]))
            return
        print(f"cold build:  {cold:7.2f} s  ({cold / args.stations:.2f} s/station), "
              f"speech calls {report.speech_calls}, unique paragraphs cached {unique}")
        print(f"peak memory: {rss.peak / 2**20:7.0f} MiB (resident, all processes of the build)")

        wavs = root / "floor_wav"
        wavs.mkdir()
        rate = 44100
        for r in built:
            decode_to_wav(r.audio, wavs / (r.audio.parent.name + "-" + r.audio.stem + ".wav"), rate)
        cpu = cpu_seconds()
        floor = encode_all(sorted(wavs.iterdir()), root / "floor_mp3", "128k", rate, cores)
        floor_cpu = cpu_seconds() - cpu
        print(f"cold build CPU: {cold_cpu:7.2f} s (all processes)")
        print(f"floor:       {floor:7.2f} s  (bare ffmpeg WAV -> MP3 of the same {audio_s / 60:.1f} min, "
              f"{cores} at a time; CPU {floor_cpu:.2f} s)")
        print(f"ratio:       {cold / floor:7.2f}x wall (target <= 1.5x), {cold_cpu / floor_cpu:.2f}x CPU")
        per_core = cold * cores / len(built)  # core-seconds per station
        ours_h = COMMUNES * per_core / TARGET_CORES / 3600
        floor_h = COMMUNES * (floor * cores / len(built)) / TARGET_CORES / 3600
        print(f"projection:  {COMMUNES:,} communes on {TARGET_CORES} cores: {ours_h:.1f} h "
              f"(floor {floor_h:.1f} h), if the news is shared as here")
        print(f"load now {load()}")

        if args.rebuilds:
            warm, report = run(config, out, date, fetch=False)
            statuses = {r.status for r in report.results}
            print(f"warm rebuild: {warm:7.2f} s  speech calls {report.speech_calls}, statuses {sorted(statuses)}")
            for manifest in out.rglob("*.json"):
                manifest.unlink()  # forget the manifests: audio is mastered again from cached speech
            remaster, report = run(config, out, date, fetch=False)
            print(f"re-master:    {remaster:7.2f} s  ({remaster / args.stations:.2f} s/station), "
                  f"speech calls {report.speech_calls}")


if __name__ == "__main__":
    main()
