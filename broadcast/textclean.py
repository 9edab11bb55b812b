"""Turn feed titles and descriptions into plain Vietnamese text fit to be read aloud."""

from __future__ import annotations

import html
import re
import unicodedata
from html.parser import HTMLParser
from urllib.parse import urlsplit

from broadcast.vitext import without_controls

# Elements whose text is never part of the story: image captions, scripts,
# embedded media, "read more" boxes.
SKIP_TAGS = {"script", "style", "figcaption", "noscript", "iframe", "object", "video",
             "audio", "svg", "button", "select", "template", "head", "title"}
BLOCK_TAGS = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
              "table", "tr", "td", "th", "blockquote", "section", "article", "figure",
              "header", "footer", "hr", "dd", "dt"}
VOID_TAGS = {"br", "img", "hr", "meta", "link", "input", "source", "wbr", "area", "col",
             "embed", "param", "track"}
SKIP_CLASSES = re.compile(r"caption|byline|author|credit|related|share|tags?\b", re.I)

# Zero-width and soft-hyphen characters, bidi and format controls (which can
# reorder what staff see in the script without changing what is read), and
# U+FFFD, the mark of a byte that could not be decoded: none of them is heard.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f\u202a-\u202e"
                        "\u2066-\u2069\u061c\u180e\ufffd]")
# UTF-8 Vietnamese read as windows-1252/1258: "Ä‘" for "đ", "áº£" for "ả",
# "Æ°" for "ư", "Ã¡" for "á". Real Vietnamese never has these pairs.
_MOJIBAKE = re.compile("(?:Ã[\u0080-\u00bf\u0152\u0153\u0160\u0161\u017d\u017e\u0192\u02c6\u02dc"
                       "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
                       "|Ä[\u2018\u2019\u0090\u0091\u0152\u0153\u00a8\u00a9]|Æ[\u00b0\u00a1\u00af\u00a0]"
                       "|á[\u00ba\u00bb][\u0080-\u00bf\u0152\u0153\u0160\u0161\u017d\u017e\u0192\u02c6"
                       "\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122])")
_SPACES = re.compile(r"[\s\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_TAG_LIKE = re.compile(r"<\s*/?\s*(?:a|img|p|br|div|span|strong|em|b|i|u|figure|figcaption|"
                       r"table|h[1-6]|ul|ol|li|font|iframe|video|script|style)\b[^<>]*>", re.I)
_ENTITY = re.compile(r"&(?:#\d{2,7}|#[xX][0-9a-fA-F]{2,6}|[A-Za-z][A-Za-z0-9]{1,30});")

# "(Chinhphu.vn) - ", "(PLVN) - ", "VOV.VN - ", "TTO - ", "Baodaklak.vn – ",
# "(Dân trí) - ", "ĐCSVN - ": the site's own name in front of the lead.
_SITE_PREFIX = re.compile(
    r"^\s*(?:"
    r"\(\s*[^()]{2,40}?\s*\)\s*[-–—:|]\s*"  # anything in brackets, then a dash
    r"|\(\s*[\w.-]{2,30}\.(?i:vn|com|net|org)\s*\)\s*"  # a domain in brackets
    r"|[\w.-]{2,30}\.(?i:vn|com|net|org)\s*[-–—:|]\s+"  # a domain then a dash
    r"|[A-ZĐ][A-ZĐ0-9]{1,7}(?:\.VN|O)?\s*[-–—]\s+"  # an acronym then a dash
    r")"
)
# Words that open a real lead in brackets, e.g. "(Ảnh: ...)" is a caption but
# "(Theo ...)" is a byline; both go. A bracket holding a date or place stays.
_CAPTION_BRACKET = re.compile(
    r"\s*\((?:\s*(?:Ảnh|Ảnh minh họa|Ảnh minh hoạ|Nguồn ảnh|Nguồn|Video|Clip|Đồ họa|Đồ hoạ|"
    r"Infographic|Theo|Tin|Bài và ảnh|Tin và ảnh|Tin, ảnh)\b[^()]{0,80})\)", re.I)
_CAPTION_SENTENCE = re.compile(
    r"(?:(?<=[.!?…])|^)\s*(?:[-–—]\s*)?(?:Ảnh|Ảnh minh họa|Ảnh minh hoạ|Nguồn ảnh|Đồ họa|Đồ hoạ|"
    r"Video|Clip|Infographic)\s*(?::[^.!?\n]{0,80}|\d{1,2})?\s*(?:[.!?]|$)", re.I)
# Only the media captions, for text staff wrote: "(theo Nghị định 118)" there is content.
_MEDIA_BRACKET = re.compile(
    r"\s*\((?:\s*(?:Ảnh|Ảnh minh họa|Ảnh minh hoạ|Nguồn ảnh|Video|Clip|Đồ họa|Đồ hoạ|Infographic)"
    r"\s*:[^()]{0,80})\)", re.I)
_BYLINE_TAIL = re.compile(
    r"(?:(?<=[.!?…”\"])|^)\s*(?:[-–—]\s*)?\(?(?:Theo\s+[^.!?(),:]{1,40}|"
    r"(?:Bài và ảnh|Tin và ảnh|Tin, ảnh|Bài, ảnh|Tin|Bài|Ảnh|Nguồn|Phóng viên)\s*:\s*[^.!?(),]{1,50}|"
    r"(?:Nhóm\s+)?(?:PV|CTV|BTV|P\.V)(?:\s*[-:]?\s*[^.!?(),]{1,30})?)\)?\s*\.?\s*$")
_READ_MORE = re.compile(r"\s*(?:>>|»)?\s*(?:Xem thêm|Đọc thêm|Xem chi tiết|Xem tiếp|Chi tiết)"
                        r"\s*(?::|>>|\.\.\.|…)[^\n]*$", re.I)
_VI_MARKS = re.compile(r"[àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ]",
                       re.I)


# The names outlets go by on air, by site: a feed's own title is a section
# ("Kinh tế - RSS Feed", "Thanh Nien RSS Kinh te"), not who wrote the news.
OUTLETS = {
    "baochinhphu.vn": "Báo Điện tử Chính phủ",
    "chinhphu.vn": "Cổng Thông tin điện tử Chính phủ",
    "nhandan.vn": "Báo Nhân Dân",
    "thanhnien.vn": "Báo Thanh Niên",
    "tuoitre.vn": "Báo Tuổi Trẻ",
    "vnexpress.net": "Báo điện tử VnExpress",
    "vietnamnet.vn": "Báo VietNamNet",
    "vtv.vn": "Đài Truyền hình Việt Nam",
    "vov.vn": "Đài Tiếng nói Việt Nam",
    "dantri.com.vn": "Báo Dân trí",
    "laodong.vn": "Báo Lao Động",
    "qdnd.vn": "Báo Quân đội nhân dân",
    "cand.com.vn": "Báo Công an nhân dân",
    "vietnamplus.vn": "Báo điện tử VietnamPlus",
    "vietnambiz.vn": "VietnamBiz",
    "vietstock.vn": "Vietstock",
    "baodaklak.vn": "Báo Đắk Lắk",
    "daklak.gov.vn": "Cổng Thông tin điện tử tỉnh Đắk Lắk",
    "moha.gov.vn": "Bộ Nội vụ",
}
_RSS_WORDS = re.compile(r"\bRSS(?:\s+Feeds?)?\b|\bFeeds?\s*$", re.I)


def outlet_name(channel_title: str, site: str = "") -> str:
    """The outlet to credit for a feed with no configured source: its known name by site, else its title.

    "https://baochinhphu.vn/kinh-te.rss" gives "Báo Điện tử Chính phủ"; an
    unknown site keeps its channel title without the words "RSS" and "Feed".
    """
    host = (urlsplit(site).hostname or "") if "://" in site else ""
    # Only the site itself: a department's sub-site ("snv.daklak.gov.vn") is not the province's portal.
    name = OUTLETS.get(re.sub(r"^(?:www|m)\.", "", host))
    if name:
        return name
    title = _RSS_WORDS.sub(" ", channel_title)
    return collapse_spaces(title).strip(" -–—|:") or collapse_spaces(channel_title)


class _Stripper(HTMLParser):
    """Collect text outside skipped elements; blocks become line breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[str] = []  # open elements we are skipping, by tag name
        self.skip_depth = 0

    def _skippable(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        if tag in SKIP_TAGS:
            return True
        for name, value in attrs:
            if name in ("class", "id") and value and SKIP_CLASSES.search(value):
                return True
        return False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID_TAGS:
            if tag in ("br", "hr"):
                self.parts.append("\n")
            return
        if self.skip_depth:
            self.stack.append(tag)
            self.skip_depth += 1
            return
        if self._skippable(tag, attrs):
            self.stack.append(tag)
            self.skip_depth = 1
            return
        if tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "hr"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_TAGS:
            if tag == "br" and not self.skip_depth:  # "</br>" as vietnamnet writes it
                self.parts.append("\n")
            return
        if self.skip_depth:
            # Close up to the matching open tag; stray end tags inside are ignored.
            if tag in self.stack:
                while self.stack:
                    self.skip_depth -= 1
                    if self.stack.pop() == tag:
                        break
            return
        if tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self.parts.append(data)


def strip_html(text: str) -> str:
    """Remove tags and decode entities; keep paragraph breaks as newlines."""
    if "<" not in text and "&" not in text:
        return text
    parser = _Stripper()
    try:
        parser.feed(text)
        parser.close()
    except Exception:  # HTMLParser is lenient, but never let one odd item stop a feed
        return html.unescape(re.sub(r"<[^>]*>", " ", text))
    return "".join(parser.parts)


def normalize_unicode(text: str) -> str:
    """NFC, no invisible or control characters, every space kind a plain space (newlines kept)."""
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    text = without_controls(text)  # a terminal or an XML writer must never meet them
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def damage(text: str) -> int:
    """How badly a text was decoded: undecodable bytes (U+FFFD) plus mojibake letters."""
    return text.count("\ufffd") + len(_MOJIBAKE.findall(text))


def collapse_spaces(text: str) -> str:
    """One plain space between words, no leading or trailing space."""
    return _SPACES.sub(" ", text).strip()


def decode_markup(text: str) -> str:
    """Strip HTML and entities, also when a feed escaped them twice (e.g. `&lt;img&gt;`, `&amp;#224;`)."""
    for _ in range(6):
        text = strip_html(text)
        if not (_TAG_LIKE.search(text) or _ENTITY.search(text)):
            break
    # An entity still left is unknown ("&nbspx;") or escaped more than six
    # times: it would be spelled out letter by letter, so it goes.
    return _ENTITY.sub(" ", text)


def strip_site_prefix(text: str) -> str:
    """Remove a leading site tag such as "(Chinhphu.vn) - " or "VOV.VN - "."""
    m = _SITE_PREFIX.match(text)
    if not m:
        return text
    rest = text[m.end():]
    # A bracket that is the whole text, or a bracket not followed by a lead, is content.
    if not rest.strip() or (m.group(0).rstrip().endswith(")") and rest[:1].islower()):
        return text
    return rest


def drop_captions(text: str) -> str:
    """Drop photo captions, "read more" tails and bylines from a lead."""
    text = _CAPTION_BRACKET.sub("", text)
    lines = []
    for line in text.split("\n"):
        line = _CAPTION_SENTENCE.sub(" ", line)
        line = _READ_MORE.sub("", line)
        lines.append(line)
    text = "\n".join(lines)
    prev = None
    while prev != text:  # a lead may end with a caption and then a byline
        prev = text
        text = _BYLINE_TAIL.sub("", text.rstrip())
    return text


def drop_media_captions(text: str) -> str:
    """Drop photo and video captions ("Ảnh: ...", "(Video: ...)") from text staff wrote; keep its lines."""
    lines = []
    for line in _MEDIA_BRACKET.sub("", text).split("\n"):
        kept = _CAPTION_SENTENCE.sub(" ", line)
        # Keep the line as written when nothing went: the sub above also respaces it.
        lines.append(line if kept.strip() == line.strip() else collapse_spaces(kept))
    return "\n".join(lines)


def clean_title(raw: str | None) -> str:
    """Title as one plain line."""
    if not raw:
        return ""
    text = decode_markup(normalize_unicode(raw))
    return collapse_spaces(normalize_unicode(text))


def is_placeholder(summary: str, title: str) -> bool:
    """True for filler descriptions: 'No Description', 'Noi dung tom tat.', or the title again."""
    s = summary.strip().rstrip(".…").strip().lower()
    if not s:
        return True
    if s == title.strip().rstrip(".").lower():
        return True
    if s in {"no description", "noi dung tom tat", "nội dung tóm tắt", "đang cập nhật",
             "null", "none", "undefined", "mô tả"}:
        return True
    # Unaccented Vietnamese filler next to an accented title is a template default.
    return len(s) < 40 and bool(_VI_MARKS.search(title)) and not _VI_MARKS.search(s)


def _is_name_line(line: str) -> bool:
    """A last paragraph of one to five capitalised words and no punctuation: a byline."""
    words = [w for w in line.split() if w not in ("-", "–", "—")]
    return (0 < len(words) <= 5 and all(w[0].isupper() and w.isalpha() for w in words))


def clean_summary(raw: str | None, title: str = "") -> str:
    """Lead as plain text: no HTML, captions, bylines or site prefix; empty when it is filler."""
    if not raw:
        return ""
    text = decode_markup(normalize_unicode(raw))
    text = normalize_unicode(text)
    # Lines first: captions and bylines are usually lines of their own.
    text = "\n".join(collapse_spaces(line) for line in text.split("\n"))
    lines = [line for line in text.split("\n") if line]
    if len(lines) > 1 and _is_name_line(lines[-1]):
        lines.pop()  # the author's name as the last paragraph
    text = "\n".join(lines)
    text = strip_site_prefix(text)
    text = drop_captions(text)
    text = collapse_spaces(text)
    text = strip_site_prefix(text)
    if title:
        t = collapse_spaces(title)
        # Some feeds repeat the title at the head of the description. Only a
        # title standing apart goes: when the lead goes on with it ("<title>,
        # yêu cầu ...") the title is the subject of the lead's first sentence.
        rest = text[len(t):]
        if len(t) > 15 and text.startswith(t) and len(text) > len(t) + 20 and re.match(r"\s*[.:\-–—|]", rest):
            text = rest.lstrip(" .:-–—|")
    if is_placeholder(text, title):
        return ""
    return text
