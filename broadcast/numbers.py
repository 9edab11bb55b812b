"""Vietnamese number and date words (the reading rules a news reader uses)."""

from __future__ import annotations

import datetime as dt

DIGITS = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"]
SCALES = ["", "nghìn", "triệu", "tỷ"]
WEEKDAYS = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật"]


def _below_thousand(n: int, full: bool) -> list[str]:
    """Read 0 < n < 1000; `full` forces 'không trăm' / 'linh' as inside a larger number."""
    hundreds, rest = divmod(n, 100)
    tens, units = divmod(rest, 10)
    words: list[str] = []
    if hundreds or full:
        words += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units:
            if hundreds or full:
                words.append("linh")
            words.append(DIGITS[units])
        return words
    if tens == 1:
        words.append("mười")
    else:
        words += [DIGITS[tens], "mươi"]
    if units == 1 and tens >= 2:
        words.append("mốt")
    elif units == 4 and tens >= 2:
        words.append("tư")
    elif units == 5:
        words.append("lăm")
    elif units:
        words.append(DIGITS[units])
    return words


def number_words(n: int) -> str:
    """Spell a whole number the way it is read aloud: 2025 -> 'hai nghìn không trăm hai mươi lăm'."""
    if n < 0:
        return "âm " + number_words(-n)
    if n == 0:
        return "không"
    groups: list[int] = []
    while n:
        n, g = divmod(n, 1000)
        groups.append(g)
    words: list[str] = []
    top = len(groups) - 1
    for i in range(top, -1, -1):
        g = groups[i]
        if g == 0:
            # A billion group repeats: 10^12 is 'nghìn tỷ'; keep the 'tỷ' when
            # a whole billions-block is zero above it.
            if i % 3 == 0 and i and any(groups[i + 1 : i + 3]) and i != top:
                words.append("tỷ")
            continue
        words += _below_thousand(g, full=i != top)
        scale = SCALES[i % 3] if i % 3 else ("tỷ" if i else "")
        if scale:
            words.append(scale)
    return " ".join(words)


def digit_words(digits: str) -> str:
    """Read a string of digits one by one: '0262' -> 'không hai sáu hai'."""
    return " ".join(DIGITS[int(d)] for d in digits if d.isdigit())


def month_words(month: int) -> str:
    """'tư' for April, plain numbers otherwise ('tháng tư', 'tháng mười hai')."""
    return "tư" if month == 4 else number_words(month)


def date_words(day: dt.date, weekday: bool = True) -> str:
    """'Thứ Tư, ngày mười hai tháng ba năm hai nghìn không trăm hai mươi lăm'."""
    text = (
        f"ngày {number_words(day.day)} tháng {month_words(day.month)} "
        f"năm {number_words(day.year)}"
    )
    if weekday:
        return f"{WEEKDAYS[day.weekday()]}, {text}"
    return text
