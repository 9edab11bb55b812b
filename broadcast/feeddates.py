"""Dates as Vietnamese feeds write them: RFC 822 variants, ISO 8601, US .NET and Vietnamese slash forms."""

from __future__ import annotations

import datetime as dt
import re
from typing import Iterable

from broadcast.models import VN_TZ

MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}
# Zone names seen in the wild; anything unknown falls back to the default zone
# rather than to UTC, because a Vietnamese site that writes a zone name almost
# always means local time.
ZONE_NAMES = {
    "UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "ICT": 7 * 60, "ICST": 7 * 60,
    "EST": -5 * 60, "EDT": -4 * 60, "CST": -6 * 60, "CDT": -5 * 60,
    "MST": -7 * 60, "MDT": -6 * 60, "PST": -8 * 60, "PDT": -7 * 60,
}
MIN_YEAR, MAX_YEAR = 1990, 2100

_ZONE = (
    r"(?:(?:GMT|UTC|UT)?\s*(?P<sign>[+-])\s*(?P<zh>\d{1,2})(?::?(?P<zm>\d{2}))?"
    r"|(?P<zname>[A-Z]{1,5})\b)"
)
_TIME = (
    r"(?P<H>\d{1,2})[:h](?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,]\d+)?)?"
    r"\s*(?P<ampm>[AaPp]\.?[Mm]\.?|SA|CH|sa|ch)?"
)
_RFC822 = re.compile(
    r"^(?:[A-Za-z]{2,9}\.?,?\s*)?(?P<d>\d{1,2})[\s-]+(?P<mon>[A-Za-z]{3,9})\.?[\s-]+(?P<y>\d{2,4})"
    r"(?:[\sT,]+" + _TIME + r")?\s*\(?(?:" + _ZONE + r")?\)?\s*$"
)
_ISO = re.compile(
    r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[T\s]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)?\s*$"
)
# 9/5/2026 1:30:00 PM, 14/09/2026 18:48, 14-09-2026, 2026/09/14 18:48, with
# optional weekday words, separators and a zone in brackets around them.
_SLASH = re.compile(
    r"(?P<a>\d{1,4})[/.-](?P<b>\d{1,2})[/.-](?P<c>\d{2,4})\b"
)
_TIME_ANY = re.compile(r"\b" + _TIME + r"(?![\d/])")
_ZONE_ANY = re.compile(r"(?:GMT|UTC|UT)\s*(?P<sign>[+-])\s*(?P<zh>\d{1,2})(?::?(?P<zm>\d{2}))?"
                       r"|(?<=\d)\s*(?P<sign2>[+-])(?P<zh2>\d{2}):?(?P<zm2>\d{2})?\b")
_EPOCH = re.compile(r"^\d{9,10}$")


def _year(raw: str) -> int:
    y = int(raw)
    if len(raw) <= 2:
        # Two-digit years are this century: a news feed does not carry 1960s items.
        y += 2000 if y < 70 else 1900
    return y


def _offset(sign: str | None, hours: str | None, minutes: str | None) -> dt.timezone | None:
    if not sign or hours is None:
        return None
    total = int(hours) * 60 + int(minutes or 0)
    if total > 14 * 60:
        return None
    return dt.timezone(dt.timedelta(minutes=-total if sign == "-" else total))


def _hour(h: int, ampm: str | None) -> int:
    if not ampm:
        return h
    marker = ampm.replace(".", "").upper()
    pm = marker in ("PM", "CH")  # CH = chiều, SA = sáng in vi-VN .NET output
    if h == 12:
        return 12 if pm else 0
    return h + 12 if pm else h


def _build(y: int, m: int, d: int, hh: int, mm: int, ss: int,
           tz: dt.tzinfo | None, default_tz: dt.tzinfo) -> dt.datetime | None:
    if not MIN_YEAR <= y <= MAX_YEAR:
        return None
    try:
        value = dt.datetime(y, m, d, hh, mm, ss, tzinfo=tz or default_tz)
    except ValueError:
        return None
    return value.astimezone(VN_TZ)


def slash_order(texts: Iterable[str | None]) -> str | None:
    """Guess whether a feed's slash dates are month-first ('mdy') or day-first ('dmy').

    One unambiguous date decides for the whole feed (a feed uses one format);
    with none, AM/PM markers mean the US .NET form, otherwise Vietnamese day-first.
    """
    saw_ampm = saw_any = False
    for text in texts:
        if not text:
            continue
        m = _SLASH.search(text)
        if not m or len(m.group("a")) == 4:
            continue
        saw_any = True
        a, b = int(m.group("a")), int(m.group("b"))
        if a > 12 >= b:
            return "dmy"
        if b > 12 >= a:
            return "mdy"
        if re.search(r"\d\s*[AaPp]\.?[Mm]\b", text):
            saw_ampm = True
    if not saw_any:
        return None
    return "mdy" if saw_ampm else "dmy"


def _parse_rfc822(s: str, default_tz: dt.tzinfo) -> dt.datetime | None:
    m = _RFC822.match(s)
    if not m:
        return None
    month = MONTHS.get(m.group("mon")[:3].lower())
    if not month:
        return None
    tz = _offset(m.group("sign"), m.group("zh"), m.group("zm"))
    if tz is None and m.group("zname"):
        name = m.group("zname").upper()
        if name in ZONE_NAMES:
            tz = dt.timezone(dt.timedelta(minutes=ZONE_NAMES[name]))
        elif name in ("AM", "PM"):
            return None
    hh = _hour(int(m.group("H") or 0), m.group("ampm"))
    return _build(_year(m.group("y")), month, int(m.group("d")), hh,
                  int(m.group("M") or 0), int(m.group("S") or 0), tz, default_tz)


def _parse_iso(s: str, default_tz: dt.tzinfo) -> dt.datetime | None:
    m = _ISO.match(s)
    if not m:
        return None
    tz = None
    zone = m.group("zone")
    if zone == "Z":
        tz = dt.timezone.utc
    elif zone:
        tz = _offset(zone[0], zone[1:3], zone[3:].lstrip(":") or None)
    return _build(int(m.group("y")), int(m.group("m")), int(m.group("d")),
                  int(m.group("H") or 0), int(m.group("M") or 0), int(m.group("S") or 0),
                  tz, default_tz)


def _parse_slash(s: str, default_tz: dt.tzinfo, order: str | None) -> dt.datetime | None:
    m = _SLASH.search(s)
    if not m:
        return None
    a, b, c = m.group("a"), m.group("b"), m.group("c")
    if len(a) == 4:  # 2026/09/14
        y, mo, d = int(a), int(b), int(c)
    else:
        first, second = int(a), int(b)
        rest = s[m.end():]
        if order is None:
            if first > 12:
                order = "dmy"
            elif second > 12:
                order = "mdy"
            else:
                order = "mdy" if re.search(r"\d\s*[AaPp]\.?[Mm]\b", rest) else "dmy"
        d, mo = (second, first) if order == "mdy" else (first, second)
        y = _year(c)
    rest = s[:m.start()] + " " + s[m.end():]
    hh = mm = ss = 0
    t = _TIME_ANY.search(rest)
    if t:
        hh = _hour(int(t.group("H")), t.group("ampm"))
        mm, ss = int(t.group("M")), int(t.group("S") or 0)
        if hh > 23 or mm > 59 or ss > 59:
            return None
    tz = None
    z = _ZONE_ANY.search(rest)
    if z:
        tz = _offset(z.group("sign") or z.group("sign2"), z.group("zh") or z.group("zh2"),
                     z.group("zm") or z.group("zm2"))
    return _build(y, mo, d, hh, mm, ss, tz, default_tz)


def parse_date(text: str | None, default_tz: dt.tzinfo = VN_TZ,
               order: str | None = None) -> dt.datetime | None:
    """Parse a feed date into an aware datetime in Vietnam time; None when unusable.

    `order` ('mdy' or 'dmy') settles ambiguous slash dates such as 9/5/2026;
    pass the result of `slash_order` over the whole feed. Dates without a zone
    are in `default_tz` (Vietnam).
    """
    if not text:
        return None
    s = " ".join(str(text).split())
    if not s:
        return None
    if _EPOCH.match(s):
        value = dt.datetime.fromtimestamp(int(s), dt.timezone.utc)
        return value.astimezone(VN_TZ) if MIN_YEAR <= value.year <= MAX_YEAR else None
    for parser in (_parse_iso, _parse_rfc822):
        value = parser(s, default_tz)
        if value is not None:
            return value
    return _parse_slash(s, default_tz, order)
