"""Feed dates in every form Vietnamese sites write them."""

from __future__ import annotations

import datetime as dt

import pytest

from broadcast.feeddates import parse_date, slash_order
from broadcast.models import VN_TZ


def vn(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=VN_TZ)


@pytest.mark.parametrize("text, expected", [
    # baochinhphu: US .NET form without zone, month first: 9/5/2026 is 5 September
    ("9/5/2026 1:30:00 PM", vn(2026, 9, 5, 13, 30)),
    ("9/14/2026 6:44:00 PM", vn(2026, 9, 14, 18, 44)),
    ("9/5/2026 12:10:00 AM", vn(2026, 9, 5, 0, 10)),
    ("9/5/2026 12:10:00 PM", vn(2026, 9, 5, 12, 10)),
    # nhandan: zone with a colon
    ("Mon, 14 Sep 2026 18:48:23 +07:00", vn(2026, 9, 14, 18, 48, 23)),
    # thanhnien: two-digit year
    ("Mon, 14 Sep 26 09:13:00 +0700", vn(2026, 9, 14, 9, 13)),
    # vtv: hours-only zone
    ("Mon, 14 Sep 2026 19:46:22 +07", vn(2026, 9, 14, 19, 46, 22)),
    # vietnambiz: GMT+7
    ("Fri, 04 Sep 2026 18:48:27 GMT+7", vn(2026, 9, 4, 18, 48, 27)),
    # plain RFC 822 in UTC becomes Vietnam time
    ("Wed, 26 Jul 2017 12:41:14 GMT", vn(2017, 7, 26, 19, 41, 14)),
    ("Tue, 14 Nov 2017 17:42:01 -0500", vn(2017, 11, 15, 5, 42, 1)),
    ("Mon, 14 Sep 2026 18:48:23 ICT", vn(2026, 9, 14, 18, 48, 23)),
    ("14 September 2026", vn(2026, 9, 14)),
    # ISO 8601 (Atom, JSON feeds)
    ("2026-09-14T11:48:23Z", vn(2026, 9, 14, 18, 48, 23)),
    ("2026-09-14T18:48:23.123+07:00", vn(2026, 9, 14, 18, 48, 23)),
    ("2026-09-14 18:48", vn(2026, 9, 14, 18, 48)),
    # Vietnamese day-first forms as portals print them
    ("14/09/2026 18:48", vn(2026, 9, 14, 18, 48)),
    ("14-09-2026 07:05", vn(2026, 9, 14, 7, 5)),
    ("Thứ hai, 14/9/2026, 18:48 (GMT+7)", vn(2026, 9, 14, 18, 48)),
    ("2026/09/14 18:48", vn(2026, 9, 14, 18, 48)),
])
def test_every_form_seen_in_feeds(text: str, expected: dt.datetime) -> None:
    got = parse_date(text)
    assert got == expected
    assert got.utcoffset() == dt.timedelta(hours=7)  # shown to staff in Vietnam time


def test_no_zone_means_vietnam_time() -> None:
    assert parse_date("Mon, 14 Sep 2026 09:00:00") == vn(2026, 9, 14, 9, 0)
    assert parse_date("2026-09-14T09:00:00") == vn(2026, 9, 14, 9, 0)


@pytest.mark.parametrize("text", [None, "", "   ", "garbage", "31/02/2026", "0/0/0000", "Mon, 99 Foo 2026",
                                  "1/1/1800 1:00:00 PM", "25:99"])
def test_unusable_dates_give_none(text: str | None) -> None:
    assert parse_date(text) is None


def test_ambiguous_slash_dates_follow_the_whole_feed() -> None:
    # One unambiguous date decides the order for the whole document.
    assert slash_order(["9/5/2026 1:30:00 PM", "9/14/2026 6:44:00 PM"]) == "mdy"
    assert slash_order(["5/9/2026 13:30", "14/9/2026 08:00"]) == "dmy"
    # All ambiguous: AM/PM means the US .NET form, otherwise Vietnamese day-first.
    assert slash_order(["9/5/2026 1:30:00 PM", "9/4/2026 11:00:00 AM"]) == "mdy"
    assert slash_order(["5/9/2026 13:30"]) == "dmy"
    assert slash_order(["Mon, 14 Sep 2026 18:48:23 +07:00", None]) is None
    assert parse_date("5/9/2026 13:30", order="mdy") == vn(2026, 5, 9, 13, 30)
    assert parse_date("5/9/2026 13:30", order="dmy") == vn(2026, 9, 5, 13, 30)
