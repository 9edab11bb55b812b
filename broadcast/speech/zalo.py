"""Zalo AI text to speech (https://api.zalo.ai/v1/tts/synthesize).

Wire format, from Zalo AI's public documentation: POST a form with `input`
(the text), `speaker_id` (1 southern woman, 2 northern woman, 3 southern
man, 4 northern man), `speed` (0.8 to 1.2) and `encode_type` (0 WAV, 1 MP3);
the key goes in the `apikey` header. The reply is JSON: `error_code` 0 with
`data.url`, a link to the audio that may take a moment to appear, or a
non-zero `error_code` with `error_message`.
"""

from __future__ import annotations

import requests

from broadcast.speech.base import EngineFailure, register_engine
from broadcast.speech.vendor import VendorEngine, json_or_none

ENCODE_WAV, ENCODE_MP3 = 0, 1


class ZaloEngine(VendorEngine):
    """Zalo AI's four Vietnamese voices."""

    name = "zalo"
    label = "Zalo AI"
    default_url = "https://api.zalo.ai/v1/tts/synthesize"
    default_key_env = "ZALO_API_KEY"
    default_voice = "2"
    voice_list = (
        ("1", "Nữ miền Nam"),
        ("2", "Nữ miền Bắc"),
        ("3", "Nam miền Nam"),
        ("4", "Nam miền Bắc"),
    )
    audio_format = "mp3"
    sample_rate = 22050
    max_chars = 1500
    speed_range = (0.8, 1.2)

    def form(self, text: str) -> dict[str, str]:
        """The form fields of one request."""
        return {
            "input": text,
            "speaker_id": self.voice,
            "speed": f"{self.speed:g}" if self.handles_speed else "1",
            "encode_type": str(ENCODE_MP3),
        }

    def fetch(self, text: str) -> bytes:
        """Ask for the audio, then fetch it from the link Zalo returns."""
        headers = {"apikey": self.api_key() or ""}
        resp = self.request("POST", self.url, data=self.form(text), headers=headers)
        if resp.status_code != 200:
            raise self.rejected(resp)
        own = self.vendor_error(resp)
        if own is not None:
            raise own
        data = json_or_none(resp) or {}
        link = (data.get("data") or {}).get("url") if isinstance(data.get("data"), dict) else None
        if not isinstance(link, str) or not link.startswith(("http://", "https://")):
            raise EngineFailure(f"{self.label} trả lời thành công nhưng không có đường dẫn âm thanh")
        return self.poll(lambda: self.download(link), "tệp âm thanh")

    def vendor_error(self, resp: requests.Response) -> EngineFailure | None:
        """Zalo's `error_code`/`error_message`, when not 0."""
        data = json_or_none(resp)
        if data is None:
            if resp.status_code == 200:
                return EngineFailure(f"{self.label} trả lời không phải JSON (mã HTTP 200)")
            return None
        code = data.get("error_code")
        if code in (None, 0):
            return None
        message = str(data.get("error_message") or "không rõ nguyên nhân")
        if resp.status_code in (401, 403):
            message = f"khóa API không hợp lệ ({message}); hãy kiểm tra {self.key_hint()}"
        return self.fail(code, message, transient=resp.status_code == 429)


register_engine("zalo", ZaloEngine)
