"""Piper: natural neural speech offline, from a voice model the station downloads.

The station names the model file (`.onnx`, with its `.onnx.json` beside it)
in tts.piper.model. The model is loaded once per process and run on the CPU
with onnxruntime through the piper-tts package. A multi-speaker model takes
the speaker's name in tts.piper.voice.
"""

from __future__ import annotations

import json
import logging
import threading
from array import array
from pathlib import Path

from broadcast.config import TTSConfig
from broadcast.speech.base import EngineFailure, register_engine
from broadcast.speech.pcm import samples_from_bytes, write_wav
from broadcast.speech.vendor import Voice

log = logging.getLogger(__name__)

_lock = threading.Lock()  # loading and onnxruntime sessions shared per model
_loaded: dict[str, object] = {}  # model path -> PiperVoice


def _config_path(model: Path) -> Path:
    return model.with_name(model.name + ".json")


def read_model_config(model: Path) -> dict:
    """The voice's .onnx.json; raise EngineFailure naming the file."""
    path = _config_path(model)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EngineFailure(f"thiếu tệp cấu hình giọng {path.name} cạnh {model.name}: hãy tải cả hai tệp") from None
    except (OSError, ValueError) as exc:
        raise EngineFailure(f"không đọc được tệp cấu hình giọng {path}: {exc}") from None
    if not isinstance(data, dict):
        raise EngineFailure(f"tệp cấu hình giọng {path} không đúng định dạng Piper")
    return data


class PiperEngine:
    """A Piper voice model run locally on the CPU."""

    name = "piper"
    parallelism = 1  # one model on two shared cores: one paragraph at a time

    def __init__(self, tts: TTSConfig) -> None:
        settings = tts.settings(self.name)
        self.model: Path | None = settings.model
        self.speaker = settings.voice
        self.speed = tts.speed
        # Piper speaks at any speed through its length scale: no stretching after.
        self.handles_speed = True

    # ------------------------------------------------------------ interface

    def unavailable_reason(self) -> str | None:
        """Return why the model cannot be used (not installed, not configured, missing), or None."""
        try:
            import piper  # noqa: F401
        except ImportError:
            return "chưa cài gói piper-tts (pip install piper-tts)"
        if self.model is None:
            return "chưa khai báo tệp giọng Piper (khóa tts.piper.model, tệp .onnx)"
        if not self.model.is_file():
            return f"không tìm thấy tệp giọng Piper {self.model}: hãy tải tệp .onnx và .onnx.json về đúng chỗ"
        try:
            config = read_model_config(self.model)
            self._speaker_id(config)
        except EngineFailure as exc:
            return str(exc)
        return None

    def cache_params(self) -> dict:
        """The model file (name and size) and speaker: what changes Piper's sound."""
        size = self.model.stat().st_size if self.model and self.model.is_file() else 0
        return {"model": self.model.name if self.model else "", "size": size, "voice": self.speaker}

    def voice_label(self) -> str:
        """The model's name, and the speaker for multi-speaker models."""
        stem = self.model.name.removesuffix(".onnx") if self.model else ""
        return f"{stem}:{self.speaker}" if self.speaker else stem

    def voices(self) -> list[Voice]:
        """The model's speakers, or the model itself for a single-speaker voice."""
        if self.model is None or not self.model.is_file():
            return []
        config = read_model_config(self.model)
        lang = (config.get("language") or {}).get("name_native") or (config.get("espeak") or {}).get("voice", "")
        quality = (config.get("audio") or {}).get("quality", "")
        detail = ", ".join(x for x in (str(lang), f"chất lượng {quality}" if quality else "") if x)
        speakers = config.get("speaker_id_map") or {}
        if speakers:
            return [Voice(self.name, str(name), f"người đọc {idx} của {self.model.name} ({detail})")
                    for name, idx in sorted(speakers.items(), key=lambda kv: kv[1])]
        return [Voice(self.name, "", f"{self.model.name} ({detail})")]

    def synthesize(self, text: str, out_wav: Path) -> None:
        """Speak `text` with the model into a mono 16-bit WAV."""
        reason = self.unavailable_reason()
        if reason:
            raise EngineFailure(reason)
        from piper import SynthesisConfig

        assert self.model is not None
        voice = self._load()
        speaker_id = self._speaker_id(read_model_config(self.model))
        syn = SynthesisConfig(speaker_id=speaker_id, length_scale=1.0 / self.speed)
        pcm = array("h")
        rate = 0
        with _lock:
            try:
                for chunk in voice.synthesize(text, syn):  # type: ignore[attr-defined]
                    rate = chunk.sample_rate
                    pcm.extend(samples_from_bytes(chunk.audio_int16_bytes))
            except Exception as exc:  # onnxruntime and the phonemizer raise their own types
                raise EngineFailure(f"Piper lỗi khi đọc ({exc.__class__.__name__}: {exc})") from None
        if not pcm or not rate:
            raise EngineFailure("Piper không tạo ra âm thanh nào")
        write_wav(out_wav, pcm, rate)

    # ------------------------------------------------------------ internals

    def _speaker_id(self, config: dict) -> int | None:
        speakers = config.get("speaker_id_map") or {}
        if not self.speaker:
            return None
        if self.speaker not in speakers:
            names = ", ".join(sorted(speakers)) or "không có, đây là giọng một người đọc"
            raise EngineFailure(f"mô hình {self.model.name if self.model else ''} không có người đọc "
                                f"'{self.speaker}' (có: {names})")
        return int(speakers[self.speaker])

    def _load(self) -> object:
        from piper import PiperVoice

        assert self.model is not None
        key = str(self.model.resolve())
        with _lock:
            voice = _loaded.get(key)
            if voice is None:
                try:
                    voice = PiperVoice.load(self.model, config_path=_config_path(self.model))
                except Exception as exc:  # a damaged or foreign model file
                    raise EngineFailure(
                        f"không nạp được mô hình Piper {self.model.name} ({exc.__class__.__name__}): "
                        "hãy tải lại tệp .onnx và .onnx.json") from None
                log.info("loaded Piper voice %s", self.model)
                _loaded[key] = voice
            return voice


register_engine("piper", PiperEngine)
