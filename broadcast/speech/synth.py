"""Turn paragraphs into speech: cache first, then the station's engines in order."""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import tempfile
import threading
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from broadcast.config import TTSConfig
from broadcast.errors import BroadcastError, SpeechError
from broadcast.models import SpokenParagraph
from broadcast.speech.base import Engine, EngineFailure, SpeechRun, create_engine, current_run
from broadcast.speech.cache import SpeechCache
from broadcast.speech.pcm import apply_tempo, silence, to_mono16_wav, wav_duration, wav_info, write_wav
from broadcast.speech.respell import Respelling, load_respelling
from broadcast.vitext import decimal, grouped

log = logging.getLogger(__name__)

SPEED_RANGE = (0.8, 1.3)
SILENCE_MS = 300
_WORD = re.compile(r"\w")


def speakable(text: str) -> str:
    """The exact text engines receive and the cache keys on: NFC, single spaces, trimmed."""
    text = unicodedata.normalize("NFC", text)
    return re.sub(r"[ \t\f\v\u00a0]+", " ", text).strip()


def _start(text: str, n: int = 50) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n].rstrip() + "…"


class Synthesizer:
    """Speak a station's paragraphs with its engine chain, through the shared cache."""

    def __init__(self, tts: TTSConfig, cache: SpeechCache, run: SpeechRun | None = None) -> None:
        lo, hi = SPEED_RANGE
        if not lo <= tts.speed <= hi:
            raise SpeechError(
                f"Tốc độ đọc {decimal(tts.speed)} nằm ngoài khoảng {decimal(lo)} đến {decimal(hi)}: hãy sửa khóa tts.speed."
            )
        self.tts = tts
        self.cache = cache
        self.run = run or current_run()
        self.chain = tts.resolved_chain()
        if not self.chain:
            raise SpeechError("Chưa chọn bộ đọc nào: hãy khai báo tts.engine hoặc tts.chain.")
        self.engines: dict[str, Engine] = {}
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._respell: dict[str, Respelling] = {}
        for name in self.chain:
            if name in self.engines:
                continue
            engine = create_engine(name, tts)
            bind = getattr(engine, "bind_run", None)
            if callable(bind):
                bind(self.run)
            self.engines[name] = engine
            self._slots[name] = threading.BoundedSemaphore(self._parallelism(engine))
            lexicon = tts.settings(name).lexicon
            if lexicon is not None:
                self._respell[name] = load_respelling(lexicon)
        self.synth_calls = 0  # engine.synthesize calls made (success or failure)
        self.cache_hits = 0
        self.cache_misses = 0
        self.warnings: list[str] = []  # station-level notices, e.g. an engine skipped
        self._reasons: dict[str, str | None] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------ reporting

    @staticmethod
    def _parallelism(engine: Engine) -> int:
        return max(1, int(getattr(engine, "parallelism", 1) or 1))

    @property
    def requests_made(self) -> int:
        """HTTP requests this synthesizer's engines made."""
        return sum(int(getattr(e, "requests_made", 0)) for e in self.engines.values())

    def engine(self, name: str) -> Engine:
        """The engine instance used for `name` (for settings like a test endpoint)."""
        return self.engines[name]

    def engine_report(self) -> list[tuple[str, str | None]]:
        """Each engine of the chain with the reason it cannot run (None when usable)."""
        return [(name, self._unavailable(name)) for name in dict.fromkeys(self.chain)]

    def _unavailable(self, name: str) -> str | None:
        disabled = self.run.disabled_reason(name)
        if disabled:
            return disabled
        with self._lock:
            known = name in self._reasons
            reason = self._reasons.get(name)
        if not known:
            try:
                reason = self.engines[name].unavailable_reason()
            except Exception as exc:  # a third-party engine must not break the run
                log.exception("engine %s availability check failed", name)
                reason = f"lỗi khi kiểm tra bộ đọc ({exc})"
            with self._lock:
                self._reasons[name] = reason
        if reason:
            msg = f"Bộ đọc {name} không dùng được: {reason}; bỏ qua bộ đọc này trong lần chạy."
            self.run.notice_once(msg)
            with self._lock:
                if msg not in self.warnings:
                    self.warnings.append(msg)
        return reason

    # ------------------------------------------------------------ speaking

    def speak(self, texts: list[str]) -> list[SpokenParagraph]:
        """Speech for each text, same order; identical texts are synthesized once."""
        keys = [speakable(t) for t in texts]
        unique = list(dict.fromkeys(keys))
        done: dict[str, SpokenParagraph] = {}
        errors: dict[str, BaseException] = {}
        workers = min(len(unique), max((self._parallelism(e) for e in self.engines.values()), default=1))
        try:
            if workers <= 1:
                for k in unique:
                    try:
                        done[k] = self._speak_one(k)
                    except BroadcastError as exc:
                        errors[k] = exc
            else:
                with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="speak") as pool:
                    futures = {k: pool.submit(self._speak_one, k) for k in unique}
                    try:
                        for k, fut in futures.items():
                            try:
                                done[k] = fut.result()
                            except BroadcastError as exc:
                                errors[k] = exc
                    except BaseException:
                        # Ctrl-C: do not start the queued paragraphs; leaving the
                        # pool waits only for those already being spoken.
                        for fut in futures.values():
                            fut.cancel()
                        raise
            seen: set[str] = set()
            results: list[SpokenParagraph] = []
            for text, k in zip(texts, keys):
                if k in errors:
                    raise errors[k]
                sp = done[k]
                cached = sp.cached or k in seen
                seen.add(k)
                self.cache.record(cached)
                with self._lock:
                    if cached:
                        self.cache_hits += 1
                    else:
                        self.cache_misses += 1
                results.append(dataclasses.replace(sp, text=text, cached=cached, warnings=list(sp.warnings)))
            return results
        finally:
            self.cache.flush_stats(self.run.id)
            self._report_damage()

    def _report_damage(self) -> None:
        notice = self.cache.take_damage_notice()
        if notice:
            self.run.notice_once(notice)
            with self._lock:
                if notice not in self.warnings:
                    self.warnings.append(notice)

    def _speak_one(self, text: str) -> SpokenParagraph:
        if not _WORD.search(text):
            return self._silence(text)
        failures: list[tuple[str, str]] = []
        skipped: list[tuple[str, str]] = []
        charged = network = False
        for name in self.chain:
            engine = self.engines[name]
            # The key is on the text this engine is given, after its own respellings.
            said = self._respell[name].apply(text) if name in self._respell else text
            key = self.cache.key(name, engine.cache_params(), self.tts.speed, said)
            hit = self.cache.get(key)
            if hit is not None:
                return self._result(text, hit, name, True, failures)
            reason = self._unavailable(name)
            if reason:
                skipped.append((name, reason))
                continue
            try:
                with self.cache.lock(key):
                    hit = self.cache.get(key)  # another thread may have just made it
                    if hit is not None:
                        return self._result(text, hit, name, True, failures)
                    if not charged:
                        self._charge(text)
                        charged = True
                    with self._slots[name]:
                        with self._lock:
                            self.synth_calls += 1
                        with self.cache.store(key) as tmp:
                            self._render(engine, said, tmp)
                return self._result(text, self.cache.path_for(key), name, False, failures)
            except EngineFailure as exc:
                log.warning("engine %s failed on %r: %s", name, _start(text), exc)
                failures.append((name, str(exc)))
                network = network or exc.transient
            except BroadcastError:
                raise  # disk full, unwritable cache: nothing another engine can fix
            except Exception as exc:  # a bug in one engine must not stop the bulletin
                log.exception("engine %s crashed on %r", name, _start(text))
                failures.append((name, f"lỗi không mong đợi ({exc.__class__.__name__}: {exc})"))
        reasons = "; ".join(f"{n}: {r}" for n, r in failures + skipped)
        # A service that did not answer is a matter of the network; a missing voice
        # file or a refused key is the configuration's, and the reason above says which.
        network = network or any(self.run.disabled_reason(n) for n, _ in skipped)
        fix = ("Hãy kiểm tra mạng và bộ đọc dự phòng bằng lệnh 'broadcast doctor'." if network
               else "Hãy sửa theo lý do trên (mục [tts] trong cấu hình, hoặc mạng nếu lý do nói vậy) "
                    "rồi kiểm tra bằng lệnh 'broadcast doctor'.")
        raise SpeechError(f"Không đọc được đoạn “{_start(text)}”. {reasons}. {fix}")

    def _charge(self, text: str) -> None:
        budget = self.tts.speech_budget_chars
        if not self.run.take_chars(len(text), budget):
            raise SpeechError(
                f"Lần chạy này cần đọc mới hơn {grouped(budget)} ký tự (giới hạn tts.speech_budget_chars)"
                .replace(",", ".")
                + ": kịch bản hoặc thông báo dài bất thường. Hãy kiểm tra lại; nếu thật sự cần, "
                "hãy tăng giới hạn trong cấu hình."
            )

    def _render(self, engine: Engine, text: str, out: Path) -> None:
        with tempfile.TemporaryDirectory(prefix="broadcast-speak-") as tmp:
            raw = Path(tmp) / "raw.wav"
            engine.synthesize(text, raw)
            info = wav_info(raw)
            if info is None or info[3] == 0:
                raise EngineFailure("bộ đọc không tạo ra tệp WAV hợp lệ")
            if info[0] != 1 or info[1] != 2:
                fixed = Path(tmp) / "mono.wav"
                to_mono16_wav(raw, fixed)
                raw = fixed
            if abs(self.tts.speed - 1.0) < 1e-6 or getattr(engine, "handles_speed", False):
                out.write_bytes(raw.read_bytes())
            else:
                apply_tempo(raw, out, self.tts.speed)

    def _result(self, text: str, wav: Path, engine: str, cached: bool,
                failures: list[tuple[str, str]]) -> SpokenParagraph:
        warnings = [
            f"Bộ đọc {name} không đọc được đoạn “{_start(text)}” ({reason}); đã đọc bằng {engine}."
            for name, reason in failures
        ]
        return SpokenParagraph(text=text, wav=wav, engine=engine, cached=cached,
                               duration=wav_duration(wav), warnings=warnings,
                               voice=voice_label(self.engines[engine]))

    def _silence(self, text: str) -> SpokenParagraph:
        key = self.cache.key("silence", {"ms": SILENCE_MS}, 1.0, "")
        path = self.cache.get(key)
        cached = path is not None
        if path is None:
            with self.cache.lock(key), self.cache.store(key) as tmp:
                write_wav(tmp, silence(22050, SILENCE_MS), 22050)
            path = self.cache.path_for(key)
        warn = f"Đoạn “{_start(text)}” không có chữ nào để đọc; đã thay bằng khoảng lặng ngắn."
        return SpokenParagraph(text=text, wav=path, engine="silence", cached=cached,
                               duration=wav_duration(path), warnings=[warn])

    def close(self) -> None:
        """Release engine resources (request threads)."""
        for engine in self.engines.values():
            closer = getattr(engine, "close", None)
            if callable(closer):
                closer()


def voice_label(engine: Engine) -> str:
    """The voice an engine speaks with, as the manifest names it."""
    label = getattr(engine, "voice_label", None)
    if callable(label):
        return str(label())
    return str(engine.cache_params().get("voice", ""))


def doctor_checks(tts: TTSConfig) -> list[tuple[str, bool, str]]:
    """Rows for `broadcast doctor`: (what, ok, detail); ok=False means a build would fail.

    An engine that cannot run is still ok=True when a later engine of the
    chain can speak instead; the detail says so.
    """
    run = SpeechRun()  # fresh probe, never a cached answer
    chain = list(dict.fromkeys(tts.resolved_chain()))
    rows: list[tuple[str, bool, str]] = []
    reasons: dict[str, str | None] = {}
    engines: dict[str, Engine] = {}
    for name in chain:
        try:
            engine = create_engine(name, tts)
        except SpeechError as exc:
            reasons[name] = str(exc)
            continue
        bind = getattr(engine, "bind_run", None)
        if callable(bind):
            bind(run)
        engines[name] = engine
        try:
            reasons[name] = engine.unavailable_reason()
        except Exception as exc:
            reasons[name] = f"lỗi khi kiểm tra ({exc})"
    usable = [n for n in chain if reasons.get(n) is None]
    for name in chain:
        reason = reasons.get(name)
        label = f"bộ đọc {name}"
        if reason is None:
            rows.append((label, True, "dùng được" + _engine_detail(engines[name])))
            continue
        later = [n for n in usable if chain.index(n) > chain.index(name)]
        if later:
            rows.append((label, True, f"không dùng được: {reason}; sẽ đọc bằng {later[0]}"))
        elif usable:
            rows.append((label, True, f"không dùng được: {reason} (chỉ là dự phòng, {usable[0]} vẫn đọc)"))
        else:
            rows.append((label, False, f"không dùng được: {reason}"))
    for name, engine in engines.items():
        label = getattr(engine, "label", "")
        if name == "gtts" or not label or not callable(getattr(engine, "probe", None)) or reasons.get(name):
            continue
        probe = engine.probe()  # type: ignore[attr-defined]
        if probe is None:
            rows.append((f"kết nối {label}", True, f"tới được {getattr(engine, 'url', '')}"))
        else:
            fallback = [n for n in usable if n != name]
            rows.append((f"kết nối {label}", bool(fallback),
                         probe + (f"; sẽ đọc bằng {fallback[0]}" if fallback else "")))
    gtts = engines.get("gtts")
    if gtts is not None:
        host = gtts.host_url()  # type: ignore[attr-defined]
        probe = run.probes.get(host)
        if host not in run.probes:
            probe = gtts.probe()  # type: ignore[attr-defined]
        if probe is None:
            rows.append(("kết nối Google", True, f"tới được {host}"))
        else:
            fallback = [n for n in usable if n != "gtts"]
            rows.append(("kết nối Google", bool(fallback),
                         probe + (f"; sẽ đọc bằng {fallback[0]}" if fallback else "")))
    arrow = " → ".join(chain)
    if usable:
        rows.append((f"chuỗi bộ đọc ({arrow})", True, f"sẽ đọc bằng {usable[0]}"))
    else:
        rows.append((f"chuỗi bộ đọc ({arrow})", False,
                     "không bộ đọc nào dùng được: bản tin sẽ không tạo được"))
    for engine in engines.values():
        closer = getattr(engine, "close", None)
        if callable(closer):
            closer()
    return rows


def _engine_detail(engine: Engine) -> str:
    params = engine.cache_params()
    if engine.name == "espeak":
        return f" (giọng {params.get('voice')}, tốc độ {params.get('rate')} từ/phút)"
    if engine.name == "gtts":
        return f" (translate.google.{params.get('tld')})"
    if engine.name == "command":
        return f" ({' '.join(params.get('command', []))})"
    if engine.name == "piper":
        return f" (mô hình {getattr(engine, 'model', '')})"
    key_env = getattr(engine, "key_env", "")
    if key_env:
        # Say where the key came from, never the key.
        source = f"biến môi trường {key_env}" if os.environ.get(key_env, "").strip() else "tệp khóa"
        return f" (giọng {voice_label(engine)}, khóa API lấy từ {source})"
    return ""
