"""First pass: written forms built from digits and symbols become words.

Each rule replaces what it reads with words wrapped in sentinel characters, so a
later rule never reads the same digits twice and the word pass leaves them alone:
RANGE_OPEN/RANGE_CLOSE wrap quantities, dates and times (a dash between two of
them means 'đến'); FIXED_OPEN/FIXED_CLOSE wrap phone numbers, addresses and
document numbers (never part of a range).
"""

from __future__ import annotations

import os
import re
from typing import Callable

from broadcast.numbers import digit_words, number_words
from broadcast.textnorm.words import LETTER_NAMES, MEASURE_LEFT, ROAD_PREFIXES
from broadcast.textnorm.numerals import (
    cardinal,
    digit_groups,
    decimal_words,
    fraction_digits,
    month_name,
    ordinal,
    read_numeral,
    roman_value,
)

RANGE_OPEN, RANGE_CLOSE = "\x01", "\x02"
FIXED_OPEN, FIXED_CLOSE = "\x03", "\x04"

NUM = r"\d+(?:[.,]\d+)*"
_HAS_DIGIT_RE = re.compile(r"\d")
# A phone number has at least seven digits, possibly in groups.
_LONG_DIGITS_RE = re.compile(r"\d[\d .\-]{5,}\d")
# End of a numeral: no more digits (possibly after a separator) and no letter glued on.
NUM_END = r"(?![.,]?\d)(?![^\W\d_])"
# Not inside a word or a code: "Covid-19", "SARS-CoV-2" are read by the word pass.
NUM_START = r"(?=\d)(?<![\w.,])(?<!\d/)(?<![^\W\d_]-)"


def rng(words: str) -> str:
    """Wrap words that may stand on either side of a range dash."""
    return f"{RANGE_OPEN}{words}{RANGE_CLOSE}"


def fixed(words: str) -> str:
    """Wrap words that must not be touched again and are never part of a range."""
    return f"{FIXED_OPEN}{words}{FIXED_CLOSE}"


_PREV_WORDS = re.compile(r"([^\W\d_]+)(?:[^\w\n\x01-\x04]{0,3}|[\x02\x04])$")
_NEXT_WORD = re.compile(r"[\s\x01-\x04]*([^\W\d_]+)")


def prev_word(s: str, pos: int) -> str:
    """The word just before `pos` (lower case), skipping a space or an opening bracket."""
    m = _PREV_WORDS.search(s, max(0, pos - 40), pos)
    return m.group(1).lower() if m else ""


def next_word(s: str, pos: int) -> str:
    """The word just after `pos` (lower case)."""
    m = _NEXT_WORD.match(s, pos)
    return m.group(1).lower() if m else ""


def _join_lone_digits(groups: list[str]) -> list[str]:
    """Join a one-digit group to the next ("3.852.456" is dictated "ba tám năm hai, ...")."""
    out: list[str] = []
    carry = ""
    for g in groups:
        if len(g) == 1 and not carry:
            carry = g
            continue
        out.append(carry + g)
        carry = ""
    if carry:
        out.append(carry)
    return out


def _doc_number(m: re.Match) -> str:
    """Read a document number and its letter suffix ("25b" -> "hai mươi lăm bê")."""
    words = cardinal(m.group(1))
    return f"{words} {LETTER_NAMES[m.group(2)]}" if m.group(2) else words


def _code_number(digits: str) -> str:
    """Read the number of a code: zero-led or long ones digit by digit ("05", "5945"), else whole."""
    if digits.startswith("0") or len(digits) >= 4:
        return digit_words(digits)
    return cardinal(digits)


def _keep_case(written: str, words: str) -> str:
    """Mark words read from a lower-case written form so a sentence start leaves them lower case."""
    return "\x05" + words if written[:1].islower() else words


# --- document conventions ---------------------------------------------------

_VN_EVIDENCE = re.compile(r"\d,\d{1,2}(?!\d)|\d\.\d{3}\.\d{3}(?!\d)|\d\.\d{3},\d|\d,\d{4,}")
_EN_EVIDENCE = re.compile(
    r"\d\.\d{1,2}(?![\d.])\s*(?:%|tỷ|tỉ|triệu|nghìn|ngàn|USD|đồng|điểm|lần)"
    r"|\d,\d{3},\d{3}(?!\d)|\d,\d{3}\.\d"
)


def separator_convention(text: str) -> bool | None:
    """Tell the convention: True English (2,600.5), False Vietnamese (2.600,5), None unclear."""
    vn = bool(_VN_EVIDENCE.search(text))
    en = bool(_EN_EVIDENCE.search(text))
    if en and not vn:
        return True
    if vn and not en:
        return False
    return None


# --- addresses ----------------------------------------------------------------

# Bounded repetitions and a start that cannot fall inside a name keep these linear
# on hostile input ("a.b-a.b-a.b-..."). Pages also print the scheme without its colon
# ("https//kbyt.…"): it is dropped like a whole one.
URL_RE = re.compile(
    r"(?i)(?<![\w@.\-])(https?:?//)?((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){1,8}"
    r"(?:vn|com|net|org|gov|edu|info|biz|io|int|asia))(?![\w-])((?:/[\w\-./?=&%#~+]{0,200})?)"
)
_TLD_RE = re.compile(r"(?i)\.(?:vn|com|net|org|gov|edu|info|biz|io|int|asia)(?![\w-])")
EMAIL_RE = re.compile(
    r"(?<![\w.+\-])([\w.+-]{1,64})@((?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24})(?![\w-])"
)

# --- phone numbers --------------------------------------------------------------

PHONE_RE = re.compile(
    r"(?=[\d+])(?<![\w.,/])(\+84 ?|0)(\d{1,4}(?:[ .\-]?\d{1,4}){1,5})" + NUM_END
)
# "(0262) 3852 123", "(0262) 3.852.123", "(0262) 1022", "(0259).3.507.661": an area code in
# brackets, then the subscriber or service number in any grouping.
PHONE_PAREN_RE = re.compile(
    r"\((0\d{2,3}|\+84(?:[ \-]?\d{1,3})?)\)\.?\s?(\d{1,4}(?:[ .\-]?\d{1,4}){0,3})" + NUM_END
)
# "(0259) 3.822.222 - 3.822.333", "0262.3852255 - 3852256": a second line of the same
# exchange written without its area code, right after a number just read as a phone.
_PHONE_WORDS = r"(?:không|một|hai|ba|bốn|năm|sáu|bảy|tám|chín|cộng|tư)"
PHONE_TAIL_RE = re.compile(
    rf"(\x03{_PHONE_WORDS}(?: {_PHONE_WORDS})*(?:, {_PHONE_WORDS}(?: {_PHONE_WORDS})*)+\x04)"
    r"(\s*[-–/;]\s*)([2-9]\d{6,7}|[2-9]\d{0,3}(?:[ .]\d{1,4}){1,3})(?![\w]|[.,]?\d)"
)
# "đêm 3/4 - rạng sáng 4/4": from one dated time of day to another.
DATE_TO_DATE_RE = re.compile(
    r"(?<![\w/.])(\d{1,2}[/.]\d{1,2}(?:[/.]\d{4})?)\s*[-–—]\s*"
    r"(?=(?i:rạng sáng|sáng|trưa|chiều|tối|đêm|ngày)\s+\d{1,2}[/.]\d{1,2}(?![\d]))"
)
# "0912345678 / 0987654321": two numbers to call, either one.
# Eight digits is the shortest: the police network's "069" numbers ("06921919/ 0438489703").
PHONE_PAIR_RE = re.compile(r"((?:\+84|(?<![\w.,/])0)\d[\d.\- ]{5,}\d)\s*/\s*(?=(?:\+84|0)\d[\d.\- ]{5,}\d)")
_DATE_SHAPE_RE = re.compile(r"\d([-./])[01]?\d\1(?:19|20)\d\d(?!\d)")
# Emergency and service numbers are dialled, never counted: "gọi 113", "cấp cứu 115".
EMERGENCY_RE = re.compile(
    r"(?=\d)(?<![\w.,/])(?<!\d[-–])(?<!\d [-–] )(11[1-5]|1022)(?![\w/]|[.,]\d|\s?[-–]\s?\d)"
)
_NOT_DIALLED_PREV = {"thứ", "hạng", "top", "có", "gồm", "khoảng", "gần", "hơn", "trên", "dưới",
                     "đạt", "tổng", "năm", "ngày", "tháng", "lần", "được", "với", "còn", "lên",
                     "xuống", "tăng", "giảm", "mất", "cả", "những", "các", "tới", "đến", "từ",
                     "chương", "điều", "khoản", "mục", "phòng", "nhà", "quốc", "lộ", "km", "số"}
# Words of a sentence about calling for help: there a bare "số 11x" is a number to dial...
_DIAL_CONTEXT_RE = re.compile(
    r"(?i:gọi|bấm|nhấn|tổng đài|đường dây nóng|khẩn cấp|cứu hỏa|cứu hộ|cứu nạn|cấp cứu|chữa cháy|điện thoại|miễn phí|hotline)"
)
# ...unless "số" numbers a document, a house, a room or a road.
_NUMBERED_THING_RE = re.compile(
    r"(?i:\b(?:quyết định|nghị định|nghị quyết|thông tư|công văn|văn bản|kế hoạch|thông báo|luật|chỉ thị|tờ trình|"
    r"nhà|phòng|đường|tổ|hẻm|ngõ|kiệt|lô|thửa|xe|tàu|quốc lộ|khoản|điều|mục|bàn)\s+(?i:số)\s*:?\s*)$"
)
_OPEN_QUOTES = {'"', "“", "'", "‘", "«"}
_CLOSE_QUOTES = {'"', "”", "'", "’", "»"}
# "qua số 114", "bấm số 113", "đầu số 1900": the word before "số" says it is dialled.
# "kỷ niệm 112 năm", "113 ngày": a length of time is counted, never dialled.
_SPAN_NOUNS = {"năm", "ngày", "tháng", "tuần", "giờ", "phút", "tuổi", "đêm", "mùa", "thế"}
_DIALLED_BEFORE_SO = {"điện", "gọi", "thoại", "qua", "bấm", "đầu", "máy", "đài", "nóng", "nhắn", "theo"}
_SO_BEFORE_RE = re.compile(r"([^\W\d_]+)\s+(?i:số)\s*:?\s*$")
# "gọi điện đến số 1022", "bấm thẳng số 114": a verb of dialling a few words before "số".
_DIAL_VERB_BEFORE_SO_RE = re.compile(
    r"(?i:\b(?:gọi|bấm|nhấn|quay|liên hệ|liên lạc|nhắn tin)(?:\s+[^\W\d_]+){1,3}\s+số\s*:?\s*)$"
)


def _dialled_number_word(s: str, pos: int) -> bool:
    """Say whether the "số" just before pos follows a word that makes the number dialled."""
    m = _SO_BEFORE_RE.search(s, max(0, pos - 30), pos)
    if m and m.group(1).lower() in _DIALLED_BEFORE_SO:
        return True
    return bool(_DIAL_VERB_BEFORE_SO_RE.search(s, max(0, pos - 40), pos))


# "Đề án 06": the name of the national data project is said "không sáu".
ZERO_CODE_RE = re.compile(r"\b((?i:đề án)(?: số)?)\s+(0\d)(?:/CP)?(?![\w/]|[.,]\d)")
# Rice varieties and product codes: "OM5451", "IR 50404", "ISO 9001". Farmers and
# newsreaders say the long number digit by digit ("năm bốn năm một"); short ones
# ("ST25", "OM 18", "IR 504") stay whole numbers. A year after a name ("APEC 2027") is a year.
CODE_DIGITS_RE = re.compile(r"(?=[A-Z])(?<![\w.,/\-])([A-Z]{1,4})( ?)(\d{4,8})(?![\w/]|[.,]\d)")
# "mã hồ sơ 123456", "mã bưu chính: 630000": a code named as such is dictated, never counted.
NAMED_CODE_RE = re.compile(
    r"\b((?i:mã)(?: (?:số|hồ sơ|bưu chính|tra cứu|xác thực|định danh|OTP|QHNS|ĐVQHNS))?\s*:?\s*)(\d{4,8})(?![\w/]|[.,]\d)"
)
_NOT_CODE_LETTERS = {"KM", "K", "QL", "TL", "ĐT", "NĐ", "QĐ"}
# "ĐT.623", "ĐT645", "ĐH.01", "TL 673", "QL.1A": a road code and its number ("ĐT" alone is
# "điện thoại", "ĐH" "đại học"; "ĐT: 113" with a colon is a phone number).
ROAD_CODE_RE = re.compile(r"(?=[QTĐH][LTH])(?<![\w.])(QL|TL|ĐT|ĐH|HL)(?:\.\s?| )?([1-9]\d{0,2}|0\d{1,2})([A-Z]?)(?![\w/]|[.,]\d)")
# "cao 1m65": a height in metres and centimetres ("1m2" is a unit, two digits are needed).
HEIGHT_RE = re.compile(r"(?=[12]m)(?<![\w.,])([12])m(\d{2})(?![\w]|[.,]\d)")
# "dầu điêzen 0,05S", "180CST 3.5S": a grade, a decimal with its letter glued on (a dot
# only before the S of a fuel's sulphur grade: "phiên bản 2.0A" is a version).
DECIMAL_LETTER_RE = re.compile(r"(?=\d)(?<![\w.,])(\d{1,3})(?:,(\d{1,3})([A-Z])|\.(\d{1,3})(S))(?![\w]|[.,]\d)")
# "km40+000": a chainage on the kilometre mark itself is said "ki lô mét bốn mươi".
CHAINAGE_ZERO_RE = re.compile(r"\b([Kk][Mm]\s?\d{1,4})\+000(?![\d.,])")
# "PM2.5", "PM2,5": the fine dust class, a decimal glued to its letters.
DUST_RE = re.compile(r"(?<![\w.])PM2[.,]5(?![\w]|[.,]\d)")
# "QCVN 05:2013/BTNMT", "TCVN 01-195:2022", "ISO 9001:2015": a standard, its number and its
# year, read like a document number ("không năm năm hai nghìn không trăm mười ba").
STANDARD_RE = re.compile(
    r"\b(QCVN|TCVN|ISO)\s?(\d{1,5}(?:-\d{1,4})*):((?:19|20)\d\d)(?:/[A-ZĐ][A-ZĐ&\-]*)?(?![\w])"
)
# "cúm A/H5N1", "chủng A/H5": a flu subtype; the slash is not "hoặc".
FLU_RE = re.compile(r"\b([AB])/(H\d{1,2}(?:N\d{1,2})?)(?![\w/])")
# Administrative procedure codes of the national database: "1.000948", "2.002161.000.00.00.H12",
# "1.000948.H38" (a province's copy). Dictated part by part, digit by digit, joined by "chấm".
PROCEDURE_CODE_RE = re.compile(
    r"(?=[1-3]\.)(?<![\w.,])([1-3])\.(\d{6})((?:\.\d{3}\.\d{2}\.\d{2})?)(?:\.([A-Z])(\d{2}))?(?![\w]|[.,]\d)"
)
# Account numbers, tax codes, ID numbers: nine or more digits written together are
# dictated in groups; no amount in a notice is written that way.
# "Số tài khoản: 1234 5678 9012", "STK 0123.456.789", "mã số thuế 4400 123 456": an account or tax
# number typed in groups is read digit by digit, group by group, like one typed without spaces.
ACCOUNT_RE = re.compile(
    r"((?i:tài khoản|STK|mã số thuế|MST)(?:\s+(?i:số))?\s*:?\s*)(\d{2,5}(?:[ .\-]\d{2,5}){1,5})(?![\w]|[.,]\d)"
)
LONG_CODE_RE = re.compile(r"(?<![\w.,/])(?:[1-9]\d{8,}|0\d{11,})(?![\w/]|[.,]\d)")
# Number plates: "47A-123.45", "47C-012.34", "29LD-123.45".
PLATE_RE = re.compile(r"\b(\d{2})([A-Z]{1,2})(\d?)-(\d{3})\.(\d{2})(?![\w])")
# Fishing boats: "BTh-97188-TS", "KG-92827-TS", "QNg-90123-TS": the province's letters,
# the number dictated digit by digit and "TS" (thủy sản), spelled as the register writes them.
BOAT_RE = re.compile(r"(?<![\w\-])([A-ZĐ][A-Za-zĐđ]{0,2})-(\d{4,5})-(TS)(?![\w\-])")
# "tăng x2", "×3": times, not the letter.
TIMES_RE = re.compile(r"(?<![\w.,])[x×](\d{1,3})(?![\w]|[.,]\d)")
# "5 x 10 m", "3x4m", "2 × 3": the sides of an area, "nhân" as in "năm nhân mười mét".
DIMENSION_RE = re.compile(r"(?<=\d)\s?[x×]\s?(?=\d)")
WEEKDAY_RANGE_RE = re.compile(
    r"\b([Tt]hứ\s+(?:[2-7]|[Hh]ai|[Bb]a|[Tt]ư|[Nn]ăm|[Ss]áu|[Bb]ảy))\s*[-–—]\s*(?=[Tt]hứ\s|[Cc]hủ\s[Nn]hật)"
)
# "từ T2-T6", "T2 - CN": weekdays shortened in opening hours, a span like "Thứ 2 – Thứ 6".
SHORT_WEEKDAY_RANGE_RE = re.compile(r"(?<![\w/.])T([2-7])\s*[-–]\s*(?:T([2-7])|(CN))(?![\w/])")
HOTLINE_RE = re.compile(
    r"(?=\d)(?<![\w.,/])(1[89]00)[ .]?(\d{4}|\d{3}[ .]?\d{3}|\d{2}[ .]?\d{2}[ .]?\d{2})" + NUM_END
)
# Power feeders: "đường dây 972", "lộ 471", "xuất tuyến 473", "XT 371". The engineers' code
# (voltage class, then the line) is said digit by digit, as in the outage notices read on
# air; 110, 220 and 500 after "đường dây" are the line's voltage ("đường dây 500 kV").
FEEDER_RE = re.compile(
    r"(?=[đlxXLĐM])(?<![\w.])((?:đường dây|Đường dây|xuất tuyến|Xuất tuyến|ngăn lộ|XT|ĐZ|MC)|"
    r"(?<!quốc )(?<!Quốc )(?<!tỉnh )(?<!Tỉnh )(?<!hương )(?<!Hương )(?<!huyện )[lL]ộ)"
    r"(\s+(?:số\s+)?)(\d{3})(?![\w/]|[.,]\d)"
)
_VOLTAGES = {"110", "220", "500"}
# "sau máy cắt 374/01", "MC 471", "cắt 971 TG Cẩm Vân": a circuit breaker in an outage notice,
# its code said digit by digit like the feeder it opens; a bare "cắt" counts only when a
# station code follows ("cắt 200 cây" is a count).
BREAKER_RE = re.compile(
    r"(?<![\w.])((?:[Mm]áy cắt|MC)\s+(?:số\s+)?|cắt\s+(?=\d{3}(?:/\d{1,2})?\s+[A-ZĐ]{1,3}(?![\w])))"
    r"(\d{3})(?:/(\d{1,2}))?(?![\w/]|[.,]\d)"
)
# "mức BĐ 1", "BĐ3": a flood alarm level; "BĐ1 - BĐ2" is a span of levels.
ALARM_LEVEL_RE = re.compile(r"(?<![\w])BĐ\s*([1-3])(?![\w/]|[.,]\d)")
# "ở mức BĐ2 - BĐ3": two alarm levels around a spaced dash are a range, as "BĐ1-BĐ2" is.
ALARM_RANGE_RE = re.compile(r"(?<![\w])BĐ\s?([1-3])\s+[-–]\s+BĐ\s?([1-3])(?![\w/]|[.,]\d)")
SHORT_CODE_RE = re.compile(
    r"(?i:(đường dây nóng|hotline|tổng đài|điện thoại|sđt|đt|fax|gọi|số))(\s*:?\s*(?:số\s+)?)"
    r"(\d{3,5})" + NUM_END
)

# --- legal documents -------------------------------------------------------------

# "QĐ-UBND", "KH&ĐT", and the slip "TT- TTCP" (a space after the dash).
# Symbols may hold Vietnamese capitals ("KH-BCĐTƯATTP").
_SYM_CHAR = "A-Za-zĐđĂÂÊÔƠƯÁÀẢÃẠẤẦẨẪẬẮẰẲẴẶÉÈẺẼẸẾỀỂỄỆÍÌỈĨỊÓÒỎÕỌỐỒỔỖỘỚỜỞỠỢÚÙỦŨỤỨỪỬỮỰÝỲỶỸỴ0-9"
# A steering or command board signs with its field after a space: "02/CĐ-BCH PCTT&TKCN",
# "12/KH-BCĐ 389".
# "688/HD – BCH": a spaced dash before a short all-capital part is still the symbol.
SYM = (rf"[A-ZĐ][{_SYM_CHAR}]*(?:\s[-–]\s(?=[A-ZĐ]{{2,6}}(?![\w\-–]))[{_SYM_CHAR}]+)?"
       rf"(?:(?:[-–&.]|- (?=[A-ZĐ]))[{_SYM_CHAR}]+)*"
       r"(?:(?<=BCH|BCĐ) (?:[A-ZĐ][A-ZĐ&\-]*[A-ZĐ0-9]|\d{2,3}(?![\w.,]|\s+(?:ngày|người|năm|tháng|lần)\b(?!\s*\d))))?")
# A number may carry a letter suffix: "25b/QĐ-UBND", "12a-CT/TU".
DOC_NO = r"(\d+)([a-zđ]?)"
DOC_YEAR_RE = re.compile(rf"(?=\d)(?<![\w/.,]){DOC_NO}/((?:19|20)\d\d)/({SYM})(?![\w])")
DOC_DASH_RE = re.compile(rf"(?=\d)(?<![\w/.,]){DOC_NO}-([A-ZĐ][A-Za-zĐđ]*)/({SYM})(?![\w])")
# "1281/-UBND": a slip with the type letters left out.
DOC_SYM_RE = re.compile(rf"(?=\d)(?<![\w/.,]){DOC_NO}/-?({SYM})(?![\w])")
DOC_BLANK_RE = re.compile(rf"(?<=số )/({SYM})(?![\w])")
# A document number just read, then its year without "năm" (unless a count follows).
_YEAR_NOT_AFTER = {"người", "hộ", "ha", "tấn", "đồng", "lượt", "hồ", "trường", "xã"}
DOC_THEN_YEAR_RE = re.compile(r"(\x03[^\x03\x04]*\x04) ((?:19[5-9]|20[0-4])\d)(?![\w/]|[.,]\d)")
_DOC_PREV = re.compile(
    r"(?i:\b(?:số|nghị định|nghị quyết|thông tư|quyết định|luật|chỉ thị|công văn|kế hoạch|"
    r"văn bản|thông báo|kết luận|hướng dẫn|pháp lệnh|tờ trình|lệnh|quy chuẩn))\s*$"
)

# --- dates and times ---------------------------------------------------------------

DATE_FULL_RE = re.compile(r"(?=\d)(?<![\w/.,])(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})(?![\w/]|[.,]\d)")
DAY_RANGE_RE = re.compile(
    r"(?=\d)(?<![\w/.,])(\d{1,2})\s*[-–]\s*(\d{1,2})/(\d{1,2})(?:/(\d{4}))?(?![\w/]|[.,]\d)"
)
DATE_BLANK_DAY_RE = re.compile(r"(?<=ngày )/(\d{1,2})/(\d{4})(?![\w/]|[.,]\d)")
# "4/2025" is a month; "Nghị định 168/2024" (a document's number and year) is read there too.
MONTH_YEAR_RE = re.compile(r"(?=\d)(?<![\w/.,])(\d{1,4})/(\d{4})(?![\w/]|[.,]\d)")
# "tháng 3-2024", "tháng 3.2024": a dash or dot needs the word "tháng" to be a month.
MONTH_YEAR_MARK_RE = re.compile(
    r"(?=\d)(?<![\w/.,\-])(\d{1,2})[.\-]((?:19|20)\d\d)(?![\w/]|[.,\-]\d)"
)
# "Từ 5 đến 7-10": the month written once, on the last day.
DAY_TO_DATE_RE = re.compile(
    r"\b((?i:từ)(?: ngày)?|(?i:ngày))\s+(\d{1,2})\s*(?:đến|tới|[-–])\s*(?:ngày\s+)?(\d{1,2})([/.\-])(\d{1,2})"
    r"(?:\4(\d{4}))?(?![\w/]|[.,]\d)"
)
# "ngày 15.10", "(6.11)": a dot between a day and a month in a date context.
DATE_DOT_RE = re.compile(r"(?=\d)(?<![\w/.,])(\d{1,2})\.(\d{1,2})(?![\w/]|[.,]\d|\.\d)")
_WEEKDAY_BEFORE_RE = re.compile(
    r"(?i:(?:thứ\s+(?:hai|ba|tư|năm|sáu|bảy|[2-7])|chủ\s+nhật)\s*[(,]?\s*)$"
)
_SPACED_SLASH_RE = re.compile(
    r"(?<=\d)(?: +/ *(?=\d)|/ +(?=\d)| */ +(?=[A-ZĐ][A-ZĐ&]*[-–][A-ZĐ])| +/(?=[A-ZĐ]))"
)
# "Kế hoạch số 12 – BCH", "số 45 - KH/UBND": the symbol after a spaced dash is not read.
DOC_SPACED_CODE_RE = re.compile(
    r"(?<=\b(?:số|Số|SỐ) )(\d+[a-zđ]?)\s+[-–]\s+[A-ZĐ][A-ZĐ&]+(?:[-–/][A-ZĐ&0-9]+)*(?![\w/])"
)
# "TT 01/2021/TT-BNV", "CV 456/UBND", "CT 05/CT-TTg": a document's kind shortened before its number.
DOC_KIND_RE = re.compile(r"\b(TT|TTr|CV|CT|CĐ|TB|QĐ|NĐ|NQ|KH|HD|KL|BC)\s+(?=\d{1,5}[a-zđ]?/)")
_DOC_KINDS = {"TT": "Thông tư", "TTr": "Tờ trình", "CV": "Công văn", "CT": "Chỉ thị", "CĐ": "Công điện",
              "TB": "Thông báo", "QĐ": "Quyết định", "NĐ": "Nghị định", "NQ": "Nghị quyết", "KH": "Kế hoạch",
              "HD": "Hướng dẫn", "KL": "Kết luận", "BC": "Báo cáo"}
# "số1388/CĐ-TTg": a number glued to "số".
_GLUED_SO_RE = re.compile(r"\b((?i:số))(?=\d+/)")
# "T7/2025", "Q1/2025", "Q.III/2024": tables and headlines shorten "tháng" and "quý".
SHORT_PERIOD_RE = re.compile(r"(?=[TQ])(?<![\w/.])([TQ])\.?(\d{1,2}|IV|I{1,3})/((?:19|20)\d\d)(?![\w/]|[.,]\d)")
QUARTER_RE = re.compile(r"\b((?i:quý))\s+(IV|I{1,3}|[1-4])(?:\s*[/\-]\s*(\d{4})|\.((?:19|20)\d\d))?(?![\w])")
DATE_DASH_RE = re.compile(r"(?=\d)(?<![\w/.,\-])(\d{1,2})-(\d{1,2})(?![\w/\-]|[.,]\d)")
_DATE_CONTEXT = {"ngày", "sáng", "chiều", "tối", "trưa", "đêm", "hôm", "mùng", "mồng", "nay", "lễ",
                 "khánh"}
# "lễ 30.4 và 1.5": a second date joined to one just read.
_AFTER_DATE_RE = re.compile(
    r"(?:tháng [^\x01\x02]{1,12}\x02|(?i:\b(?:ngày|lễ|khánh))\s+(?:\d{1,2}[./-]\d{1,2}\s*,\s*){0,4}"
    r"\d{1,2}[./-]\d{1,2})\s*(?:,|và|hoặc)\s*$"
)
DATE_DM_RE = re.compile(r"(?=\d)(?<![\w/.,])(\d{1,2})/(\d{1,2})(?![\w/]|[.,]\d)")
# "16h30 phút": the minutes' word written after the clock is not said twice.
TIME_H_RE = re.compile(r"(?=\d)(?<![\w.,])(\d{1,2})(?:h(\d{2}|0)?|g(\d{2})?)(?:'|p|(?<=\d)\s?phút)?(?![\w])")
# "9g sáng", "lúc 7g": an hour only where a time is expected; elsewhere "g" is grams.
_HOUR_G_NEXT = {"sáng", "chiều", "tối", "trưa", "đêm", "ngày", "hôm", "đến"}
_HOUR_G_PREV = {"lúc", "từ", "đến", "vào", "hồi", "khoảng"}
HOUR_ZERO_RE = re.compile(r"(?=\d)(?<![\w.,])(\d{1,2})\s+giờ\s+00(?:\s+phút)?(?![\w]|[.,]\d)")
# "lúc 19 giờ 45'": the prime is the minute mark, said "phút".
HOUR_PRIME_RE = re.compile(r"(?<![\w.,])(\d{1,2})(\s*giờ\s*)([0-5]?\d)['’′](?!\w)")
TIME_COLON_RE = re.compile(r"(?=\d)(?<![\w.,:])(\d{1,2}):(\d{2})(?::(\d{2}))?(?![\w]|[.,:]\d)")
RATIO_COLON_RE = re.compile(rf"(?=\d)(?<![\w.,:])({NUM}):({NUM})" + NUM_END + r"(?!:)")
# Hydrological bulletins write the hour and the date together: "lúc 7h/20/7", "2h/21/7",
# and within one month the hour and the day: "từ 19h/14 đến 19h/15".
TIME_DATE_RE = re.compile(
    r"(?=\d)(?<![\w.,/])(\d{1,2})h(\d{2})?/(\d{1,2})(?:/(\d{1,2}))?(?![\w/]|[.,]\d)"
)
# "ngày (21/10)": the brackets add nothing once "ngày" is said.
_NGAY_BRACKET_RE = re.compile(r"(?i:\b(ngày))\s*\((\d{1,2}[/.\-]\d{1,2}(?:[/.\-]\d{4})?)\)")
# "ngày 22 và 23-8", "ngày 6, 7 và 8/11", "các ngày 21, 23, 24/1": several days of one month.
DAY_LIST_RE = re.compile(
    r"(?:(?<=ngày )|(?<=Ngày )|(?<=\())(\d{1,2})((?:\s*,\s*\d{1,2})*)(?:\s+(và|hoặc)\s+|\s*,\s*)(\d{1,2})([/.\-])(\d{1,2})"
    r"(?:\5(\d{4}))?(?![\w/]|[.,]\d)"
)
# "từ ngày 10.3 - 10.4": two dotted dates, read only where a date is expected.
DM_RANGE_DOT_RE = re.compile(
    r"(?=\d)(?<![\w/.,])(\d{1,2})\.(\d{1,2})\s*[-–]\s*(\d{1,2})\.(\d{1,2})(?![\w/]|[.,]\d)"
)
# "từ ngày 17 - 19.9", "từ đêm 20 - 23.9": a day range with the month after a dot.
DAY_RANGE_DOT_RE = re.compile(
    r"(?=\d)(?<![\w/.,])(\d{1,2})\s*[-–]\s*(\d{1,2})\.(\d{1,2})(?![\w/]|[.,]\d)"
)
# "08 giờ - 12 giờ", "13 giờ 30 - 17 giờ 30": a dash between two clock times is "đến".
HOUR_RANGE_RE = re.compile(
    r"(?<![\w.,])(\d{1,2}\s*giờ(?:\s*\d{1,2}(?:\s*phút)?)?)\s*[-–]\s*(?=\d{1,2}\s*giờ)"
)
# "10 (mười) ngày", "500.000 đồng (năm trăm nghìn đồng)": the number spelled again in brackets.
SPELLED_AGAIN_RE = re.compile(rf"{NUM_START}({NUM})(\s*[^\W\d_]*)\s*\(([^()\d]{{2,80}})\)")
# "mười lăm (15) ngày": the number written again in digits after the words.
DIGITS_AGAIN_RE = re.compile(r"\s?\((\d{1,3}(?:\.\d{3})+|\d{1,15})\)")
# "346 000 ha", "1 200 000 đồng": thousands grouped with a space.
SPACED_THOUSANDS_RE = re.compile(r"(?<![\w.,])([1-9]\d{0,2})((?: \d{3})+)(?![.,]?\d)")
_SPACED_GROUP_RE = re.compile(r"\d \d{3}(?!\d)")
_GROUPED_NEXT = {"con", "cây", "lượt", "suất", "bộ", "chiếc", "cái", "lít", "tấn", "ha", "mét", "km"}
_NO_GROUPING_PREV = {"năm", "tháng", "ngày", "số", "lúc", "khoản", "điều", "mục", "lớp", "tổ", "thôn",
                     "đội", "khu", "phường", "quận", "xóm", "hẻm", "ngõ", "kiệt", "đường"}
# "17 tiêu chí/xã", "3 bữa/ngày": a count per something.
_GLUED_HOUR_RE = re.compile(r"(?<=\d)(?=giờ\b)")
COUNT_PER_RE = re.compile(
    r"(?<=\d)(\s+[^\W\d_]+(?:\s+[^\W\d_]+)?)/([^\W\d_]+)(?![\w/])"
)
# What a count is given per: "tiêu chí/xã", "suất/hộ", "học sinh/lớp".
_PER_TARGETS = {"xã", "phường", "huyện", "tỉnh", "thôn", "buôn", "bản", "ấp", "người", "hộ",
                "lớp", "trường", "khẩu", "con", "cây", "gốc", "buổi", "quý"}

def clock_words(h: int, mins: int, secs: int = 0) -> str:
    """Say a time of day: "mười bốn giờ", "bảy giờ ba mươi phút"."""
    words = f"{number_words(h)} giờ"
    if mins:
        words += f" {number_words(mins)} phút"
    if secs:
        words += f" {number_words(secs)} giây"
    return words


def _so_far(s: str, start: int) -> bool:
    """Whether the word before `start` is the "nay" of "đến nay" (so far), not of "hôm nay"."""
    m = re.search(r"(?i:\b(?:đến|tới|cho)\s+nay)[\s,]*$", s[max(0, start - 20):start])
    return m is not None


def date_context(s: str, start: int, end: int, spans: bool = False) -> bool:
    """Say whether a bare day and month at s[start:end] reads as a date from its context.

    With `spans`, "từ", "đến"... before it also make a date (only a dot date: "từ 5-9" is a range).
    """
    prev = prev_word(s, start)
    if prev in _DATE_CONTEXT and not _so_far(s, start):
        return True
    named = named_after_date(s, start)  # "Đường 3-2"
    if (spans and prev in _SPAN_PREV) or named or (prev == "giờ" and s[start - 1:start] == " "):
        # "đến 9.8", "từ 1.7", "14 giờ 18-5": a date unless a unit or a clock follows,
        # also at the far end of a range ("từ 1.5 - 2.5 tỷ").
        if next_word(s, end) in {"xuống", "lên", "so"}:
            return False  # "giảm từ 7.5 xuống 6": values
        tail = _RANGE_TAIL_RE.match(s, end)
        following = next_word(s, tail.end() if tail else end)
        return following not in _SCALE_WORDS and following not in UNITS and following not in _CLOCK
    if _AFTER_DATE_RE.search(s, max(0, start - 60), start):
        return True
    if prev in _RELATIVE_DAY_NEXT and _RELATIVE_DAY_RE.search(s, max(0, start - 16), start):
        # "Hôm qua 25.12", "sáng mai 6-9": the day just named by its distance from today.
        following = next_word(s, end)
        return following not in _SCALE_WORDS and following not in UNITS and following not in _COUNT_NOUNS
    if prev in _SPAN_PREV and _SPAN_FROM_DATE_RE.search(s, max(0, start - 40), start):
        # "từ ngày 8-6 đến 13-7": the far end of a span of dates is a date
        following = next_word(s, end)
        return following not in _SCALE_WORDS and following not in UNITS and following not in _COUNT_NOUNS
    # "thứ Năm (6/11)", "(6.11)": a date alone in brackets, or after a weekday.
    if _WEEKDAY_BEFORE_RE.search(s, max(0, start - 20), start):
        return True
    # "Ngày Quốc tế Phụ nữ 8.3", "Ngày Nhà giáo Việt Nam 20-11": the day a date names.
    if _NAMED_DAY_RE.search(s, max(0, start - 50), start):
        following = next_word(s, end)
        return following not in _SCALE_WORDS and following not in UNITS and following not in _COUNT_NOUNS
    return s[start - 1:start] == "(" and s[end:end + 1] == ")"


# "Ngày ban hành: 11/10/2023", "các ngày từ 19 đến 22-4": the word "ngày" is already said.
# A date just read ("... tháng sáu") and the word that opens the span's far end.
_SPAN_FROM_DATE_RE = re.compile(
    r"(?:tháng [^\x01-\x04]{1,12}[\x02\x04]|(?i:\bngày)\s+\d{1,2}[-/.]\d{1,2})\s*(?:đến|tới)\s*$"
)
# A number just before a lower-case "ngày" makes it a count ("5 ngày"); a capital opens a
# label even right after a date ("... từ 25.11 Ngày đăng: 20/11/2012").
_DATE_LABEL_RE = re.compile(
    r"(?:(?<!\d\s)(?<!\x02\s)\b(?i:ngày)|\b(?:Ngày|NGÀY))(?:\s+[^\W\d_]+){0,4}\s*:?\s*(?:từ\s+)?$"
)
_NAMED_DAY_RE = re.compile(
    r"\b(?:Ngày|ngày|NGÀY)\s+[A-ZĐÂĂÊÔƠƯÁÀẢÃẠẤẦẨẪẬẮẰẲẴẶÉÈẺẼẸẾỀỂỄỆÍÌỈĨỊÓÒỎÕỌỐỒỔỖỘỚỜỞỠỢÚÙỦŨỤỨỪỬỮỰÝỲỶỸỴ]"
    r"[^\W\d_]*(?:\s+(?:[^\W\d_]+|[-–]))*?\s+$"
)
# A date just read and the dash or "đến" after it: "(27-7-1947 - 27-7-2019)", "từ đêm 4.7 đến 7.7".
_SPAN_END_RE = re.compile(
    r"(?:\x01([^\x01\x02]* tháng [^\x01\x02]*)\x02|(?<![\w/.,])(\d{1,2}([-/.])\d{1,2}(?:\3\d{4})?))"
    r"\s*(?:[-–]|đến|tới)\s*$"
)
_PLURAL_BEFORE_RE = re.compile(r"(?i:các|những|\d)\s*$")
# "trong các ngày trình diễn 30/4, 26/5, 2/6 và 30/6": the label names every day of the list
# once, as "các ngày 19 đến 22-4" does for a span.
_LISTED_DATE = r"(?:\x01[^\x01\x02]*\x02|\d{1,2}[/.\-]\d{1,2}(?:[/.\-]\d{4})?)"
_PLURAL_DATE_LIST_RE = re.compile(
    rf"(?i:\b(?:các|những)\s+ngày)(?:\s+[^\W\d_]+){{0,5}}\s+{_LISTED_DATE}"
    rf"(?:\s*,\s*{_LISTED_DATE})*\s*(?:,|và|hoặc)\s*$"
)

_RELATIVE_DAY_NEXT = {"qua", "mai", "kia"}
_RELATIVE_DAY_RE = re.compile(r"(?i:\b(?:hôm|ngày|sáng|trưa|chiều|tối|đêm) (?:qua|mai|kia))\s*,?\s*$")
# "hôm 5/12" is already "the day of": "hôm năm tháng mười hai".
_NO_NGAY_PREV = {"ngày", "mùng", "mồng", "khánh", "lễ", "tuần", "đêm", "hôm"}
# Before a dot or dash date, words that open or close a span: "đến 9.8", "từ 1.7".
_SPAN_PREV = {"từ", "đến", "tới", "trước", "sau"}
_CLOCK = {"giờ", "phút", "giây", "h"}
_RANGE_TAIL_RE = re.compile(r"\s*(?:[-–]|đến|tới)\s*\d+(?:[.,]\d+)*")
# Streets, squares and bridges named after a date: "đường 30/4", "Quảng trường 2/9".
_NAMED_AFTER_DATE = {"đường", "phố", "trường", "cầu", "chợ", "bến", "hồ"}
# Places and firms named after a date: "khu nhà ở 22/12", "Công ty 19/5", "khu dân cư 30/4".
_NAMED_PLACE_RE = re.compile(
    r"(?i:công ty|dân cư|công viên|sân vận động|nhà ở|nhà máy|nông trường|xí nghiệp|khu phố|khu tập thể) $"
)


# "Công ty TNHH MTV xuất nhập khẩu cà phê 2/9", "Nhà máy đường 19/5": a firm's long name ending
# in a date the country celebrates; the words between hold no punctuation and no number.
_FIRM_NAME_RE = re.compile(
    r"(?i:công ty|nhà máy|xí nghiệp|nông trường|hợp tác xã|tổng đội)(?:\s+[^\W\d_]+){1,10}\s+$"
)
_WHEN_WORDS = {"vào", "từ", "đến", "tới", "trước", "sau", "dịp", "nhân", "lễ", "ngày", "đêm", "sáng",
               "chiều", "tối", "trưa", "mùng", "hôm", "nay", "là", "đón", "mừng"}
_NAMED_DATES = {"2/9", "19/5", "30/4", "1/5", "3/2", "26/3", "22/12", "27/7", "19/8", "20/11",
                "8/3", "10/10", "20/10", "1/6", "15/10", "26/7", "2-9", "19-5", "30-4", "1-5", "3-2"}


def named_after_date(s: str, start: int) -> bool:
    """Say whether the date at `start` is part of a name ("đường 30/4", "Công ty 19/5")."""
    if s[start - 1:start] != " ":
        return False
    if prev_word(s, start) in _NAMED_AFTER_DATE or _NAMED_PLACE_RE.search(s, max(0, start - 20), start):
        return True
    date = re.match(r"\d{1,2}[/\-]\d{1,2}", s[start:start + 5])
    if not date or date.group(0) not in _NAMED_DATES or prev_word(s, start).lower() in _WHEN_WORDS:
        return False  # "Công ty tổ chức kỷ niệm vào 2/9" is the day itself
    return bool(_FIRM_NAME_RE.search(s, max(0, start - 90), start))
# "hẻm 12/3", "số nhà 67/38", "số 12/3 đường Lê Lợi": a house number, not a date.
HOUSE_NUMBER_RE = re.compile(
    r"(?i:\b(hẻm|ngõ|ngách|kiệt|số nhà|nhà số|căn nhà số|số))\s+"
    r"(\d{1,4}[a-zA-Z]?(?:/\d{1,4}[a-zA-Z]?){1,3})(?![\w/]|[.,]\d)"
)
_STREET_NEXT = {"đường", "phố", "hẻm", "ngõ", "ngách", "kiệt", "quốc", "tỉnh", "khu", "tổ", "ấp", "thôn"}
# Bodies counted like communes: "12/12 UBND huyện", "9/9 Ban Chỉ đạo".
_BODIES_NEXT_RE = re.compile(r"\s+(?:UBND|HĐND|UBMTTQ|MTTQ|TAND|VKSND|BCĐ|BCH|Ban|Ủy ban|Hội đồng|Sở|Phòng)\b")
_DATE_SLASH_SPAN_RE = re.compile(r"(?:(?<=\d/\d)|(?<=\d/\d\d)) +/ +(?=\d{1,2}/\d{1,2}(?!\d))")
# "Hẻm liên tổ 5-6", "đường liên thôn 2-3": the road shared by groups five and six, no span.
JOINT_UNITS_RE = re.compile(
    r"\b((?i:liên)\s+(?:tổ|thôn|xóm|khu|ấp|khóm|bản|buôn|xã|phường|khu phố))\s+(\d{1,2})\s*[-–]\s*(\d{1,2})(?![\w/]|[.,]\d)"
)
# "giai đoạn 20112020": a span of years whose dash a PDF copy lost.
GLUED_YEARS_RE = re.compile(
    r"\b((?i:giai đoạn|nhiệm kỳ|thời kỳ|năm học|niên vụ|niên khóa))\s+((?:19|20)\d\d)((?:19|20)\d\d)(?![\w/]|[.,]\d)"
)
# "suối Km2", "đến Km3": a kilometre post, not an area or a volume (those follow a number).
KM_POST_RE = re.compile(r"(?<![\w.,/])(?<!\d )(K[mM])([23])(?![\w]|[.,]\d)")
# "đi đến h71A, 77, 77C": an outage notice shortens "hẻm" to "h" glued to the lane's number.
LANE_CODE_RE = re.compile(r"(?<![\w.,/])h(\d{1,4})([A-Z]?)(?![\w/]|[.,]\d)")
# "10/7_15/7", "(27-7-1947_ 27-7-2019)": an underscore typed for the dash between two dates.
DATE_UNDERSCORE_RE = re.compile(r"(?<=\d)\s*_\s*(?=\d{1,2}[/.\-]\d{1,2})")

# --- ratios -------------------------------------------------------------------------

# "xếp thứ 58/61/63 tỉnh": a rank among those ranked among all, each slash "trên"; never
# a date (the middle term is no month or the first no day) and no decimals.
RATIO_CHAIN_RE = re.compile(r"(?=\d)(?<![\w/.,])(\d{1,3})/(\d{1,3})((?:/\d{1,3})+)(?![\w/]|[.,]\d)")
RATIO_RE = re.compile(rf"(?=\d)(?<![\w/.,])({NUM})\s?/\s?({NUM})" + NUM_END + r"(?!/)")
# "hoạt động 24/24g", "24/24h": all day long, the hours glued on.
ALL_DAY_RE = re.compile(r"(?<![\w/.,])24/24(?:h|g|giờ)(?![\w/])")
# "455/455ha": a ratio with its unit glued on.
RATIO_UNIT_RE = re.compile(
    r"(?=\d)(?<![\w/.,])(\d+(?:[.,]\d+)*)/(\d+(?:[.,]\d+)*)(ha|km2|km|m2|m|kg|tấn)(?![^\W_])"
)
_RATIO_PREV = {
    "đạt", "chiếm", "bằng", "gần", "hơn", "khoảng", "còn", "tới", "được", "xếp", "thứ",
    "hạng", "top", "là", "lệ", "có", "trong", "số",
}
# "bản đồ tỷ lệ 1/2000", "tỷ lệ 1:250.000": a map scale is "một phần hai nghìn"; a share
# ("tỷ lệ 3/3 xã") or a split ("tỷ lệ 1:1") is not, so only one over a hundred or more.
_SCALE_PREV = {"lệ", "xích"}


def map_scale(prev: str, numerator: str, denominator: str) -> str | None:
    """Read a map scale after "tỷ lệ"/"thước tỷ lệ", None when it is not one."""
    if prev not in _SCALE_PREV or numerator != "1":
        return None
    digits = denominator.replace(".", "") if re.fullmatch(r"\d{1,3}(?:\.\d{3})+|\d+", denominator) else ""
    if not digits or int(digits) < 100:
        return None
    return f"một phần {cardinal(digits)}"


_FRACTION_PREV = {"chiếm", "khoảng", "gần", "hơn", "còn", "tới", "bằng", "là", "độ"}
# "1/2 ngày", "1/4 buổi": a part of a day, not the first of February.
_PART_OF_NEXT = {"ngày", "buổi", "thời", "quãng", "chặng"}
_FRACTION_NEXT = {"số", "dân", "diện", "tổng", "lượng", "thời", "quãng"}
_COUNT_NOUNS = {
    "tỉnh", "thành", "xã", "phường", "huyện", "quận", "đơn", "chỉ", "nhiệm", "người", "hộ",
    "trường", "doanh", "cơ", "sở", "ngành", "bộ", "điểm", "câu", "phiếu", "dự", "mục", "tiêu",
    "lần", "địa", "thủ", "hồ", "trận", "đội", "học", "thôn", "buôn", "bản", "tổ", "nhóm",
    "ca", "bệnh", "vụ", "chiếc", "căn", "phòng", "trạm", "thị", "cán", "công", "viên",
    "đảng", "chi", "hợp", "lượt", "sản", "tuyến", "khu", "cụm", "làng", "ấp", "dịch", "giải",
    "huy", "phần", "ý", "vị", "ngân", "số", "dân", "diện", "tổng", "lượng", "vùng", "lĩnh",
    "nội", "ban", "đoàn", "đề", "mô", "hạng", "nước", "sư", "trung", "chương", "thủ",
    # "2/3 đại biểu", "3/5 cử tri", "4/6 hội viên": people counted, never a day and month
    "đại", "cử", "hội", "lao", "nông", "giáo", "bác", "thí",
}

# --- roman numerals -------------------------------------------------------------------

ROMAN_CTX_RE = re.compile(
    r"\b((?i:lần thứ|kỳ họp thứ|thứ|khóa|khoá|mục|chương|phần|thế kỷ|đại hội|phụ lục|"
    r"giai đoạn|đợt|loại|hạng|vùng|tập|quy hoạch điện|khu vực|cấp độ|nhiệm kỳ|kỳ|bậc|"
    r"tiểu mục|giải|quốc hội|hội nghị|phiên|mức|cấp|quân khu|quân đoàn|vòng))\s+([IVXLC]+)(?![\w])"
    # "hạng I, II và III": the numerals after the first in a list.
    r"((?:\s*(?:,|và|hoặc|đến|-|–)\s*[IVXLC]+(?![\w]))*)"
)
_ROMAN_LIST_RE = re.compile(r"(\s*(?:,|và|hoặc|đến|-|–)\s*)([IVXLC]+)")
_MEDAL_RE = re.compile(r"(?i:chương|giải)[^,.;]{0,40}$")
_ROMAN_TOKEN_RE = re.compile(r"[IVXLC]+(?![\w])")
# "Mục III.2", "II.1. Kết quả đạt được", "điểm II.2.1": an outline item under a Roman part,
# said like "2.1." ("hai chấm một"), never a Roman numeral glued to a decimal.
ROMAN_OUTLINE_RE = re.compile(r"(?<![\w.])([IVX]{1,4})((?:\.\d{1,2})+)(?![\w]|\.\d)")
ROMAN_LINE_RE = re.compile(r"(?m)^([ \t]*)([IVX]+)\.(?=\s)")
# "1/ Ông Nguyễn Văn A", "I/ MỤC TIÊU", "- 2/ Bà …": a list number at the head of a line, typed
# with a slash for the dot; read like "1." and "I.".
LIST_SLASH_RE = re.compile(
    r"(?m)^([ \t]*(?:[-–+•][ \t]*)?)(\d{1,2}|[IVX]{1,4})/(?:[ \t]+(?=[^\W\d_])|(?=[A-ZĐ]))"
)
# "từ Km 5+300 - Km 6+100": a dash between two chainages is a span.
CHAINAGE_SPAN_RE = re.compile(r"(\b[Kk][Mm]\s?\d{1,4}\+\d{1,3})\s*[-–]\s*(?=[Kk][Mm]\s?\d)")
_PRIZE = {1: "nhất", 2: "nhì", 3: "ba"}

# --- quantities -------------------------------------------------------------------------

UNITS = {
    "km/h": "ki lô mét trên giờ",
    "km²": "ki lô mét vuông",
    "km2": "ki lô mét vuông",
    "km": "ki lô mét",
    "cm": "xăng ti mét",
    "mm": "mi li mét",
    "m²": "mét vuông",
    "m2": "mét vuông",
    "m³": "mét khối",
    "m3": "mét khối",
    "m": "mét",
    "ha": "héc ta",
    "kg": "ki lô gam",
    "mg": "mi li gam",
    "g": "gam",
    "gr": "gam",
    "ml": "mi li lít",
    "l": "lít",
    "kWh": "ki lô oát giờ",
    "kW": "ki lô oát",
    "MW": "mê ga oát",
    "GW": "gi ga oát",
    "kV": "ki lô vôn",
    "V": "vôn",
    "W": "oát",
    "GB": "gi ga bai",
    "MB": "mê ga bai",
    "Mbps": "mê ga bít trên giây",
    "lb": "pao",
    "hPa": "héc tô pa xcan",  # a storm's central pressure
    "°C": "độ xê",
    "ºC": "độ xê",
    "oC": "độ xê",
    "OC": "độ xê",  # "10OC": the degree sign typed as a capital O
    "°": "độ",
    "%": "phần trăm",
    "‰": "phần nghìn",
    "VNĐ": "đồng",
    "VND": "đồng",
    "vnđ": "đồng",
    "đ": "đồng",
    "USD": "đô la Mỹ",
    "EUR": "ơ rô",
    "€": "ơ rô",
    "tr.đ": "triệu đồng",
    "trđ": "triệu đồng",
    "tr": "triệu",
    "k": "nghìn",
    "ngàn": "ngàn",
}
_UNIT_ALT = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
_PADDED_ZEROS_RE = re.compile(r"\d{1,3}[.,]00")
UNIT_RE = re.compile(rf"{NUM_START}({NUM})\s?({_UNIT_ALT})(?![^\W_])")
# Units that only follow a slash: "m3/s", "m/s", "vòng/h".
_PER_ONLY_UNITS = {"s": "giây", "h": "giờ"}
# "8 tạ/sào", "60 kg/công": a yield over the old land measures is a rate like "tấn/ha".
YIELD_PER_AREA_RE = re.compile(r"(?<=\d)(\s?(?:tạ|tấn|yến|kg))/(sào|công|mẫu)(?![^\W_])")
# "đồng/3ha/năm", "đồng/1 kg", "mm/24 giờ": a word, a slash, then a counted measure. Over
# more than one it is "trên ba héc ta"; a price over one says it once ("đồng một ki lô gam").
PER_COUNT_RE = re.compile(
    rf"/(?<=[^\W\d_]/)\s?(?=(\d+(?:[.,]\d+)?)\s?(?:{_UNIT_ALT}|giờ|ngày|tháng|năm|tuần|sào|công)(?![^\W_]))"
)
# "6,28 tấn / ha": spaces around the slash change nothing.
PER_UNIT_RE = re.compile(rf"(?:(?<=[^\W\d_]|\x02)| (?<=[^\W\d_] |\x02 ))/\s?({_UNIT_ALT}|s|h)(?![^\W_])")
# "tăng 1-2 độ/ngày", "2°C/giờ": a change of temperature over time is a rate, "trên".
DEGREE_RATE_RE = re.compile(r"(?<=\d)(\s?(?:độ|°C?|ºC?))/(?=(?:ngày|đêm|giờ|tuần|tháng|năm|thập kỷ)(?![^\W_]))")
# Money per unit is "một": "đồng/kg", "USD/tấn"; anything else per unit is "trên".
_MONEY_LEFT = {"đồng", "mỹ", "usd", "đô", "rô", "euro", "rupee", "yên", "tệ", "won", "bạt", "cent", "xu",
               "kíp", "nghìn", "ngàn", "triệu", "tỷ", "tỉ", "vnđ", "vnd"}
UNIT_AFTER_SCALE_RE = re.compile(
    r"\b(nghìn|ngàn|triệu|tỷ|tỉ|trăm|chục|vạn)(\x02?)(\s+)"
    r"(ha|km2|km²|km|m2|m²|kg|MW|kWh|USD|VNĐ|VND|đ)(?![^\W_])"
)
CURRENCY_PREFIX_RE = re.compile(rf"(US\$|\$|€)\s?({NUM})" + NUM_END)
PLUS_RE = re.compile(r"(?=\d)(?<![\w.,])(\d+)\+(?!\w)")
# "chỉ -7 độ C", "mực nước +0,5 m": a sign glued to a measured value, not a range dash.
SIGNED_RE = re.compile(
    r"(?:^|(?<=[\s(]))(?<!\d\s)(?<!\d\s\s)([-−+])"
    r"(?=\d+(?:[.,]\d+)?\s?(?:°C|ºC|°|º|độ|oC|m|cm|%)(?![^\W\d_]))"
)
NUMBER_RE = re.compile(NUM_START + rf"({NUM})" + NUM_END)
# "nhiệt độ thấp nhất từ 18-200C": a superscript degree sign flattened into a zero by the
# page's editor ("20⁰C" became "200C"); only temperatures a weather bulletin gives.
FLAT_DEGREE_RE = re.compile(r"(?<![\w.,])([1-4]\d)0C(?![\w])")
# "Sa Pa rét nhất 7,6 0 C": the same sign flattened into a zero standing on its own.
SPACED_DEGREE_RE = re.compile(r"(?<![\w.,])(\d{1,2}(?:,\d{1,2})?) 0 ?C(?![\w])")
# "°Sáng 6-9": a degree sign used as a bullet before a word is not "độ".
BULLET_DEGREE_RE = re.compile(r"(?:^|(?<=\s))°(?![CF](?![^\W\d_]))(?=[^\W\d_])")
# "mũi 1,2", "lớp 1,2,3", "Điều 1,2": several doses, grades or articles listed with commas,
# never a decimal after a word that numbers things one by one.
NUMBERED_LIST_RE = re.compile(
    r"(?<![\w])((?i:mũi|lớp|khối|tổ|thôn|ấp|đợt|phường|khu vực|cấp|điều|khoản|tầng|trà|giai đoạn|vòng|quý)\s+)"
    r"(\d{1,2}(?:,\d{1,2})+)(?![\w%]|[.,]\d)"
)
_DIGIT_COMMA_DIGIT_RE = re.compile(r"\d,\d")
# "phía Bắc vĩ tuyến 16,0N; phía Tây kinh tuyến 115,0E", "17,5N-112,3E": a storm bulletin's
# coordinates, said "độ Bắc", "độ Đông" as the forecasters say them.
COORDINATE_RE = re.compile(
    r"(?<![\w.,])(\d{1,3}(?:,\d{1,2})?)\s?°?([NE])(?:\s*[-–]\s*(\d{1,3}(?:,\d{1,2})?)\s?°?E)?(?![\w])"
)
_COORDINATE_CTX_RE = re.compile(r"(?i:vĩ tuyến|kinh tuyến|vĩ độ|kinh độ|tâm bão|áp thấp|vùng nguy hiểm)")
# "đường dây 471 E9.37", "373 E18.8": a substation, said letter, its number ("e mười tám"),
# "chấm", then the feeder digits one by one.
SUBSTATION_RE = re.compile(r"(?<![\w.])E(\d{1,2})\.(\d{1,2})(?![\w]|[.,]\d)")
# "tiếp 4.655 lượt/5.560 người", "giải quyết 6 đơn/3 vụ việc": two counts of different
# things side by side, not a share of one in the other.
COUNT_PAIR_RE = re.compile(
    r"(?<=\d)(\s?(?:lượt|đơn))/(?=\s?\d[\d.,]*\s?(?:người|công dân|vụ|lượt|đơn|hồ sơ)\b)"
)
# "11:2, Chủ Nhật, 18-10-2020": a page stamp whose minutes lost their leading zero.
STAMP_MINUTE_RE = re.compile(
    r"(?<![\w.,:])(\d{1,2}):(\d)(?=,\s*(?:[Tt]hứ|[Cc]hủ\s+[Nn]hật|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}))"
)
# "03:38 PM 10/12/2021", "12:00:00 SA": a twelve-hour clock, said with its part of the day.
TIME_AMPM_RE = re.compile(
    r"(?=\d)(?<![\w.,:])(\d{1,2}):(\d{2})(?::(\d{2}))?\s?([AaPp]\.?[Mm]\.?|SA|CH)(?![\w])"
)
# "tức ngày 6 - 7/3 âm lịch": a lunar date just read, its days one to ten said "mùng"
# and its first and last months "giêng" and "chạp", as everyone says them.
LUNAR_DATE_RE = re.compile(r"\x01([^\x01\x02]*?)tháng ([^\x01\x02]+)\x02(?=\s*\(?âm lịch)")
_LUNAR_SPLIT_RE = re.compile(r"(\s*(?:,|đến|và|hoặc)\s*)")
_LUNAR_DAYS = {"một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín", "mười"}
_LUNAR_MONTHS = {"một": "giêng", "mười hai": "chạp"}
LUNAR_MONTH_RE = re.compile(r"(?<=tháng )\x01(một|mười hai)\x02(?=\s*\(?âm lịch)")
# "đợt 2-2015", "lần 1/2024": the second round of that year, not February.
_ROUND_PREV = {"đợt", "lần", "kỳ", "phiên", "vòng"}
# "báo động 1 - báo động 2", "cấp 3 - cấp 4": a span of levels names its level twice.
# The match starts at the dash (a cheap literal to find); the level before the first number is
# checked in the callback.
_LEVEL_WORDS = r"(?i:báo động|cấp độ|cấp|mức|bậc|lớp|khối) "
LEVEL_RANGE_RE = re.compile(rf"\x02\s*[-–—]\s*({_LEVEL_WORDS})(?=\x01)")
_LEVEL_BEFORE_RE = re.compile(rf"(?<![^\W\d_])({_LEVEL_WORDS})\x01[^\x01\x02]*$")
RANGE_RE = re.compile(r"\x02\s*[-–—]\s*((?:ngày|tháng|năm|[Tt]hứ) )?\x01")
_SCORE_PREV = re.compile(r"(?i:tỷ số|thắng|thua|hòa|hoà|chung cuộc|cách biệt)\s*\S*\s*$")

_SCALE_WORDS = {"tỷ", "tỉ", "triệu", "nghìn", "ngàn", "trăm", "chục", "lần", "điểm", "đồng",
                "usd", "phần", "tấn", "lít", "độ"}


# A comma before three digits is a decimal comma when the quantity cannot be thousands:
# scores, percentages, degrees, yields, millions of hectares.
_DECIMAL_NEXT_RE = re.compile(
    r"\s?(?:%|độ|°|lần|triệu (?:ha|héc)|(?:tạ|tấn|kg)(?:/| trên | một )|m/s|phần trăm)"
)
# "85,123 điểm" is a score; "1,875 điểm" may be a stock index in thousands of points.
_SCORE_NEXT_RE = re.compile(r"\s?điểm")
_SCALE_NEXT_RE = re.compile(r"\striệu\s(?!đồng|USD|đô)")
# "1,235 ha", "2,345 km", "5,125 tấn": a measured quantity. Read with the same reasoning
# as "2,600 tỷ": a decimal never ends in a zero, so "1,500 ha" stays fifteen hundred.
_MEASURE_NEXT_RE = re.compile(r"\s?(?:tấn|tạ|yến|héc ta|hécta|lít|gam|gram)\b")
_MEASURE_UNITS = {"km", "km2", "km²", "m", "m2", "m²", "m3", "m³", "ha", "kg", "mm", "cm", "ml", "l"}
_BILLION_NEXT_RE = re.compile(r"\s?(?:tỷ|tỉ)\b")
# "1,235 nghìn tỷ", "2,345 tỷ USD": thousands of those would be beyond any economy.
_HUGE_NEXT_RE = re.compile(r"\s?(?:nghìn tỷ|ngàn tỷ|nghìn tỉ|ngàn tỉ|tỷ USD|tỉ USD|tỷ đô)")
# Company results are where English thousands commas appear ("nợ phải trả 9,238 tỷ").
_COMPANY_MONEY_RE = re.compile(
    r"(?i:công ty|CTCP|doanh nghiệp|tập đoàn|cổ phiếu|cổ đông|cổ tức|trái phiếu|lợi nhuận|lãi ròng|"
    r"lỗ |nợ phải trả|tổng tài sản|vốn hóa|niêm yết|HOSE|HNX|UPCoM)"
)
_GIFT_RE = re.compile(r"(?i:ủng hộ|quyên góp|tiếp nhận|trao tặng|hỗ trợ đồng bào|cứu trợ|vùng lũ|khắc phục hậu quả)")
_DECIMAL_PREV_RE = re.compile(r"(?i:chỉ số|điểm số|tổng điểm|hệ số)[^,.;]{0,30}$")


# The rule each callback stands for, as explain() reports it.
RULE_OF_CALLBACK = {
    "_email": "email", "_url": "web", "_phone": "phone", "_phone_paren": "phone", "_phone_tail": "phone",
    "_hotline": "phone", "_short_code": "phone", "_emergency": "emergency",
    "_zero_code": "code_number", "_code_digits": "code_number", "_named_code": "code_number",
    "_procedure_code": "code_number", "_doc_year": "document", "_doc_dash": "document",
    "_doc_sym": "document", "_day_range": "date", "_day_to_date": "date", "_date_full": "date",
    "_month_year_mark": "date", "_date_dot": "date", "_blank_day": "date", "_quarter": "date", "_short_period": "date",
    "_height": "unit", "_decimal_letter": "number",
    "_month_year": "date", "_date_dm": "date", "_date_dash": "date", "_time_h": "time",
    "_hour_zero": "time", "_hour_prime": "time", "_time_colon": "time", "_ratio_colon": "ratio", "_ratio": "ratio", "_ratio_unit": "ratio",
    "_roman_line": "roman", "_roman_outline": "roman", "_roman_ctx": "roman", "_currency_prefix": "unit",
    "_unit": "unit",
    "_per_unit": "unit", "_plus": "number", "_number": "number",
    "_time_date": "date", "_day_list": "date", "_day_range_dot": "date", "_dm_range_dot": "date",
"_spelled_again": "number", "_count_per": "ratio",
    "_signed": "number", "_times": "number",
    "_house_number": "number", "_doc_spaced_code": "document",
    "_feeder": "code_number", "_account": "code_number", "_coordinate": "unit", "_breaker": "code_number",
    "_numbered_list": "number", "_alarm_level": "number", "_alarm_range": "number", "_boat": "code_number",
    "_stamp_minute": "time", "_time_ampm": "time", "_substation": "code_number",
    "_doc_then_year": "document", "_joint_units": "number", "_km_post": "unit", "_lane_code": "code_number",
    "_glued_years": "date", "_short_weekday_range": "date",
}
_PIECE_RE = re.compile(r"[\x01\x03]([^\x02\x04]*)[\x02\x04]")
_SENTINELS = {k: None for k in range(1, 6)}


def _traced(
    callback: Callable[[re.Match], str], rule: str, first_pass: dict[str, list[tuple[str, str]]]
) -> Callable[[re.Match], str]:
    def wrapper(m: re.Match) -> str:
        out = callback(m)
        if out != m.group(0):
            # A keyword the rule kept ("hạng" in "hạng I") is not part of what it read.
            kept = len(os.path.commonprefix([m.group(0), out]))
            written = m.group(0)[kept:].translate(_SENTINELS).strip()
            for piece in _PIECE_RE.findall(out):
                first_pass.setdefault(piece, []).append((rule, written))
                written = ""  # "hạng I, II": later pieces continue the same written form
        return out

    return wrapper


class Rules:
    """The digit-and-symbol rules for one text, with its separator convention."""

    def __init__(
        self,
        english: bool | None,
        spell_label: Callable[[str], str],
        first_pass: dict[str, list[tuple[str, str]]] | None = None,
    ) -> None:
        self.english = english
        self.spell_label = spell_label
        if first_pass is not None:
            # Explaining: note which rule wrote each reading, by its words.
            for name, rule in RULE_OF_CALLBACK.items():
                setattr(self, name, _traced(getattr(self, name), rule, first_pass))

    # Each method is a re.sub callback or a whole pass.

    def run(self, text: str) -> str:
        """Apply every rule in order; the order matters (see comments).

        Cheap substring checks skip rules that cannot match, which keeps a
        sentence well under a millisecond.
        """
        # Addresses first: their digits and dots are not numbers.
        if "@" in text:
            text = EMAIL_RE.sub(self._email, text)
        if "." in text and _TLD_RE.search(text):
            text = URL_RE.sub(self._url, text)
        if "-" in text or "–" in text or "—" in text:
            text = WEEKDAY_RANGE_RE.sub(r"\1 đến ", text)
            if "T" in text:
                text = SHORT_WEEKDAY_RANGE_RE.sub(self._short_weekday_range, text)
            text = DATE_TO_DATE_RE.sub(r"\1 đến ", text)
        if "/" in text:
            text = LIST_SLASH_RE.sub(r"\1\2. ", text)
        if "°" in text:
            text = BULLET_DEGREE_RE.sub("", text)
        if not _HAS_DIGIT_RE.search(text):
            return self._roman(text)
        slash = "/" in text
        if "0C" in text and "nhiệt" in text:
            text = FLAT_DEGREE_RE.sub(r"\1°C", text)
        if " 0 C" in text or " 0C" in text:
            text = SPACED_DEGREE_RE.sub(r"\1°C", text)
        if ":" in text:
            text = STAMP_MINUTE_RE.sub(self._stamp_minute, text)
        if "(" in text:
            text = _NGAY_BRACKET_RE.sub(r"\1 \2", text)
            text = SPELLED_AGAIN_RE.sub(self._spelled_again, text)
            text = DIGITS_AGAIN_RE.sub(self._digits_again, text)
        if "giờ" in text:
            # "3giờ", "11giờ": a unit glued to its number.
            text = _GLUED_HOUR_RE.sub(" ", text)
            text = HOUR_RANGE_RE.sub(r"\1 đến ", text)
        # Phone numbers before anything reads their groups as thousands.
        if "(0" in text or "(+" in text:
            text = PHONE_PAREN_RE.sub(self._phone_paren, text)
        long_digits = bool(_LONG_DIGITS_RE.search(text))
        if long_digits:
            if "/" in text:
                text = PHONE_PAIR_RE.sub(r"\1 hoặc ", text)
            text = PHONE_RE.sub(self._phone, text)
            text = HOTLINE_RE.sub(self._hotline, text)
        if "\x04" in text:
            text = PHONE_TAIL_RE.sub(self._phone_tail, text)
        if "x" in text or "×" in text:
            text = DIMENSION_RE.sub(" nhân ", text)
        if "I." in text or "V." in text or "X." in text:
            text = ROMAN_OUTLINE_RE.sub(self._roman_outline, text)
        text = ROAD_CODE_RE.sub(self._road_code, text)
        text = SHORT_CODE_RE.sub(self._short_code, text)
        if ("dây" in text or "lộ" in text or "ộ " in text or "tuyến" in text or "XT" in text
                or "ĐZ" in text or "MC " in text):
            text = FEEDER_RE.sub(self._feeder, text)
        if "cắt" in text or "MC" in text:
            text = BREAKER_RE.sub(self._breaker, text)
        if "BĐ" in text:
            text = ALARM_RANGE_RE.sub(self._alarm_range, text)
            text = ALARM_LEVEL_RE.sub(self._alarm_level, text)
        if ":" in text and ("VN" in text or "ISO" in text):
            text = STANDARD_RE.sub(self._standard, text)
        if "mã" in text or "Mã" in text or "MÃ" in text:
            text = NAMED_CODE_RE.sub(self._named_code, text)
        if ("N" in text or "E" in text) and ("tuyến" in text or "độ" in text or "bão" in text
                                             or "thấp" in text or "nguy hiểm" in text) and _COORDINATE_CTX_RE.search(text):
            text = COORDINATE_RE.sub(self._coordinate, text)
        if "E" in text and "." in text and ("điện" in text or "dây" in text or "trạm" in text):
            text = SUBSTATION_RE.sub(self._substation, text)
        text = CODE_DIGITS_RE.sub(self._code_digits, text)
        if "PM" in text:
            text = DUST_RE.sub("PM " + fixed("hai phẩy năm"), text)
        if slash:
            text = FLU_RE.sub(r"\1 \2", text)
        if "." in text:
            text = PROCEDURE_CODE_RE.sub(self._procedure_code, text)
        if long_digits:
            if "TK" in text or "hoản" in text or "ST" in text or "thuế" in text:
                text = ACCOUNT_RE.sub(self._account, text)
            text = LONG_CODE_RE.sub(self._long_code, text)
        if _SPACED_GROUP_RE.search(text):
            text = SPACED_THOUSANDS_RE.sub(self._spaced_thousands, text)
        if "-" in text:
            text = PLATE_RE.sub(self._plate, text)
            if "-TS" in text:
                text = BOAT_RE.sub(self._boat, text)
        if "11" in text or "1022" in text:
            text = EMERGENCY_RE.sub(self._emergency, text)
        if "0" in text and ("án" in text or "ÁN" in text):
            text = ZERO_CODE_RE.sub(self._zero_code, text)
        if "_" in text:
            text = DATE_UNDERSCORE_RE.sub(" - ", text)
        if "ạn " in text or "ỳ " in text or "ọc " in text or "ụ " in text or "óa " in text:
            text = GLUED_YEARS_RE.sub(self._glued_years, text)
        if "liên" in text or "Liên" in text:
            text = JOINT_UNITS_RE.sub(self._joint_units, text)
        if "Km" in text or "KM" in text:
            text = KM_POST_RE.sub(self._km_post, text)
        if "h" in text and ("đường" in text or "hẻm" in text or "Hẻm" in text):
            text = LANE_CODE_RE.sub(self._lane_code, text)
        if slash:
            if "số" in text or "Số" in text:
                text = _GLUED_SO_RE.sub(r"\1 ", text)
            text = DOC_KIND_RE.sub(lambda m: _DOC_KINDS[m.group(1)] + " ", text)
            if " /" in text or "/ " in text:
                # "10/7 / 15/7": a spaced slash between two dates is the span's dash.
                text = _DATE_SLASH_SPAN_RE.sub(" - ", text)
                # "12 /8", "282 /KH": a stray space is a typing slip, not a ratio.
                text = _SPACED_SLASH_RE.sub("/", text)
            text = COUNT_PAIR_RE.sub(r"\1, ", text)
            text = HOUSE_NUMBER_RE.sub(self._house_number, text)
            # Document numbers before dates: 35/2023/UBTVQH15 is not a month.
            text = DOC_YEAR_RE.sub(self._doc_year, text)
            text = DOC_DASH_RE.sub(self._doc_dash, text)
            text = DOC_SYM_RE.sub(self._doc_sym, text)
            text = DOC_BLANK_RE.sub("", text)
            if "\x04 1" in text or "\x04 2" in text:
                text = DOC_THEN_YEAR_RE.sub(self._doc_then_year, text)
        if " – " in text or " - " in text:
            text = DOC_SPACED_CODE_RE.sub(self._doc_spaced_code, text)
        if slash:
            # Dates, longest forms first.
            text = TIME_DATE_RE.sub(self._time_date, text)
            text = DAY_RANGE_RE.sub(self._day_range, text)
        if ("gày " in text or "(" in text) and (" và " in text or " hoặc " in text or "," in text):
            text = DAY_LIST_RE.sub(self._day_list, text)
        if "." in text:
            text = DM_RANGE_DOT_RE.sub(self._dm_range_dot, text)
            text = DAY_RANGE_DOT_RE.sub(self._day_range_dot, text)
        if "ừ" in text or "gày" in text:
            text = DAY_TO_DATE_RE.sub(self._day_to_date, text)
        text = DATE_FULL_RE.sub(self._date_full, text)
        if "-" in text or "." in text:
            text = MONTH_YEAR_MARK_RE.sub(self._month_year_mark, text)
        if "." in text:
            text = DATE_DOT_RE.sub(self._date_dot, text)
        if slash:
            text = DATE_BLANK_DAY_RE.sub(self._blank_day, text)
        if "uý" in text or "UÝ" in text:
            text = QUARTER_RE.sub(self._quarter, text)
        if slash and ("T" in text or "Q" in text):
            text = SHORT_PERIOD_RE.sub(self._short_period, text)
        if slash:
            text = MONTH_YEAR_RE.sub(self._month_year, text)
            text = DATE_DM_RE.sub(self._date_dm, text)
        if "-" in text:
            text = DATE_DASH_RE.sub(self._date_dash, text)
        text = TIME_H_RE.sub(self._time_h, text)
        if " 00" in text:
            text = HOUR_ZERO_RE.sub(self._hour_zero, text)
        if "giờ" in text and ("'" in text or "’" in text or "′" in text):
            text = HOUR_PRIME_RE.sub(self._hour_prime, text)
        if ":" in text:
            if "M" in text or "m" in text or "SA" in text or "CH" in text:
                text = TIME_AMPM_RE.sub(self._time_ampm, text)
            text = TIME_COLON_RE.sub(self._time_colon, text)
            text = RATIO_COLON_RE.sub(self._ratio_colon, text)
        text = self._roman(text)
        if slash:
            text = RATIO_CHAIN_RE.sub(self._ratio_chain, text)
            text = RATIO_RE.sub(self._ratio, text)
            text = RATIO_UNIT_RE.sub(self._ratio_unit, text)
            if "24/24" in text:
                text = ALL_DAY_RE.sub(rng("hai mươi tư trên hai mươi tư giờ"), text)
        if "$" in text or "€" in text:
            text = CURRENCY_PREFIX_RE.sub(self._currency_prefix, text)
        if "-" in text or "+" in text or "−" in text:
            text = SIGNED_RE.sub(self._signed, text)
        if slash:
            if "sào" in text or "công" in text or "mẫu" in text:
                text = YIELD_PER_AREA_RE.sub(r"\1 trên \2", text)
            text = PER_COUNT_RE.sub(self._per_count, text)
            if "độ/" in text or "°/" in text or "C/" in text:
                text = DEGREE_RATE_RE.sub(r"\1 trên ", text)
        if "m" in text:
            text = HEIGHT_RE.sub(self._height, text)
        text = DECIMAL_LETTER_RE.sub(self._decimal_letter, text)
        text = UNIT_RE.sub(self._unit, text)
        if slash:
            text = PER_UNIT_RE.sub(self._per_unit, text)
            text = COUNT_PER_RE.sub(self._count_per, text)
        if "+" in text:
            if "-" in text or "–" in text:
                text = CHAINAGE_SPAN_RE.sub(r"\1 đến ", text)
            text = CHAINAGE_ZERO_RE.sub(r"\1", text)
            text = PLUS_RE.sub(self._plus, text)
        if "x" in text or "×" in text:
            text = TIMES_RE.sub(self._times, text)
        if "," in text and _DIGIT_COMMA_DIGIT_RE.search(text):
            text = NUMBERED_LIST_RE.sub(self._numbered_list, text)
        text = NUMBER_RE.sub(self._number, text)
        if "-" in text or "–" in text or "—" in text:
            text = LEVEL_RANGE_RE.sub(self._level_range, text)
            text = RANGE_RE.sub(self._range, text)
        text = UNIT_AFTER_SCALE_RE.sub(self._unit_after_scale, text)
        if "âm lịch" in text:
            text = LUNAR_DATE_RE.sub(self._lunar_date, text)
            text = LUNAR_MONTH_RE.sub(lambda m: rng(_LUNAR_MONTHS[m.group(1)]), text)
        return text

    # --- addresses

    def _email(self, m: re.Match) -> str:
        local = self._address_words(m.group(1))
        domain = self._address_words(m.group(2))
        return fixed(_keep_case(m.group(0), f"{local} a còng {domain}"))

    def _url(self, m: re.Match) -> str:
        host = m.group(2)
        path = m.group(3) or ""
        trail = ""
        while path and path[-1] in ".,;:!?":
            trail = path[-1] + trail
            path = path[:-1]
        # Only the site is read: a listener cannot take down a page path from the radio.
        words = self._address_words(host)
        return fixed(_keep_case(m.group(0), words)) + trail

    def _address_words(self, address: str) -> str:
        out: list[str] = []
        for piece in re.split(r"([.\-_@?=&])", address):
            if not piece:
                continue
            if piece == ".":
                out.append("chấm")
            elif piece == "-":
                out.append("gạch ngang")
            elif piece == "_":
                out.append("gạch dưới")
            elif piece in "@?=&":
                out.append({"@": "a còng", "?": "hỏi", "=": "bằng", "&": "và"}[piece])
            else:
                for run in re.findall(r"\d+|[^\W\d_]+", piece):
                    out.append(digit_words(run) if run.isdigit() else self.spell_label(run))
        return " ".join(out)

    # --- phones

    def _phone(self, m: re.Match) -> str:
        prefix, rest = m.group(1).rstrip(), m.group(2)  # "+84 262 3852 456"
        if prefix == "0" and _DATE_SHAPE_RE.match(rest):
            return m.group(0)  # "06-12-2023 14:44" is a date and a time
        groups = re.split(r"[ .\-]", rest)
        n_digits = sum(len(g) for g in groups) + (1 if prefix == "0" else 0)
        if prefix == "0":
            if n_digits == 8 and rest.startswith("69"):
                # "069.12345", "06941224": the police network, "069" then five digits.
                digits = "0" + rest.replace(".", "").replace(" ", "").replace("-", "")
                return fixed(digit_groups([digits[:3], digits[3:]]))
            # "0262 1022": a four-digit service number after an area code.
            service = len(groups) == 2 and groups[0][:1] == "2" and len(groups[1]) == 4
            if not (9 <= n_digits <= 11 or (service and n_digits == 8)):
                return m.group(0)
            groups[0] = "0" + groups[0]
            if len(groups) > 1 and len(groups[0]) == 5 and groups[0].startswith("02"):
                # "02933.504.987": a four-digit area code with the subscriber's first digit
                groups[:2] = [groups[0][:4], groups[0][4:] + groups[1]]
            return fixed(digit_groups(_join_lone_digits(groups)))
        if not 8 <= n_digits <= 10:
            return m.group(0)
        if len(groups) == 1 and n_digits == 9:
            groups = [rest[:3], rest[3:6], rest[6:]]  # "+84905123456": a mobile, as "0905 123 456"
        return fixed("cộng tám tư, " + digit_groups(groups))

    def _phone_tail(self, m: re.Match) -> str:
        groups = re.split(r"[ .]", m.group(3))
        if sum(len(g) for g in groups) not in (7, 8):
            return m.group(0)  # "0262.3852255 - 12 người": a count, not a second line
        joiner = " hoặc " if "/" in m.group(2) else ", "
        return m.group(1) + joiner + fixed(digit_groups(_join_lone_digits(groups)))

    def _phone_paren(self, m: re.Match) -> str:
        groups = re.split(r"[ .\-]", m.group(2))
        country = m.group(1).startswith("+84")
        if country and m.group(1)[3:].strip(" -"):
            groups.insert(0, m.group(1)[3:].strip(" -"))  # "(+84-28) 38 653 050"
        n_digits = sum(len(g) for g in groups)
        if not (4 <= n_digits <= 8 or (country and 8 <= n_digits <= 10)):
            return m.group(0)
        if len(groups) == 1 and len(groups[0]) == 7:
            groups = [groups[0][:4], groups[0][4:]]  # after an area code: 3852 255
        groups = _join_lone_digits(groups)
        if country:
            return fixed("cộng tám tư, " + digit_groups(groups))
        return fixed(digit_groups([m.group(1)] + groups))

    def _emergency(self, m: re.Match) -> str:
        s, start, end = m.string, m.start(), m.end()
        following = next_word(s, end)
        if (following in _COUNT_NOUNS or following in _SCALE_WORDS or following in UNITS
                or following in _SPAN_NOUNS):
            return m.group(0)
        if s[start - 1:start] in _OPEN_QUOTES and s[end:end + 1] in _CLOSE_QUOTES:
            return fixed(digit_words(m.group(1)))  # 'bấm thẳng số “114”': the number to press
        prev = prev_word(s, start)
        if prev == "số" and _dialled_number_word(s, start):
            return fixed(digit_words(m.group(1)))  # "qua số 114", "bấm số 113"
        if prev == "số" and _DIAL_CONTEXT_RE.search(s) and not _NUMBERED_THING_RE.search(s, max(0, start - 30), start):
            return fixed(digit_words(m.group(1)))  # "Số 112 là số gọi cứu nạn", "số 114 miễn phí"
        if prev in _NOT_DIALLED_PREV or s[end:end + 1] == "%":
            return m.group(0)
        return fixed(digit_words(m.group(1)))

    def _named_code(self, m: re.Match) -> str:
        return m.group(1) + fixed(digit_groups([m.group(2)]))

    def _code_digits(self, m: re.Match) -> str:
        digits = m.group(3)
        if m.group(1) in _NOT_CODE_LETTERS or (len(digits) == 4 and digits[:2] in ("19", "20")):
            return m.group(0)
        return f"{m.group(1)} {fixed(digit_words(digits))}"

    def _standard(self, m: re.Match) -> str:
        number = " gạch ".join(_code_number(part) for part in m.group(2).split("-"))
        return f"{m.group(1)} {fixed(f'{number} năm {cardinal(m.group(3))}')}"

    def _road_code(self, m: re.Match) -> str:
        if m.group(1) == "ĐT" and EMERGENCY_RE.fullmatch(m.group(2)):
            return m.group(0)  # "ĐT 113" is the police line
        road = ROAD_PREFIXES[m.group(1)]
        if road.startswith("đường ") and prev_word(m.string, m.start()) == "đường":
            road = road[len("đường "):]  # "đường ĐT.623" is said "đường tỉnh", not "đường đường tỉnh"
        words = f"{road} {_code_number(m.group(2))}"
        if m.group(3):
            words += f" {LETTER_NAMES[m.group(3).lower()]}"
        return fixed(words)

    def _procedure_code(self, m: re.Match) -> str:
        parts = [m.group(1), m.group(2)] + [p for p in m.group(3).split(".") if p]
        words = " chấm ".join(digit_words(p) for p in parts)
        if m.group(4):
            words += f" chấm {LETTER_NAMES[m.group(4).lower()]} {digit_words(m.group(5))}"
        return fixed(words)

    def _coordinate(self, m: re.Match) -> str:
        side = "Bắc" if m.group(2) == "N" else "Đông"
        words = f"{read_numeral(m.group(1), False, amount=True)} độ {side}"
        if m.group(3):  # "17,5N-112,3E": one position, not a span
            return fixed(f"{words}, {read_numeral(m.group(3), False, amount=True)} độ Đông")
        return rng(words)

    def _account(self, m: re.Match) -> str:
        groups = re.split(r"[ .\-]", m.group(2))
        if sum(len(g) for g in groups) < 8:
            return m.group(0)  # "tài khoản 12 345": too short to be an account
        return m.group(1) + fixed(digit_groups(groups))

    def _long_code(self, m: re.Match) -> str:
        return fixed(digit_groups([m.group(0)]))

    def _plate(self, m: re.Match) -> str:
        letters = " ".join(LETTER_NAMES[c.lower()] for c in m.group(2))
        head = " ".join(filter(None, [digit_words(m.group(1)), letters, digit_words(m.group(3))]))
        return fixed(f"{head}, {digit_words(m.group(4) + m.group(5))}")

    def _boat(self, m: re.Match) -> str:
        province, fishery = (" ".join(LETTER_NAMES[c.lower()] for c in g) for g in (m.group(1), m.group(3)))
        return fixed(f"{province} {digit_words(m.group(2))} {fishery}")

    def _zero_code(self, m: re.Match) -> str:
        return f"{m.group(1)} {fixed(digit_words(m.group(2)))}"

    def _hotline(self, m: re.Match) -> str:
        if prev_word(m.string, m.start()) in {"năm", "từ", "đến", "khoảng"}:
            return m.group(0)
        return fixed(digit_groups([m.group(1)] + re.split(r"[ .]", m.group(2))))

    def _short_code(self, m: re.Match) -> str:
        keyword = m.group(1).lower()
        if m.string[m.end():m.end() + 1] == "/":
            return m.group(0)  # "Công điện số 1502/CĐ-TTg" is a document number
        if keyword == "số" and not _dialled_number_word(m.string, m.start() + len(m.group(1))):
            return m.group(0)
        following = next_word(m.string, m.end())
        if following in _COUNT_NOUNS or following in _SCALE_WORDS or following in UNITS:
            return m.group(0)  # "gọi 234 công dân" counts people
        if keyword == "gọi" and len(m.group(3)) == 3 and not m.group(3).startswith("11"):
            return m.group(0)  # "lệnh gọi 252 thanh niên": the only three-digit lines are 11x
        return m.group(1) + m.group(2) + fixed(digit_groups([m.group(3)]))

    def _feeder(self, m: re.Match) -> str:
        following = next_word(m.string, m.end())
        if m.group(3) in _VOLTAGES or following in UNITS or following in _SCALE_WORDS:
            return m.group(0)
        if m.group(1) == "MC":
            # "Cắt điện sau MC 471": the circuit breaker ("máy cắt") of that feeder.
            return fixed("máy cắt") + m.group(2) + fixed(digit_words(m.group(3)))
        return m.group(1) + m.group(2) + fixed(digit_words(m.group(3)))

    def _alarm_range(self, m: re.Match) -> str:
        return fixed(f"báo động {cardinal(m.group(1))} đến báo động {cardinal(m.group(2))}")

    def _numbered_list(self, m: re.Match) -> str:
        following = next_word(m.string, m.end())
        if following in UNITS or following in _SCALE_WORDS:
            return m.group(0)
        return m.group(1) + fixed(", ".join(number_words(int(n)) for n in m.group(2).split(",")))

    def _breaker(self, m: re.Match) -> str:
        following = next_word(m.string, m.end())
        if m.group(2) in _VOLTAGES or following in UNITS or following in _SCALE_WORDS:
            return m.group(0)
        words = digit_words(m.group(2))
        if m.group(3):
            words += " trên " + digit_words(m.group(3))
        return m.group(1) + fixed(words)

    def _alarm_level(self, m: re.Match) -> str:
        return rng(f"báo động {cardinal(m.group(1))}")

    def _house_number(self, m: re.Match) -> str:
        key = m.group(1).lower()
        if key == "số" and next_word(m.string, m.end()) not in _STREET_NEXT:
            return m.group(0)  # "Quyết định số 12/3" is left to the document rules
        parts = []
        for part in m.group(2).split("/"):
            digits = part.rstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
            letter = part[len(digits):].lower()
            parts.append(cardinal(digits) + (f" {LETTER_NAMES[letter]}" if letter else ""))
        return f"{m.group(1)} {fixed(' trên '.join(parts))}"

    # --- documents

    def _doc_year(self, m: re.Match) -> str:
        return fixed(f"{_doc_number(m)} năm {cardinal(m.group(3))}")

    def _doc_spaced_code(self, m: re.Match) -> str:
        before = m.string[max(0, m.start() - 40):m.start()]
        if not _DOC_PREV.search(before):
            return m.group(0)
        return fixed(cardinal(m.group(1).rstrip("abcdefghijklmnopqrstuvwxyzđ")))

    def _doc_dash(self, m: re.Match) -> str:
        return fixed(_doc_number(m))

    def _doc_sym(self, m: re.Match) -> str:
        return fixed(_doc_number(m))

    def _short_weekday_range(self, m: re.Match) -> str:
        last = "chủ nhật" if m.group(3) else f"thứ {ordinal(int(m.group(2)))}"
        return fixed(f"thứ {ordinal(int(m.group(1)))} đến {last}")

    def _glued_years(self, m: re.Match) -> str:
        if not 0 < int(m.group(3)) - int(m.group(2)) <= 10:
            return m.group(0)
        return f"{m.group(1)} {fixed(cardinal(m.group(2)) + ' đến ' + cardinal(m.group(3)))}"

    def _joint_units(self, m: re.Match) -> str:
        return f"{m.group(1)} {fixed(cardinal(m.group(2)) + ' ' + cardinal(m.group(3)))}"

    def _km_post(self, m: re.Match) -> str:
        return fixed(f"ki lô mét {cardinal(m.group(2))}")

    def _lane_code(self, m: re.Match) -> str:
        letter = f" {LETTER_NAMES[m.group(2).lower()]}" if m.group(2) else ""
        return fixed(f"hẻm {cardinal(m.group(1))}{letter}")

    def _doc_then_year(self, m: re.Match) -> str:
        # "Quyết định 2895/QĐ-UBND 2017": the year the document was signed, said "năm".
        if next_word(m.string, m.end()) in _YEAR_NOT_AFTER:
            return m.group(0)
        return f"{m.group(1)} năm {fixed(cardinal(m.group(2)))}"

    # --- dates

    def _day_prefix(self, s: str, pos: int) -> str:
        prev = prev_word(s, pos)
        if prev in _NO_NGAY_PREV or _DATE_LABEL_RE.search(s, max(0, pos - 30), pos):
            return ""
        if prev == "và" or s[pos - 2:pos] == ", ":
            if _PLURAL_DATE_LIST_RE.search(s, max(0, pos - 200), pos):
                return ""
        if named_after_date(s, pos):
            return ""  # "đường 30/4" is named "ba mươi tháng tư"
        if span := _SPAN_END_RE.search(s, max(0, pos - 120), pos):
            # The far end of a span of dates says "ngày" only if the near end did.
            near = span.start(1) - 1 if span.group(1) is not None else span.start(2)
            said = (span.group(1) or "").startswith("ngày") or prev_word(s, near) in {"ngày", "mùng", "mồng"}
            if not said and span.group(2) is not None:
                said = self._day_prefix(s, near) != ""
            return "ngày " if said else ""
        return "ngày "

    def _date_full(self, m: re.Match) -> str:
        d, sep, mo, y = int(m.group(1)), m.group(2), int(m.group(3)), m.group(4)
        if not (1 <= d <= 31 and 1 <= mo <= 12):
            return m.group(0)
        if sep != "/" and prev_word(m.string, m.start()) == "số":
            return m.group(0)
        words = f"{number_words(d)} tháng {month_name(mo)} năm {cardinal(y)}"
        return rng(self._day_prefix(m.string, m.start()) + words)

    def _day_range(self, m: re.Match) -> str:
        d1, d2, mo = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if not (1 <= d1 <= 31 and 1 <= d2 <= 31 and 1 <= mo <= 12 and d1 < d2):
            return m.group(0)
        words = f"{number_words(d1)} đến {number_words(d2)} tháng {month_name(mo)}"
        if m.group(4):
            words += f" năm {cardinal(m.group(4))}"
        return rng(self._day_prefix(m.string, m.start()) + words)

    def _time_date(self, m: re.Match) -> str:
        h, mins, d = int(m.group(1)), int(m.group(2) or 0), int(m.group(3))
        mo = int(m.group(4)) if m.group(4) else 0
        if h > 24 or mins >= 60 or not (1 <= d <= 31 and (mo <= 12 if mo else h != 24)):
            return m.group(0)  # "24h/24", "24h/7": all day long
        words = f"{clock_words(h, mins)} ngày {number_words(d)}"
        if mo:
            words += f" tháng {month_name(mo)}"
        return rng(words)

    def _day_list(self, m: re.Match) -> str:
        days = [m.group(1)] + re.findall(r"\d{1,2}", m.group(2) or "") + [m.group(4)]
        mo = int(m.group(6))
        if not 1 <= mo <= 12 or not all(1 <= int(d) <= 31 for d in days):
            return m.group(0)
        s = m.string
        bracketed = s[m.start() - 1:m.start()] == "("
        if bracketed and s[m.end():m.end() + 1] != ")":
            return m.group(0)
        spoken = [number_words(int(d)) for d in days]
        joiner = f" {m.group(3)} " if m.group(3) else ", "
        words = ", ".join(spoken[:-1]) + f"{joiner}{spoken[-1]} tháng {month_name(mo)}"
        if m.group(7):
            words += f" năm {cardinal(m.group(7))}"
        # "hai ngày (3 và 4-7)": alone in brackets the days need their "ngày".
        return rng(("ngày " if bracketed else "") + words)

    def _day_range_dot(self, m: re.Match) -> str:
        # Only where a date is expected: "17 - 19.9" alone may be a range of decimals.
        d1, d2, mo = int(m.group(1)), int(m.group(2)), int(m.group(3))
        s, start = m.string, m.start()
        if not (1 <= d1 <= 31 and 1 <= d2 <= 31 and 1 <= mo <= 12 and d1 < d2):
            return m.group(0)
        if prev_word(s, start) not in _DATE_CONTEXT | {"từ"}:
            return m.group(0)
        words = f"{number_words(d1)} đến {number_words(d2)} tháng {month_name(mo)}"
        return rng(self._day_prefix(s, start) + words)

    def _dm_range_dot(self, m: re.Match) -> str:
        d1, m1, d2, m2 = (int(g) for g in m.groups())
        s, start = m.string, m.start()
        if not (1 <= d1 <= 31 and 1 <= d2 <= 31 and 1 <= m1 <= 12 and 1 <= m2 <= 12):
            return m.group(0)
        # "từ 1.5 - 2.5 tỷ" in an English-convention text is a range of decimals.
        if self.english or prev_word(s, start) not in _DATE_CONTEXT | {"từ"}:
            return m.group(0)
        following = next_word(s, m.end())
        if following in _SCALE_WORDS or following in UNITS:
            return m.group(0)
        words = (f"{number_words(d1)} tháng {month_name(m1)} đến ngày "
                 f"{number_words(d2)} tháng {month_name(m2)}")
        return rng(self._day_prefix(s, start) + words)

    def _day_to_date(self, m: re.Match) -> str:
        d1, d2, mo = int(m.group(2)), int(m.group(3)), int(m.group(5))
        if not (1 <= d1 <= 31 and 1 <= d2 <= 31 and 1 <= mo <= 12 and d1 < d2):
            return m.group(0)
        lead = m.group(1)
        month = f"tháng {month_name(mo)}"
        before = m.string[max(0, m.start() - 12):m.start()]
        plural = lead.lower() == "ngày" and _PLURAL_BEFORE_RE.search(before)
        if plural:  # "các ngày 19 đến 22-4": the days as a group
            words = f"{number_words(d1)} đến {number_words(d2)} {month}"
        elif " " in lead or lead.lower() == "ngày":
            # "từ ngày 3 đến 5/4", "ngày 3 đến 4-12": the writer said "ngày" once, say it twice
            words = f"{number_words(d1)} đến ngày {number_words(d2)} {month}"
        elif self._day_prefix(m.string, m.start()):
            words = f"ngày {number_words(d1)} đến ngày {number_words(d2)} {month}"
        else:  # "các ngày từ 19 đến 22-4"
            words = f"{number_words(d1)} đến {number_words(d2)} {month}"
        if m.group(6):
            words += f" năm {cardinal(m.group(6))}"
        return f"{lead} {rng(words)}"

    def _month_year_mark(self, m: re.Match) -> str:
        # "tháng 3-2024", "đến 10-2019": a month and a year; a range never ends at 2019.
        mo = int(m.group(1))
        prev = prev_word(m.string, m.start())
        if prev in _ROUND_PREV or (prev == "quý" and 1 <= mo <= 4):
            return rng(f"{number_words(mo)} năm {cardinal(m.group(2))}")  # "đợt 2-2015", "quý 3.2024"
        if not 1 <= mo <= 12 or prev == "số":
            return m.group(0)
        lead = "" if prev == "tháng" else "tháng "
        return rng(f"{lead}{month_name(mo)} năm {cardinal(m.group(2))}")

    def _date_dot(self, m: re.Match) -> str:
        d, mo = int(m.group(1)), int(m.group(2))
        s, start = m.string, m.start()
        spans = not self.english  # "từ 1.5 - 2.5" in an English-convention text is decimals
        if not (1 <= d <= 31 and 1 <= mo <= 12) or not date_context(s, start, m.end(), spans):
            return m.group(0)
        return rng(self._day_prefix(s, start) + f"{number_words(d)} tháng {month_name(mo)}")

    def _blank_day(self, m: re.Match) -> str:
        mo = int(m.group(1))
        if not 1 <= mo <= 12:
            return m.group(0)
        return rng(f"tháng {month_name(mo)} năm {cardinal(m.group(2))}")

    def _quarter(self, m: re.Match) -> str:
        raw = m.group(2)
        q = int(raw) if raw.isdigit() else roman_value(raw)
        words = number_words(q or 0)
        if m.group(3) or m.group(4):
            words += f" năm {cardinal(m.group(3) or m.group(4))}"
        return f"{m.group(1)} {rng(words)}"

    def _short_period(self, m: re.Match) -> str:
        raw = m.group(2)
        n = int(raw) if raw.isdigit() else roman_value(raw) or 0
        if m.group(1) == "T" and raw.isdigit() and 1 <= n <= 12:
            lead = "" if prev_word(m.string, m.start()) == "tháng" else "tháng "
            return rng(f"{lead}{month_name(n)} năm {cardinal(m.group(3))}")
        if m.group(1) == "Q" and 1 <= n <= 4:
            return rng(f"quý {number_words(n)} năm {cardinal(m.group(3))}")
        return m.group(0)

    def _month_year(self, m: re.Match) -> str:
        s, start = m.string, m.start()
        mo = int(m.group(1))
        tail = s[max(0, start - 40):start]
        if _DOC_PREV.search(tail):
            return fixed(f"{cardinal(m.group(1))} năm {cardinal(m.group(2))}")
        if scale := map_scale(prev_word(s, start), m.group(1), m.group(2)):
            return rng(scale)  # "bản đồ tỷ lệ 1/2000"
        if prev_word(s, start) in _ROUND_PREV:
            return rng(f"{number_words(mo)} năm {cardinal(m.group(2))}")  # "đợt 1/2024"
        if prev_word(s, start) == "tuần" and 1 <= mo <= 53:
            return rng(f"{number_words(mo)} năm {cardinal(m.group(2))}")  # "tuần 43/2022"
        if not 1 <= mo <= 12:
            return m.group(0)
        lead = "" if prev_word(s, start) == "tháng" else "tháng "
        return rng(f"{lead}{month_name(mo)} năm {cardinal(m.group(2))}")

    def _date_dm(self, m: re.Match) -> str:
        s, start, end = m.string, m.start(), m.end()
        d, mo = int(m.group(1)), int(m.group(2))
        if not (1 <= d <= 31 and 1 <= mo <= 12):
            return m.group(0)
        prev = prev_word(s, start)
        named = named_after_date(s, start)
        if _so_far(s, start):
            prev = ""
        if not named and prev not in {"từ", "đến", "ngày", "sáng", "chiều", "tối", "trưa", "đêm", "hôm", "nay"} and (
            not date_context(s, start, end)
        ):
            if prev in _RATIO_PREV or next_word(s, end).split(" ")[0] in _COUNT_NOUNS:
                return m.group(0)
            if d <= mo and _BODIES_NEXT_RE.match(s, end):
                return m.group(0)  # "12/12 UBND huyện": twelve of twelve district committees
            if (d, mo) == (24, 7):
                return m.group(0)  # "24/7": all day, every day
            if d == 1 and mo <= 4 and next_word(s, end) in _PART_OF_NEXT:
                return m.group(0)  # "nghỉ 1/2 ngày": half a day, a fraction
        words = f"{number_words(d)} tháng {month_name(mo)}"
        return rng(self._day_prefix(s, start) + words)

    def _date_dash(self, m: re.Match) -> str:
        # "ngày 14-9" is a date; elsewhere "14-9" is left for the range rule.
        d, mo = int(m.group(1)), int(m.group(2))
        s, start = m.string, m.start()
        if not (1 <= d <= 31 and 1 <= mo <= 12) or not date_context(s, start, m.end()):
            return m.group(0)
        return rng(self._day_prefix(s, start) + f"{number_words(d)} tháng {month_name(mo)}")

    def _time_h(self, m: re.Match) -> str:
        h = int(m.group(1))
        mins = m.group(2) or m.group(3)
        if m.group(0).removesuffix("phút").rstrip(" 'p").endswith("g") and not (
            next_word(m.string, m.end()) in _HOUR_G_NEXT
            or prev_word(m.string, m.start()) in _HOUR_G_PREV
        ):
            return m.group(0)
        if mins and int(mins) >= 60:
            return m.group(0)
        return rng(clock_words(h, int(mins or 0)))

    def _signed(self, m: re.Match) -> str:
        return "cộng " if m.group(1) == "+" else "âm "

    def _times(self, m: re.Match) -> str:
        return rng(f"nhân {cardinal(m.group(1))}")

    def _spelled_again(self, m: re.Match) -> str:
        # Keep the figure, drop the brackets when they only spell it out again.
        raw = m.group(1)
        # "(Một tỷ, hai trăm ba mươi tư triệu...)": commas and "lẻ" do not make another number.
        spelled = " ".join(re.sub(r"[^\w\s]", " ", m.group(3).lower()).split())
        spelled = spelled.replace(" lẻ ", " linh ").replace("ngàn", "nghìn")
        if raw.isdigit() or re.fullmatch(r"\d{1,3}(?:\.\d{3})+", raw):
            said = cardinal(raw.replace(".", "")) if len(raw.replace(".", "")) < 16 else ""
            if said and spelled.startswith(said):
                return raw + m.group(2)
        return m.group(0)

    def _digits_again(self, m: re.Match) -> str:
        # Drop the digits when the words just before already say the number.
        said = cardinal(m.group(1).replace(".", ""))
        before = m.string[max(0, m.start() - len(said) - 2):m.start()].lower()
        if before.endswith(said) and not before[-len(said) - 1:-len(said)].isalpha():
            return ""
        return m.group(0)

    def _spaced_thousands(self, m: re.Match) -> str:
        s = m.string
        if prev_word(s, m.start()) in _NO_GROUPING_PREV:
            return m.group(0)
        following = next_word(s, m.end())
        # One group: thousands when a unit or count follows, or when it is a round "000"
        # (two numbers side by side never make the second one "000").
        if m.group(2).count(" ") == 1 and m.group(2) != " 000" and not (
            following in UNITS or following in _SCALE_WORDS or following in _COUNT_NOUNS
            or following in _MONEY_LEFT or following in MEASURE_LEFT or following in _GROUPED_NEXT
        ):
            return m.group(0)
        return m.group(1) + m.group(2).replace(" ", "")

    def _count_per(self, m: re.Match) -> str:
        # "17 tiêu chí/xã" is per commune, said "một xã" like "2 lần/ngày".
        if m.group(2) not in _PER_TARGETS or not m.group(1).strip()[:1].islower():
            return m.group(0)
        return f"{m.group(1)} một {m.group(2)}"

    def _hour_prime(self, m: re.Match) -> str:
        h, mins = int(m.group(1)), int(m.group(3))
        return m.group(0) if h > 24 else rng(clock_words(h, mins))

    def _hour_zero(self, m: re.Match) -> str:
        return rng(f"{number_words(int(m.group(1)))} giờ")

    def _stamp_minute(self, m: re.Match) -> str:
        h, mins = int(m.group(1)), int(m.group(2))
        return m.group(0) if h > 24 else rng(clock_words(h, mins))

    def _lunar_date(self, m: re.Match) -> str:
        pieces = _LUNAR_SPLIT_RE.split(m.group(1).rstrip())
        for i, piece in enumerate(pieces):
            lead, _, day = piece.rpartition(" ")
            if day in _LUNAR_DAYS and lead in {"", "ngày"}:
                pieces[i] = f"{lead} mùng {day}".lstrip()
        month = m.group(2).strip()
        return f"{RANGE_OPEN}{''.join(pieces)} tháng {_LUNAR_MONTHS.get(month, month)}{RANGE_CLOSE}"

    def _substation(self, m: re.Match) -> str:
        return rng(f"e {number_words(int(m.group(1)))} chấm {digit_words(m.group(2))}")

    def _plus(self, m: re.Match) -> str:
        return rng(f"{cardinal(m.group(1))} cộng")

    def _time_colon(self, m: re.Match) -> str:
        h, mins = int(m.group(1)), int(m.group(2))
        if h > 24 or mins >= 60:
            return m.group(0)
        return rng(clock_words(h, mins, int(m.group(3) or 0)))

    def _time_ampm(self, m: re.Match) -> str:
        h, mins = int(m.group(1)), int(m.group(2))
        if not 1 <= h <= 12 or mins >= 60:
            return m.group(0)
        after_noon = m.group(4)[0] in "PpC"
        if after_noon:
            part = "trưa" if h == 12 else "chiều" if h <= 5 else "tối"
        else:
            part = "đêm" if h == 12 else "trưa" if h == 11 else "sáng"
        return rng(f"{clock_words(h, mins, int(m.group(3) or 0))} {part}")

    def _ratio_colon(self, m: re.Match) -> str:
        if scale := map_scale(prev_word(m.string, m.start()), m.group(1), m.group(2)):
            return rng(scale)
        a = read_numeral(m.group(1), self.english, amount=False)
        b = read_numeral(m.group(2), self.english, amount=False)
        return rng(f"{a} trên {b}")

    # --- roman numerals

    def _roman(self, text: str) -> str:
        if not _ROMAN_TOKEN_RE.search(text):
            return text
        text = ROMAN_LINE_RE.sub(self._roman_line, text)
        return ROMAN_CTX_RE.sub(self._roman_ctx, text)

    def _roman_outline(self, m: re.Match) -> str:
        v = roman_value(m.group(1))
        if v is None:
            return m.group(0)
        parts = [number_words(v)] + [number_words(int(d)) for d in m.group(2)[1:].split(".")]
        return rng(" chấm ".join(parts))

    def _roman_line(self, m: re.Match) -> str:
        v = roman_value(m.group(2))
        if v is None:
            return m.group(0)
        return m.group(1) + rng(number_words(v)) + "."

    def _roman_ctx(self, m: re.Match) -> str:
        key = m.group(1).lower()
        # Medals and prizes rank "nhất, nhì, ba"; grades of staff and places count.
        prize = key == "giải" or (
            key == "hạng" and _MEDAL_RE.search(m.string, max(0, m.start() - 60), m.start())
        )
        values = [roman_value(m.group(2))]
        items = _ROMAN_LIST_RE.findall(m.group(3) or "")
        values += [roman_value(r) for _, r in items]
        if any(v is None for v in values):
            return m.group(0)
        spoken = []
        for v in values:
            if key.endswith("thứ"):
                spoken.append(ordinal(v))
            elif prize and v in _PRIZE:
                spoken.append(_PRIZE[v])
            else:
                spoken.append(number_words(v))
        out = f"{m.group(1)} {rng(spoken[0])}"
        for (joiner, _), words in zip(items, spoken[1:]):
            joiner = joiner.strip()
            joiner = {"-": " đến", "–": " đến", ",": ","}.get(joiner, " " + joiner)
            out += f"{joiner} {rng(words)}"
        return out

    # --- ratios and quantities

    def _ratio(self, m: re.Match) -> str:
        s, start = m.string, m.start()
        a = read_numeral(m.group(1), self.english, amount=False)
        b = read_numeral(m.group(2), self.english, amount=False)
        prev = prev_word(s, start)
        if scale := map_scale(prev, m.group(1), m.group(2)):
            return rng(scale)
        if prev == "thứ" and m.group(1).isdigit():
            a = ordinal(int(m.group(1)))
        joiner = "trên"
        y1, y2 = m.group(1), m.group(2)
        if y1.isdigit() and y2.isdigit() and len(y1) == len(y2) == 4 and y1[:2] in ("19", "20"):
            if 0 < int(y2) - int(y1) <= 10:
                return rng(f"{a} đến {b}")  # "niên vụ 2024/2025", "năm học 2025/2026"
        following = next_word(s, m.end())
        # "còn 6/34 xã" counts communes: "sáu trên ba mươi tư xã", not a fraction.
        fraction = (
            prev in _FRACTION_PREV and following not in _COUNT_NOUNS
        ) or following in _FRACTION_NEXT or (m.group(1) == "1" and following in _PART_OF_NEXT) or (
            # "trên 2/3 đại biểu tán thành": a quorum is a share of the delegates
            following == "đại" and m.group(2) in ("2", "3", "4")
        )
        if fraction and m.group(1).isdigit() and m.group(2).isdigit():
            if 0 < int(m.group(1)) < int(m.group(2)) <= 100:
                joiner = "phần"
                if int(m.group(2)) == 4:
                    b = "tư"  # "ba phần tư"
        return rng(f"{a} {joiner} {b}")

    def _ratio_chain(self, m: re.Match) -> str:
        terms = [m.group(1), m.group(2), *m.group(3)[1:].split("/")]
        if int(terms[0]) <= 31 and int(terms[1]) <= 12:
            return m.group(0)  # "12/3/25": a date with its year cut short, not a rank
        words = [number_words(int(t)) for t in terms]
        if prev_word(m.string, m.start()) == "thứ":
            words[0] = ordinal(int(terms[0]))
        return rng(" trên ".join(words))

    def _ratio_unit(self, m: re.Match) -> str:
        a = read_numeral(m.group(1), self.english, amount=True)
        b = read_numeral(m.group(2), self.english, amount=True)
        return rng(f"{a} trên {b} {UNITS[m.group(3)]}")

    def _currency_prefix(self, m: re.Match) -> str:
        unit = {"US$": "đô la Mỹ", "$": "đô la", "€": "ơ rô"}[m.group(1)]
        return rng(f"{read_numeral(m.group(2), self.english)} {unit}")

    def _convention(self, m: re.Match) -> bool | None:
        """The separator convention for one number, from the document and the words around it."""
        raw = m.group(1)
        if self.english is False or raw.count(",") != 1 or "." in raw:
            return self.english
        s, start, end = m.string, m.start(), m.end()
        if _DECIMAL_NEXT_RE.match(s, end) or _DECIMAL_PREV_RE.search(s, max(0, start - 50), start):
            return False
        if _SCORE_NEXT_RE.match(s, end) and len(raw.split(",")[0]) >= 2:
            return False
        # "2,326 triệu người": 2.326 million people; in the English convention a count of
        # millions is never that large, and a decimal never ends in a zero ("2,600 tỷ").
        if self.english is None and not raw.endswith("0") and (
            _SCALE_NEXT_RE.match(s, end) or _MEASURE_NEXT_RE.match(s, end)
        ):
            return False
        # "ủng hộ đồng bào vùng lũ gần 3,257 tỷ đồng", "giá khởi điểm từ 1,543 - 2,192 tỷ đồng":
        # outside company results (where English commas appear) an amount in billions
        # is a few billion, never thousands of billions; the comma is a decimal comma.
        if self.english is None and not raw.endswith("0"):
            tail = _RANGE_TAIL_RE.match(s, end)
            if (_BILLION_NEXT_RE.match(s, end) or (tail and _BILLION_NEXT_RE.match(s, tail.end()))) and (
                _GIFT_RE.search(s) or not _COMPANY_MONEY_RE.search(s)
            ):
                return False
        if self.english is None and not raw.endswith("0") and _HUGE_NEXT_RE.match(s, end):
            return False
        return self.english

    def _unit(self, m: re.Match) -> str:
        unit = m.group(2)
        raw = m.group(1)
        if unit in _MEASURE_UNITS and _PADDED_ZEROS_RE.fullmatch(raw):
            # "4.00m" on a river gauge is said "bốn mét": the padding is the table's, not a value.
            return rng(f"{cardinal(raw[:-3])} {UNITS[unit]}")
        if raw.count(",") == 1 and (unit == "%" or (
            # "diện tích 1,235 ha": see _MEASURE_NEXT_RE
            unit in _MEASURE_UNITS and self.english is None and "." not in raw and not raw.endswith("0")
        )):
            english = False
        else:
            english = self._convention(m)
        number = read_numeral(m.group(1), english, amount=True)
        return rng(f"{number} {UNITS[unit]}")

    def _per_unit(self, m: re.Match) -> str:
        # "đồng/kg", "người/km²": 'per' is read "một" before the unit.
        unit = m.group(1)
        if unit in {"%", "đ", "k", "tr", "V", "W", "ngàn"}:
            return m.group(0)
        # A measure over a measure ("ml/kg", "tấn/ha") is a rate; a price is 'per' ("đồng/kg").
        before = m.string[max(0, m.start() - 16):m.start()].rstrip("\x02").rsplit(" ", 1)[-1]
        if unit in _PER_ONLY_UNITS and not (before.lower() in MEASURE_LEFT or before in UNITS):
            return m.group(0)
        joiner = " một " if before.lower() in _MONEY_LEFT else " trên "
        return joiner + fixed(UNITS.get(unit) or _PER_ONLY_UNITS[unit])

    def _decimal_letter(self, m: re.Match) -> str:
        frac, letter = (m.group(2), m.group(3)) if m.group(2) else (m.group(4), m.group(5))
        return rng(f"{decimal_words(m.group(1), frac)} {LETTER_NAMES[letter.lower()]}")

    def _height(self, m: re.Match) -> str:
        return rng(f"{cardinal(m.group(1))} mét {fraction_digits(m.group(2))}")

    def _per_count(self, m: re.Match) -> str:
        if m.group(1) == "1" and prev_word(m.string, m.start() + 1) in _MONEY_LEFT:
            # A price: only the slash goes, the "1" left is the "một" of "đồng một ki lô gam";
            # a rate keeps it ("mm/1 giờ" is "mi li mét trên một giờ").
            return " "
        return " trên "

    def _unit_after_scale(self, m: re.Match) -> str:
        return f"{m.group(1)}{m.group(2)}{m.group(3)}{UNITS.get(m.group(4), 'héc ta')}"

    def _number(self, m: re.Match) -> str:
        raw = m.group(1)
        s, start = m.string, m.start()
        if raw.isdigit():
            prev = prev_word(s, start)
            if prev == "thứ":
                return rng(ordinal(int(raw)))
            if prev == "tháng" and 1 <= int(raw) <= 12:
                return rng(month_name(int(raw)))
            return rng(cardinal(raw))
        amount = next_word(s, m.end()) in _SCALE_WORDS
        return rng(read_numeral(raw, self._convention(m), amount=amount))

    def _level_range(self, m: re.Match) -> str:
        s, start = m.string, m.start()
        before = _LEVEL_BEFORE_RE.search(s, max(0, s.rfind(RANGE_OPEN, 0, start) - 12), start)
        if not before or before.group(1).lower() != m.group(1).lower():
            return m.group(0)  # "cấp 3 - mức 2": two different scales, not a span
        return f"{RANGE_CLOSE} đến {m.group(1)}"

    def _range(self, m: re.Match) -> str:
        lead = m.group(1) or ""
        s = m.string
        before = s[s.rfind(RANGE_OPEN, 0, m.start()) + 1:m.start()]
        after = s[m.end():s.find(RANGE_CLOSE, m.end())]
        if " năm " in before and "giờ" in after and "giờ" not in before:
            # "18/12/2023 - 14:40": a page stamp, a date then the time it was posted.
            return f"{RANGE_CLOSE}, {lead}{RANGE_OPEN}"
        if _SCORE_PREV.search(m.string[max(0, m.start() - 40):m.start()]):
            return f"{RANGE_CLOSE} {lead}{RANGE_OPEN}"
        return f"{RANGE_CLOSE} đến {lead}{RANGE_OPEN}"
