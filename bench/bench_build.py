"""Benchmark the nightly run: many stations sharing the same news, offline engine.

Prints wall time of a cold build (empty speech cache), a warm rebuild (nothing
changed: nothing synthesized, nothing re-encoded) and a rebuild after new
scripts (speech from the cache, audio mastered again), plus speech calls
against unique paragraphs.

    python bench/bench_build.py --stations 20
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from broadcast.config import load_config
from broadcast.models import today_vn
from broadcast.pipeline import BuildOptions, build

FEED = Path(__file__).resolve().parent.parent / "broadcast" / "data" / "demo" / "tin-mau-cchc.xml"


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


def run(config_path: Path, out: Path, **kw) -> tuple[float, object]:
    config = load_config(config_path)
    start = time.perf_counter()
    report = build(config, [], BuildOptions(date=today_vn(), out_dir=out, **kw))
    return time.perf_counter() - start, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stations", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        root = Path(tmp)
        config = write_config(root, args.stations)
        out = root / "audio_out"
        cold, report = run(config, out)
        failed = report.failed
        audio_minutes = sum(r.duration for r in report.results) / 60
        unique = len({p.name for p in (root / "data" / "speech-cache").rglob("*.wav")})
        print(f"stations: {args.stations}, audio: {audio_minutes:.1f} min, failed: {len(failed)}")
        print(f"cold build:   {cold:7.2f} s  ({cold / args.stations:.2f} s/station), "
              f"speech calls {report.speech_calls}, unique paragraphs cached {unique}")
        warm, report = run(config, out, fetch=False)
        statuses = {r.status for r in report.results}
        print(f"warm rebuild: {warm:7.2f} s  speech calls {report.speech_calls}, statuses {sorted(statuses)}")
        for wav in out.rglob("*.json"):
            wav.unlink()  # forget the manifests: audio is mastered again from cached speech
        remaster, report = run(config, out, fetch=False)
        print(f"re-master:    {remaster:7.2f} s  ({remaster / args.stations:.2f} s/station), "
              f"speech calls {report.speech_calls}")


if __name__ == "__main__":
    main()
