"""Bulletin scripts: render from Jinja2 templates, read back what staff edited."""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.loaders import split_template_path
from jinja2.sandbox import SandboxedEnvironment

from broadcast.errors import TemplateError
from broadcast.fsutil import MAX_SETTINGS_BYTES, MAX_STAFF_TEXT_BYTES, read_staff_text, resolved_inside
from broadcast.lunar import to_lunar, year_name
from broadcast.models import Candidate, Segment
from broadcast.numbers import date_words

log = logging.getLogger(__name__)

MAIN_TEMPLATE = "ban-tin.txt.j2"
KINDS = {"mở đầu": "greeting", "tin": "item", "thông điệp": "standing",
         "thông báo": "notice", "kết thúc": "closing"}
# A section header is one of the known labels (optionally numbered) in square
# brackets at the start of a line. Any other bracketed text is read as text,
# so nothing a feed writes can open a section.
HEADER = re.compile(r"^\[\s*(" + "|".join(KINDS) + r")(?:\s+(\d{1,3}))?\s*\]\s*(.*)$", re.IGNORECASE)
# Labels that news sites put before or after a title: never read aloud.
MEDIA_TAG = re.compile(
    r"^\s*(?:[\[(]\s*(?:infographics?|video|clip|ảnh|photo|photos|audio|podcast|emagazine|e-magazine|"
    r"longform|megastory|trực tiếp|live|interactive|tin ảnh|phóng sự ảnh|chùm ảnh|đồ họa|đồ hoạ)\s*[\])]"
    r"\s*[:\-–—|]?\s*)+", re.IGNORECASE)
TRAILING_TAG = re.compile(
    r"\s*[\[(]\s*(?:infographics?|video|clip|ảnh|photo|audio|podcast|trực tiếp|live)\s*[\])]\s*$",
    re.IGNORECASE)


def bundled_templates() -> Path:
    """Folder of the templates shipped with the package (scripts_vi/)."""
    return Path(str(resources.files("broadcast.scripts_vi")))


def search_path(station_templates: Path | None) -> list[Path]:
    """The station's own folder first, then the bundled scripts_vi/."""
    paths = [station_templates] if station_templates else []
    return paths + [bundled_templates()]


# Local government units a station can serve, longest first ("thị trấn" before a bare word).
UNITS = ("thị trấn", "đặc khu", "phường", "xã")
# What may already end a sentence: a title that asks ("...diễn ra?") must not become "diễn ra?.".
_SENTENCE_END = re.compile(r"(?:[.!?…]|\.\.\.)[\"”’)»]*$")


# Public holidays (Labour Code 2019, no. 45/2019/QH14, art. 112(1)), as a greeting names them.
HOLIDAYS = {
    (1, 1): "ngày Tết Dương lịch",
    (30, 4): "ngày Giải phóng miền Nam, thống nhất đất nước",
    (1, 5): "ngày Quốc tế Lao động",
    (2, 9): "ngày Quốc khánh nước Cộng hòa xã hội chủ nghĩa Việt Nam",
}
# National Day is two days off: 2 September "and one day next to it, before or after" (art. 112(1)(đ)).
# Which one is decided each year for the civil service, and a greeting names only a decided day:
# 2023 Friday 1/9 and 2024 Tuesday 3/9 (the Ministry of Labour's announcements), 2025 Monday 1/9 (the
# Ministry of Home Affairs, August 2025), 2026 Tuesday 1/9 (Government Office letter 9859/VPCP-KGVX of
# 13 October 2025, on the Ministry of Home Affairs' proposal 8764/BNV-CVL). Add a year when it is announced.
NATIONAL_DAY_SECOND = {2023: 1, 2024: 3, 2025: 1, 2026: 1}
TET_DAYS = ("Một", "Hai", "Ba", "Bốn", "Năm")


def national_day_table_warning(day: dt.date) -> str:
    """A warning when `day` is in a year after the last one NATIONAL_DAY_SECOND knows, else ''."""
    last = max(NATIONAL_DAY_SECOND)
    if day.year <= last:
        return ""
    return (f"Bảng ngày nghỉ Quốc khánh thứ hai chỉ có đến năm {last}, chưa có năm {day.year}: lời chào sẽ không "
            "nhắc ngày nghỉ đó. Khi Chính phủ công bố ngày nghỉ (thường vào quý IV năm trước), hãy cập nhật "
            "broadcast hoặc thêm năm đó vào bảng NATIONAL_DAY_SECOND theo mục \"Chạy tự động hằng đêm\" trong README.")


def holiday(day: dt.date) -> str:
    """The holiday on a date, as said in a greeting ('ngày Quốc tế Lao động', 'mùng Một Tết Nguyên đán Bính Ngọ'), or ''.

    Besides the solar holidays: the second day off of National Day where it is
    known, the last day of the lunar year and the first five days of Tết, and
    Giỗ Tổ Hùng Vương (10th day of the 3rd lunar month), on Vietnam's lunar calendar.
    """
    if (day.day, day.month) in HOLIDAYS:
        return HOLIDAYS[(day.day, day.month)]
    if day.month == 9 and NATIONAL_DAY_SECOND.get(day.year) == day.day:
        return "ngày nghỉ lễ Quốc khánh nước Cộng hòa xã hội chủ nghĩa Việt Nam"
    try:
        moon, tomorrow = to_lunar(day), to_lunar(day + dt.timedelta(days=1))
    except ValueError:  # outside the years the calendar is computed for
        return ""
    if (tomorrow.month, tomorrow.day, tomorrow.leap) == (1, 1, False):
        return f"ngày cuối cùng của năm {year_name(moon.year)}"
    if moon.month == 1 and not moon.leap and moon.day <= len(TET_DAYS):
        return f"mùng {TET_DAYS[moon.day - 1]} Tết Nguyên đán {year_name(moon.year)}"
    if (moon.month, moon.day, moon.leap) == (3, 10, False):
        return "ngày Giỗ Tổ Hùng Vương, mùng Mười tháng Ba âm lịch"
    return ""


def end_sentence(text: str) -> str:
    """Close a line of text as a sentence: add a full stop unless it already ends like one."""
    text = str(text).rstrip()
    if not text or _SENTENCE_END.search(text):
        return text
    # A title cut at a colon or comma ("Thông báo:") ends there.
    return text.rstrip(",;:–—- ") + "."


def join_and(names: list[str]) -> str:
    """'A', 'A và B', 'A, B và C': a list as a sentence says it."""
    names = [str(n) for n in names if str(n).strip()]
    if len(names) <= 2:
        return " và ".join(names)
    return ", ".join(names[:-1]) + " và " + names[-1]


def station_place(commune: str, name: str = "") -> tuple[str, str]:
    """The unit and the place a station serves: ('xã', 'xã Ea Kao'); ('', '') for a province-wide station.

    Read from `commune` ("phường Tân Lập"), else from the station's name
    ("Đài truyền thanh thị trấn Ea Drăng").
    """
    for text in (commune, name):
        words = " ".join(str(text).split())
        lower = words.lower()
        for unit in UNITS:
            # The unit is said in lower case mid-sentence: "... hành chính công phường Tân Lập".
            if lower.startswith(unit + " "):
                return unit, unit + words[len(unit):]
            at = lower.find(f"truyền thanh {unit} ")
            if at >= 0:
                return unit, unit + words[at + len("truyền thanh ") + len(unit):]
        if words:
            return "", ""
    return "", ""


def slot_label(time: str) -> str:
    """'06:00' -> 'buổi sáng'."""
    hour = int(time.split(":")[0])
    if hour < 11:
        return "buổi sáng"
    if hour < 14:
        return "buổi trưa"
    if hour < 18:
        return "buổi chiều"
    return "buổi tối"


@dataclass
class ScriptContext:
    """Everything a template can use."""

    station_name: str
    date: dt.date
    items: list[Candidate]
    standing: str
    notices: list = field(default_factory=list)  # messages.Notice, or plain strings
    slot_time: str = ""
    commune: str = ""
    province: str = ""
    phone: str = ""
    one_stop: str = ""


def clean_feed_text(text: str) -> str:
    """Make feed text safe to put in a script: one line, no media labels, no leading '[' or '#'.

    Feed text is data: it must never open a section, become a note or
    forge a source line.
    """
    # Control characters (a bell, an escape) are never speech: drop them first.
    text = "".join(ch for ch in str(text) if ch in "\t\n" or unicodedata.category(ch) != "Cc")
    text = " ".join(text.split())
    previous = None
    while previous != text:
        previous = text
        text = MEDIA_TAG.sub("", text)
        text = TRAILING_TAG.sub("", text)
        # Any other short bracketed label in front ("[tin 9]", "[Độc quyền]") is a label, not news.
        text = re.sub(r"^\[[^\]]{0,40}\]\s*[:\-–—|]?\s*", "", text)
        text = text.lstrip("#[] \t").strip()
    return text


def _notice_dict(n) -> dict:
    from broadcast.bulletin import PRIORITY_LABELS

    if isinstance(n, str):
        return {"text": clean_feed_text(n), "priority": "normal", "priority_label": PRIORITY_LABELS["normal"]}
    return {"text": clean_feed_text(n.text), "priority": n.priority,
            "priority_label": PRIORITY_LABELS.get(n.priority, "")}


class _TemplateLoader(jinja2.BaseLoader):
    """Templates from a search path, read only from regular files of sensible size."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths

    def get_source(self, environment: jinja2.Environment, template: str):  # type: ignore[override]
        pieces = split_template_path(template)  # refuses "..": templates stay in their folders
        for i, folder in enumerate(self.paths):
            path = Path(folder).joinpath(*pieces)
            if not path.exists():
                continue
            # Staff write into their station's folder (often a share): a link there may point at another
            # template of the folder, never at a file of the server, which would be read on air.
            real = resolved_inside(path, folder)
            if real is None:
                raise TemplateError(f"Mẫu kịch bản {path} là liên kết tới tệp ngoài thư mục mẫu {folder}: "
                                    "không đọc. Hãy chép nội dung mẫu vào một tệp thật trong thư mục đó.")
            # Staff edit templates too: the same encodings and limits as their scripts.
            text = read_staff_text(real, "mẫu kịch bản", MAX_SETTINGS_BYTES, TemplateError, follow=False)
            mtime = path.stat().st_mtime
            # Stale when edited, or when a folder earlier in the path now has its own copy.
            earlier = [Path(f).joinpath(*pieces) for f in self.paths[:i]]
            return text, str(path), lambda: _mtime(path) == mtime and not any(p.exists() for p in earlier)
        raise jinja2.TemplateNotFound(template)


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


# Loop turns and calls one rendering may make. The bundled bulletin takes a few
# dozen; loops inside loops that write nothing would otherwise run for hours.
MAX_TEMPLATE_STEPS = 100_000


class _TooMuchWork(SecurityError):
    """A template went past MAX_TEMPLATE_STEPS loop turns and calls."""


# The steps left to the rendering under way in this thread (the desk renders in several at once).
_steps_left: contextvars.ContextVar[list[int]] = contextvars.ContextVar("template_steps")


def _step() -> None:
    left = _steps_left.get(None)
    if left is None:
        return  # only render_script renders station templates, and it always sets a budget
    left[0] -= 1
    if left[0] < 0:
        raise _TooMuchWork(f"hơn {MAX_TEMPLATE_STEPS} bước")


def _counted(iterable):  # type: ignore[no-untyped-def]
    """Yield what a template loop walks over, one step per turn."""
    for item in iterable:
        _step()
        yield item


class _Sandbox(SandboxedEnvironment):
    """Jinja2's sandbox, plus limits on '*' and '**' (memory) and on loop turns and calls (time)."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def compile(self, source, name=None, filename=None, raw=False, defer_init=False):  # type: ignore[no-untyped-def, override]
        # Every {% for %} walks its sequence through _counted, whatever the sequence is: a range, a
        # string, a list the template built. Done on the parsed tree so no template can leave it out.
        if isinstance(source, str):
            source = self.parse(source, name, filename)
            for loop in source.find_all(nodes.For):
                loop.iter = nodes.Call(nodes.ImportedName(f"{__name__}._counted"), [loop.iter], [], None, None,
                                       lineno=loop.lineno)
        return super().compile(source, name, filename, raw, defer_init)

    def call(__self, __context, __obj, *args, **kwargs):  # type: ignore[no-untyped-def, override]  # noqa: N805
        # Macros calling macros need no loop to take exponential time: each call is a step too.
        _step()
        if isinstance(getattr(__obj, "__self__", None), str):
            _check_str_method(__obj.__self__, __obj.__name__, args)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value):  # type: ignore[no-untyped-def]
        # Jinja hands templates its own wrapper of str.format: check the format before it runs.
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _check_format(value.__self__)
        return wrapped

    def call_binop(self, context, operator, left, right):  # type: ignore[no-untyped-def]
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > 64:
            raise SecurityError("số mũ quá lớn")
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and _size(seq) * n > MAX_STAFF_TEXT_BYTES:
                    raise SecurityError("chuỗi quá dài")
        if operator == "%" and isinstance(left, str):
            _check_format(left)
        return super().call_binop(context, operator, left, right)


# One operation of a template must not make a string bigger than a script may be: Jinja's sandbox
# bounds neither a format's width ("%999999999s", "{:>999999999}") nor what padding, replacing
# or joining make, and each would allocate it in one step, before any size check.
MAX_FORMAT_WIDTH = 999
_PERCENT_WIDTH_RE = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d{4,}|\d*\.(?:\*|\d{4,}))")
_BRACE_WIDTH_RE = re.compile(r"\{[^{}]*:[^{}]*?(?:\d{4,}|\{)")


def _size(value: object) -> int:
    """Characters a sequence stands for: a list's strings count by their length."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, (list, tuple)):
        return sum(len(v) if isinstance(v, str) else 1 for v in value)
    return 1


def _check_format(fmt: str) -> None:
    if _PERCENT_WIDTH_RE.search(fmt) or _BRACE_WIDTH_RE.search(fmt):
        raise SecurityError("độ rộng định dạng quá lớn")


def _check_growth(text: str, method: str, args: tuple) -> None:
    """Refuse padding, replacing or joining that would make a string past the script's size."""
    if method in ("ljust", "rjust", "center", "zfill", "expandtabs") and args and isinstance(args[0], int):
        grown = args[0] * (text.count("\t") if method == "expandtabs" else 1)
    elif method == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        grown = len(text) + (len(text) // max(len(args[0]), 1) + 1) * len(args[1])
    elif method == "join" and args:
        items = args[0] if isinstance(args[0], (list, tuple, str)) else []
        grown = _size(items) + len(text) * len(items)
    else:
        return
    if grown > MAX_STAFF_TEXT_BYTES:
        raise SecurityError("chuỗi quá dài")


def _check_str_method(text: str, method: str, args: tuple) -> None:
    if method in ("format", "format_map"):
        _check_format(text)
    _check_growth(text, method, args)


def _bounded_filter(original: Callable[..., Any], method: str) -> Callable[..., Any]:
    """Jinja's own filter, after the same size check as the string method it stands for."""
    skip = 1 if getattr(original, "jinja_pass_arg", None) else 0  # the context Jinja passes first

    @functools.wraps(original)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        head, value, rest = args[:skip], args[skip], args[skip + 1:]
        if method == "join":
            if not isinstance(value, (str, list, tuple)):
                value = list(value)  # walked once here, so a generator is not spent before Jinja joins it
            sep = rest[0] if rest else kwargs.get("d", "")
            _check_growth(sep if isinstance(sep, str) else "", "join", (value,))
        elif isinstance(value, str):
            _check_str_method(value, method, rest)
        return original(*head, value, *rest, **kwargs)

    return bounded


@functools.lru_cache(maxsize=64)
def _environment(paths: tuple[Path, ...]) -> jinja2.Environment:
    # One environment per search path, kept: it keeps its compiled templates
    # (compiling costs far more than rendering, and a nightly run renders each
    # station's template twice), and the loader's mtime check still picks up
    # a template staff edited since.
    # Station folders hold staff-editable templates: they must never reach
    # Python internals (``''.__class__.__mro__``) or run commands.
    env = _Sandbox(
        loader=_TemplateLoader(paths),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["sentence"] = end_sentence
    env.filters["join_and"] = join_and
    for name, method in (("center", "center"), ("replace", "replace"), ("join", "join"), ("format", "format")):
        env.filters[name] = _bounded_filter(env.filters[name], method)
    return env


# Jinja's messages are English; the common ones, said for staff who edit a template.
_JINJA_REASONS = [
    (re.compile(r"Unexpected end of template\..*?looking for the following tags: (.+?)\. .*", re.S),
     lambda m: f"mẫu hết mà khối chưa đóng: thiếu {_tags(m.group(1))}"),
    (re.compile(r"Encountered unknown tag '(\w+)'\. Jinja was looking for the following tags: (.+?)\. .*", re.S),
     lambda m: f"gặp {{% {m.group(1)} %}} trong khi cần {_tags(m.group(2))}"),
    (re.compile(r"Encountered unknown tag '(\w+)'\.?"),
     lambda m: f"thẻ {{% {m.group(1)} %}} không có hoặc thừa"),
    (re.compile(r"expected token '(.+?)', got '(.+?)'"),
     lambda m: f"cần '{_token(m.group(1))}' nhưng gặp '{m.group(2)}'"),
    (re.compile(r"Expected an expression, got '(.+?)'"),
     lambda m: f"thiếu biểu thức trước {_token(m.group(1))}"),
    (re.compile(r"unexpected '(.+?)'"), lambda m: f"'{_token(m.group(1))}' không đúng chỗ"),
    (re.compile(r"'(\w+)' is undefined"), lambda m: f"'{m.group(1)}'"),
    (re.compile(r"'[\w ]+' has no attribute '(\w+)'"), lambda m: f"thuộc tính '{m.group(1)}'"),
    (re.compile(r"\w+ object has no element (\S+)"), lambda m: f"phần tử thứ {m.group(1)} (danh sách không đủ)"),
]
_TOKENS = {"end of print statement": "}}", "end of statement block": "%}", "end of template": "hết mẫu"}


def _token(name: str) -> str:
    return _TOKENS.get(name, name)


def _tags(listing: str) -> str:
    return " hoặc ".join(f"{{% {t} %}}" for t in re.findall(r"'(\w+)'", listing))


def jinja_reason(message: str) -> str:
    """Say in Vietnamese what a Jinja template error means; an uncommon one keeps Jinja's words."""
    for pattern, say in _JINJA_REASONS:
        m = pattern.fullmatch(message.strip())
        if m:
            return say(m)
    return message


def _lead_says_headline(title: str, summary: str) -> bool:
    """True when the lead opens with the whole headline, word for word ("<title>, yêu cầu ...")."""
    if len(title.split()) < 4 or not summary.lower().startswith(title.lower()):
        return False
    rest = summary[len(title):]
    return not rest[:1].isalnum()  # "Hà Nội mở" must not match the lead "Hà Nội mở rộng ..."


def render_script(ctx: ScriptContext, station_templates: Path | None = None) -> str:
    """Render the bulletin script text from the template search path."""
    paths = search_path(station_templates)
    env = _environment(tuple(paths))
    unit, place = station_place(ctx.commune, ctx.station_name)
    # An emergency notice is read right after the greeting, not after the news:
    # number the notices in the order they are heard.
    notices = [_notice_dict(n) for n in ctx.notices]
    notices.sort(key=lambda n: n["priority"] != "emergency")
    for number, notice in enumerate(notices, 1):
        notice["number"] = number
    items = []
    for c in ctx.items:
        title = clean_feed_text(c.title)
        summary = clean_feed_text(c.spoken_summary or c.summary)
        items.append({
            "id": c.id,
            "title": title,
            # A lead that opens with the title's own words ("<title>, yêu cầu ...")
            # says the headline already: reading both says it twice.
            "headline": "" if _lead_says_headline(title, summary) else end_sentence(title),
            "summary": summary,
            "sources": [clean_feed_text(s) for s in c.sources],
            "link": c.link if re.fullmatch(r"https?://\S+", c.link or "") else "",
            "topics": c.topics,
        })
    variables = {
        "station": {"name": ctx.station_name, "commune": ctx.commune, "province": ctx.province,
                    "phone": ctx.phone, "one_stop": ctx.one_stop,
                    "unit": unit, "place": place},
        "date": ctx.date,
        "date_words": date_words(ctx.date),
        "holiday": holiday(ctx.date),
        "slot": ctx.slot_time,
        "slot_label": slot_label(ctx.slot_time) if ctx.slot_time else "",
        "items": items,
        "standing": ctx.standing,
        "notices": notices,
    }
    budget = _steps_left.set([MAX_TEMPLATE_STEPS])
    try:
        template = env.get_template(MAIN_TEMPLATE)
        # Piece by piece, stopping at the limit: loops inside loops would otherwise fill memory first.
        pieces: list[str] = []
        length = 0
        for piece in template.generate(**variables):
            length += len(piece)
            if length > MAX_STAFF_TEXT_BYTES:
                raise _too_long(length)
            pieces.append(piece)
        text = "".join(pieces)
    except jinja2.TemplateNotFound as exc:
        searched = ", ".join(str(p) for p in paths)
        raise TemplateError(
            f"Không tìm thấy mẫu kịch bản '{exc.name}'. Đã tìm trong: {searched}."
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        where = exc.filename or exc.name or MAIN_TEMPLATE
        raise TemplateError(
            f"Mẫu kịch bản {where}, dòng {exc.lineno}: lỗi cú pháp ({jinja_reason(exc.message or '')}). "
            "Hãy sửa mẫu hoặc xóa bản sao của đài để dùng mẫu mặc định."
        ) from None
    except jinja2.UndefinedError as exc:
        raise TemplateError(
            f"Mẫu kịch bản dùng biến không có: {jinja_reason(exc.message or '')}. "
            "Các biến có thể dùng: station.name, station.place, station.unit, station.phone, station.one_stop, "
            "date_words, holiday, slot_label, "
            "items, standing, notices."
        ) from None
    except _TooMuchWork:
        raise TemplateError(
            f"Mẫu kịch bản bị dừng vì phải lặp quá nhiều (hơn {MAX_TEMPLATE_STEPS:,} lượt lặp và lời gọi)"
            .replace(",", ".") +
            ": hãy kiểm tra các vòng lặp {% for %} và macro trong mẫu. Kịch bản đã có được giữ nguyên."
        ) from None
    except SecurityError as exc:
        raise TemplateError(
            f"Mẫu kịch bản dùng thao tác không được phép ({exc}). Mẫu chỉ được dùng các biến "
            "station.name, date_words, slot_label, items, standing, notices; hãy sửa mẫu."
        ) from None
    except TemplateError:
        raise
    except OSError as exc:
        raise TemplateError(f"Không đọc được mẫu kịch bản: {exc.strerror or exc}.") from None
    except Exception as exc:  # jinja2 runtime errors and errors of template arithmetic
        raise TemplateError(
            f"Mẫu kịch bản gặp lỗi khi chạy ({type(exc).__name__}: {exc}). "
            "Hãy sửa mẫu hoặc xóa bản sao của đài để dùng mẫu mặc định."
        ) from None
    finally:
        _steps_left.reset(budget)
    return _tidy(text)


def _too_long(length: int) -> TemplateError:
    return TemplateError(f"Mẫu kịch bản tạo ra văn bản quá dài (hơn {length} ký tự): hãy kiểm tra vòng lặp trong mẫu.")


def _tidy(text: str) -> str:
    """Collapse runs of blank lines that template logic leaves behind."""
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n+(?=\[[^\]\n]+\][^\n]*\n)", "\n\n\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip() + "\n"


def parse_script(text: str) -> list[Segment]:
    """Read a script (as generated or as edited by staff) back into segments.

    Lines starting with '#' are notes and are never read aloud, except the
    '# nguồn:', '# liên kết:' and '# mã tin:' notes of an item, which say
    where it came from. Text before the first [section] header is read as
    part of the greeting.
    """
    segments: list[Segment] = []
    current: Segment | None = None
    lines: list[str] = []

    def close() -> None:
        if current is not None:
            current.text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
            if current.text:
                segments.append(current)

    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.rstrip()
        m = HEADER.match(line.strip())
        if m:
            close()
            current = Segment(kind=KINDS[m.group(1).lower()], text="", title=m.group(3).strip())
            lines = []
            continue
        if line.lstrip().startswith("#"):
            note = line.lstrip()[1:].strip()
            if current is not None and note.lower().startswith("nguồn:"):
                # Sources are written "A; B" (a name may hold a comma); older scripts used "A, B".
                value = note[6:]
                current.sources = [s.strip() for s in value.split(";" if ";" in value else ",") if s.strip()]
            elif current is not None and note.lower().startswith("liên kết:"):
                current.link = note[9:].strip()
            elif current is not None and note.lower().startswith("mã tin:"):
                value = note[7:].strip()
                current.item_id = int(value) if value.isdigit() else None
            continue
        if current is None:
            current = Segment(kind="greeting", text="")
            lines = []
        lines.append(line.strip())
    close()
    return segments
