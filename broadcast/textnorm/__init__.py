"""Speakable Vietnamese: turn written administrative text into what a newsreader says.

normalize("Quyết định số 3478/QĐ-UBND ngày 10/12/2021") ->
"Quyết định số ba nghìn bốn trăm bảy mươi tám ngày mười tháng mười hai năm hai
nghìn không trăm hai mươi mốt"

Two passes. The first (rules.py) reads everything built from digits and symbols:
addresses, phone numbers, document numbers, dates, times, Roman numerals, ratios,
quantities, plain numbers. The second (words.py) reads words: the pronunciation
dictionary (abbreviations, place names, loanwords), unknown capitals spelled with
Vietnamese letter names, leftover symbols. Sentence punctuation stays so speech
engines pause.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Iterator

from broadcast.textnorm.explain import RULE_NAMES, Reading
from broadcast.textnorm.lexicon import Lexicon, load_lexicon, shipped_lexicon
from broadcast.textnorm.numerals import cardinal
from broadcast.textnorm.rules import FIXED_CLOSE, FIXED_OPEN, Rules, separator_convention
from broadcast.textnorm.words import (
    LETTER_NAMES,
    PROVINCES,
    WordPass,
    is_vietnamese_word,
    segment_syllables,
    spell,
)

__all__ = [
    "RULE_NAMES",
    "Lexicon",
    "Reading",
    "explain",
    "load_lexicon",
    "normalize",
    "normalize_lines",
    "unused_entries",
]

# Fraction characters, read before NFKC would turn "½" into a date-like "1/2".
_VULGAR = {"½": "một phần hai", "⅓": "một phần ba", "⅔": "hai phần ba", "¼": "một phần tư",
           "¾": "ba phần tư", "⅕": "một phần năm", "⅒": "một phần mười"}
_VULGAR_RE = re.compile("[" + "".join(_VULGAR) + "]")
_SPACES_RE = re.compile(r"[\t\u00a0\u2000-\u200a\u202f\u205f\u3000]")
_INVISIBLE_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200d\u2060\ufeff\u00ad]")
# A footnote mark glued to a word ("cần thiết[1].") or bracketed after it ("sinh sống ([1])").
_FOOTNOTE_RE = re.compile(r"(?<=[^\s\d(\[])\[\d{1,3}\]|(?<=[^\W\d_])\s?\(\[\d{1,3}\]\)")
_END_OF_DECREE_RE = re.compile(r"\./\.")
# Slash abbreviations of letters: đ/c (đồng chí), V/v (về việc), K/g (kính gửi), b/c (báo cáo).
_SLASH_ABBR_RE = re.compile(r"\b([ĐđVvKkBb])/([cvg]|(?<=[ĐVKB]/)[CVG])\b")
_SLASH_ABBR = {"đc": "đồng chí", "vv": "về việc", "kg": "kính gửi", "bc": "báo cáo"}
# Initials of a list joined by slashes: "cổng của B/N/ĐP" is "bộ, ngành, địa phương".
# "HIV/AIDS" names one epidemic: the slash is no "hoặc".
_SLASH_LIST_RE = re.compile(r"(?<![\w/])(B/N/ĐP|B/N|CQ/ĐV|HIV/AIDS)(?![\w/])")
_SLASH_LIST = {"B/N/ĐP": "bộ, ngành, địa phương", "B/N": "bộ, ngành", "CQ/ĐV": "cơ quan, đơn vị",
               "HIV/AIDS": "HIV AIDS"}
_OUTLINE_LETTER_RE = re.compile(r"(?m)^([ \t]*)([a-zđ])\)[ \t]+")
_OUTLINE_NUMBER_RE = re.compile(r"(?m)^([ \t]*)(\d{1,2})\)[ \t]+")
# Outline items "a) b) c) d) đ)" use the Vietnamese alphabet names, where d is "dê".
_OUTLINE_NAMES = {"d": "dê", "g": "gờ"}
# "(CCHC)", "(BCHPTDS)", and a pair written with a comma: "quốc phòng, an ninh (QP, AN)",
# "khiếu nại, tố cáo (KN,TC)".
_PAREN_ABBR_RE = re.compile(
    r"(?<![ \t])[ \t]*\(([A-ZĐ][\wĐđ&.\-]*[A-ZĐ0-9](?:, ?[A-ZĐ][\wĐđ&.\-]*[A-ZĐ0-9])?)\)"
)
# "dịch vụ công trực tuyến (DVC trực tuyến)": the abbreviation keeps some words of the phrase.
_PAREN_ABBR_TAIL_RE = re.compile(r"(?<![ \t])[ \t]*\(([A-ZĐ][A-ZĐ&]*[A-ZĐ]) ([^\W\d_]+(?: [^\W\d_]+){0,3})\)")
_WORDS_RE = re.compile(r"[^\W\d_]+")
_SIGNED_RE = re.compile(r"(?<=\()\s*([-−–+])(?=\d+(?:[.,]\d+)?\s?(?:%|°|độ))")
_NAME_PREFIX_RE = re.compile(r"(?<![\w'’])([HMY])['’][ \t]+(?=[A-ZĐ][a-zà-ỹđ])")
_CURLY_APOSTROPHE_RE = re.compile(r"(?<=[^\W\d_])’(?=[^\W\d_])")
# Picture and video notes are not read: "(ảnh)", "(Video)", "(Ảnh minh họa)", "(Ảnh: TTXVN)".
# So are sources and providers in brackets closing a line: "(Nguồn: NCHMF)",
# "(Video do Đài … cung cấp)", "(Ảnh chụp tại …)" (inside a sentence "(nguồn: …)" may carry the news).
_MEDIA_NOTE_RE = re.compile(
    r"[ \t]*\((?i:ảnh|hình|video|clip|ảnh minh họa|ảnh minh hoạ|ảnh tư liệu|ảnh chụp màn hình)"
    r"(?:[ \t]*:[^()\n]{0,80})?\)"
    r"|[ \t]*\((?:(?i:nguồn)[ \t]*:|(?i:ảnh|hình|video|clip)[ \t]+(?:do|của|chụp)[ \t])[^()\n]{1,80}\)"
    r"(?=[ \t.]*$)",
    re.M,
)
# A credit closing a line: "... bà con. Ảnh: Nguyễn Văn A", "- Ảnh: VGP/Nhật Bắc",
# "Tác giả: Hà Nam", "Nguồn tin: Doanh nghiệp & Tiếp thị", "Nguồn PLO: https://plo.vn/...".
_CREDIT_RE = re.compile(
    r"(?m)(^|[.!?…]|[ \t][-–—|]|[ \t](?=ẢNH[ \t]*:))[ \t]*"
    r"(?:(Ảnh|ẢNH|Video|VIDEO|Clip|Nguồn ảnh|Ảnh minh họa|Thực hiện|Trình bày)"
    r"|(Tác giả|Ảnh[ \t]*/[ \t]*[Nn]guồn|Nguồn(?: tin)?(?:[ \t]+[A-ZĐ][^\s:]*){0,3}))"
    r"[ \t]*:[ \t]*((?:https?://)?[^\n!?:|]{1,200}?)[ \t.|]*$"
)
# A media label opening a headline: "VIDEO: Đất đá sạt lở...", "Clip - Người dân...".
_MEDIA_LABEL_RE = re.compile(
    r"(?m)^[ \t]*(?:(?:VIDEO|Video|CLIP|Clip|INFOGRAPHIC|Infographic|PODCAST|Podcast|"
    r"E-MAGAZINE|E-magazine|Emagazine)[ \t]*[:|\-–]"
    r"|\[(?i:infographics?|video|clip|ảnh|podcast|e-?magazine|longform|megastory)\][ \t]*[:|\-–]?)"
    r"[ \t]*(?=[A-ZĐÀ-Ỹ])"
)
# A photo label standing alone or closing a line: "Ảnh minh họa.", "... trên biển. Ảnh tư liệu",
# "... độ tuổi. Ảnh KT" (an agency's initials without a colon).
_PHOTO_LABEL_RE = re.compile(
    r"(?m)(^|(?<=[.!?…]))[ \t]*(?:Ảnh|Hình) (?:minh (?:họa|hoạ)|tư liệu|chụp màn hình"
    r"|[A-ZĐ][A-ZĐ.]{1,9})[ \t.]*$"
    # The same label left between two sentences of a page: "… Covid-19. Ảnh tư liệu Ngày cao điểm…".
    r"|(?<=[.!?…])[ \t]*(?:Ảnh|Hình) (?:minh (?:họa|hoạ)|tư liệu)(?=[ \t]+[A-ZĐÀ-Ỹ])"
    # A source after a sentence without a colon: "… trực thuộc Trung ương. Ảnh. Báo Quảng Ninh".
    r"|(?<=[.!?…])[ \t]*Ảnh\.?[ \t]+(?:[A-ZĐ][^\s.!?,;:]*[ \t]*){1,5}$"
)
# A source after a dash without a colon: "… về dân cư - Ảnh google Play", "- Ảnh Thu Hà": only
# names and foreign words follow ("- Ảnh hưởng của bão", "- Ảnh Bác Hồ trong lòng dân" are read).
_DASH_PHOTO_RE = re.compile(r"(?m)[ \t]+[-–—][ \t]*Ảnh[ \t]+((?:[^\s.!?,;:]+[ \t]*){1,4})$")
# An outlet's tag opening a news line: "(PLO)- ", "(ĐN) - ", "(Chinhphu.vn) - ", "TTO - ",
# "HHTO - ", "(Baoquangngai)-", "(Thanh tra)- ", "(QT) - 6 tháng…", "(VOV5) -": the newsroom's signature, not part of the news. Bare tags are online outlets
# ("...O") or known agencies, so a line opening "CCHC - Cải cách..." is still read.
_OUTLET_LEAD_RE = re.compile(
    r"(?m)^[ \t]*(?:\((?:[A-ZĐ][A-Za-zĐđ]*[A-ZĐ][A-Za-zĐđ]*\d?|[A-Z][A-Za-z]+(?:\.[a-z]{2,3}){1,2}|Bao[a-z]{4,})\)"
    r"[ \t]*(?:[-–—:]|(?=[-–—:]?[ \t]*\d))?|\((?:Báo )?[A-ZĐ][^\W\d_]+(?: [^\W\d_]+){0,2}\)[ \t]*[-–—]|(?:[A-ZĐ]{1,5}O|[A-ZĐ]{2,6}\.(?:VN|vn)|TTXVN|VNA|GDVN|DNVN|[A-Z]{1,3}ĐT|VOV\d?|VTV\d?|VTC"
    r"|[A-ZĐ]{2,6}[ \t]Online)[ \t]+[-–—])[ \t]*(?=[A-ZĐÀ-Ỹ\"“]|\d+ (?:tháng|năm|ngày)|(?<=[-–—])\d|(?<=[-–—][ \t])\d)"
)
# A newspaper's short tag opening a line: "ĐBP - Ở các bản...", "GĐXH – Theo...", "BBK -Nhân...".
# Taken only when the dictionary does not know the letters ("CCHC - Cải cách..." is read).
_BARE_TAG_RE = re.compile(r"^[ \t]*([A-ZĐ]{2,5})[ \t]+[-–—][ \t]*(?=[A-ZĐÀ-Ỹ\"“])")
# A newspaper's name written as one unmarked word glued to a dash: "Kinhtedothi-Đối tượng…",
# "Laocaitv.vn - Dự báo…". Taken when it names a site (".vn") or splits into two or more syllables.
_ONLINE_TAG_RE = re.compile(r"^[ \t]*([A-ZĐ]{1,5}O)[-–—][ \t]*(?=[A-ZĐÀ-Ỹ\"“])")
_PLACES_UNMARKED = frozenset(
    "".join(ch for ch in unicodedata.normalize("NFD", name.lower().replace("đ", "d"))
            if ch.isascii() and ch != " ")
    for name in PROVINCES
)
_GLUED_TAG_RE = re.compile(r"^[ \t]*([A-Z][a-z]{4,}|[A-Z][a-z]+(\.vn))[ \t]*[-–—][ \t]*(?=[A-ZĐÀ-Ỹ\"“])")
# The same tag, or a reporter's initials ("N.M.U.", "V.V.M"), closing a line.
_OUTLET_TAIL_RE = re.compile(
    r"(?m)(?:(?<=[.!?…\"”])|^)[ \t]*(?:\((?:[A-ZĐ]{2,8}|[A-Z][A-Za-z]+\.vn)\)"
    r"|(?:[A-ZĐ]\.[ \t]?){1,3}[A-ZĐ]\.?)[ \t]*$"
)
# Page furniture around a date: an English label before it on portals ("Post date: 16/04/2023")
# and a link label ("... so với 2022.(đọc thêm)"). Neither is news.
_ENGLISH_DATE_LABEL_RE = re.compile(
    r"(?m)^[ \t]*(?:Post(?:ed)?(?: date| on)?|Published(?: on| date)?|Last updated|Updated(?: on)?)"
    r"[ \t]*:[ \t]*(?=\d)"
)
# The byline a site's software prints under a post: "quantri gửi vào T4, 2018-08-22 14:38".
_SUBMITTED_RE = re.compile(
    r"(?m)^[ \t]*[^\s,]+ gửi vào (?:T[2-7]|CN)[ \t]*,[ \t]*\d{4}-\d{2}-\d{2}[ \t]+\d{1,2}:\d{2}[ \t]*$"
)
_MORE_LINK_RE = re.compile(r"[ \t]*\((?i:đọc thêm|xem thêm|xem tiếp)\)")
# An English gloss after the Vietnamese term: "lướt ván buồm (windsurfing)", "thuê chuyến
# (charter)". A newsreader says the Vietnamese once and skips the gloss.
_GLOSS_RE = re.compile(r"(?<=[^\W\d_])[ \t]*\(([a-z]{4,}(?:[ -][a-z]{2,}){0,3})\)")
_LAST_WORD_RE = re.compile(r"([^\W\d_]+)[ \t]*$")
# "STK 1903 5678 901 234", "STK: 8600453686": the account number it introduces; "ống STK 168"
# (a zinc-coated steel pipe) keeps its letters.
_ACCOUNT_ABBR_RE = re.compile(r"(?<![\w.])(?:STK|Stk)(?=[ \t]*:?[ \t]*\d[\d .]{5,}\d)")
_LABEL_PLUS_RE = re.compile(r":[ \t]*\+[ \t]+(?=[\w(])")
_CREDIT_WORD_GATE_RE = re.compile(r"Ảnh|ẢNH|Video|VIDEO|Clip|Nguồn|Tác giả|Thực hiện|Trình bày")
_CREDIT_WORD_RE = re.compile(r"[^\s/,.\-–]+")
_CREDIT_URL_RE = re.compile(r"(?i)^(?:https?://)?[\w.-]+\.(?:vn|com|net|org)\b\S*$")

_SPACE_BEFORE_PUNCT_RE = re.compile(r"[ \t]+([.,;:?!])")
_COMMA_RUN_RE = re.compile(r",(?:[ \t]*,)+")
_COMMA_BEFORE_STOP_RE = re.compile(r",[ \t]*([.;:?!])")
_COMMA_AFTER_STOP_RE = re.compile(r"([.;:?!])(?:[ \t]*,)+")
_SPACE_AFTER_PUNCT_RE = re.compile(r"([,;:?!])(?=[^\W\d_])")
_MULTI_SPACE_RE = re.compile(r"[ \t]{2,}")
# "cấp huyện…là những": an ellipsis glued to the next word still pauses before it.
_ELLIPSIS_GLUED_RE = re.compile(r"(?<=\.\.\.)(?=[^\W\d_])")
_LONG_ELLIPSIS_RE = re.compile(r"\.{4,}")
_LEFTOVER_RE = re.compile(r"\d+|[/%&@]")
_LEFTOVER_WORDS = {"/": "", "%": "phần trăm", "&": "và", "@": "a còng"}
_LINE_LEAD_RE = re.compile(r"^[\s,;:.]+(?=\S)|^[\s,;:]+$")
_TRAILING = " \t\r\x0b\x0c,"


def normalize(text: str, lexicon: Lexicon | None = None) -> str:
    """Rewrite written Vietnamese as the words a reader would say, keeping sentence punctuation."""
    if not text:
        return ""
    lex = lexicon if lexicon is not None else shipped_lexicon()
    return _normalize(text, lex, WordPass(lex), None)


def explain(text: str, lexicon: Lexicon | None = None) -> list[Reading]:
    """Say, token by token, what `normalize` reads for `text` and which rule chose it."""
    lex = lexicon if lexicon is not None else shipped_lexicon()
    words = WordPass(lex)
    words.trace = []
    first_pass: dict[str, list[tuple[str, str]]] = {}
    words.first_pass = first_pass
    _normalize(text or "", lex, words, first_pass)
    return [
        Reading(written, _tidy(spoken), rule, unsure)
        for written, spoken, rule, unsure in words.trace
        if written.strip() or spoken.strip()
    ]


def _normalize(
    text: str, lex: Lexicon, words: WordPass, first_pass: dict[str, list[tuple[str, str]]] | None
) -> str:
    if not text:
        return ""
    text = _preclean(text)
    # The separator convention (2,600 vs 2.600) is a property of the whole document;
    # everything else is read line by line, which keeps long documents linear.
    english = separator_convention(text)
    numbers = lex.numbers_pattern()
    out = []
    # Abbreviations a paragraph defines in brackets stay defined for the paragraphs after it.
    defined: dict[str, str] = {}
    for line in text.split("\n"):
        if line.strip():
            if line.lstrip()[:1].isupper():
                line = _drop_bare_tag(line, lex)
            line = _drop_redundant_abbreviations(line, lex, defined)
            if numbers is not None:
                # A station's "113" or "Đề án 06" wins over the digit rules.
                line = numbers.sub(lambda m: _dictionary_number(m, lex, first_pass), line)
            line = Rules(english, words.address_label, first_pass).run(line)
            line = words.run(line)
        out.append(line)
    return _tidy("\n".join(out))


def _drop_bare_tag(line: str, lex: Lexicon) -> str:
    """Drop a newspaper's tag opening a line ("ĐBP - "), unless the dictionary reads those letters."""
    m = _BARE_TAG_RE.match(line)
    if m is None:
        o = _ONLINE_TAG_RE.match(line)
        if o is not None and lex.get(o.group(1)) is None:
            return line[o.end():]  # "LSO-Sáng nay…": an online paper's tag glued to its dash
        g = _GLUED_TAG_RE.match(line)
        if g is not None and (g.group(2) or _is_glued_outlet(g.group(1), lex)):
            return line[g.end():]
        return line
    hit = lex.get(m.group(1))
    if hit is not None and (len(m.group(1)) > 2 or hit != spell(m.group(1))):
        # A two-letter entry that only spells its letters ("BT" is "bê tê") says nothing the
        # tag does not: "BT - Cuối tuần qua…" is Báo Bình Thuận's signature. Longer ones
        # ("PCI - Chỉ số…", "BIDV - …") open the news.
        return line
    after = _WORDS_RE.match(line, m.end())
    if after is not None and lex.get(f"{m.group(1)}-{after.group(0)}") is not None:
        return line  # "KT - XH tăng trưởng…": one abbreviation written with a spaced dash
    return line[m.end():]


def _is_glued_outlet(word: str, lex: Lexicon) -> bool:
    """Say whether an unmarked word opening a line before a dash is an outlet's name."""
    said = lex.get(word)
    if said is not None and said.startswith("Báo "):
        return True
    low = word.lower()
    if low in _PLACES_UNMARKED:
        return False  # "Quangnam - Đà Nẵng": places, read
    parts = segment_syllables(low)
    return bool(parts) and len(parts) >= 2


def unused_entries(lexicon: Lexicon, texts: Iterable[str]) -> list[str]:
    """Normalise `texts` and return the station's dictionary entries that matched nothing."""
    with lexicon.track() as hits:
        for text in texts:
            normalize(text, lexicon)
    return [key for key in lexicon.overrides if not lexicon.was_used(key, hits)]


def _dictionary_number(
    m: re.Match, lex: Lexicon, first_pass: dict[str, list[tuple[str, str]]] | None
) -> str:
    spoken = lex.get(" ".join(m.group(0).split()))
    if spoken is None:
        return m.group(0)
    if first_pass is not None:
        first_pass.setdefault(spoken, []).append(("dictionary", m.group(0)))
    return FIXED_OPEN + spoken + FIXED_CLOSE


def normalize_lines(lines: Iterable[str], lexicon: Lexicon | None = None) -> Iterator[str]:
    """Normalise each line on its own, yielding exactly one output line per input line."""
    for line in lines:
        yield normalize(line, lexicon).replace("\n", " ")


def _preclean(text: str) -> str:
    # NFKC, not just NFC: it also turns "m²" into "m2", full-width digits into ASCII
    # and "…" into "...", while Vietnamese letters come out as in NFC.
    if not text.isascii():
        text = _VULGAR_RE.sub(lambda m: f" {_VULGAR[m.group(0)]} ", text)
        text = unicodedata.normalize("NFKC", text).replace("⁄", "/")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SPACES_RE.sub(" ", text)
    if "Ð" in text or "ð" in text:
        # Some pages type the Icelandic eth for Đ ("Ðinh Dậu"); Vietnamese never uses it.
        text = text.replace("Ð", "Đ").replace("ð", "đ")
    if "(" in text:
        # "(-18,74%)", "(+12,41%)": a signed change, said "âm"/"cộng".
        text = _SIGNED_RE.sub(_signed, text)
    if "’" in text or "'" in text:
        # "Cư M’gar" is the dictionary's "Cư M'gar": a curly apostrophe inside a name.
        text = _CURLY_APOSTROPHE_RE.sub("'", text)
        # "chị H’ Rút": an Ê Đê name's prefix set apart from the name, said "Hơ".
        text = _NAME_PREFIX_RE.sub(r"\1ơ ", text)
    # Control characters go, and with them any stray sentinel the passes rely on.
    text = _INVISIBLE_RE.sub("", text)
    if "[" in text:
        text = _FOOTNOTE_RE.sub("", text)
    if "/" in text:
        text = _END_OF_DECREE_RE.sub(".", text)
        text = _SLASH_ABBR_RE.sub(_slash_abbr, text)
        if "B/N" in text or "CQ/" in text or "HIV/" in text:
            text = _SLASH_LIST_RE.sub(lambda m: _SLASH_LIST[m.group(1)], text)
    if "STK" in text or "Stk" in text:
        text = _ACCOUNT_ABBR_RE.sub(_account_abbr, text)
    if "+ " in text:
        # "Điện thoại: + 0235…", "Email: + abc@…": a list mark, not a plus to read.
        text = _LABEL_PLUS_RE.sub(": ", text)
    if "(" in text:
        text = _MEDIA_NOTE_RE.sub("", text)
        if "thêm)" in text or "tiếp)" in text:
            text = _MORE_LINK_RE.sub("", text)
        text = _GLOSS_RE.sub(_gloss, text)
    if " gửi vào " in text:
        text = _SUBMITTED_RE.sub("", text)
    if ":" in text and ("Post" in text or "ublished" in text or "pdated" in text):
        text = _ENGLISH_DATE_LABEL_RE.sub("", text)
    if "Ảnh" in text or "Hình " in text:
        text = _PHOTO_LABEL_RE.sub("", text)
        if "- Ảnh " in text or "– Ảnh " in text:
            text = _DASH_PHOTO_RE.sub(_dash_photo, text)
    if "-" in text or "(" in text or "–" in text:
        text = _OUTLET_LEAD_RE.sub("", text)
    end = text.rstrip()[-2:]
    if "\n" in text or end[-1:] == ")" or end[-1:].isupper() or end[:1].isupper():
        text = _OUTLET_TAIL_RE.sub("", text)
    if ":" in text and _CREDIT_WORD_GATE_RE.search(text):
        text = _CREDIT_RE.sub(_credit, text)
    if ("V" in text or "C" in text or "I" in text or "P" in text or "E" in text or "[" in text) and _MEDIA_LABEL_RE.search(text):
        text = _MEDIA_LABEL_RE.sub("", text)
    if ")" not in text:
        return text
    text = _OUTLINE_LETTER_RE.sub(_outline_item, text)
    return _OUTLINE_NUMBER_RE.sub(_outline_item, text)


def _dash_photo(m: re.Match) -> str:
    words = m.group(1).split()
    named = all(w[0].isupper() or (w.isascii() and not is_vietnamese_word(w)) for w in words)
    return "" if named else m.group(0)


def _account_abbr(m: re.Match) -> str:
    before = m.string[:m.start()].rstrip(" \t")
    return "Số tài khoản" if not before or before[-1] in ".!?\n" else "số tài khoản"


def _gloss(m: re.Match) -> str:
    # Only after a Vietnamese word, and only when the bracket is not itself Vietnamese
    # written without marks ("(tam thoi)").
    before = _LAST_WORD_RE.search(m.string, 0, m.start())
    if before is None or before.group(1).isascii():
        return m.group(0)
    words = m.group(1).replace("-", " ").split()
    if all(is_vietnamese_word(w) for w in words):
        return m.group(0)
    return ""


def _signed(m: re.Match) -> str:
    return "cộng " if m.group(1) == "+" else "âm "


def _credit(m: re.Match) -> str:
    # Only names are a credit; "Ảnh: lãnh đạo tỉnh thăm bà con" is a caption and is read.
    body = m.group(4)
    words = _CREDIT_WORD_RE.findall(body)
    if m.group(2):
        if words and words[-1] == "phát":
            words = words[:-1]  # "Ảnh: TTXVN phát": the agency distributed the photo
        named = 0 < len(words) <= 6 and all(w[:1].isupper() or w[:1].isdigit() for w in words)
    else:
        # A source or author: a link, or a name that may hold small words
        # ("Doanh nghiệp & Tiếp thị"), never a sentence ("Nguồn: theo báo cáo của xã").
        named = bool(_CREDIT_URL_RE.match(body.strip())) or (
            0 < len(words) <= 8 and words[0][:1].isupper() and len(body) <= 60
        )
    if not named:
        return m.group(0)
    return m.group(1) if m.group(1).strip() not in "-–—|" else ""


def _outline_item(m: re.Match) -> str:
    # "a) ", "2) " at the start of a line: say the letter or number, then pause.
    mark = m.group(2)
    words = cardinal(mark) if mark.isdecimal() else _OUTLINE_NAMES.get(mark, LETTER_NAMES[mark])
    return f"{m.group(1)}{FIXED_OPEN}{words}{FIXED_CLOSE}, "


def _slash_abbr(m: re.Match) -> str:
    words = _SLASH_ABBR.get((m.group(1) + m.group(2)).lower())
    if words is None:
        return m.group(0)
    return words[0].upper() + words[1:] if m.group(1).isupper() else words


def _drop_redundant_abbreviations(
    text: str, lex: Lexicon, defined: dict[str, str] | None = None
) -> str:
    """Drop "(CCHC)" after "cải cách hành chính": read aloud it would only repeat the words.

    An abbreviation defined this way and used again later ("... Ban Chỉ huy Phòng thủ dân
    sự (BCHPTDS) ... BCHPTDS họp") is read with the words it stood for; `defined` carries
    such definitions from one line of a document to the next.
    """
    if defined is None:
        defined = {}
    if "(" not in text:
        return _expand_defined(text, defined) if defined else text

    def repl(m: re.Match) -> str:
        abbr = m.group(1)
        if sum(ch.isupper() for ch in abbr) < 2:
            return m.group(0)
        before = _WORDS_RE.findall(text[max(0, m.start() - 200):m.start()].lower())
        how = _restated_by(abbr, before, lex)
        if how == "initials" and lex.get(abbr) is None:
            letters = sum(ch.isalpha() for ch in abbr)
            defined[abbr] = _phrase_before(text, m.start(), letters, "&" in abbr)
        if how is None:
            rest = _rest_of_expansion(abbr, before, lex)
            if rest:
                # "căn cước (CCCD)": the words before begin the name; say it whole, once.
                return " " + rest
        return "" if how else m.group(0)

    text = _PAREN_ABBR_RE.sub(repl, text)
    if "(" in text:
        text = _PAREN_ABBR_TAIL_RE.sub(lambda m: _drop_if_restated(m, lex), text)
    return _expand_defined(text, defined) if defined else text


def _restated_by(abbr: str, before: list[str], lex: Lexicon) -> str | None:
    """Say how the words before an abbreviation spell it out: "expansion", "initials" or not at all."""
    expansion = _expansion(abbr, lex)
    if expansion:
        spoken = _WORDS_RE.findall(expansion.lower())
        if spoken and before[-len(spoken):] == spoken:
            return "expansion"
    letters = [ch.lower() for ch in abbr if ch.isalpha()]
    candidates = [w for w in before if w != "và"] if "&" in abbr else before
    if len(letters) >= 2 and len(candidates) >= len(letters):
        if [w[0] for w in candidates[-len(letters):]] == letters:
            return "initials"
    return None


def _rest_of_expansion(abbr: str, before: list[str], lex: Lexicon) -> str | None:
    """The words of an abbreviation's reading left after the words before it began it, or None.

    "căn cước (CCCD)" -> "công dân": at least two words must open the reading.
    """
    expansion = _expansion(abbr, lex)
    if not expansion:
        return None
    spoken = expansion.split()
    words = [w.lower() for w in spoken]
    for k in range(len(words) - 1, 1, -1):
        if before[-k:] == _WORDS_RE.findall(" ".join(words[:k])):
            return " ".join(spoken[k:])
    return None


def _drop_if_restated(m: re.Match, lex: Lexicon) -> str:
    """Drop "(DVC trực tuyến)" when the words before it say exactly that."""
    tail = _WORDS_RE.findall(m.group(2).lower())
    before = _WORDS_RE.findall(m.string[max(0, m.start() - 200):m.start()].lower())
    if before[-len(tail):] != tail or not _restated_by(m.group(1), before[:-len(tail)], lex):
        return m.group(0)
    return ""


def _expand_defined(text: str, defined: dict[str, str]) -> str:
    for abbr, phrase in defined.items():
        if abbr in text:
            text = re.sub(rf"(?<![\w&.\-]){re.escape(abbr)}(?![\w&\-])", phrase, text)
    return text


def _phrase_before(text: str, end: int, n_words: int, skip_and: bool) -> str:
    """The last `n_words` words before `end` as written (not counting "và" when `skip_and`)."""
    words = list(_WORDS_RE.finditer(text, max(0, end - 200), end))
    count = 0
    for w in reversed(words):
        if not (skip_and and w.group(0).lower() == "và"):
            count += 1
        if count == n_words:
            return text[w.start():words[-1].end()]
    return text[words[0].start():words[-1].end()] if words else ""


def _expansion(abbr: str, lex: Lexicon) -> str | None:
    hit = lex.get(abbr)
    if hit is not None:
        return hit
    parts = [p for p in re.split(r"[.\-]|, ?", abbr) if p]
    if len(parts) < 2:
        return None
    spoken = [lex.get(p) for p in parts]
    if any(s is None for s in spoken):
        return None
    return " ".join(spoken)  # type: ignore[arg-type]


def _leftover(s: str) -> str:
    if s[0].isdecimal():
        return cardinal(s)
    return _LEFTOVER_WORDS.get(s, "")


def _tidy(text: str) -> str:
    text = _SPACE_BEFORE_PUNCT_RE.sub(r"\1", text)
    text = _COMMA_RUN_RE.sub(",", text)
    text = _COMMA_BEFORE_STOP_RE.sub(r"\1", text)
    text = _COMMA_AFTER_STOP_RE.sub(r"\1", text)
    text = _SPACE_AFTER_PUNCT_RE.sub(r"\1 ", text)
    if "..." in text:
        text = _ELLIPSIS_GLUED_RE.sub(" ", text)
        if "...." in text:
            text = _LONG_ELLIPSIS_RE.sub("...", text)  # "như sau...”." once the quote is gone
    text = _MULTI_SPACE_RE.sub(" ", text)
    lines = [_LINE_LEAD_RE.sub("", line).rstrip(_TRAILING) for line in text.split("\n")]
    out = "\n".join(lines)
    if _LEFTOVER_RE.search(out):
        # Safety net: no rule should leave these, but an engine must never see them.
        out = _LEFTOVER_RE.sub(lambda m: f" {_leftover(m.group(0))} ", out)
        out = _MULTI_SPACE_RE.sub(" ", out).strip(" ")
    # Sentinels must never reach a speech engine.
    return out.translate({1: None, 2: None, 3: None, 4: None, 5: None})
