"""Ctrl-C during offline synthesis stops the run and never leaves short speech behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

SENTENCE = ("Ủy ban nhân dân xã tiếp nhận hồ sơ trực tuyến cả sáng thứ bảy, người dân có thể "
            "nộp hồ sơ qua Cổng dịch vụ công quốc gia. ")
LONG = SENTENCE * 160  # several seconds of espeak-ng work on this machine


def _ctrl_c_reaches_child() -> None:
    # A suite started in the background by a non-interactive shell ("cmd &")
    # inherits SIGINT ignored; the staffer pressing Ctrl-C in a terminal does not.
    signal.signal(signal.SIGINT, signal.SIG_DFL)

_CHILD = """
import sys
from pathlib import Path
from broadcast.config import TTSConfig
from broadcast.speech.espeak import EspeakEngine

engine = EspeakEngine(TTSConfig())
assert engine.unavailable_reason() is None
text = Path(sys.argv[1]).read_text(encoding="utf-8")
print("ready", flush=True)
try:
    engine.synthesize(text, Path(sys.argv[2]))
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(130)
print("finished", flush=True)
"""


def test_sigint_inside_espeak_raises_keyboardinterrupt_and_writes_nothing(tmp_path: Path) -> None:
    text = tmp_path / "text.txt"
    text.write_text(LONG, encoding="utf-8")
    out = tmp_path / "out.wav"
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(text), str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_ctrl_c_reaches_child)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.5)  # well inside espeak_Synth
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    stopped_after = time.monotonic() - sent
    assert stdout.strip() == "interrupted", stderr
    assert proc.returncode == 130
    assert "Exception ignored" not in stderr and "Traceback" not in stderr
    assert not out.exists()
    assert stopped_after < 2.0  # stopped, not finished (the whole text takes several seconds)


def test_ctrl_c_during_a_build_exits_130_and_caches_no_partial_speech(tmp_path: Path) -> None:
    cfg = tmp_path / "broadcast.toml"
    data = tmp_path / "data"
    cfg.write_text(f"""
[general]
data_dir = "{data}"

[[stations]]
id = "hoa-phu"
name = "Đài truyền thanh xã Hòa Phú"

[tts]
engine = "espeak"
""", encoding="utf-8")
    notice = tmp_path / "thong-bao.txt"
    notice.write_text(LONG, encoding="utf-8")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "broadcast", "--config", str(cfg), "--out", str(tmp_path / "out"),
         "notice", "--file", str(notice), "--name", "khan"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
        preexec_fn=_ctrl_c_reaches_child)
    cache = data / "speech-cache"
    deadline = time.monotonic() + 60
    # The short opening line is spoken first; once it is cached and another
    # temporary entry exists, the long notice paragraph is being synthesized.
    while not (list(cache.glob("*/*.wav")) and list(cache.glob("*/.*.tmp"))):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    before = set(cache.glob("*/*.wav"))
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == (
        "Đã dừng theo yêu cầu. Các tệp đã hoàn tất vẫn được giữ nguyên.")
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
    assert not list(cache.glob("*/.*.tmp"))
    # The paragraph being spoken is not cached at all, neither short nor whole.
    assert set(cache.glob("*/*.wav")) == before
    assert not list((tmp_path / "out").glob("*/hoa-phu-khan.mp3"))
