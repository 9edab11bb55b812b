"""The whole pipeline for real: offline speech, real ffmpeg, real SQLite; decode and measure."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import mutagen.mp3
import pytest
from click.testing import CliRunner

from broadcast.audio import decode_mono, measure_loudness
from broadcast.audio.jingle import default_pcm
from broadcast.audio.measure import rms_db, samples_from_bytes, similarity
from broadcast.cli import cli
from broadcast.numbers import date_words

DATA = Path(__file__).parent / "data"
# The demo feed's items carry no date, so they count from when they are first
# seen: every run here happens at a fixed time on the bulletin's day.
TODAY = dt.date(2026, 3, 12)
DATE = TODAY.isoformat()
NOW = "2026-03-12T05:30:00+07:00"
ENV = {"BROADCAST_NOW": NOW}
RATE = 16000


def write_config(root: Path, extra_station: str = "", feeds: str | None = None, tts: str = "") -> Path:
    feed_file = root / "tin.xml"
    if not feed_file.exists():
        shutil.copy(DATA / "demo-feed.xml", feed_file)
    if feeds is None:
        feeds = '[[feeds]]\nname = "tinh"\nurl = "tin.xml"\nsource = "Cổng Thông tin điện tử tỉnh"\n'
    text = f'''
[general]
data_dir = "data"

{feeds}

[tts]
engine = "espeak"
{tts}

[[stations]]
id = "hoa-phu"
name = "Đài truyền thanh xã Hòa Phú"
target_minutes = 3
{extra_station}
'''
    path = root / "broadcast.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run(config: Path, *args: str, out: Path | None = None):
    out = out or config.parent / "audio_out"
    return CliRunner().invoke(cli, ["--config", str(config), "--out", str(out), "--date", DATE, *args],
                              catch_exceptions=False, env=ENV)


def log_lines(result) -> list[str]:
    """The run's lines without their timestamps (the test runner is not a terminal: cron format)."""
    stamp = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ")
    lines = result.output.splitlines()
    assert all(stamp.match(l) for l in lines if l.strip()), result.output
    return [stamp.sub("", l) for l in lines]


def manifest(root: Path, base: str = "hoa-phu") -> dict:
    return json.loads((root / "audio_out" / DATE / f"{base}.json").read_text(encoding="utf-8"))


def paragraphs(m: dict) -> list[dict]:
    return [p for s in m["segments"] for p in s.get("paragraphs", [])]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One real bulletin, built once for the checks below."""
    root = tmp_path_factory.mktemp("bulletin")
    config = write_config(root)
    result = run(config, "build")
    assert result.exit_code == 0, result.output
    return root, config, result


@pytest.fixture
def own(built, tmp_path):
    """A private copy of the built bulletin, for tests that change it (any test order works)."""
    root, _, result = built
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    return copy, copy / "broadcast.toml", result


def test_build_writes_mp3_script_and_manifest(built):
    root, _, result = built
    day = root / "audio_out" / DATE
    assert (day / "hoa-phu.mp3").stat().st_size > 100_000
    lines = log_lines(result)
    assert lines[0].startswith("hoa-phu: đã tạo") and lines[-1].startswith("Xong:") and len(lines) == 2
    script = (day / "hoa-phu.txt").read_text(encoding="utf-8")
    assert "Đài truyền thanh xã Hòa Phú" in script
    assert f"hôm nay là {date_words(TODAY)}." in script
    assert "Theo Cổng Thông tin điện tử tỉnh." in script
    assert "Giá cà phê" not in script, "news unrelated to administrative reform is left out"
    playlist = (day / "playlist.m3u").read_text(encoding="utf-8").splitlines()
    assert playlist[0] == "#EXTM3U" and "hoa-phu.mp3" in playlist


def test_audio_is_mono_at_the_configured_format_and_duration_matches_manifest(built):
    root, _, _ = built
    m = manifest(root)
    mp3 = root / "audio_out" / DATE / "hoa-phu.mp3"
    info = mutagen.mp3.MP3(mp3).info
    assert info.channels == 1
    assert info.sample_rate == 44100
    assert info.bitrate == 128000
    samples = decode_mono(mp3, RATE)
    decoded = len(samples) / RATE
    assert abs(decoded - m["duration"]) < 0.15
    assert 60 < m["duration"] < 400
    tags = mutagen.File(mp3)
    assert str(tags["TIT2"]) == f"Bản tin cải cách hành chính ngày {TODAY.strftime('%d/%m/%Y')}"
    assert str(tags["TPE1"]) == "Đài truyền thanh xã Hòa Phú"


def test_starts_and_ends_with_the_jingle_and_speech_follows(built):
    root, _, _ = built
    m = manifest(root)
    mp3 = root / "audio_out" / DATE / "hoa-phu.mp3"
    samples = decode_mono(mp3, RATE)
    jingle = samples_from_bytes(default_pcm("jingle", RATE))
    n = min(len(jingle), 2 * RATE)
    assert similarity(samples[:n], jingle[:n], max_lag=RATE // 50) > 0.8
    # The bulletin ends with the generated outro, where the manifest puts it.
    outro = samples_from_bytes(default_pcm("outro", RATE))
    start = int(m["segments"][-1]["start"] * RATE)
    k = min(len(outro), len(samples) - start, 2 * RATE)
    assert similarity(samples[start:start + k], outro[:k], max_lag=RATE // 20) > 0.8
    kinds = [s["kind"] for s in m["segments"]]
    assert kinds[0] == "jingle" and kinds[-1] == "outro"
    assert kinds[1] == "greeting" and "item" in kinds and "standing" in kinds and "closing" in kinds
    greet = m["segments"][1]
    assert greet["start"] >= m["segments"][0]["end"] - 0.01
    a, b = int(greet["start"] * RATE), int(greet["end"] * RATE)
    assert rms_db(samples[a:b]) > -35, "speech is audible after the jingle"


def test_loudness_and_peak_meet_the_target(built):
    root, _, _ = built
    m = manifest(root)
    lufs, peak = measure_loudness(root / "audio_out" / DATE / "hoa-phu.mp3")
    assert abs(lufs - (-16.0)) <= 1.0
    assert peak <= -1.0
    assert abs(m["loudness_lufs"] - lufs) < 0.3


def test_manifest_names_engine_items_and_times(built):
    root, _, _ = built
    m = manifest(root)
    paras = paragraphs(m)
    assert paras and all(p["engine"] == "espeak" for p in paras)
    assert all(p["voice"] == "vi" for p in paras)  # which voice spoke each paragraph
    assert m["engines"] == ["espeak"]
    assert all(isinstance(p["cached"], bool) for p in paras)
    assert not any(ch.isdigit() for p in paras for ch in p["spoken"]), "every digit is spoken in words"
    assert m["items"] and all(i["title"] and i["link"].startswith("https://") for i in m["items"])
    assert all(i["sources"] == ["Cổng Thông tin điện tử tỉnh"] for i in m["items"])
    starts = [s["start"] for s in m["segments"]]
    assert starts == sorted(starts)


def test_rebuild_with_nothing_changed_reencodes_nothing(built):
    root, config, _ = built
    mp3 = root / "audio_out" / DATE / "hoa-phu.mp3"
    before = mp3.stat().st_mtime_ns
    result = run(config, "build")
    assert result.exit_code == 0, result.output
    assert "không thay đổi" in result.output
    assert "đọc mới 0 đoạn" in result.output
    assert mp3.stat().st_mtime_ns == before


def test_staff_edit_resynthesizes_only_that_paragraph(own):
    root, config, _ = own
    script = root / "audio_out" / DATE / "hoa-phu.txt"
    text = script.read_text(encoding="utf-8")
    target = "Mời bà con cùng nghe bản tin cải cách hành chính."
    assert target in text
    script.write_text(text.replace(target, target + "\n\nChúc bà con một ngày làm việc hiệu quả."),
                      encoding="utf-8")
    result = run(config, "build")
    assert result.exit_code == 0, result.output
    assert "đọc mới 1 đoạn" in result.output
    assert "kịch bản đã được sửa tay" in result.output
    m = manifest(root)
    assert m["script_edited"] is True
    fresh = [p["text"] for p in paragraphs(m) if not p["cached"]]
    assert fresh == ["Chúc bà con một ngày làm việc hiệu quả."]
    # Refreshing would throw the edit away: refused without --force, kept as .bak with it.
    result = run(config, "build", "--refresh")
    assert result.exit_code == 1
    assert "đã được sửa tay; không ghi đè" in result.output
    assert "Chúc bà con" in script.read_text(encoding="utf-8")
    result = run(config, "build", "--refresh", "--force")
    assert result.exit_code == 0, result.output
    backups = list(script.parent.glob("hoa-phu.txt.*.bak"))
    assert len(backups) == 1 and "Chúc bà con" in backups[0].read_text(encoding="utf-8")
    # The same stories come back on a refresh of the same day.
    assert [i["title"] for i in manifest(root)["items"]] == [i["title"] for i in m["items"]]


def test_no_engine_fails_clearly_and_keeps_earlier_files(built, tmp_path):
    root, config, _ = built
    mp3 = root / "audio_out" / DATE / "hoa-phu.mp3"
    before = mp3.read_bytes()
    broken = tmp_path / "broken.toml"
    text = config.read_text(encoding="utf-8").replace(
        'engine = "espeak"', 'engine = "command"\ncommand = ["khong-co-chuong-trinh-nay", "{input}", "{output}"]')
    text = text.replace('data_dir = "data"', f'data_dir = "{root / "data"}"')
    broken.write_text(text.replace('url = "tin.xml"', f'url = "{root / "tin.xml"}"'), encoding="utf-8")
    result = run(broken, "build", "--refresh", "--force", out=root / "audio_out")
    assert result.exit_code == 3
    assert result.output.startswith("Lỗi: Không có bộ đọc nào dùng được cho đài hoa-phu")
    assert "khong-co-chuong-trinh-nay" in result.output
    assert mp3.read_bytes() == before


def test_missing_ffmpeg_fails_clearly_and_keeps_earlier_files(built):
    root, config, _ = built
    mp3 = root / "audio_out" / DATE / "hoa-phu.mp3"
    before = mp3.read_bytes()
    env = dict(os.environ, BROADCAST_NOW=NOW, IMAGEIO_FFMPEG_EXE=str(root / "khong-co-ffmpeg"),
               PATH=str(Path(sys.executable).parent))
    proc = subprocess.run(
        [sys.executable, "-m", "broadcast", "--config", str(config), "--out", str(root / "audio_out"),
         "--date", DATE, "build", "--refresh", "--force"],
        capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 3
    assert "Không tìm thấy chương trình ffmpeg" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert mp3.read_bytes() == before


def test_second_run_at_the_same_time_is_refused(built):
    root, config, _ = built
    lock = root / "data" / "locks" / f"hoa-phu-{DATE}.lock"
    mp3 = root / "audio_out" / DATE / "hoa-phu.mp3"
    before = mp3.read_bytes()
    with open(lock, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = run(config, "build", "--refresh", "--force")
    assert result.exit_code == 75
    assert "đang được một lần chạy khác xử lý" in result.output
    assert str(lock) not in result.output and ".lock" not in result.output  # no server path for staff
    assert mp3.read_bytes() == before


def test_dead_feed_warns_once_and_the_others_are_used(tmp_path):
    feeds = ('[[feeds]]\nname = "tinh"\nurl = "tin.xml"\nsource = "Cổng Thông tin điện tử tỉnh"\n\n'
             '[[feeds]]\nname = "hong"\nurl = "khong-co.xml"\n')
    config = write_config(tmp_path, feeds=feeds)
    result = run(config, "script")
    assert result.exit_code == 0, result.output
    dead = [l for l in result.output.splitlines() if "hong" in l and "cảnh báo" in l]
    assert len(dead) == 1
    script = (tmp_path / "audio_out" / DATE / "hoa-phu.txt").read_text(encoding="utf-8")
    assert "[tin 1]" in script


def test_no_usable_items_gives_a_bulletin_of_standing_messages(tmp_path):
    feed = tmp_path / "tin.xml"
    feed.write_text('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>x</title>'
                    '<item><title>Giá cà phê hôm nay tăng nhẹ</title><link>https://e.vn/1</link>'
                    '<description>Giá cà phê nhân xô tăng 500 đồng/kg.</description></item>'
                    '</channel></rss>', encoding="utf-8")
    config = write_config(tmp_path)
    result = run(config, "build")
    # The bulletin is made, and the distinct exit code lets monitoring notice that no news came.
    assert result.exit_code == 4, result.output
    assert "Không có tin cải cách hành chính mới phù hợp" in result.output
    assert "không có tin" in log_lines(result)[0]
    m = manifest(tmp_path)
    kinds = [s["kind"] for s in m["segments"]]
    assert "item" not in kinds and "standing" in kinds
    assert (tmp_path / "audio_out" / DATE / "hoa-phu.mp3").exists()


def test_slots_give_one_file_each_and_a_playlist(tmp_path):
    config = write_config(tmp_path, extra_station='slots = [{name = "sang", time = "06:00"}, '
                                                  '{name = "chieu", time = "17:00"}]')
    result = run(config, "build")
    assert result.exit_code == 0, result.output
    day = tmp_path / "audio_out" / DATE
    assert (day / "hoa-phu-sang.mp3").exists() and (day / "hoa-phu-chieu.mp3").exists()
    assert "buổi sáng" in (day / "hoa-phu-sang.txt").read_text(encoding="utf-8")
    assert "buổi chiều" in (day / "hoa-phu-chieu.txt").read_text(encoding="utf-8")
    playlist = (day / "playlist.m3u").read_text(encoding="utf-8")
    assert playlist.index("hoa-phu-sang.mp3") < playlist.index("hoa-phu-chieu.mp3")
    # Both slots carry the same news, spoken once.
    sang, chieu = manifest(tmp_path, "hoa-phu-sang"), manifest(tmp_path, "hoa-phu-chieu")
    assert [i["title"] for i in sang["items"]] == [i["title"] for i in chieu["items"]]
    assert all(p["cached"] for s in chieu["segments"] if s["kind"] == "item" for p in s["paragraphs"])


def test_urgent_notice_is_built_by_hand(tmp_path):
    config = write_config(tmp_path)
    result = run(config, "notice", "--name", "thong-bao-hop-dan",
                 "Thông báo: chiều nay lúc 14h00, họp dân tại nhà văn hóa thôn 3.")
    assert result.exit_code == 0, result.output
    mp3 = tmp_path / "audio_out" / DATE / "hoa-phu-thong-bao-hop-dan.mp3"
    assert mp3.exists()
    m = manifest(tmp_path, "hoa-phu-thong-bao-hop-dan")
    spoken = [p["spoken"] for p in paragraphs(m)]
    # Who is speaking, the notice, "Xin nhắc lại", the notice again.
    assert spoken[0].startswith("Đây là Đài truyền thanh xã Hòa Phú")
    assert "mười bốn giờ" in spoken[1] and "thôn ba" in spoken[1]
    assert spoken[2].startswith("Xin nhắc lại") and spoken[3] == spoken[1]
    assert m["kind"] == "notice" and m["schema_version"] == 2
    samples = decode_mono(mp3, RATE)
    jingle = samples_from_bytes(default_pcm("jingle", RATE))
    n = min(len(jingle), 2 * RATE)
    assert similarity(samples[:n], jingle[:n], max_lag=RATE // 50) > 0.8


def test_leftovers_of_a_killed_run_are_cleaned_up(own):
    root, config, _ = own
    day = root / "audio_out" / DATE
    old = day / ".hoa-phu.mp3.ab12cd34.mp3"
    recent = day / ".hoa-phu.txt.zz99yy88.tmp"
    old.write_bytes(b"half an mp3")
    recent.write_bytes(b"being written now")
    os.utime(old, (1, 1))
    result = run(config, "build")
    assert result.exit_code == 0, result.output
    assert not old.exists(), "an unfinished file from a killed run is removed after an hour"
    assert recent.exists(), "a file another process may still be writing is left alone"


def test_script_saved_by_a_windows_editor_is_read(tmp_path):
    config = write_config(tmp_path)
    assert run(config, "script").exit_code == 0
    script = tmp_path / "audio_out" / DATE / "hoa-phu.txt"
    text = script.read_text(encoding="utf-8").replace("Mời bà con", "Kính mời bà con")
    script.write_bytes(text.replace("\n", "\r\n").encode("utf-16"))  # Notepad's "Unicode"
    result = run(config, "build", "--no-fetch")
    assert result.exit_code == 0, result.output
    m = manifest(tmp_path)
    assert m["script_edited"] is True
    assert any(p["text"].startswith("Kính mời bà con") or "Kính mời bà con" in p["text"]
               for p in paragraphs(m))


def test_script_in_a_legacy_encoding_is_a_clear_error(tmp_path):
    config = write_config(tmp_path)
    assert run(config, "script").exit_code == 0
    script = tmp_path / "audio_out" / DATE / "hoa-phu.txt"
    # A header typed in UTF-8, then a line saved by an editor in a legacy 8-bit code page.
    legacy = "[mở đầu]\n".encode("utf-8") + "Xin chào bà con.\n".encode("latin-1")
    script.write_bytes(legacy)
    result = run(config, "build", "--no-fetch")
    assert result.exit_code == 1
    assert "không phải chữ mã UTF-8" in result.output and "hoa-phu.txt, dòng 2" in result.output
    assert not (tmp_path / "audio_out" / DATE / "hoa-phu.mp3").exists()
    assert script.read_bytes() == legacy, "the staff's file is kept"


def test_cache_command_reports_and_prunes(own):
    root, config, _ = own
    result = run(config, "cache")
    assert result.exit_code == 0, result.output
    assert "số đoạn:" in result.output and "lần chạy gần nhất:" in result.output
    entries = int(result.output.split("số đoạn:")[1].split(",")[0])
    assert entries > 5
    wavs = list((root / "data" / "speech-cache").rglob("*.wav"))
    assert len(wavs) == entries
    for wav in wavs[:3]:
        os.utime(wav, (1, 1))
    result = run(config, "cache", "--prune", "--older-than", "30d")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Đã xóa 3 đoạn")
    assert f"số đoạn: {entries - 3}," in result.output
    result = run(config, "cache", "--prune", "--older-than", "ba mươi ngày")
    assert result.exit_code != 0 and "Traceback" not in result.output


def test_one_broken_station_does_not_stop_the_others(tmp_path):
    (tmp_path / "mau").mkdir()
    (tmp_path / "mau" / "ban-tin.txt.j2").write_text("{% for x in items %}\nchưa đóng\n", encoding="utf-8")
    extra = ('\n[[stations]]\nid = "xa-a"\nname = "Đài xã A"\ntemplates = "mau"\n'
             '\n[[stations]]\nid = "xa-b"\nname = "Đài xã B"\n[stations.audio]\njingle = "khong-co.mp3"\n')
    config = write_config(tmp_path)
    config.write_text(config.read_text(encoding="utf-8") + extra, encoding="utf-8")
    result = run(config, "build")
    assert result.exit_code == 1
    day = tmp_path / "audio_out" / DATE
    assert (day / "hoa-phu.mp3").exists()
    errors = [l for l in log_lines(result) if "LỖI" in l]
    assert len(errors) == 2
    assert errors[0].startswith("xa-a: LỖI: Mẫu kịch bản") and "ban-tin.txt.j2, dòng 2" in errors[0]
    assert errors[1].startswith("xa-b: LỖI: Không tìm thấy tệp nhạc hiệu") and "khong-co.mp3" in errors[1]
    assert "Traceback" not in result.output and "ERROR" not in result.output
    assert not (day / "xa-a.mp3").exists() and not (day / "xa-b.mp3").exists()


def test_two_quick_notices_do_not_replace_each_other(tmp_path):
    config = write_config(tmp_path)
    assert run(config, "notice", "Thông báo thứ nhất.").exit_code == 0
    assert run(config, "notice", "Thông báo thứ hai.").exit_code == 0
    day = tmp_path / "audio_out" / DATE
    texts = sorted(p.read_text(encoding="utf-8") for p in day.glob("hoa-phu-thong-bao-*.txt"))
    assert len(texts) == 2 and len(list(day.glob("hoa-phu-thong-bao-*.mp3"))) == 2
    assert "Thông báo thứ nhất." in texts[0] + texts[1] and "Thông báo thứ hai." in texts[0] + texts[1]


def test_a_cron_log_is_one_line_per_station_and_one_summary(tmp_path):
    stations = "".join(f'\n[[stations]]\nid = "xa-{n}"\nname = "Đài xã {n}"\ntarget_minutes = 3\n' for n in range(4))
    feed = tmp_path / "tin.xml"
    feed.write_text('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>x</title>'
                    '<item><title>Giá cà phê hôm nay tăng nhẹ</title><link>https://e.vn/1</link>'
                    '<pubDate>Mon, 02 Mar 2026 08:00:00 +0700</pubDate>'
                    '<description>Giá cà phê nhân xô tăng 500 đồng/kg.</description></item>'
                    '</channel></rss>', encoding="utf-8")
    config = write_config(tmp_path)
    config.write_text(config.read_text(encoding="utf-8") + stations, encoding="utf-8")
    log_file = tmp_path / "nhat-ky" / "build.log"
    result = run(config, "-q", "script", "--log-file", str(log_file))
    assert result.exit_code == 0, result.output  # scripts only: no alert for missing news
    lines = log_lines(result)
    assert len(lines) == 5 + 1 + 1, lines  # five stations, the root cause once, the summary
    assert sum(l.startswith(("hoa-phu:", "xa-")) for l in lines) == 5
    assert sum("0/5 đài có tin mới" in l for l in lines) == 1
    assert "tin mới nhất của mọi nguồn đã cũ 10 ngày" in result.output
    assert lines[-1].startswith("Xong: soạn kịch bản 5/5 đài")
    logged = log_file.read_text(encoding="utf-8")
    assert "Xong: soạn kịch bản 5/5 đài" in logged and "0/5 đài có tin mới" in logged


def test_the_log_file_is_stamped_in_vietnam_time_on_a_server_kept_in_utc(tmp_path, monkeypatch):
    import time

    from broadcast.models import VN_TZ

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        log_file = tmp_path / "build.log"
        result = run(write_config(tmp_path), "-q", "script", "--log-file", str(log_file))
        after = dt.datetime.now(VN_TZ).replace(tzinfo=None)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert result.exit_code == 0, result.output
    stamp = dt.datetime.strptime(log_file.read_text(encoding="utf-8")[:19], "%Y-%m-%d %H:%M:%S")
    assert dt.timedelta(0) <= after - stamp < dt.timedelta(minutes=5)
