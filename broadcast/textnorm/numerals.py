"""Reading written numerals: separators, decimals, ordinals, Roman numerals, digit groups."""

from __future__ import annotations

import re

from broadcast.numbers import digit_words, month_words, number_words

# Longest integer read as a number; longer runs of digits are codes, read digit by digit.
MAX_CARDINAL_DIGITS = 15

_VN_MIXED_RE = re.compile(r"\d{1,3}(?:\.\d{3})+,\d+")
_EN_MIXED_RE = re.compile(r"\d{1,3}(?:,\d{3})+\.\d+")
_ROMAN_RE = re.compile(r"^M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def cardinal(digits: str) -> str:
    """Read a run of ASCII digits as a whole number ('05' -> 'năm'; long codes digit by digit)."""
    stripped = digits.lstrip("0")
    if not stripped:
        return "không"
    # A long zero-led run ("0262") is a code, not a quantity.
    if len(digits) - len(stripped) and len(digits) >= 4:
        return digit_words(digits)
    if len(stripped) > MAX_CARDINAL_DIGITS:
        return digit_words(digits)
    return number_words(int(stripped))


def ordinal(n: int) -> str:
    """Read an ordinal after 'thứ': 1 -> 'nhất', 4 -> 'tư', others as cardinals."""
    if n == 1:
        return "nhất"
    if n == 4:
        return "tư"
    return number_words(n)


def month_name(n: int) -> str:
    """Read a month number: 4 -> 'tư', 12 -> 'mười hai'."""
    return month_words(n)


def fraction_digits(frac: str) -> str:
    """Read the digits after a decimal mark: '5' -> 'năm', '05' -> 'không năm'."""
    stripped = frac.lstrip("0")
    words = ["không"] * (len(frac) - len(stripped))
    if stripped:
        # Fractions of up to four digits are read as a number ('phẩy bốn mươi bảy'), also
        # after a leading zero when three digits follow it, as index scores are read
        # ('46,0415': 'phẩy không bốn trăm mười lăm'); a short rest after zeros goes digit
        # by digit ('1,088': 'phẩy không tám tám'), and so does anything longer, so nobody
        # hears 'phẩy mười hai nghìn...'.
        if len(frac) <= 4 and (not words or len(stripped) >= 3):
            words.append(number_words(int(stripped)))
        else:
            words.append(digit_words(stripped))
    return " ".join(words)


def decimal_words(integer: str, frac: str, mark: str = "phẩy") -> str:
    """Read integer and fractional digit strings joined by the spoken decimal mark."""
    return f"{cardinal(integer)} {mark} {fraction_digits(frac)}"


def read_numeral(text: str, english: bool | None = None, amount: bool = True) -> str:
    """Read a written number with Vietnamese (1.588; 98,5) or English (2,600; 5.54) separators.

    `english` is the document's convention: True when it writes English separators,
    False when it writes Vietnamese ones, None when it gives no evidence. `amount` says a
    unit, percent or scale word follows, which makes a lone dot a decimal point.
    """
    if "." in text and "," in text:
        # Whichever mark comes last is the decimal mark: 2.023,8 and 1,234.5.
        if _VN_MIXED_RE.fullmatch(text) or _EN_MIXED_RE.fullmatch(text):
            dec = "," if text.rfind(",") > text.rfind(".") else "."
            sep = "." if dec == "," else ","
            head, _, frac = text.rpartition(dec)
            return decimal_words(head.replace(sep, ""), frac)
        # A malformed mix: read the groups as written rather than guess a value.
        return " ".join(
            {".": "chấm", ",": "phẩy"}.get(part, "") or cardinal(part)
            for part in re.split(r"([.,])", text)
            if part
        )
    if "." in text:
        parts = text.split(".")
        if len(parts) > 2:
            if all(len(p) == 3 for p in parts[1:]):
                return cardinal("".join(parts))
            # A version or a numbered heading (1.2.3): read each part.
            return " chấm ".join(cardinal(p) for p in parts)
        head, frac = parts
        if len(frac) == 3 and english is not True:
            return cardinal(head + frac)
        # Four or more digits after a dot are no thousands group: "38.8037/80 điểm" is a
        # score written with an English decimal point, not a version.
        if amount or english or len(frac) >= 4:
            return decimal_words(head, frac)
        # "Công nghiệp 4.0", "Android 7.0": versions are read with 'chấm'.
        return decimal_words(head, frac, "chấm")
    if "," in text:
        parts = text.split(",")
        if len(parts) > 2:
            if all(len(p) == 3 for p in parts[1:]):
                return cardinal("".join(parts))
            return ", ".join(cardinal(p) for p in parts)
        head, frac = parts
        # "2,600 tỷ" in an English-separator feed is two thousand six hundred; a
        # Vietnamese writer never pads a decimal with zeros, and "0,125" is a decimal.
        if len(frac) == 3 and english is not False and head.strip("0"):
            return cardinal(head + frac)
        return decimal_words(head, frac)
    return cardinal(text)


def roman_value(text: str) -> int | None:
    """Value of a canonical Roman numeral ('XVII' -> 17), None when it is not one."""
    if not text or not _ROMAN_RE.match(text):
        return None
    total = 0
    prev = 0
    for ch in reversed(text):
        v = _ROMAN_VALUES[ch]
        if v < prev:
            total -= v
        else:
            total += v
            prev = v
    return total or None


def digit_groups(groups: list[str]) -> str:
    """Read a phone number digit by digit, one comma-separated group per written group.

    Groups longer than four digits are cut into threes and fours the way people
    dictate them (8552255 -> 855, 2255).
    """
    spoken: list[str] = []
    for group in groups:
        for chunk in _split_group(group):
            spoken.append(digit_words(chunk))
    return ", ".join(spoken)


def _split_group(group: str) -> list[str]:
    n = len(group)
    if n <= 4:
        return [group]
    if n == 5:
        return [group[:2], group[2:]]
    if n == 6:
        return [group[:3], group[3:]]
    if n == 7:
        return [group[:3], group[3:]]
    if n == 8:
        return [group[:4], group[4:]]
    # 10 or 11 digits written together: a mobile (0912 345 678) or a landline with area code.
    first = 4
    rest = group[first:]
    return [group[:first]] + _split_group(rest)
