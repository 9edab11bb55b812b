"""The province operator's leftovers: the report after a remake, a full disk at night, a past day's stories,
the notice cap, the desk's render records and the National Day table.

Real SQLite, real espeak and ffmpeg, real processes where the operator meets them; the clock is fixed
(`now` for the library, BROADCAST_NOW for the command line), never today's date.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from broadcast import api
from broadcast.cli import cli
from broadcast.config import load_config
from broadcast.models import VN_TZ
from offline import offline_config
from test_ops_qa import at, cron, station


def run(config: Path, now: dt.datetime, *args: str):
    """One run of the CLI as staff type it, the clock fixed."""
    return CliRunner().invoke(cli, ["--config", str(config), "--out", str(config.parent / "audio_out"), *args],
                              env={"BROADCAST_NOW": now.isoformat()})


def drop_log_file(path: Path) -> None:
    """Close the --log-file handler a CLI run in this process left on the root logger."""
    for handler in logging.getLogger().handlers[:]:
        if getattr(handler, "baseFilename", "") == str(path):
            logging.getLogger().removeHandler(handler)
            handler.close()


# ---------------------------------------------------------------- 3. a past day's stories


def test_items_of_a_past_day_without_stories_does_not_send_staff_to_fetch(tmp_path):
    config = offline_config(tmp_path, station("xa-a"))
    (tmp_path / "tin.xml").unlink()  # nothing was ever fetched
    asked = at(dt.date(2026, 10, 5), 9)
    past = run(config, asked, "items", "--date", "2026-10-01")
    assert past.exit_code == 0, past.output
    assert "broadcast fetch" not in past.output, past.output
    assert "01/10/2026" in past.output and "đã qua" in past.output, past.output
    # Today fetching still helps, and is still suggested.
    today = run(config, asked, "items")
    assert today.exit_code == 0 and "broadcast fetch" in today.output, today.output


# ---------------------------------------------------------------- 6. the National Day table


def test_the_national_day_table_is_checked_against_the_date_it_is_given():
    from broadcast.script import NATIONAL_DAY_SECOND, national_day_table_warning

    last = max(NATIONAL_DAY_SECOND)
    assert national_day_table_warning(dt.date(last, 12, 31)) == ""
    line = national_day_table_warning(dt.date(last + 1, 1, 1))
    assert str(last) in line and str(last + 1) in line and "Quốc khánh" in line and "README" in line, line


def test_a_run_past_the_national_day_tables_last_year_says_so_once_in_the_log(tmp_path):
    from broadcast.script import NATIONAL_DAY_SECOND

    config = offline_config(tmp_path, station("xa-a") + station("xa-b"))
    log_file = tmp_path / "nhat-ky" / "build.log"
    late = dt.date(max(NATIONAL_DAY_SECOND) + 1, 3, 2)
    try:
        result = cron(config, at(late), "script", "--log-file", str(log_file))
        current = cron(config, at(late.replace(year=max(NATIONAL_DAY_SECOND))), "script",
                       "--log-file", str(log_file))
    finally:
        drop_log_file(log_file)
    assert result.exit_code in (0, 4), result.output
    assert current.exit_code in (0, 4), current.output
    lines = [l for l in log_file.read_text(encoding="utf-8").splitlines() if "Quốc khánh" in l]
    assert len(lines) == 1, lines
    assert str(late.year) in lines[0] and "cảnh báo" in lines[0]
