"""CLI: Vietnamese help everywhere, one clear line for every user error."""

import pytest
from click.testing import CliRunner

from broadcast.cli import cli

COMMANDS = sorted(cli.commands)


def run(*args, **kw):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False, **kw)


def test_group_help_is_vietnamese_and_lists_every_command():
    r = run("--help")
    assert r.exit_code == 0
    assert r.output.startswith("Cách dùng: broadcast [TÙY_CHỌN] LỆNH [THAM_SỐ]...")
    assert "Tùy chọn:" in r.output and "Lệnh:" in r.output
    for name in ("build", "script", "fetch", "items", "normalize", "cache", "doctor"):
        assert name in COMMANDS
        assert f"  {name} " in r.output


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_vietnamese_help(name):
    r = run(name, "--help")
    assert r.exit_code == 0
    assert r.output.startswith(f"Cách dùng: broadcast {name}")
    doc = cli.commands[name].help
    assert doc and any(ch in doc for ch in "ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ")
    assert "Show this message" not in r.output


def test_missing_config_file_is_one_line_with_exit_2(tmp_path):
    r = run("--config", str(tmp_path / "khong-co.toml"), "build")
    assert r.exit_code == 2
    assert r.output == f"Lỗi: Không tìm thấy tệp cấu hình {tmp_path / 'khong-co.toml'}: hãy kiểm tra đường dẫn --config.\n"


def test_config_syntax_error_names_file_and_line(tmp_path):
    p = tmp_path / "broadcast.toml"
    p.write_text('[[stations]]\nid = "hoa-phu"\nname = Đài xã\n', encoding="utf-8")
    r = run("--config", str(p), "build")
    assert r.exit_code == 2
    assert r.output.startswith(f"Lỗi: {p}, dòng 3: lỗi cú pháp TOML")
    assert "Traceback" not in r.output


def test_unreadable_config_is_a_clear_error(tmp_path):
    p = tmp_path / "broadcast.toml"
    p.write_bytes(b'[[stations]]\nid = "a"\nname = "\xff\xfe"\n')
    r = run("--config", str(p), "build")
    assert r.exit_code == 2
    assert r.output == f"Lỗi: {p}, dòng 3: tệp cấu hình phải lưu bằng mã UTF-8.\n"


def test_unknown_station(tmp_path):
    r = run("--out", str(tmp_path), "build", "--station", "khong-co")
    assert r.exit_code == 2
    assert "Không có đài 'khong-co'" in r.output and "hoa-phu" in r.output


def test_bad_date_option():
    r = run("--date", "12/03/2025", "build")
    assert r.exit_code == 2
    assert "không phải ngày dạng YYYY-MM-DD" in r.output


def test_an_unexpected_error_is_one_line_not_a_traceback(monkeypatch, tmp_path):
    import broadcast.pipeline

    def boom(*_a, **_k):
        raise RuntimeError("hỏng bất ngờ")

    monkeypatch.setattr(broadcast.pipeline, "build", boom)
    r = CliRunner().invoke(cli, ["--out", str(tmp_path), "build"])
    assert r.exit_code == 70
    assert "Traceback" not in r.output
    assert r.output.splitlines()[-1].startswith("Lỗi không mong đợi: RuntimeError: hỏng bất ngờ.")


def test_doctor_says_when_no_bulletin_can_be_made(tmp_path):
    p = tmp_path / "broadcast.toml"
    p.write_text('[general]\ndata_dir = "data"\n[tts]\nengine = "command"\n'
                 'command = ["khong-co-chuong-trinh-nay", "{input}", "{output}"]\n'
                 '[[stations]]\nid = "hoa-phu"\nname = "Đài truyền thanh xã Hòa Phú"\n', encoding="utf-8")
    r = run("--config", str(p), "--out", str(tmp_path / "out"), "doctor")
    assert r.exit_code == 1
    assert "[LỖI ] bộ đọc command" in r.output and "khong-co-chuong-trinh-nay" in r.output
    assert "[OK  ] ffmpeg:" in r.output
    assert r.output.rstrip().endswith("Máy chưa thể làm bản tin: hãy sửa các mục LỖI ở trên.")


def test_doctor_passes_with_the_offline_engine(tmp_path):
    p = tmp_path / "broadcast.toml"
    p.write_text('[general]\ndata_dir = "data"\n[tts]\nengine = "espeak"\n'
                 '[[stations]]\nid = "hoa-phu"\nname = "Đài truyền thanh xã Hòa Phú"\n', encoding="utf-8")
    r = run("--config", str(p), "--out", str(tmp_path / "out"), "doctor")
    assert r.exit_code == 0, r.output
    assert "[OK  ] bộ đọc espeak: dùng được" in r.output
    assert r.output.rstrip().endswith("Máy sẵn sàng làm bản tin.")


def test_global_options_work_after_the_command_name(tmp_path):
    r = run("build", "--config", str(tmp_path / "khong-co.toml"), "--date", "2026-11-30", "-q")
    assert r.exit_code == 2
    assert "Không tìm thấy tệp cấu hình" in r.output
    r = run("status", "--date=2026-13-01")
    assert r.exit_code == 2 and "không phải ngày dạng YYYY-MM-DD" in r.output


def test_a_mistyped_command_suggests_the_closest_one():
    r = run("biuld")
    assert r.exit_code == 2
    assert "Không có lệnh 'biuld'. Có phải bạn định gõ 'build'?" in r.output
    r = run("build", "--no-fech")
    assert r.exit_code == 2 and "Có phải bạn định gõ --no-fetch?" in r.output


def test_hoist_keeps_command_options_and_arguments_in_place():
    from broadcast.cli import hoist_global_options

    assert hoist_global_options(["notice", "--station", "a", "--date", "2026-11-30", "Mưa -q lớn"]) == \
        ["--date", "2026-11-30", "notice", "--station", "a", "Mưa -q lớn"]
    assert hoist_global_options(["--out", "x", "build", "-q", "--", "--date"]) == \
        ["-q", "--out", "x", "build", "--", "--date"]


def test_notice_needs_a_station_when_there_are_several(tmp_path):
    cfg = tmp_path / "broadcast.toml"
    cfg.write_text('[[stations]]\nid = "a"\nname = "Đài A"\n\n[[stations]]\nid = "b"\nname = "Đài B"\n',
                   encoding="utf-8")
    r = run("--config", str(cfg), "notice", "Họp dân lúc 14 giờ.")
    assert r.exit_code == 2
    assert "hãy chọn đài bằng --station" in r.output


def test_status_and_history_of_a_new_station_say_nothing_is_drafted(tmp_path):
    import json

    cfg = tmp_path / "broadcast.toml"
    cfg.write_text('[general]\ndata_dir = "data"\n\n[[stations]]\nid = "a"\nname = "Đài A"\n', encoding="utf-8")
    r = run("--config", str(cfg), "--out", str(tmp_path / "out"), "status", "--date", "2026-11-30", "--json")
    assert r.exit_code == 0, r.output
    (s,) = json.loads(r.output)
    assert s["state"] == "missing" and s["station"] == "a" and s["date"] == "2026-11-30"
    r = run("--config", str(cfg), "history", "--from", "2026-11-01", "--to", "2026-11-30")
    assert r.exit_code == 0 and "Không có bản tin nào" in r.output
    r = run("--config", str(cfg), "--out", str(tmp_path / "out"), "approve", "a", "--date", "2026-11-30")
    assert r.exit_code == 1 and "Chưa có kịch bản của đài a" in r.output


def test_doctor_checks_every_station_and_every_feed(tmp_path):
    (tmp_path / "mau").mkdir()
    (tmp_path / "mau" / "ban-tin.txt.j2").write_text("{% if %}\n", encoding="utf-8")
    p = tmp_path / "broadcast.toml"
    p.write_text('[general]\ndata_dir = "data"\n[tts]\nengine = "espeak"\n'
                 '[[feeds]]\nname = "mat"\nurl = "khong-co.xml"\n'
                 '[[stations]]\nid = "a"\nname = "Đài A"\n'
                 '[[stations]]\nid = "b"\nname = "Đài B"\ntemplates = "mau"\n'
                 '[stations.audio]\njingle = "khong-co.mp3"\n', encoding="utf-8")
    r = run("--config", str(p), "--out", str(tmp_path / "out"), "doctor")
    assert r.exit_code == 1, r.output
    assert "[OK  ] đài a: mẫu kịch bản" in r.output
    assert "[LỖI ] đài b: mẫu kịch bản" in r.output and "ban-tin.txt.j2" in r.output
    assert "[LỖI ] đài b: nhạc hiệu: không thấy tệp" in r.output
    assert "[chú ý] nguồn tin mat:" in r.output


@pytest.mark.parametrize("date", ["99999-01-01", "0001-01-01", "9999-12-31", "1999-12-31"])
def test_dates_whose_arithmetic_would_overflow_are_refused_with_exit_2(tmp_path, monkeypatch, date):
    monkeypatch.chdir(tmp_path)  # the bundled demo config keeps its data in the current folder
    r = run("--out", str(tmp_path), "--date", date, "script", "--no-fetch")
    assert r.exit_code == 2
    assert "--date" in r.output and date in r.output and "Traceback" not in r.output


def test_say_without_output_names_its_own_sample(tmp_path, monkeypatch):
    p = tmp_path / "broadcast.toml"
    p.write_text('[general]\ndata_dir = "data"\n[tts]\nengine = "espeak"\n'
                 '[[stations]]\nid = "a"\nname = "Đài A"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    r = run("--config", str(p), "say", "--engine", "espeak", "Xin chào bà con.")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "mau-espeak.mp3").stat().st_size > 1000
