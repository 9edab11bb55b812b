"""The Vietnamese lunar calendar (âm lịch), computed from the Sun and the Moon for UTC+7.

The rules of the calendar, as Vietnam has kept it since 1968 (North Vietnam's
decree of 8 August 1967 moved the calendar to the 105° E meridian, UTC+7):

- a month begins on the day, in Vietnam's time, that holds the new moon;
- the winter solstice always falls in the eleventh month;
- when thirteen new moons start between one eleventh month and the next, the
  year has a leap month: the first month after the eleventh that holds no
  major solar term (the Sun's longitude crossing a multiple of 30°) repeats the
  number of the month before it.

Because the day boundary is UTC+7, not China's UTC+8, a new moon between
16:00 and 17:00 UTC starts the month a day earlier in Vietnam: Tết 2007 was on
17 February in Vietnam and 18 February in China.

Astronomy from J. Meeus, *Astronomical Algorithms* (2nd ed., 1998): the time
of a new moon from chapter 49 (within a minute or so in this range), the Sun's
apparent longitude from chapter 25 (about 0.01°, some 15 minutes of time), and
ΔT (TT − UT) from the polynomials of Espenak and Meeus (NASA, 2006). Valid for
the years 1900–2199; nothing here reads the clock.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass

# Vietnam's time zone, in days.
ZONE = 7 / 24
# Mean length of a lunation (days) and the Julian Ephemeris Day of the new moon numbered 0 (2000-01-06).
SYNODIC_MONTH = 29.530588861
NEW_MOON_0 = 2451550.09766
# Python's date.toordinal() of a date plus this is its Julian Day Number (the JD at that day's noon).
ORDINAL_TO_JDN = 1721425
FIRST_YEAR, LAST_YEAR = 1900, 2199

STEMS = ("Giáp", "Ất", "Bính", "Đinh", "Mậu", "Kỷ", "Canh", "Tân", "Nhâm", "Quý")
BRANCHES = ("Tý", "Sửu", "Dần", "Mão", "Thìn", "Tỵ", "Ngọ", "Mùi", "Thân", "Dậu", "Tuất", "Hợi")


@dataclass(frozen=True)
class LunarDate:
    """A day of the Vietnamese lunar calendar; `year` is the solar year in which that lunar year begins."""

    year: int
    month: int
    day: int
    leap: bool = False
    month_days: int = 30  # 29 or 30: how long this lunar month is


def _sin(degrees: float) -> float:
    return math.sin(math.radians(degrees))


def _delta_t_days(year: float) -> float:
    """TT − UT in days (Espenak & Meeus polynomials for 1900–2150, the long-term parabola after)."""
    if year < 1920:
        t = year - 1900
        s = -2.79 + 1.494119 * t - 0.0598939 * t ** 2 + 0.0061966 * t ** 3 - 0.000197 * t ** 4
    elif year < 1941:
        t = year - 1920
        s = 21.20 + 0.84493 * t - 0.076100 * t ** 2 + 0.0020936 * t ** 3
    elif year < 1961:
        t = year - 1950
        s = 29.07 + 0.407 * t - t ** 2 / 233 + t ** 3 / 2547
    elif year < 1986:
        t = year - 1975
        s = 45.45 + 1.067 * t - t ** 2 / 260 - t ** 3 / 718
    elif year < 2005:
        t = year - 2000
        s = (63.86 + 0.3345 * t - 0.060374 * t ** 2 + 0.0017275 * t ** 3 + 0.000651814 * t ** 4
             + 0.00002373599 * t ** 5)
    elif year < 2050:
        t = year - 2000
        s = 62.92 + 0.32217 * t + 0.005589 * t ** 2
    elif year < 2150:
        s = -20 + 32 * ((year - 1820) / 100) ** 2 - 0.5628 * (2150 - year)
    else:
        s = -20 + 32 * ((year - 1820) / 100) ** 2
    return s / 86400


def new_moon_ut(k: int) -> float:
    """The Julian Day (UT) of new moon number `k` (0 = 6 January 2000, 1 = the next one...)."""
    t = k / 1236.85
    jde = (NEW_MOON_0 + SYNODIC_MONTH * k + 0.00015437 * t ** 2 - 0.000000150 * t ** 3
           + 0.00000000073 * t ** 4)
    e = 1 - 0.002516 * t - 0.0000074 * t ** 2
    sun = 2.5534 + 29.10535670 * k - 0.0000014 * t ** 2 - 0.00000011 * t ** 3
    moon = 201.5643 + 385.81693528 * k + 0.0107582 * t ** 2 + 0.00001238 * t ** 3 - 0.000000058 * t ** 4
    arg = 160.7108 + 390.67050284 * k - 0.0016118 * t ** 2 - 0.00000227 * t ** 3 + 0.000000011 * t ** 4
    node = 124.7746 - 1.56375588 * k + 0.0020672 * t ** 2 + 0.00000215 * t ** 3
    # (coefficient, power of E, multiples of the Sun's anomaly, the Moon's anomaly, its argument of latitude)
    periodic = (
        (-0.40720, 0, 0, 1, 0), (0.17241, 1, 1, 0, 0), (0.01608, 0, 0, 2, 0), (0.01039, 0, 0, 0, 2),
        (0.00739, 1, -1, 1, 0), (-0.00514, 1, 1, 1, 0), (0.00208, 2, 2, 0, 0), (-0.00111, 0, 0, 1, -2),
        (-0.00057, 0, 0, 1, 2), (0.00056, 1, 1, 2, 0), (-0.00042, 0, 0, 3, 0), (0.00042, 1, 1, 0, 2),
        (0.00038, 1, 1, 0, -2), (-0.00024, 1, -1, 2, 0), (-0.00007, 0, 2, 1, 0), (0.00004, 0, 0, 2, -2),
        (0.00004, 0, 3, 0, 0), (0.00003, 0, 1, 1, -2), (0.00003, 0, 0, 2, 2), (-0.00003, 0, 1, 1, 2),
        (0.00003, 0, -1, 1, 2), (-0.00002, 0, -1, 1, -2), (-0.00002, 0, 1, 3, 0), (0.00002, 0, 0, 4, 0),
    )
    jde += sum(c * e ** p * _sin(a * sun + b * moon + f * arg) for c, p, a, b, f in periodic)
    jde += -0.00017 * _sin(node)
    planets = (
        (0.000325, 299.77 + 0.107408 * k - 0.009173 * t ** 2), (0.000165, 251.88 + 0.016321 * k),
        (0.000164, 251.83 + 26.651886 * k), (0.000126, 349.42 + 36.412478 * k),
        (0.000110, 84.66 + 18.206239 * k), (0.000062, 141.74 + 53.303771 * k),
        (0.000060, 207.14 + 2.453732 * k), (0.000056, 154.84 + 7.306860 * k),
        (0.000047, 34.52 + 27.261239 * k), (0.000042, 207.19 + 0.121824 * k),
        (0.000040, 291.34 + 1.844379 * k), (0.000037, 161.72 + 24.198154 * k),
        (0.000035, 239.56 + 25.513099 * k), (0.000023, 331.55 + 3.592518 * k),
    )
    jde += sum(c * _sin(a) for c, a in planets)
    return jde - _delta_t_days(2000 + k / 12.3685)


def sun_longitude(jd_ut: float) -> float:
    """The Sun's apparent ecliptic longitude, in degrees [0, 360), at a Julian Day (UT)."""
    jde = jd_ut + _delta_t_days(2000 + (jd_ut - 2451545.0) / 365.25)
    t = (jde - 2451545.0) / 36525
    mean_longitude = 280.46646 + 36000.76983 * t + 0.0003032 * t ** 2
    anomaly = 357.52911 + 35999.05029 * t - 0.0001537 * t ** 2
    centre = ((1.914602 - 0.004817 * t - 0.000014 * t ** 2) * _sin(anomaly)
              + (0.019993 - 0.000101 * t) * _sin(2 * anomaly) + 0.000289 * _sin(3 * anomaly))
    node = 125.04 - 1934.136 * t
    return (mean_longitude + centre - 0.00569 - 0.00478 * _sin(node)) % 360


def _month_start(k: int) -> int:
    """The Julian Day Number of the day (in Vietnam) that holds new moon `k`."""
    return math.floor(new_moon_ut(k) + 0.5 + ZONE)


def _term(jdn: int) -> int:
    """Which 30° sector the Sun is in at the start (00:00 in Vietnam) of a day: 9 from the winter solstice on."""
    return int(sun_longitude(jdn - 0.5 - ZONE) // 30)


def _lunation_near(jdn: float) -> int:
    return round((jdn - NEW_MOON_0) / SYNODIC_MONTH)


@functools.lru_cache(maxsize=512)
def _eleventh_month(year: int) -> int:
    """The number `k` of the new moon that starts the eleventh month holding the winter solstice of `year`."""
    k = _lunation_near(dt.date(year, 12, 31).toordinal() + ORDINAL_TO_JDN)
    # Step back to the last month that starts before the Sun reaches 270° (the solstice)...
    while _term(_month_start(k)) >= 9:
        k -= 1
    # ...and make sure the next one does not (a month starting on the solstice's day itself holds it).
    while _term(_month_start(k + 1)) < 9:
        k += 1
    return k


@functools.lru_cache(maxsize=256)
def _year_months(year: int) -> tuple[tuple[int, int, bool], ...]:
    """The months from the eleventh month of `year` to the one before the next: (start JDN, number, leap)."""
    first, last = _eleventh_month(year), _eleventh_month(year + 1)
    starts = [_month_start(k) for k in range(first, last + 1)]
    leap_index = None
    if last - first == 13:
        for i in range(1, 13):
            # A month with no major term: the Sun stays in one sector from its first day to the next month's.
            if _term(starts[i]) == _term(starts[i + 1]):
                leap_index = i
                break
    months = []
    number = 10
    for i in range(last - first):
        leap = i == leap_index
        if not leap:
            number = number % 12 + 1
        months.append((starts[i], number, leap))
    return tuple(months) + ((starts[-1], 11, False),)


def to_lunar(day: dt.date) -> LunarDate:
    """The Vietnamese lunar date of a (solar) date."""
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"lunar dates are computed for {FIRST_YEAR}–{LAST_YEAR}, not {day.year}")
    jdn = day.toordinal() + ORDINAL_TO_JDN
    year = day.year
    months = _year_months(year)
    if jdn < months[0][0]:
        year -= 1
        months = _year_months(year)
    for (start, number, leap), (end, _, _) in zip(months, months[1:]):
        if start <= jdn < end:
            # Months 11 and 12 belong to the lunar year that began in the same solar year.
            lunar_year = year if number >= 11 else year + 1
            return LunarDate(lunar_year, number, jdn - start + 1, leap, end - start)
    raise AssertionError("a date falls in no lunar month")  # the months cover the year without gaps


def year_name(lunar_year: int) -> str:
    """The stem-branch name of a lunar year: 2026 -> 'Bính Ngọ'."""
    return f"{STEMS[(lunar_year + 6) % 10]} {BRANCHES[(lunar_year + 8) % 12]}"


__all__ = ["LunarDate", "to_lunar", "year_name", "new_moon_ut", "sun_longitude"]
