"""What staff and operators type by mistake: every case ends in one Vietnamese line and the right exit code."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from broadcast.bulletin import StationResult
from broadcast.cli import _station_line, cli
from test_lifecycle import make_config

NOW = {"BROADCAST_NOW": "2026-11-30T05:00:00+07:00"}


def run(*args: str, **kw):
    return CliRunner().invoke(cli, list(args), env=NOW, catch_exceptions=False, **kw)


def with_config(tmp_path: Path, *args: str, **kw):
    config = make_config(tmp_path)
    return run("--config", str(config), "--out", str(tmp_path / "audio_out"), *args, **kw)


def one_vietnamese_line(output: str) -> bool:
    return output.startswith("Lỗi: ") and output.count("\n") == 1 and "Traceback" not in output


def last_line(output: str) -> str:
    """The error line; click puts its usage line and a help hint above a wrong option."""
    assert "Traceback" not in output
    return output.splitlines()[-1]


@pytest.mark.parametrize("command", [["report", "--month", "2026-11", "--format", "csv", "--output"],
                                     ["say", "--engine", "espeak", "Xin chào bà con.", "-o"]])
def test_an_output_path_that_is_a_device_or_pipe_is_left_alone(tmp_path, command):
    # As root, replacing /dev/null or /dev/full with a report would break the machine.
    fifo = tmp_path / "ong-dan"
    os.mkfifo(fifo)
    r = with_config(tmp_path, *command, str(fifo))
    assert r.exit_code == 2, r.output
    line = last_line(r.output)
    assert line.startswith("Lỗi: ") and str(fifo) in line and "không phải tệp thường" in line, r.output
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


@pytest.fixture
def no_ffmpeg(tmp_path, monkeypatch):
    """A machine whose bundled ffmpeg is gone and that has none on PATH."""
    from broadcast.audio.ffmpeg import find_ffmpeg
    from broadcast.speech.pcm import ffmpeg_exe

    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(tmp_path / "khong-co-ffmpeg"))
    monkeypatch.setenv("PATH", str(empty))
    find_ffmpeg.cache_clear()
    ffmpeg_exe.cache_clear()
    yield
    find_ffmpeg.cache_clear()
    ffmpeg_exe.cache_clear()


def test_say_without_ffmpeg_is_the_audio_exit_code_with_the_fix(tmp_path, no_ffmpeg):
    out = tmp_path / "mau.mp3"
    r = with_config(tmp_path, "say", "--engine", "espeak", "Xin chào bà con.", "-o", str(out))
    assert r.exit_code == 3, r.output
    assert one_vietnamese_line(r.output), r.output
    assert "ffmpeg" in r.output and "imageio-ffmpeg" in r.output and "không mong đợi" not in r.output
    assert not out.exists()


def test_a_password_without_a_terminal_is_read_from_the_pipe_not_echoed_with_english_warnings(tmp_path):
    r = with_config(tmp_path, "user", "add", "lan", "--station", "hoa-phu", input="mat-khau-du-dai\n")
    assert r.exit_code == 0, r.output
    assert r.output == "Đã tạo tài khoản lan (cán bộ đài; hoa-phu).\n"
    r = with_config(tmp_path, "user", "passwd", "lan", input="")
    assert r.exit_code == 2, r.output
    line = last_line(r.output)
    assert line.startswith("Lỗi: ") and "--password-stdin" in line, r.output


def test_a_new_password_for_an_unknown_account_is_refused_before_any_password_is_asked(tmp_path):
    r = with_config(tmp_path, "user", "passwd", "khong-co", "--password-stdin", input="ngan\n")
    assert r.exit_code != 0, r.output
    assert last_line(r.output) == "Lỗi: Không có tài khoản 'khong-co'.", r.output


@pytest.mark.parametrize("args, expected", [
    (["serve", "--port", "80000"], "Lỗi: Giá trị không hợp lệ cho '--port': 80000 không nằm trong khoảng từ 0 "
                                   "đến 65535.\n"),
    (["build", "--statoin", "hoa-phu"], "Lỗi: Không có tùy chọn --statoin. Có phải bạn định gõ --station?\n"),
    (["cache", "--older-than", "ba-ngay"], "Lỗi: Giá trị không hợp lệ cho --older-than: thời gian 'ba-ngay' không hợp "
                                          "lệ: hãy ghi như 30d (ngày), 12h (giờ), 2w (tuần) hoặc 90m (phút).\n"),
    (["notice", "--station", "hoa-phu", "Nước", "sông"], "Lỗi: Thừa tham số (sông). Câu có dấu cách thì hãy đặt "
                                                        "trong dấu ngoặc kép.\n"),
])
def test_click_errors_read_as_vietnamese_sentences(tmp_path, args, expected):
    r = with_config(tmp_path, *args)
    assert r.exit_code == 2, r.output
    last = last_line(r.output) + "\n"
    assert last.startswith("Lỗi: ")
    if expected:
        assert last == expected
    assert not any(word in r.output for word in ("is not", "range", "Error"))


def test_two_different_passwords_at_the_prompt_are_told_in_vietnamese(tmp_path, monkeypatch):
    # At a terminal the prompt asks twice; the staffer first types two different passwords.
    monkeypatch.setattr("broadcast.cli._stdin_is_terminal", lambda: True)
    r = with_config(tmp_path, "user", "add", "lan", "--station", "hoa-phu",
                    input="mat-khau-mot-1\nmat-khau-hai-2\nmat-khau-mot-1\nmat-khau-mot-1\n")
    assert r.exit_code == 0, r.output
    assert "Lỗi: Hai lần nhập không giống nhau." in r.output
    assert "do not match" not in r.output


def test_help_shows_ranges_and_folders_in_vietnamese():
    r = run("serve", "--help")
    flowing = " ".join(r.output.split())  # help wraps at the terminal width
    assert "từ 0 đến 65535" in flowing and "<=x<=" not in flowing
    r = run("--help")
    assert "--out THƯ_MỤC" in r.output
    r = run("init", "--help")
    assert "--dir THƯ_MỤC" in r.output
    province = next(line for line in r.output.splitlines() if "--province" in line)
    assert "tỉnh" in province.split("TỈNH", 1)[1].lower(), "--province has its own help"


def test_warnings_on_a_station_line_are_joined_without_double_punctuation():
    result = StationResult(station="hoa-phu", slot="", status="built", audio=Path("audio_out/x/hoa-phu.mp3"),
                           duration=66.0, items=0,
                           warnings=["Không có tin cải cách hành chính mới phù hợp.", "Bản tin ngắn."])
    line, err = _station_line(result)
    assert not err
    assert ".;" not in line
    assert line.endswith("; cảnh báo: Bản tin ngắn.")
    failed = StationResult(station="hoa-phu", slot="", status="failed", items=0,
                           message="Không tìm thấy tệp nhạc hiệu: hãy kiểm tra đường dẫn.", warnings=["Bản tin ngắn."])
    line, err = _station_line(failed)
    assert err
    assert line == "hoa-phu: LỖI: Không tìm thấy tệp nhạc hiệu: hãy kiểm tra đường dẫn; cảnh báo: Bản tin ngắn."


def test_a_log_file_that_cannot_be_written_says_why_in_vietnamese(tmp_path):
    blocker = tmp_path / "tep"
    blocker.write_text("x", encoding="utf-8")
    r = with_config(tmp_path, "--log-file", str(blocker / "nhat-ky" / "build.log"), "status")
    assert r.exit_code == 2, r.output
    last = last_line(r.output)
    assert str(blocker) in last and "Not a directory" not in last and "No such file" not in last


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("runner", ["run", "feed"])
def test_a_full_disk_while_encoding_is_said_in_vietnamese_with_the_fix(runner):
    # /dev/full answers every write with ENOSPC, as a full disk does.
    from broadcast.audio.ffmpeg import feed_ffmpeg, run_ffmpeg
    from broadcast.errors import AudioError

    with pytest.raises(AudioError) as caught:
        if runner == "run":
            run_ffmpeg(["-y", "-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", "2", "-f", "mp3", "/dev/full"],
                       what="mã hóa MP3 bản tin")
        else:
            feed_ffmpeg(["-y", "-f", "s16le", "-ar", "44100", "-ac", "1", "-i", "pipe:0", "-f", "mp3", "/dev/full"],
                        b"\0" * 88200, what="mã hóa MP3 bản tin")
    message = str(caught.value)
    assert message.startswith("Hết dung lượng đĩa khi mã hóa MP3 bản tin"), message
    assert "giải phóng" in message and "No space" not in message


def test_a_full_disk_under_the_database_is_said_in_vietnamese_and_keeps_what_was_saved(tmp_path):
    # SQLite's own limit on the file's size gives the error a full disk gives (SQLITE_FULL).
    import datetime as dt

    from broadcast.errors import BroadcastError
    from broadcast.models import VN_TZ, FeedItem
    from broadcast.store import Store

    class Relevance:
        score, topics, matches = 1.0, ["dvctt"], []

    now = dt.datetime(2026, 11, 30, 5, 0, tzinfo=VN_TZ)

    def stories(first: int, count: int) -> list:
        return [(FeedItem(feed="f", source="Báo xã", title=f"Tin số {n} về thủ tục hành chính số {n * 7919}",
                          summary=f"Nội dung tin số {n}. " * 40, link=f"https://a.vn/tin-{n}.html", guid="",
                          published=now - dt.timedelta(minutes=n)), Relevance()) for n in range(first, first + count)]

    with Store(tmp_path / "data") as store:
        store.add_items(stories(0, 5), now)
        pages = store.db.execute("PRAGMA page_count").fetchone()[0]
        store.db.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(BroadcastError) as caught:
            store.add_items(stories(100, 300), now)
        with pytest.raises(BroadcastError) as raw:
            store.db.execute("CREATE TABLE filler (x)")
            store.db.execute("INSERT INTO filler VALUES (zeroblob(1000000))")
        kept = store.db.execute("SELECT COUNT(*) FROM stories").fetchone()[0]
    for message in (str(caught.value), str(raw.value)):
        assert message.startswith("Hết dung lượng đĩa khi ghi tệp dữ liệu "), message
        assert "giải phóng" in message and "disk is full" not in message
    assert kept == 5


SENTENCE = "Ngày 1/1/2026 họp dân tại nhà văn hóa thôn 3.\nGọi 0262.3868123\n"


def cp1258(text: str) -> bytes:
    """Text as Windows "ANSI" Vietnamese saves it: base letters in cp1258, tone marks combining."""
    import unicodedata

    tones = "\u0300\u0301\u0303\u0309\u0323"
    out = []
    for ch in text:
        parts = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
        out.append(base + "".join(c for c in parts if c in tones))
    return "".join(out).encode("cp1258")


@pytest.mark.parametrize("encoded", [SENTENCE.encode("utf-16"), b"\xef\xbb\xbf" + SENTENCE.encode("utf-8")],
                         ids=["utf-16-bom", "utf-8-bom"])
def test_normalize_reads_lines_saved_by_notepad_as_unicode(encoded):
    expected = run("normalize", input=SENTENCE.encode("utf-8"))
    assert expected.exit_code == 0 and expected.output.count("\n") == 2
    r = run("normalize", input=encoded)
    assert r.exit_code == 0, r.output
    assert r.output == expected.output


def test_normalize_refuses_lines_that_are_not_utf8_instead_of_reading_nonsense():
    r = run("normalize", input=cp1258(SENTENCE))
    assert r.exit_code == 1, r.output
    assert r.output == ("Lỗi: Dòng 1 của đầu vào không phải chữ mã UTF-8: hãy lưu tệp với bảng mã UTF-8 "
                        "(Save As → Encoding: UTF-8) rồi chạy lại.\n")


def test_normalize_stops_on_a_line_no_sentence_is_as_long_as():
    # `broadcast normalize < /dev/zero` read one endless line until memory ran out.
    from broadcast.fsutil import MAX_STAFF_TEXT_BYTES

    r = run("normalize", input=b"\0" * (MAX_STAFF_TEXT_BYTES + 10))
    assert r.exit_code == 1, r.output[:200]
    assert r.output.startswith("Lỗi: Dòng 1 của đầu vào dài hơn ") and r.output.count("\n") == 1


@pytest.mark.parametrize("command", [["init", "--station", "ea-kao", "--name", "Đài truyền thanh xã Ea Kao", "--dir"],
                                     ["report", "--month", "2026-11", "--format", "csv", "--output"]])
def test_a_path_through_a_file_is_a_clear_error_not_an_unexpected_one(tmp_path, command):
    blocker = tmp_path / "broadcast.txt"
    blocker.write_text("x", encoding="utf-8")
    target = blocker / ("x.csv" if command[0] == "report" else "moi")
    r = with_config(tmp_path, *command, str(target))
    assert r.exit_code == 1, r.output
    assert one_vietnamese_line(r.output), r.output
    assert "không mong đợi" not in r.output and "Errno" not in r.output
    assert str(blocker) in r.output and "không phải thư mục" in r.output
    assert blocker.read_text(encoding="utf-8") == "x"


def test_click_names_a_folder_in_lower_case():
    r = run("init", "--station", "ea-kao", "--name", "Đài", "--dir", __file__)
    assert r.exit_code == 2
    assert last_line(r.output) == f"Lỗi: Giá trị không hợp lệ cho '--dir': '{__file__}' là tệp, không phải thư mục."


def test_notice_help_says_what_the_notice_file_reads(tmp_path):
    # The help said only emergencies are read twice; every notice's own file repeats it.
    from broadcast.config import load_config
    from broadcast.pipeline import notice_script

    (station,) = load_config(make_config(tmp_path)).stations
    for priority in ("normal", "priority", "emergency"):
        assert notice_script(station, "Chiều nay họp dân.", priority).count("Chiều nay họp dân.") == 2
    flowing = " ".join(run("notice", "--help").output.split())
    assert "Thông báo khẩn được đọc hai lần" not in flowing
    assert "đọc nội dung hai lần (\"Xin nhắc lại\")" in flowing


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_log_file_on_a_full_disk_is_one_warning_not_a_traceback_per_record(tmp_path):
    import logging

    out = tmp_path / "bao-cao.csv"
    try:
        r = with_config(tmp_path, "--log-file", "/dev/full", "report", "--month", "2026-11", "--format", "csv",
                        "--output", str(out))
        r2 = with_config(tmp_path, "--log-file", "/dev/full", "report", "--month", "2026-11", "--format", "csv",
                         "--output", str(out))
    finally:
        for handler in logging.getLogger().handlers[:]:
            if getattr(handler, "baseFilename", "") == "/dev/full":
                logging.getLogger().removeHandler(handler)
                handler.close()
    assert r.exit_code == 0, r.output
    assert "Logging error" not in r.output + r2.output and "Traceback" not in r.output + r2.output
    assert r.output.count("cảnh báo: không ghi được tệp nhật ký /dev/full: hết dung lượng đĩa") == 1, r.output
    assert out.exists() and os.path.exists("/dev/full") and not Path("/dev/full").is_file()


@pytest.mark.parametrize("encoding", ["cp1252", "ascii"])
def test_output_redirected_to_a_file_in_a_windows_code_page_is_utf8_not_a_crash(tmp_path, encoding):
    # On Windows, output redirected to a file (Task Scheduler, '> nhat-ky.txt') is in the ANSI
    # code page, which has no Vietnamese letters: every command ended in exit 70.
    import subprocess
    import sys

    env = {**os.environ, "PYTHONIOENCODING": encoding}
    proc = subprocess.run([sys.executable, "-m", "broadcast", "normalize", "Ngày 1/1/2026, gọi 0262.3868123"],
                          capture_output=True, env=env, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    assert proc.stdout.decode("utf-8").startswith("Ngày một tháng một năm hai nghìn không trăm hai mươi sáu, gọi")
    proc = subprocess.run([sys.executable, "-m", "broadcast", "--config", str(tmp_path / "khong-co.toml"), "status"],
                          capture_output=True, env=env, cwd=tmp_path, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.decode("utf-8").startswith("Lỗi: Không tìm thấy tệp cấu hình")


def test_an_os_error_that_is_not_about_a_path_stays_an_unexpected_error(tmp_path, monkeypatch):
    import broadcast.api

    def refused(*_a, **_k):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(broadcast.api, "status", refused)
    r = with_config(tmp_path, "status")
    assert r.exit_code == 70, r.output
    assert r.output.startswith("Lỗi không mong đợi: ConnectionRefusedError") and "Traceback" not in r.output


def test_a_notice_too_long_is_called_a_notice_in_the_message(tmp_path):
    r = with_config(tmp_path, "notice", "--station", "hoa-phu", "--no-build", "Họp dân. " * 60_000)
    assert r.exit_code != 0, r.output
    assert last_line(r.output).startswith("Lỗi: Thông báo lớn "), r.output


def test_a_port_already_taken_is_said_in_vietnamese(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = with_config(tmp_path, "serve", "--port", str(port))
    assert r.exit_code != 0, r.output
    assert last_line(r.output) == (f"Lỗi: Không mở được cổng {port} trên 127.0.0.1: cổng này đang được một "
                                   "chương trình khác dùng. Hãy chọn cổng khác bằng --port."), r.output
