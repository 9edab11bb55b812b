"""Edge cases of the bulletin lifecycle found by using it as staff and operators do (real builds)."""

from __future__ import annotations

import datetime as dt

import pytest

from broadcast import api
from broadcast.config import load_config
from test_lifecycle import DAY, at, make_config

SLOTS = 'slots = [{time = "06:00", name = "sang"}, {time = "17:00", name = "chieu"}]'


@pytest.fixture
def slotted(tmp_path):
    config = load_config(make_config(tmp_path, station='publish = "approved"\n' + SLOTS))
    return config, tmp_path / "audio_out"


def aired_ids(config) -> list[int]:
    with api.open_store(config) as store:
        return [sid for _, _, sid in store.aired("hoa-phu", DAY)]


def test_a_slot_that_may_not_air_never_erases_what_another_slot_aired(slotted):
    config, out = slotted
    api.build(config, out, DAY, at(DAY), jobs=1)
    assert aired_ids(config) == []
    api.approve(config, out, "hoa-phu", DAY, at(DAY, 5, 5), slot="sang", by="Lan")
    morning = aired_ids(config)
    assert morning, "the approved morning bulletin's stories count as aired"

    # The nightly job runs again: the evening slot is still waiting for approval.
    api.build(config, out, DAY, at(DAY, 5, 10), fetch=False, jobs=1)
    assert aired_ids(config) == morning
    api.hold(config, out, "hoa-phu", DAY, at(DAY, 5, 15), slot="chieu", by="Lan")
    assert aired_ids(config) == morning
    (row,) = [s for s in api.report(config, DAY, DAY).stations]
    assert row.aired == 1 and row.items == len(morning)

    # The evening airs; holding the morning leaves the evening's stories recorded.
    api.approve(config, out, "hoa-phu", DAY, at(DAY, 5, 20), slot="chieu", by="Lan")
    api.hold(config, out, "hoa-phu", DAY, at(DAY, 5, 25), slot="sang", by="Lan")
    assert aired_ids(config) == morning
    items = {e.status.key.slot: [i["id"] for i in e.items] for e in api.history(config, DAY, DAY)}
    assert items == {"sang": [], "chieu": morning}, "the stories are listed under the bulletin that aired them"
    api.hold(config, out, "hoa-phu", DAY, at(DAY, 5, 30), slot="chieu", by="Lan")
    assert aired_ids(config) == []


def test_two_bulletins_with_one_file_name_are_a_configuration_error(tmp_path):
    from broadcast.errors import ConfigError

    clash = '[[stations]]\nid = "hoa-phu-sang"\nname = "Đài truyền thanh xã Hòa Phú Sang"\n'
    # The second station is the wrong one: it is left out (its own error), the first keeps its files.
    config = load_config(make_config(tmp_path, station=SLOTS, stations=clash))
    assert [s.id for s in config.stations] == ["hoa-phu"]
    with pytest.raises(ConfigError, match="'hoa-phu-sang' trùng tên tệp"):
        config.station("hoa-phu-sang")
    twice = 'slots = [{time = "06:00", name = "sang"}, {time = "07:00", name = "sang"}]'
    with pytest.raises(ConfigError, match="'sang' bị trùng"):
        load_config(make_config(tmp_path, station=twice))


def test_a_notice_never_takes_the_name_of_a_daily_bulletin(slotted):
    from broadcast.api import ParameterError
    from broadcast.workspace import Workspace

    config, out = slotted
    api.draft(config, out, DAY, at(DAY))
    script = Workspace(out, config.data_dir).paths("hoa-phu", DAY, "sang").script
    script.write_text(script.read_text(encoding="utf-8") + "\nCâu cán bộ thêm.\n", encoding="utf-8")
    edited = script.read_bytes()
    with pytest.raises(ParameterError, match="trùng tên tệp của bản tin hằng ngày hoa-phu-sang"):
        api.notice(config, out, "Họp dân lúc 14 giờ.", ["hoa-phu"], DAY, at(DAY, 9), name="sang")
    assert script.read_bytes() == edited, "the staff's edited script is untouched"
    with api.open_store(config) as store:
        assert store.notices_for("hoa-phu", DAY) == [], "a refused notice is not stored either"


def test_notices_made_in_the_same_minute_never_share_files(slotted):
    from broadcast.api import ParameterError

    config, out = slotted
    # Another run claimed this minute's name and is still writing its files.
    with api.open_store(config) as store:
        store.save_bulletin("hoa-phu", DAY, "thong-bao-0930", at(DAY, 9, 30), kind="notice")
    result = api.notice(config, out, "Họp dân lúc 14 giờ.", ["hoa-phu"], DAY, at(DAY, 9, 30))
    (made,) = result.results
    assert made.slot == "thong-bao-0930-2" and made.audio.name == "hoa-phu-thong-bao-0930-2.mp3"

    first = made.audio.read_bytes()
    with pytest.raises(ParameterError, match="Đã có thông báo tên 'thong-bao-0930-2'"):
        api.notice(config, out, "Một thông báo khác.", ["hoa-phu"], DAY, at(DAY, 9, 31), name="thong-bao-0930-2")
    assert made.audio.read_bytes() == first


def test_the_playlist_is_written_by_one_run_at_a_time(tmp_path):
    """Two builds of different stations at once: the later playlist must include both bulletins."""
    import threading
    import time

    from broadcast.pipeline import write_playlist
    from broadcast.workspace import Workspace

    config = load_config(make_config(tmp_path))
    out = tmp_path / "audio_out"
    assert not api.build(config, out, DAY, at(DAY), jobs=1).failed
    ws = Workspace(out, config.data_dir)
    ws.playlist(DAY).unlink()

    def other_run() -> None:
        with api.open_store(config) as store:
            write_playlist(ws, store, config, DAY)

    with ws.playlist_lock(DAY):  # another run is writing the day's playlist
        worker = threading.Thread(target=other_run)
        worker.start()
        time.sleep(0.5)
        assert not ws.playlist(DAY).exists(), "the playlist waits for the other run"
    worker.join(10)
    assert "hoa-phu.mp3" in ws.playlist(DAY).read_text(encoding="utf-8")


def test_a_temp_file_of_a_bulletin_being_written_is_never_removed_as_stale(tmp_path):
    """Another run's build of a different station, with a fixed clock ahead of the files' times."""
    import os

    from broadcast.workspace import Workspace

    ws = Workspace(tmp_path / "audio_out", tmp_path / "data")
    day = ws.check_day_dir(DAY)
    writing = day / ".hoa-phu.mp3.k3j2h1g0.mp3"
    playlist = day / ".playlist.m3u.a1b2c3d4.tmp"
    left = day / ".ea-kao.mp3.z9y8x7w6.mp3"
    for f in (writing, playlist, left):
        f.write_bytes(b"ID3")
        os.utime(f, (0, 0))
    later = at(DAY + dt.timedelta(days=30))
    other_run = Workspace(tmp_path / "audio_out", tmp_path / "data")
    with other_run.bulletin_lock("hoa-phu", DAY), other_run.playlist_lock(DAY):
        assert ws.remove_stale_temp(DAY, later) == [left]
        assert writing.exists() and playlist.exists()
    assert sorted(ws.remove_stale_temp(DAY, later)) == sorted([writing, playlist])


def test_an_emergency_for_every_station_reaches_those_that_can_sound(tmp_path):
    from click.testing import CliRunner

    from broadcast.cli import cli

    (tmp_path / "hong.mp3").write_text("không phải âm thanh", encoding="utf-8")
    broken = '[stations.audio]\njingle = "hong.mp3"\n'
    other = '[[stations]]\nid = "ea-kao"\nname = "Đài truyền thanh xã Ea Kao"\n'
    path = make_config(tmp_path, station=broken, stations=other)
    out = tmp_path / "audio_out"
    r = CliRunner().invoke(cli, ["--config", str(path), "--out", str(out), "--date", DAY.isoformat(), "notice",
                                 "--all", "--priority", "emergency", "Nước sông đang lên nhanh, bà con sơ tán."],
                           env={"BROADCAST_NOW": at(DAY, 9, 30).isoformat()})
    assert r.exit_code == 1, r.output
    assert (out / DAY.isoformat() / "ea-kao-thong-bao-0930.mp3").stat().st_size > 10_000
    lines = r.output.splitlines()
    assert any(l.startswith("Đã tạo ") and "ea-kao-thong-bao-0930.mp3" in l for l in lines), r.output
    (failed,) = [l for l in lines if "LỖI" in l]
    assert failed.startswith("hoa-phu: LỖI: ") and "hong.mp3" in failed
    assert "Traceback" not in r.output and "không mong đợi" not in r.output
    with api.open_store(load_config(path)) as store:
        assert [n["priority"] for n in store.notices_for("ea-kao", DAY)] == ["emergency"]


def test_a_script_saved_from_the_desk_with_a_bom_and_decomposed_accents_stays_approved(tmp_path):
    import unicodedata

    from broadcast.workspace import Workspace

    config = load_config(make_config(tmp_path, station='publish = "approved"'))
    out = tmp_path / "audio_out"
    api.draft(config, out, DAY, at(DAY))
    api.approve(config, out, "hoa-phu", DAY, at(DAY, 5, 1), by="Lan")
    text = Workspace(out, config.data_dir).paths("hoa-phu", DAY).script.read_text(encoding="utf-8")
    # A browser on macOS sends decomposed accents; a Windows editor adds a BOM: the same script.
    saved = api.save_script(config, out, "hoa-phu", DAY, "\ufeff" + unicodedata.normalize("NFD", text),
                            at(DAY, 5, 2), by="Lan")
    assert saved.approved and not saved.edited
    (entry,) = api.history(config, DAY, DAY)
    assert entry.status.approved, "the record agrees with the file"


def test_a_script_whose_stories_staff_deleted_is_not_reported_as_no_news(tmp_path):
    import re

    from click.testing import CliRunner

    from broadcast.cli import cli
    from broadcast.workspace import Workspace

    other = '[[stations]]\nid = "ea-kao"\nname = "Đài truyền thanh xã Ea Kao"\ntarget_minutes = 3\n'
    path = make_config(tmp_path, stations=other)
    config = load_config(path)
    out = tmp_path / "audio_out"
    api.draft(config, out, DAY, at(DAY))
    for station in ("hoa-phu", "ea-kao"):
        script = Workspace(out, config.data_dir).paths(station, DAY).script
        text = script.read_text(encoding="utf-8")
        # Staff delete every story, keeping the greeting, the message and the closing.
        text = re.sub(r"\[tin \d+\].*?(?=\n\[(?!tin))", "", text, flags=re.S)
        assert "[tin" not in text and "[kết thúc]" in text
        script.write_text(text, encoding="utf-8")
    r = CliRunner().invoke(cli, ["--config", str(path), "--out", str(out), "--date", DAY.isoformat(), "-q",
                                 "build", "--no-fetch", "--jobs", "1"],
                           env={"BROADCAST_NOW": at(DAY, 5, 10).isoformat()})
    assert r.exit_code == 0, r.output
    assert "0/2 đài có tin mới" not in r.output


def test_a_notice_for_later_days_is_made_for_its_first_day_and_a_past_one_is_refused(tmp_path):
    from broadcast.api import ParameterError

    config = load_config(make_config(tmp_path))
    out = tmp_path / "audio_out"
    start = DAY + dt.timedelta(days=3)
    result = api.notice(config, out, "Tiêm chủng tại trạm y tế xã.", ["hoa-phu"], DAY, at(DAY, 9),
                        valid_from=start, valid_to=start + dt.timedelta(days=2))
    (made,) = result.results
    assert made.audio.parent.name == start.isoformat() and made.audio.exists()
    assert not (out / DAY.isoformat()).exists() or not list((out / DAY.isoformat()).glob("*.mp3"))
    with pytest.raises(ParameterError, match="không còn bản tin nào để đọc"):
        api.notice(config, out, "Họp dân đã qua.", ["hoa-phu"], DAY, at(DAY, 9),
                   valid_from=DAY - dt.timedelta(days=5), valid_to=DAY - dt.timedelta(days=2))
    with api.open_store(config) as store:
        assert [n["text"] for n in store.notices_for("hoa-phu", DAY - dt.timedelta(days=3))] == []


def test_a_bulletin_held_before_it_was_drafted_is_not_rendered(tmp_path):
    from broadcast.bulletin import State
    from broadcast.workspace import Workspace

    config = load_config(make_config(tmp_path))
    out = tmp_path / "audio_out"
    api.hold(config, out, "hoa-phu", DAY, at(DAY, 4), by="Lan", reason="mất điện cả xã")
    report = api.build(config, out, DAY, at(DAY, 5), jobs=1)
    (result,) = report.results
    assert result.status == "held", result
    paths = Workspace(out, config.data_dir).paths("hoa-phu", DAY)
    assert paths.script.exists() and not paths.audio.exists()
    (status,) = api.status(config, out, DAY)
    assert status.state == State.HELD and status.hold_reason == "mất điện cả xã"


def test_a_notice_goes_to_the_only_station_or_needs_a_choice_among_several(tmp_path):
    from broadcast.api import ParameterError

    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one = load_config(make_config(tmp_path / "one"))
    assert api.notice_stations(one, []) == ["hoa-phu"]
    other = '[[stations]]\nid = "ea-tu"\nname = "Đài truyền thanh xã Ea Tu"\n'
    two = load_config(make_config(tmp_path / "two", stations=other))
    with pytest.raises(ParameterError, match="--station"):
        api.notice_stations(two, [])
    assert api.notice_stations(two, [], all_stations=True) == ["hoa-phu", "ea-tu"]
    assert api.notice_stations(two, ["ea-tu"]) == ["ea-tu"]
    with pytest.raises(ParameterError):
        api.notice(two, tmp_path / "out", "Họp dân.", [], DAY, at(DAY, 9), build_now=False)


def test_an_edited_notice_is_rendered_again_from_its_script_and_needs_a_new_approval(tmp_path):
    from broadcast.audio import decode_mono
    from broadcast.bulletin import State

    config = load_config(make_config(tmp_path))
    out = tmp_path / "audio_out"
    (made,) = api.notice(config, out, "Họp dân lúc 14 giờ.", ["hoa-phu"], DAY, at(DAY, 9), name="hop-dan").results
    before = made.audio.read_bytes()
    first = made.duration
    script = made.script.read_text(encoding="utf-8")
    made.script.write_text(script.replace("Họp dân lúc 14 giờ.", "Họp dân lúc 14 giờ tại nhà văn hóa thôn 3, "
                                          "bà con mang theo căn cước và sổ hộ khẩu để đối chiếu."),
                           encoding="utf-8")
    report = api.render(config, out, "hoa-phu", DAY, at(DAY, 10), slot="hop-dan", actor="Lan")
    (again,) = report.results
    assert again.status == "built" and again.audio == made.audio
    assert report.speech_calls >= 1, "the edited paragraph is spoken anew"
    assert made.audio.read_bytes() != before
    assert len(decode_mono(made.audio, 8000)) / 8000 > first + 2, "the added sentence is heard"
    status = next(s for s in api.status(config, out, DAY) if s.key.slot == "hop-dan")
    assert status.state == State.RENDERED and status.edited
    assert not status.approved, "the author approved the notice as typed: the edit needs a new approval"
    # Rendering the same script again changes nothing.
    assert api.render(config, out, "hoa-phu", DAY, at(DAY, 10, 5), slot="hop-dan").results[0].status == "unchanged"
