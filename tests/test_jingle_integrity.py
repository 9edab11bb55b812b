"""A station jingle cut short (interrupted copy, full disk) is refused, never played in part."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from broadcast.audio import testsignal
from broadcast.audio.ffmpeg import find_ffmpeg
from broadcast.audio.mix import load_audio
from broadcast.errors import AudioError

RATE = 44100


def tone_file(path: Path, seconds: float = 4.0) -> Path:
    """A real jingle file: a tone written as WAV, or encoded by ffmpeg for other suffixes."""
    wav = testsignal.write_wav(path.with_suffix(".src.wav"), testsignal.tone(440, seconds, RATE), RATE)
    if path.suffix == ".wav":
        wav.rename(path)
        return path
    codec = {".mp3": ["-c:a", "libmp3lame", "-b:a", "128k"], ".ogg": ["-c:a", "libvorbis"]}[path.suffix]
    subprocess.run([find_ffmpeg(), "-v", "error", "-y", "-i", str(wav), *codec, str(path)], check=True)
    return path


def cut(path: Path, fraction: float = 0.5) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


@pytest.mark.parametrize("suffix", [".wav", ".mp3"])
def test_a_whole_jingle_loads_at_its_full_length(tmp_path: Path, suffix: str) -> None:
    pcm = load_audio(tone_file(tmp_path / f"nhac-hieu{suffix}"), "jingle", RATE)
    assert abs(len(pcm) / 2 / RATE - 4.0) < 0.1


@pytest.mark.parametrize("suffix", [".wav", ".mp3"])
def test_a_jingle_cut_short_is_refused_by_name(tmp_path: Path, suffix: str) -> None:
    path = cut(tone_file(tmp_path / f"nhac-hieu{suffix}"))
    with pytest.raises(AudioError) as err:
        load_audio(path, "jingle", RATE)
    message = str(err.value)
    assert str(path) in message and "nhạc hiệu mở đầu" in message and "bị cắt cụt" in message
    assert "4,0 giây" in message


def test_a_wav_at_another_rate_cut_short_is_refused_too(tmp_path: Path) -> None:
    path = tmp_path / "nhac-chuyen.wav"
    testsignal.write_wav(path, testsignal.tone(440, 3.0, 22050), 22050)
    with pytest.raises(AudioError, match="bị cắt cụt"):
        load_audio(cut(path, 0.6), "sting", RATE)
