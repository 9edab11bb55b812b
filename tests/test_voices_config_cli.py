"""Voice settings in broadcast.toml, and the voices / say / doctor commands staff use to pick a voice."""

from __future__ import annotations

import subprocess
import urllib.parse
from pathlib import Path

import imageio_ffmpeg

import pytest
import responses
from click.testing import CliRunner

from broadcast.cli import cli
from broadcast.config import load_config
from broadcast.errors import ConfigError
from broadcast.speech import base
from broadcast.speech.espeak import EspeakEngine
from broadcast.speech.pcm import decode_to_pcm

STATION = '[[stations]]\nid = "hoa-phu"\nname = "Đài truyền thanh xã Hòa Phú"\n'


def tone_mp3() -> bytes:
    """One second of a real MP3 tone, as a vendor's storage would serve it."""
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi",
           "-i", "sine=frequency=440:sample_rate=22050:duration=1", "-ac", "1", "-f", "mp3", "pipe:1"]
    return subprocess.run(cmd, capture_output=True, check=True).stdout


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "broadcast.toml"
    p.write_text('[general]\ndata_dir = "data"\n' + text, encoding="utf-8")
    return p


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.parametrize("chain", [["espeak"], ["gtts", "espeak"], ["piper", "espeak"],
                                   ["fpt", "espeak"], ["viettel", "gtts", "espeak"], ["zalo", "espeak"],
                                   ["vbee", "espeak"]])
def test_switching_engines_is_one_line(tmp_path, chain):
    line = "chain = [" + ", ".join(f'"{n}"' for n in chain) + "]"
    cfg = load_config(write(tmp_path, f"[tts]\n{line}\n" + STATION))
    assert cfg.station("hoa-phu").tts.resolved_chain() == chain


def test_engine_tables_resolve_paths_and_stations_override_them(tmp_path):
    text = '''[tts]
chain = ["piper", "fpt", "espeak"]
[tts.piper]
model = "giong/vi_VN-vais1000-medium.onnx"
[tts.fpt]
voice = "leminh"
key_file = "khoa/fpt.txt"
lexicon = "fpt-tu-dien.tsv"
[tts.espeak]
voice = "vi-vn-x-south"
''' + STATION + '''[stations.tts.fpt]
voice = "lannhi"
'''
    cfg = load_config(write(tmp_path, text))
    top, st = cfg.tts, cfg.station("hoa-phu").tts
    assert top.settings("piper").model == tmp_path / "giong" / "vi_VN-vais1000-medium.onnx"
    assert top.settings("fpt").voice == "leminh" and st.settings("fpt").voice == "lannhi"
    # The station's table changes the voice only; the key file and dictionary carry over.
    assert st.settings("fpt").key_file == tmp_path / "khoa" / "fpt.txt"
    assert st.settings("fpt").lexicon == tmp_path / "fpt-tu-dien.tsv"
    assert EspeakEngine(st).voice == "vi-vn-x-south"


@pytest.mark.parametrize("text, message", [
    ('[tts]\nengine = "fptt"\n', "khóa 'tts.engine': phải là auto hoặc một bộ đọc đã cài"),
    ('[tts]\nchain = ["fpt", "giong-la"]\n', "khóa 'tts.chain': 'giong-la' không phải bộ đọc đã cài"),
    ('[tts.fpt]\nvoise = "banmai"\n', "khóa 'tts.fpt.voise': khóa không được hỗ trợ"),
    ('[tts.khongco]\nvoice = "x"\n', "khóa 'tts.khongco': không có bộ đọc tên 'khongco'"),
    ('[tts.zalo]\nkey_env = "ZALO KEY"\n', "khóa 'tts.zalo.key_env': tên biến môi trường không hợp lệ"),
    ('[tts.vbee]\nurl = "vbee.vn/api"\n', "khóa 'tts.vbee.url': cần địa chỉ bắt đầu bằng http://"),
])
def test_engine_settings_errors_name_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        load_config(write(tmp_path, text + STATION))


def test_a_registered_plugin_engine_is_accepted_by_config(tmp_path, monkeypatch):
    base.registered_engines()  # built-ins first, so the plugin is only added
    monkeypatch.setitem(base._REGISTRY, "tinh-nha", EspeakEngine)  # a province's own engine
    cfg = load_config(write(tmp_path, '[tts]\nchain = ["tinh-nha", "espeak"]\n[tts.tinh-nha]\nvoice = "vi"\n'
                            + STATION))
    assert cfg.tts.resolved_chain() == ["tinh-nha", "espeak"]


def test_voices_lists_each_engine_and_says_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.delenv("FPT_API_KEY", raising=False)
    p = write(tmp_path, STATION)
    r = run("--config", str(p), "voices", "--engine", "fpt")
    assert r.exit_code == 0
    lines = r.output.splitlines()
    assert lines[0] == ("fpt (chưa dùng được: chưa có khóa API FPT.AI: hãy đặt biến môi trường FPT_API_KEY "
                        "hoặc khóa tts.fpt.key_file)")
    assert "  banmai: Nữ miền Bắc (Ban Mai)" in lines and "  giahuy: Nam miền Trung (Gia Huy)" in lines
    r = run("--config", str(p), "voices", "--engine", "espeak")
    assert r.output.splitlines() == ["espeak (dùng được)", "  vi: Miền Bắc (giọng máy)",
                                     "  vi-vn-x-central: Miền Trung (giọng máy)",
                                     "  vi-vn-x-south: Miền Nam (giọng máy)"]
    r = CliRunner().invoke(cli, ["--config", str(p), "voices", "--engine", "khong-co"])
    assert r.exit_code != 0 and "Không có bộ đọc tên 'khong-co'" in r.output


def test_say_writes_a_sample_mp3_that_decodes_to_speech(tmp_path):
    p = write(tmp_path, STATION)
    out = tmp_path / "mau.mp3"
    r = run("--config", str(p), "say", "--engine", "espeak", "--voice", "vi-vn-x-central",
            "Ngày 12/3, xã tiếp công dân.", "-o", str(out))
    assert r.exit_code == 0, r.output
    assert r.output.startswith(f"Đã ghi {out} (") and "espeak, giọng vi-vn-x-central" in r.output
    pcm = decode_to_pcm(out.read_bytes(), "mp3", 16000)
    seconds = len(pcm) / 16000
    rms = (sum(s * s for s in pcm) / len(pcm)) ** 0.5
    # The date was normalised and spoken: several seconds of sound, not a blip.
    assert seconds > 2.0 and rms > 300


def test_say_reads_with_the_station_dictionary(tmp_path, monkeypatch):
    monkeypatch.setenv("ZALO_API_KEY", "khoa-thu")
    (tmp_path / "tu-dien.tsv").write_text("Cư Kty\tcư kờ ty\n", encoding="utf-8")
    p = write(tmp_path, STATION + 'lexicon = "tu-dien.tsv"\n')
    mp3 = tone_mp3()
    with responses.RequestsMock() as rsps:
        rsps.post("https://api.zalo.ai/v1/tts/synthesize",
                  json={"data": {"url": "https://chunk.lab.zalo.ai/x.mp3"}, "error_message": "Successful.",
                        "error_code": 0})
        rsps.get("https://chunk.lab.zalo.ai/x.mp3", body=mp3)
        r = run("--config", str(p), "say", "--engine", "zalo", "--voice", "3", "Xã Cư Kty thông báo",
                "-o", str(tmp_path / "z.mp3"))
        sent = urllib.parse.parse_qs(rsps.calls[0].request.body)["input"][0]
    assert r.exit_code == 0, r.output
    assert sent.lower().startswith("xã cư kờ ty thông báo")
    assert "zalo, giọng 3" in r.output
    assert len(decode_to_pcm((tmp_path / "z.mp3").read_bytes(), "mp3", 16000)) > 8000


def test_say_with_a_vendor_reports_its_error_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("ZALO_API_KEY", "khoa")
    p = write(tmp_path, '[tts.zalo]\nretries = 0\n' + STATION)
    with responses.RequestsMock() as rsps:
        rsps.post("https://api.zalo.ai/v1/tts/synthesize",
                  json={"data": {}, "error_message": "Invalid api key", "error_code": -1})
        r = CliRunner().invoke(cli, ["--config", str(p), "say", "--engine", "zalo", "Xin chào bà con",
                                     "-o", str(tmp_path / "z.mp3")])
    assert r.exit_code != 0
    assert r.output.startswith("Lỗi: Không đọc được đoạn “Xin chào bà con”. zalo: Zalo AI báo lỗi mã -1: "
                               "Invalid api key.")
    assert not (tmp_path / "z.mp3").exists()


def test_doctor_reports_key_and_reachability_per_vendor(tmp_path, monkeypatch):
    monkeypatch.setenv("VIETTEL_API_KEY", "vt-9f8e7d6c5b")
    monkeypatch.delenv("FPT_API_KEY", raising=False)
    p = write(tmp_path, '[tts]\nchain = ["fpt", "viettel", "espeak"]\n' + STATION)
    with responses.RequestsMock() as rsps:
        rsps.head("https://viettelgroup.ai/", status=200)
        r = run("--config", str(p), "--out", str(tmp_path / "out"), "doctor")
    assert r.exit_code == 0, r.output
    assert ("[chú ý] bộ đọc fpt: không dùng được: chưa có khóa API FPT.AI: hãy đặt biến môi trường "
            "FPT_API_KEY hoặc khóa tts.fpt.key_file; sẽ đọc bằng viettel") in r.output
    assert ("[OK  ] bộ đọc viettel: dùng được (giọng hn-quynhanh, khóa API lấy từ biến môi trường "
            "VIETTEL_API_KEY)") in r.output
    assert "[OK  ] kết nối Viettel AI: tới được https://viettelgroup.ai/voice/api/tts/v1/rest/syn" in r.output
    assert "vt-9f8e7d6c5b" not in r.output


def test_a_voice_that_is_not_set_up_points_to_the_configuration_not_the_network(tmp_path):
    p = write(tmp_path, STATION)
    r = CliRunner().invoke(cli, ["--config", str(p), "say", "--engine", "piper", "Xin chào bà con",
                                 "-o", str(tmp_path / "p.mp3")])
    assert r.exit_code != 0
    line = r.output.strip().splitlines()[-1]
    assert "tts.piper.model" in line and "mục [tts] trong cấu hình" in line, line
    assert "kiểm tra mạng" not in line, line


def test_a_service_that_does_not_answer_points_to_the_network(tmp_path, monkeypatch):
    monkeypatch.setenv("ZALO_API_KEY", "khoa")
    p = write(tmp_path, '[tts.zalo]\nretries = 0\n' + STATION)
    with responses.RequestsMock() as rsps:
        rsps.post("https://api.zalo.ai/v1/tts/synthesize", status=503)
        r = CliRunner().invoke(cli, ["--config", str(p), "say", "--engine", "zalo", "Xin chào bà con",
                                     "-o", str(tmp_path / "z.mp3")])
    assert r.exit_code != 0
    assert "Hãy kiểm tra mạng" in r.output.strip().splitlines()[-1], r.output
