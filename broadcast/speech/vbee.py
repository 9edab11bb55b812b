"""Vbee AIVoice text to speech (https://vbee.vn/api/v1/tts).

Wire format, from Vbee's public API documentation: POST JSON with `app_id`,
`response_type` "indirect", `callback_url` (required), `input_text`,
`voice_code`, `audio_type`, `bitrate` and `speed_rate` (0.1 to 1.9); the
token goes in `Authorization: Bearer`. The reply is JSON with `status` 1 and
`result.request_id` (work IN_PROGRESS), or `status` 0 with `error_code` and
`error_message`. GET https://vbee.vn/api/v1/tts/<request_id> then gives
`result.status` SUCCESS with `audio_link`, FAILURE, or IN_PROGRESS.
"""

from __future__ import annotations

import requests

from broadcast.speech.base import EngineFailure, register_engine
from broadcast.speech.vendor import VendorEngine, json_or_none

# Vbee insists on a webhook; we poll instead, so without one of the
# station's own Vbee is given a local address it simply cannot reach.
NO_CALLBACK = "http://127.0.0.1/"


class VbeeEngine(VendorEngine):
    """Vbee's Vietnamese voices, asynchronous with polling."""

    name = "vbee"
    label = "Vbee"
    default_url = "https://vbee.vn/api/v1/tts"
    default_key_env = "VBEE_API_KEY"
    default_voice = "hn_female_ngochuyen_full_48k-fhg"
    voice_list = (
        ("hn_female_ngochuyen_full_48k-fhg", "Nữ miền Bắc (Ngọc Huyền)"),
        ("hn_female_maiphuong_vdts_48k-fhg", "Nữ miền Bắc (Mai Phương)"),
        ("hn_male_manhdung_news_48k-fhg", "Nam miền Bắc (Mạnh Dũng, giọng thời sự)"),
        ("hn_male_thanhlong_talk_48k-fhg", "Nam miền Bắc (Thanh Long)"),
        ("hue_female_huonggiang_full_48k-fhg", "Nữ miền Trung (Hương Giang)"),
        ("hue_male_duyphuong_full_48k-fhg", "Nam miền Trung (Duy Phương)"),
        ("sg_female_thaotrinh_full_48k-fhg", "Nữ miền Nam (Thảo Trinh)"),
        ("sg_female_lantrinh_vdts_48k-fhg", "Nữ miền Nam (Lan Trinh)"),
        ("sg_male_trungkien_vdts_48k-fhg", "Nam miền Nam (Trung Kiên)"),
        ("sg_male_minhhoang_full_48k-fhg", "Nam miền Nam (Minh Hoàng)"),
    )
    audio_format = "mp3"
    sample_rate = 24000
    max_chars = 2000
    speed_range = (0.1, 1.9)

    def missing_settings(self) -> str | None:
        """Vbee also needs the application id."""
        if not self.settings.app_id:
            return "chưa khai báo mã ứng dụng Vbee (khóa tts.vbee.app_id)"
        return None

    def headers(self) -> dict[str, str]:
        """The bearer token."""
        return {"Authorization": f"Bearer {self.api_key() or ''}"}

    def body(self, text: str) -> dict:
        """The JSON of one request."""
        return {
            "app_id": self.settings.app_id,
            "response_type": "indirect",
            "callback_url": self.settings.callback_url or NO_CALLBACK,
            "input_text": text,
            "voice_code": self.voice,
            "audio_type": self.audio_format,
            "bitrate": 128,
            "speed_rate": f"{self.speed:.1f}" if self.handles_speed else "1.0",
        }

    def fetch(self, text: str) -> bytes:
        """Submit the text, poll the request until Vbee has the audio, then download it."""
        resp = self.request("POST", self.url, json=self.body(text), headers=self.headers())
        result = self._result(resp)
        request_id = result.get("request_id")
        if not isinstance(request_id, str) or not request_id:
            raise EngineFailure(f"{self.label} nhận yêu cầu nhưng không trả về mã yêu cầu")
        link = self.poll(lambda: self._audio_link(request_id), "kết quả")
        return self.poll(lambda: self.download(link), "tệp âm thanh")

    def _audio_link(self, request_id: str) -> str | None:
        resp = self.request("GET", f"{self.url}/{request_id}", headers=self.headers())
        result = self._result(resp)
        status = str(result.get("status") or "").upper()
        if status == "SUCCESS":
            link = result.get("audio_link")
            if not isinstance(link, str) or not link.startswith(("http://", "https://")):
                raise EngineFailure(f"{self.label} báo xong nhưng không có đường dẫn âm thanh")
            return link
        if status == "FAILURE":
            raise self.fail("FAILURE", f"Vbee không tổng hợp được yêu cầu {request_id}")
        return None  # IN_PROGRESS

    def _result(self, resp: requests.Response) -> dict:
        own = self.vendor_error(resp)
        if own is not None:
            raise own
        if resp.status_code != 200:
            raise self.rejected(resp)
        data = json_or_none(resp)
        result = data.get("result") if data else None
        if not isinstance(result, dict):
            raise EngineFailure(f"{self.label} trả lời không đúng định dạng (thiếu 'result')")
        return result

    def vendor_error(self, resp: requests.Response) -> EngineFailure | None:
        """Vbee's `status` 0 with `error_code` and `error_message`."""
        data = json_or_none(resp)
        if data is None or data.get("status") != 0:
            return None
        code = data.get("error_code", f"HTTP {resp.status_code}")
        message = str(data.get("error_message") or "không rõ nguyên nhân")
        if resp.status_code in (401, 403):
            message = f"token không hợp lệ hoặc đã hết hạn ({message}); hãy kiểm tra {self.key_hint()}"
        return self.fail(code, message, transient=resp.status_code == 429)


register_engine("vbee", VbeeEngine)
