"""CLI edge cases found by using the commands with odd inputs: one Vietnamese line, the right exit code."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from broadcast.cli import cli
from test_lifecycle import make_config

NOW = {"BROADCAST_NOW": "2026-12-31T23:30:00+07:00"}


def run(config, *args):
    return CliRunner().invoke(cli, ["--config", str(config), "--out", str(config.parent / "audio_out"), *args],
                              env=NOW, catch_exceptions=False)


@pytest.mark.parametrize("period", [["--year", "0000"], ["--month", "0000-01"], ["--quarter", "1999-Q4"],
                                    ["--year", "2101"], ["--year", "abc"], ["--from", "2026-12-31"]])
def test_a_report_period_out_of_range_is_a_parameter_error(tmp_path, period):
    r = run(make_config(tmp_path), "report", *period)
    assert r.exit_code == 2, r.output
    assert r.output.startswith("Lỗi: ") and r.output.count("\n") == 1
    assert "không mong đợi" not in r.output


def test_holding_a_slot_the_station_does_not_have_is_refused(tmp_path):
    config = make_config(tmp_path)
    r = run(config, "hold", "hoa-phu", "--slot", "sang")
    assert r.exit_code == 2
    assert r.output == ("Lỗi: Đài hoa-phu không có buổi phát 'sang': đài chỉ có một bản tin mỗi ngày, "
                        "hãy bỏ --slot.\n")
    r = run(config, "status", "--json")
    assert '"slot": "sang"' not in r.output, "no bulletin nobody planned appears"


def test_a_station_with_slots_asks_which_slot(tmp_path):
    config = make_config(tmp_path, station='slots = [{time = "06:00", name = "sang"}, {time = "17:00", name = "chieu"}]')
    r = run(config, "approve", "hoa-phu", "--by", "Lan")
    assert r.exit_code == 2
    assert r.output == "Lỗi: Đài hoa-phu có 2 buổi phát (sang, chieu): hãy chọn buổi bằng --slot.\n"
    r = run(config, "hold", "hoa-phu", "--slot", "toi")
    assert r.exit_code == 2
    assert r.output == "Lỗi: Đài hoa-phu không có buổi phát 'toi'. Các buổi phát: sang, chieu.\n"
    r = run(config, "hold", "hoa-phu", "--slot", "sang", "--by", "Lan")
    assert r.exit_code == 0 and "hoa-phu-sang" in r.output


def test_init_takes_names_with_quotes_and_backslashes(tmp_path):
    from broadcast.config import load_config

    name = 'Đài truyền thanh xã "Hòa Phú"'
    commune = 'xã Hòa Phú \\ thôn "3"'
    r = CliRunner().invoke(cli, ["init", "--station", "hoa-phu", "--name", name, "--commune", commune,
                                 "--dir", str(tmp_path)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    (station,) = load_config(tmp_path / "broadcast.toml").stations
    assert (station.name, station.commune) == (name, commune)
    assert station.one_stop == f"Trung tâm Phục vụ hành chính công {commune}"
    assert (tmp_path / "broadcast.toml").read_text(encoding="utf-8").startswith(f"# Cấu hình của {name}.\n")



def test_init_without_commune_takes_the_place_from_the_name(tmp_path):
    from broadcast.config import load_config

    r = CliRunner().invoke(cli, ["init", "--station", "ea-kao", "--name", "Đài truyền thanh xã Ea Kao",
                                 "--dir", str(tmp_path)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    (station,) = load_config(tmp_path / "broadcast.toml").stations
    assert station.commune == "xã Ea Kao"
    assert station.one_stop == "Trung tâm Phục vụ hành chính công xã Ea Kao"


@pytest.mark.parametrize("args", [["--station", "Hoa-Phu", "--name", "Đài"],
                                  ["--station", "hoa-phu", "--name", "Đài\nxã"]])
def test_init_with_a_wrong_value_is_a_parameter_error(tmp_path, args):
    r = CliRunner().invoke(cli, ["init", *args, "--dir", str(tmp_path)], catch_exceptions=False)
    assert r.exit_code == 2 and r.output.startswith("Lỗi: ") and r.output.count("\n") == 1
    assert not (tmp_path / "broadcast.toml").exists()
