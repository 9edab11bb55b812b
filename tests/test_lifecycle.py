"""The bulletin lifecycle through the library API, with real builds (offline speech, ffmpeg, SQLite)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from broadcast import api
from broadcast.bulletin import State, read_manifest
from broadcast.config import load_config
from broadcast.errors import LockedError
from broadcast.models import VN_TZ
from broadcast.pipeline import sha
from broadcast.workspace import Workspace
from offline import offline_config

DATA = Path(__file__).parent / "data"
DAY = dt.date(2026, 3, 12)


def at(day: dt.date, hour: int = 5, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), VN_TZ)


def make_config(root: Path, station: str = "", stations: str = "") -> Path:
    return offline_config(root, f'''
[[stations]]
id = "hoa-phu"
name = "Đài truyền thanh xã Hòa Phú"
target_minutes = 3
phone = "0262.3868123"
{station}
{stations}
''')


@pytest.fixture
def setup(tmp_path):
    def _make(station: str = "", stations: str = ""):
        config = load_config(make_config(tmp_path, station, stations))
        return config, tmp_path / "audio_out"
    return _make


def delete_item(script: Path, n: int) -> str:
    """Remove the [tin n] section the way staff would in a text editor; return its title."""
    text = script.read_text(encoding="utf-8")
    m = re.search(rf"\[tin {n}\] (.*?)\n.*?(?=\n\[)", text, flags=re.S)
    assert m, text
    script.write_text(text[:m.start()] + text[m.end():], encoding="utf-8")
    return m.group(1)


def test_a_story_staff_delete_is_not_recorded_as_aired_and_comes_back_next_day(setup):
    config, out = setup()
    api.draft(config, out, DAY, at(DAY))
    script = Workspace(out, config.data_dir).paths("hoa-phu", DAY).script
    removed = delete_item(script, 1)
    report = api.build(config, out, DAY, at(DAY, 5, 10), fetch=False)
    assert not report.failed, report.results
    history = api.history(config, DAY, DAY)
    aired_titles = [i["title"] for i in history[0].items]
    assert aired_titles and removed not in aired_titles
    manifest = read_manifest(Workspace(out, config.data_dir).paths("hoa-phu", DAY).manifest)
    assert removed not in [i["title"] for i in manifest.items]
    assert history[0].status.edited
    tomorrow = api.candidates(config, "hoa-phu", DAY + dt.timedelta(days=1), at(DAY + dt.timedelta(days=1)))
    titles = [c.title for c in tomorrow.candidates]
    assert removed in titles, "a story that never aired is offered again"
    assert not set(aired_titles) & set(titles), "a story that aired is not offered again"


def test_states_follow_edits_approval_render_and_hold(setup):
    config, out = setup()
    (status,) = api.status(config, out, DAY)
    assert status.state == State.MISSING
    api.draft(config, out, DAY, at(DAY))
    (status,) = api.status(config, out, DAY)
    assert status.state == State.DRAFTED and not status.edited
    paths = Workspace(out, config.data_dir).paths("hoa-phu", DAY)
    paths.script.write_text(paths.script.read_text(encoding="utf-8").replace(
        "Mời bà con cùng nghe", "Kính mời bà con cùng nghe"), encoding="utf-8")
    (status,) = api.status(config, out, DAY)
    assert status.state == State.EDITED and status.edited
    diff = api.diff(config, out, "hoa-phu", DAY)
    assert any(l.startswith("+") and "Kính mời" in l for l in diff.lines)
    assert any(l.startswith("-") and "Mời bà con" in l for l in diff.lines)

    status = api.approve(config, out, "hoa-phu", DAY, at(DAY, 6), by="Lan")
    assert status.state == State.APPROVED and status.approved_by == "Lan"
    api.build(config, out, DAY, at(DAY, 6, 5), fetch=False)
    (status,) = api.status(config, out, DAY)
    assert status.state == State.RENDERED and status.may_air and status.duration > 30
    assert status.approved_by == "Lan" and status.engines == ["espeak"]

    # An edit after approval needs a new approval (and a new render).
    read_by_reviewer = sha(paths.script.read_text(encoding="utf-8"))
    paths.script.write_text(paths.script.read_text(encoding="utf-8") + "\nThêm một câu.\n", encoding="utf-8")
    (status,) = api.status(config, out, DAY)
    assert status.state == State.EDITED and not status.approved

    # Approving with the sha of the script read before that edit is refused, under the bulletin's lock.
    with pytest.raises(api.ConflictError):
        api.approve(config, out, "hoa-phu", DAY, at(DAY, 6, 8), by="Lan", base_sha=read_by_reviewer)
    assert not api.status(config, out, DAY)[0].approved

    status = api.hold(config, out, "hoa-phu", DAY, at(DAY, 6, 10), by="Lan", reason="chờ xác minh")
    assert status.state == State.HELD and not status.may_air
    assert "hoa-phu.mp3" not in Workspace(out, config.data_dir).playlist(DAY).read_text(encoding="utf-8")
    assert api.history(config, DAY, DAY)[0].items == [], "a held bulletin did not air"
    report = api.build(config, out, DAY, at(DAY, 6, 15), fetch=False)
    assert report.results[0].status == "held"

    events = [e["action"] for e in api.history(config, DAY, DAY)[0].events]
    assert events == ["drafted", "approved", "rendered", "held"]


def test_policy_approved_airs_nothing_until_approval(setup):
    config, out = setup(station='publish = "approved"')
    api.build(config, out, DAY, at(DAY))
    ws = Workspace(out, config.data_dir)
    (status,) = api.status(config, out, DAY)
    assert status.state == State.RENDERED and not status.may_air
    assert "chờ duyệt" in status.note
    assert ws.playlist(DAY).read_text(encoding="utf-8").strip() == "#EXTM3U"
    assert api.history(config, DAY, DAY)[0].items == []
    # Yesterday's file is never passed off as today's.
    assert not list(ws.day_dir(DAY - dt.timedelta(days=1)).glob("*.mp3"))

    status = api.approve(config, out, "hoa-phu", DAY, at(DAY, 7), by="Lan")
    assert status.may_air and status.state == State.RENDERED
    assert "hoa-phu.mp3" in ws.playlist(DAY).read_text(encoding="utf-8")
    assert api.history(config, DAY, DAY)[0].items


def test_notices_are_read_on_their_dates_highest_priority_first(setup):
    station = '''notices = [
  { text = "Thông báo thường về lịch tiếp dân.", priority = "normal" },
  { text = "Thông báo cũ đã hết hạn.", valid_to = 2026-03-01 },
  { text = "Thông báo chưa tới ngày đọc.", valid_from = 2026-04-01 },
  { text = "Thông báo ưu tiên về tiêm chủng.", priority = "priority", valid_from = 2026-03-10, valid_to = 2026-03-15 },
]'''
    config, out = setup(station=station)
    api.notice(config, out, "Thông báo khẩn về mưa lũ.", ["hoa-phu"], DAY, at(DAY, 4),
               priority="emergency", valid_to=DAY + dt.timedelta(days=1), build_now=False)
    api.draft(config, out, DAY, at(DAY))
    text = Workspace(out, config.data_dir).paths("hoa-phu", DAY).script.read_text(encoding="utf-8")
    notices = re.findall(r"\[thông báo \d+\]\n(.*)", text)
    assert notices == ["Thông báo khẩn. Thông báo khẩn về mưa lũ.",
                       "Thông báo quan trọng. Thông báo ưu tiên về tiêm chủng.",
                       "Thông báo thường về lịch tiếp dân."]
    later = DAY + dt.timedelta(days=5)
    api.draft(config, out, later, at(later))
    text = Workspace(out, config.data_dir).paths("hoa-phu", later).script.read_text(encoding="utf-8")
    assert "mưa lũ" not in text and "tiêm chủng" not in text and "lịch tiếp dân" in text


def test_emergency_notice_is_not_blocked_by_a_build_in_progress(setup):
    config, out = setup()
    ws = Workspace(out, config.data_dir)
    with ws.bulletin_lock("hoa-phu", DAY):  # the nightly build holds the station's bulletin
        with pytest.raises(LockedError):
            with ws.bulletin_lock("hoa-phu", DAY):
                pass
        result = api.notice(config, out, "Nước sông Krông Ana đang lên nhanh, bà con khẩn trương di dời.",
                            ["hoa-phu"], DAY, at(DAY, 14, 30), priority="emergency", by="Trực ban")
    (built,) = result.results
    assert built.status == "built" and built.audio.exists()
    text = built.script.read_text(encoding="utf-8")
    assert text.count("Nước sông Krông Ana đang lên nhanh") == 2 and "Xin nhắc lại:" in text
    assert text.index("Đây là Đài truyền thanh xã Hòa Phú") < text.index("Nước sông")
    statuses = {s.key.slot: s for s in api.status(config, out, DAY)}
    assert statuses[built.slot].kind == "notice" and statuses[built.slot].may_air
    assert built.audio.name in ws.playlist(DAY).read_text(encoding="utf-8")


def test_building_a_future_date_never_deletes_today_and_old_edits_are_archived(setup, tmp_path):
    config, out = setup()
    today = DAY
    api.draft(config, out, today, at(today))
    old = today - dt.timedelta(days=40)
    api.draft(config, out, old, at(old))
    ws = Workspace(out, config.data_dir)
    old_script = ws.paths("hoa-phu", old).script
    old_script.write_text(old_script.read_text(encoding="utf-8") + "\nCán bộ đã sửa.\n", encoding="utf-8")
    future = today + dt.timedelta(days=400)
    report = api.build(config, out, future, at(today, 22), fetch=False)
    assert not report.failed
    assert ws.paths("hoa-phu", today).script.exists(), "today's folder survives a build for a future date"
    assert not ws.day_dir(old).exists(), "a day past retention (by the real date) is removed"
    kept = ws.archive_dir(old) / old_script.name
    assert kept.read_text(encoding="utf-8").endswith("Cán bộ đã sửa.\n")


def test_a_broken_manifest_in_the_day_folder_is_skipped(setup):
    config, out = setup()
    api.build(config, out, DAY, at(DAY))
    ws = Workspace(out, config.data_dir)
    (ws.day_dir(DAY) / "rac.json").write_text("{không phải json", encoding="utf-8")
    (ws.day_dir(DAY) / "khac.json").write_text('{"schema_version": 99}', encoding="utf-8")
    report = api.build(config, out, DAY, at(DAY, 6), fetch=False)
    assert not report.failed
    assert "hoa-phu.mp3" in ws.playlist(DAY).read_text(encoding="utf-8")


def test_save_script_detects_an_edit_made_meanwhile(setup):
    from broadcast.pipeline import sha

    config, out = setup()
    api.draft(config, out, DAY, at(DAY))
    path = Workspace(out, config.data_dir).paths("hoa-phu", DAY).script
    original = path.read_text(encoding="utf-8")
    path.write_text(original + "\nSửa ở máy khác.\n", encoding="utf-8")
    with pytest.raises(api.ConflictError):
        api.save_script(config, out, "hoa-phu", DAY, original + "\nSửa trên trang.\n", at(DAY, 6),
                        base_sha=sha(original), by="Lan")
    assert path.read_text(encoding="utf-8").endswith("Sửa ở máy khác.\n")
    status = api.save_script(config, out, "hoa-phu", DAY, original + "\nSửa trên trang.\n", at(DAY, 6),
                             base_sha=sha(path.read_text(encoding="utf-8")), by="Lan")
    assert status.state == State.EDITED


def test_init_writes_a_configuration_that_loads_and_drafts(tmp_path):
    written = api.init_config(tmp_path, "ea-kao", "Đài truyền thanh xã Ea Kao", commune="xã Ea Kao",
                              phone="0262.3123456")
    config = load_config(written[0])
    st = config.station("ea-kao")
    assert st.phone == "0262.3123456" and st.publish == "approved"
    assert st.notices_file == tmp_path / "thong-bao.toml" and st.notices_file.exists()
    with pytest.raises(Exception, match="không ghi đè"):
        api.init_config(tmp_path, "ea-kao", "Đài")
    report = api.draft(config, tmp_path / "audio_out", DAY, at(DAY), fetch=False)
    assert report.results[0].status == "script"
    text = report.results[0].script.read_text(encoding="utf-8")
    assert "0262.3123456" in text and "Đài truyền thanh xã Ea Kao" in text


@pytest.mark.parametrize("case", ["day-is-file", "lock-is-dir", "data-is-file", "out-read-only"])
def test_layout_problems_are_one_clear_line(tmp_path, case):
    import os
    import subprocess
    import sys

    make_config(tmp_path)
    out = tmp_path / "audio_out"
    if case == "day-is-file":
        out.mkdir()
        (out / DAY.isoformat()).write_text("x", encoding="utf-8")
        expect = f"{out / DAY.isoformat()} là một tệp"
    elif case == "lock-is-dir":
        (tmp_path / "data" / "locks" / f"hoa-phu-{DAY.isoformat()}.lock").mkdir(parents=True)
        expect = "là thư mục, không phải tệp khóa"
    elif case == "data-is-file":
        (tmp_path / "data").write_text("x", encoding="utf-8")
        expect = "data"
    else:
        if os.geteuid() == 0:
            pytest.skip("root can write into a read-only folder")
        out.mkdir()
        out.chmod(0o500)
        expect = "Không có quyền ghi"
    env = dict(os.environ, BROADCAST_NOW=at(DAY).isoformat())
    proc = subprocess.run([sys.executable, "-m", "broadcast", "--config", str(tmp_path / "broadcast.toml"),
                           "--out", str(out), "--date", DAY.isoformat(), "build", "--no-fetch"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode in (1, 2), proc.stderr + proc.stdout
    assert expect in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr and "không mong đợi" not in proc.stderr + proc.stdout


def test_a_fifo_named_like_a_manifest_never_hangs_the_run(setup):
    import os

    config, out = setup()
    api.build(config, out, DAY, at(DAY))
    ws = Workspace(out, config.data_dir)
    os.mkfifo(ws.day_dir(DAY) / "ong-dan.json")
    report = api.build(config, out, DAY, at(DAY, 6), fetch=False)
    assert not report.failed
    assert "hoa-phu.mp3" in ws.playlist(DAY).read_text(encoding="utf-8")


def test_pruning_the_speech_cache_waits_for_builds_using_it(setup):
    from click.testing import CliRunner

    from broadcast.cli import cli

    config, out = setup()
    ws = Workspace(out, config.data_dir)
    with ws.cache_use():  # a build in progress
        result = CliRunner().invoke(cli, ["--config", str(config.path), "--out", str(out), "cache", "--prune",
                                          "--older-than", "1h"])
    assert result.exit_code == 75, result.output
    assert "Bộ nhớ đệm giọng đọc đang được một lần chạy khác xử lý" in result.output
    with ws.cache_use(), ws.cache_use():  # builds share the cache with each other
        pass
    result = CliRunner().invoke(cli, ["--config", str(config.path), "--out", str(out), "cache", "--prune"])
    assert result.exit_code == 0, result.output


def test_a_dictionary_entry_that_never_matches_is_reported(setup, tmp_path):
    lexicon = tmp_path / "tu-dien.tsv"
    lexicon.write_text("Hòa Phú\tHoà Phú\nEa Tiêuu\tÊ a Tiêu\n", encoding="utf-8")
    config, out = setup(station=f'lexicon = "{lexicon.name}"')
    report = api.build(config, out, DAY, at(DAY))
    assert not report.failed
    unused = [w for w in report.warnings if "Từ điển phát âm" in w]
    assert len(unused) == 1 and "'Ea Tiêuu'" in unused[0] and "'Hòa Phú'" not in unused[0]
