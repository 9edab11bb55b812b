"""FPT.AI text to speech, API version 5 (https://api.fpt.ai/hmi/tts/v5).

Wire format, from FPT.AI's public documentation: POST the UTF-8 text as the
body (3 to 5,000 characters); the key, voice, speed (-3 slowest … +3 fastest)
and format travel as headers. The reply is JSON: `error` 0 with an `async`
link to the MP3, which exists a few seconds to two minutes later, or a
non-zero `error` with a `message`. The gateway answers 401 for a bad key and
429 when the plan's rate is exceeded.
"""

from __future__ import annotations

import requests

from broadcast.speech.base import EngineFailure, register_engine
from broadcast.speech.vendor import VendorEngine, json_or_none

SPEED_STEP = 0.1  # FPT documents seven speed steps without a ratio; a tenth per step is the nearest reading


class FPTEngine(VendorEngine):
    """FPT.AI's Vietnamese voices (northern, central, southern)."""

    name = "fpt"
    label = "FPT.AI"
    default_url = "https://api.fpt.ai/hmi/tts/v5"
    default_key_env = "FPT_API_KEY"
    default_voice = "banmai"
    voice_list = (
        ("banmai", "Nữ miền Bắc (Ban Mai)"),
        ("thuminh", "Nữ miền Bắc (Thu Minh)"),
        ("leminh", "Nam miền Bắc (Lê Minh)"),
        ("myan", "Nữ miền Trung (Mỹ An)"),
        ("giahuy", "Nam miền Trung (Gia Huy)"),
        ("lannhi", "Nữ miền Nam (Lan Nhi)"),
        ("linhsan", "Nữ miền Nam (Linh San)"),
    )
    max_chars = 5000
    speed_range = (0.7, 1.3)
    sample_rate = 22050

    def speed_header(self) -> str:
        """The station's speed as FPT's step from -3 to +3."""
        if not self.handles_speed:
            return "0"
        step = round((self.speed - 1.0) / SPEED_STEP)
        return str(max(-3, min(3, step)))

    def headers(self) -> dict[str, str]:
        """Key, voice, speed and format headers of one request."""
        key = self.api_key() or ""
        return {
            # The documentation's table writes api_key, its gateway also reads
            # api-key (proxies drop headers with underscores): send both.
            "api_key": key,
            "api-key": key,
            "voice": self.voice,
            "speed": self.speed_header(),
            "format": self.audio_format,
            "Content-Type": "text/plain; charset=utf-8",
        }

    def fetch(self, text: str) -> bytes:
        """Ask for the audio, then wait for the asynchronous link to hold it."""
        if len(text.strip()) < 3:
            # FPT refuses bodies under three characters; a pause reads the same.
            text = text.strip() + " ..."
        resp = self.request("POST", self.url, data=text.encode("utf-8"), headers=self.headers())
        if resp.status_code != 200:
            raise self.rejected(resp)
        data = json_or_none(resp)
        if data is None:
            raise EngineFailure(f"{self.label} trả lời không phải JSON (mã HTTP 200)")
        own = self.vendor_error(resp)
        if own is not None:
            raise own
        link = data.get("async")
        if not isinstance(link, str) or not link.startswith(("http://", "https://")):
            raise EngineFailure(f"{self.label} trả lời thành công nhưng không có đường dẫn âm thanh")
        return self.poll(lambda: self.download(link), "tệp âm thanh")

    def vendor_error(self, resp: requests.Response) -> EngineFailure | None:
        """FPT's `error`/`message` reply, or its gateway's `message` on 401/429."""
        data = json_or_none(resp)
        if data is None:
            return None
        code = data.get("error")
        message = str(data.get("message") or "").strip()
        if isinstance(code, int) and code != 0:
            return self.fail(code, _vietnamese(message) or "không rõ nguyên nhân")
        if resp.status_code in (401, 403) and message:
            return self.fail(f"HTTP {resp.status_code}",
                             f"khóa API không hợp lệ hoặc đã hết hạn ({message}); hãy kiểm tra {self.key_hint()}")
        if resp.status_code == 429 and message:
            return self.fail("HTTP 429", f"vượt giới hạn số yêu cầu của gói dịch vụ ({message})", transient=True)
        return None


_KNOWN = {
    "no api key found in request": "thiếu khóa API trong yêu cầu",
    "invalid authentication credentials": "khóa API không hợp lệ",
    "api rate limit exceeded": "vượt giới hạn số yêu cầu",
}


def _vietnamese(message: str) -> str:
    """FPT's message in Vietnamese when we know it, else as FPT wrote it."""
    known = _KNOWN.get(message.lower().rstrip("."))
    return f"{known} ({message})" if known else message


register_engine("fpt", FPTEngine)
