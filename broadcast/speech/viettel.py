"""Viettel AI text to speech (https://viettelgroup.ai/voice/api/tts/v1/rest/syn).

Wire format, from Viettel AI's public documentation: POST JSON with `text`,
`voice`, a caller's request `id`, `without_filter`, `speed` (0.7 to 1.3) and
`tts_return_option` (2 WAV, 3 MP3); the key goes in the `token` header. A
success is the audio itself (HTTP 200); anything else is an error, which
the service reports as JSON with a code and a message.
"""

from __future__ import annotations

import uuid

import requests

from broadcast.speech.base import EngineFailure, register_engine
from broadcast.speech.vendor import VendorEngine, json_or_none

RETURN_WAV, RETURN_MP3 = 2, 3


class ViettelEngine(VendorEngine):
    """Viettel AI's Vietnamese voices, returned synchronously."""

    name = "viettel"
    label = "Viettel AI"
    default_url = "https://viettelgroup.ai/voice/api/tts/v1/rest/syn"
    default_key_env = "VIETTEL_API_KEY"
    default_voice = "hn-quynhanh"
    voice_list = (
        ("hn-quynhanh", "Nữ miền Bắc (Quỳnh Anh)"),
        ("doanngocle", "Nữ miền Bắc (Ngọc Lê)"),
        ("trinhthiviettrinh", "Nữ miền Bắc (Việt Trinh)"),
        ("phamtienquan", "Nam miền Bắc (Tiến Quân)"),
        ("hue-maingoc", "Nữ miền Trung (Mai Ngọc)"),
        ("hue-baoquoc", "Nam miền Trung (Bảo Quốc)"),
        ("lethiyen", "Nữ miền Nam (Lê Yến)"),
        ("nguyenthithuyduyen", "Nữ miền Nam (Thùy Duyên)"),
        ("hcm-minhquan", "Nam miền Nam (Minh Quân)"),
    )
    audio_format = "wav"  # lossless, and decodes without guessing
    sample_rate = 22050
    max_chars = 2000
    speed_range = (0.7, 1.3)

    def body(self, text: str) -> dict:
        """The JSON of one request."""
        return {
            "text": text,
            "voice": self.voice,
            "id": uuid.uuid4().hex,
            "without_filter": False,
            "speed": round(self.speed, 2) if self.handles_speed else 1.0,
            "tts_return_option": RETURN_WAV,
        }

    def fetch(self, text: str) -> bytes:
        """One synchronous request: the reply body is the audio."""
        headers = {"token": self.api_key() or "", "Content-Type": "application/json"}
        resp = self.request("POST", self.url, json=self.body(text), headers=headers)
        if resp.status_code != 200:
            raise self.rejected(resp)
        own = self.vendor_error(resp)
        if own is not None:
            raise own
        if not resp.content:
            raise EngineFailure(f"{self.label} trả lời (mã HTTP 200) nhưng không kèm âm thanh")
        return resp.content

    def vendor_error(self, resp: requests.Response) -> EngineFailure | None:
        """A JSON reply instead of audio: Viettel's code and message."""
        if "json" not in resp.headers.get("Content-Type", ""):
            return None
        data = json_or_none(resp)
        if data is None:
            return None
        code = data.get("code", data.get("status", f"HTTP {resp.status_code}"))
        message = data.get("vi_message") or data.get("message") or data.get("msg") or data.get("en_message")
        if resp.status_code in (401, 403):
            hint = f"khóa API không hợp lệ hoặc đã hết hạn; hãy kiểm tra {self.key_hint()}"
            message = f"{hint} ({message})" if message else hint
        return self.fail(code, str(message or "không rõ nguyên nhân"))


register_engine("viettel", ViettelEngine)
