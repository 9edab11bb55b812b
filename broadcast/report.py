"""The periodic report the plan asks for (section IV.1): what each station aired, and the province's summary.

Every figure comes from the store (bulletin records, airing records and
events), never from files that retention may already have deleted. The
formats (Markdown, CSV, XLSX, DOCX) sit behind one registry; the office
formats need the optional `report` extra (openpyxl, python-docx, matplotlib).
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from broadcast.bulletin import PRIORITY_LABELS, State, derive_state
from broadcast.config import Config, StationConfig
from broadcast.errors import BroadcastError
from broadcast.vitext import decimal, grouped, one_line

TOTAL = "TỔNG"
# What spreadsheet software reads as the start of a formula in a text cell.
FORMULA_START = ("=", "+", "-", "@")
# Seconds of these segment kinds count as administrative-reform content.
CCHC_KINDS = ("item", "standing")
REASONS = {
    "missing": "không có bản tin",
    "drafted": "có kịch bản nhưng chưa làm âm thanh",
    "waiting": "chưa được duyệt",
    "held": "tạm dừng",
    "held_published": "tạm dừng sau khi đã phát hành (nơi nhận có thể đã phát)",
    "changed_published": ("bản đã duyệt đã được phát hành (nơi nhận có thể đã phát), sau đó kịch bản bị sửa; "
                          "bản sửa chưa được duyệt"),
    "changed": "đã được duyệt, sau đó kịch bản bị sửa; bản sửa chưa được duyệt",
    "failed": "lỗi khi làm bản tin",
}


class PeriodError(BroadcastError):
    """The report period was given wrongly (a parameter error)."""

    exit_code = 2


@dataclass
class StationReport:
    """One station's figures for the period (or the province's, summed)."""

    station: str
    name: str
    planned: int = 0
    rendered: int = 0
    aired: int = 0
    published: int = 0
    missing: list[tuple[dt.date, str, str]] = field(default_factory=list)  # (date, slot, reason key)
    seconds: float = 0.0  # CCHC content: news items and standing messages
    items: int = 0
    topics: Counter = field(default_factory=Counter)  # topic id -> stories
    topic_seconds: Counter = field(default_factory=Counter)
    standing: int = 0
    notices: Counter = field(default_factory=Counter)  # priority -> notices read
    sources: Counter = field(default_factory=Counter)
    edited: int = 0
    approved: int = 0
    engines: Counter = field(default_factory=Counter)
    weeks: Counter = field(default_factory=Counter)  # ISO week start -> bulletins aired

    @property
    def minutes(self) -> float:
        return self.seconds / 60

    @property
    def coverage(self) -> float:
        """Share of planned bulletins that aired."""
        return self.aired / self.planned if self.planned else 0.0

    def add(self, other: "StationReport") -> None:
        """Sum another station's figures into this one."""
        for name in ("planned", "rendered", "aired", "published", "seconds", "items", "standing", "edited",
                     "approved"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("topics", "topic_seconds", "notices", "sources", "engines", "weeks"):
            getattr(self, name).update(getattr(other, name))
        self.missing += other.missing


@dataclass
class Report:
    """The whole report for a period."""

    start: dt.date
    end: dt.date
    province: str
    stations: list[StationReport]
    total: StationReport
    topic_labels: dict[str, str]
    as_of: dt.date | None = None  # the last day counted, when the period runs past today

    @property
    def ranking(self) -> list[StationReport]:
        """Stations by coverage, best first."""
        return sorted(self.stations, key=lambda s: (-s.coverage, -s.seconds, s.station))

    @property
    def topics_never(self) -> list[str]:
        """Plan topics no aired story touched in the period."""
        return [t for t in self.topic_labels if not self.total.topics.get(t)]

    @property
    def period_label(self) -> str:
        label = f"từ ngày {self.start.strftime('%d/%m/%Y')} đến ngày {self.end.strftime('%d/%m/%Y')}"
        if self.as_of is not None:
            label += f" (số liệu đến hết ngày {self.as_of.strftime('%d/%m/%Y')})"
        return label


# ---------------------------------------------------------------- periods


def parse_period(*, start: dt.date | None = None, end: dt.date | None = None, quarter: str | None = None,
                 month: str | None = None, year: str | int | None = None) -> tuple[dt.date, dt.date]:
    """The first and last day of a period given as dates, a quarter ('2026-Q4'), a month ('2026-11') or a year."""
    given = [x for x in (quarter, month, year) if x not in (None, "")]
    if len(given) > 1 or (given and (start or end)):
        raise PeriodError("Chỉ chọn một cách nêu kỳ báo cáo: --from/--to, --quarter, --month hoặc --year.")
    if quarter:
        m = re.fullmatch(r"(\d{4})-?[Qq]([1-4])", quarter.strip())
        if not m:
            raise PeriodError(f"'{quarter}' không phải quý dạng 2026-Q4.")
        y, q = _year(m.group(1)), int(m.group(2))
        first = dt.date(y, 3 * q - 2, 1)
        last_month = 3 * q
        return first, dt.date(y, last_month, calendar.monthrange(y, last_month)[1])
    if month:
        m = re.fullmatch(r"(\d{4})-(\d{1,2})", month.strip())
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise PeriodError(f"'{month}' không phải tháng dạng 2026-11.")
        y, mo = _year(m.group(1)), int(m.group(2))
        return dt.date(y, mo, 1), dt.date(y, mo, calendar.monthrange(y, mo)[1])
    if year:
        text = str(year).strip()
        if not re.fullmatch(r"\d{4}", text):
            raise PeriodError(f"'{year}' không phải năm dạng 2026.")
        return dt.date(_year(text), 1, 1), dt.date(_year(text), 12, 31)
    if not (start and end):
        raise PeriodError("Chưa chọn kỳ báo cáo: hãy dùng --from và --to, hoặc --quarter, --month, --year (ví dụ --month 2026-11).")
    if start > end:
        raise PeriodError("Ngày bắt đầu kỳ báo cáo sau ngày kết thúc.")
    return start, end


def _year(text: str) -> int:
    """A report year, in the range every other date option accepts."""
    year = int(text)
    if not 2000 <= year <= 2100:
        raise PeriodError(f"Năm {text} của kỳ báo cáo phải từ 2000 đến 2100.")
    return year


# ---------------------------------------------------------------- figures


def _notice_priority(text: str, offered: list[dict]) -> str:
    # A notice of several paragraphs is one line in the script: compare words, not line breaks.
    spoken = " ".join(text.split())
    for n in offered:
        written = " ".join(str(n.get("text") or "").split())
        if written and written in spoken:
            return n.get("priority") or "normal"
    return "normal"


def build_report(config: Config, store, start: dt.date, end: dt.date, stations: list[StationConfig],
                 topic_labels: dict[str, str], today: dt.date | None = None) -> Report:
    """Compute the report from the store's records; days after `today` are not planned yet."""
    if (end - start).days > 3700:
        raise BroadcastError("Kỳ báo cáo dài quá 10 năm: hãy chọn kỳ ngắn hơn.")
    ids = [s.id for s in stations]
    rows: dict[tuple[str, dt.date, str], dict] = {}
    notice_rows: list[dict] = []
    for row in store.bulletin_rows(start, end, ids):
        if row.get("kind") == "notice":
            notice_rows.append(row)
        else:
            rows[(row["station"], row["date"], row["slot"])] = row
    airings: dict[tuple[str, dt.date], list] = {}
    for a in store.airings(start, end, ids):
        airings.setdefault((a.station, a.date), []).append(a)

    reports = []
    item_seconds: dict[tuple[str, dt.date, str], float] = {}
    # A report asked for mid-month counts the month so far: tomorrow's bulletin has not been missed.
    last = min(end, today) if today is not None else end
    days = [start + dt.timedelta(days=i) for i in range((last - start).days + 1)]
    # A station added during the period is planned from its first bulletin,
    # not blamed for the days before it existed.
    first = store.first_bulletin_dates(ids)
    for st in stations:
        rep = StationReport(station=st.id, name=st.name)
        slots = [s.name for s in st.slots] or [""]
        for day in days:
            if st.id in first and day < first[st.id]:
                continue
            aired_today = False
            for slot in slots:
                rep.planned += 1
                row = rows.get((st.id, day, slot))
                if row is None:
                    rep.missing.append((day, slot, "missing"))
                    continue
                state, approved, may_air = derive_state(row, row.get("script_sha"), st.publish)
                if row.get("rendered_sha"):
                    rep.rendered += 1
                    rep.engines.update(row.get("engines") or [])
                if row.get("approved_sha") and row.get("approved_sha") == row.get("script_sha"):
                    rep.approved += 1
                if not may_air:
                    # A version delivered earlier (the one then approved, or rendered under "auto") may have been
                    # played by the speakers whatever became of the bulletin since: say so, not just "not aired".
                    delivered = bool(row.get("published_sha"))
                    changed = (st.publish == "approved" and bool(row.get("approved_sha"))
                               and row.get("approved_sha") != row.get("script_sha"))
                    if row.get("held"):
                        reason = "held_published" if delivered else "held"
                    elif state == State.FAILED:  # also when it failed before any script was written
                        reason = "failed"
                    elif state == State.MISSING:
                        reason = "missing"
                    elif changed:
                        # Approved, then its script changed (edited, redrafted, a story swapped) and maybe remade.
                        reason = "changed_published" if delivered else "changed"
                    elif row.get("rendered_sha") and row.get("rendered_sha") == row.get("script_sha"):
                        reason = "waiting"
                    else:
                        reason = "drafted"
                    rep.missing.append((day, slot, reason))
                    continue
                rep.aired += 1
                aired_today = True
                rep.weeks[day - dt.timedelta(days=day.weekday())] += 1
                if row.get("published_sha") and row.get("published_sha") == row.get("rendered_sha"):
                    rep.published += 1
                if row.get("rendered_edited"):
                    rep.edited += 1
                parts = row.get("rendered_parts") or {}
                seconds = parts.get("seconds") or {}
                rep.seconds += sum(float(seconds.get(k, 0.0)) for k in CCHC_KINDS)
                rep.standing += len(parts.get("standing") or [])
                for text in parts.get("notices") or []:
                    rep.notices[_notice_priority(text, row.get("notices") or [])] += 1
                for sid, secs in (parts.get("items") or {}).items():
                    item_seconds[(st.id, day, sid)] = max(item_seconds.get((st.id, day, sid), 0.0), float(secs))
            # Stories are recorded once a day, whichever slots read them.
            for a in airings.get((st.id, day), []) if aired_today else []:
                rep.items += 1
                rep.topics.update(dict.fromkeys(a.topics, 1))
                rep.sources.update(a.sources)
                secs = item_seconds.get((st.id, day, str(a.story_id)), 0.0)
                for t in a.topics:
                    rep.topic_seconds[t] += secs / max(len(a.topics), 1)
        for row in notice_rows:
            if row["station"] == st.id and row.get("rendered_sha") and not row.get("held"):
                rep.notices[row.get("priority") or "normal"] += 1
        reports.append(rep)
    total = StationReport(station=TOTAL, name=config.province)
    for rep in reports:
        total.add(rep)
    return Report(start=start, end=end, province=config.province, stations=reports, total=total,
                  topic_labels=topic_labels, as_of=last if last < end else None)


# ---------------------------------------------------------------- tables shared by every format

CSV_COLUMNS = ["station", "name", "planned", "bulletins", "aired", "published", "days_without", "items",
               "minutes", "standing_messages", "notices", "edited", "approved", "coverage"]


def summary_row(r: StationReport) -> list:
    """One station's (or the total's) row of the main table."""
    return [r.station, r.name, r.planned, r.rendered, r.aired, r.published, len(r.missing), r.items,
            round(r.minutes, 1), r.standing, sum(r.notices.values()), r.edited, r.approved,
            # A station with nothing planned (it started after the period) has no rate, not a rate of 0%.
            round(r.coverage * 100, 1) if r.planned else "—"]


SUMMARY_HEADINGS = ["Mã đài", "Tên đài", "Bản tin theo kế hoạch", "Bản tin đã làm", "Bản tin đã phát",
                    "Đã phát hành", "Buổi không phát", "Tin CCHC đã phát", "Số phút nội dung CCHC",
                    "Thông điệp CCHC", "Thông báo", "Bản tin cán bộ sửa", "Bản tin được duyệt", "Tỷ lệ phát (%)"]


def topic_rows(report: Report) -> list[list]:
    """Per plan topic: stories aired and minutes, province-wide."""
    return [[label, report.total.topics.get(t, 0), round(report.total.topic_seconds.get(t, 0.0) / 60, 1)]
            for t, label in report.topic_labels.items()]


def missing_rows(report: Report) -> list[list]:
    """Each planned bulletin that did not air, and why."""
    return [[r.station, day.strftime("%d/%m/%Y"), slot, REASONS[reason]]
            for r in report.stations for day, slot, reason in r.missing]


def detail_rows(report: Report) -> list[list]:
    """Per station: notices by priority, sources, engines."""
    out = []
    for r in report.stations:
        notices = ", ".join(f"{PRIORITY_LABELS.get(p, p)}: {n}" for p, n in sorted(r.notices.items())) or "—"
        sources = ", ".join(f"{s} ({n})" for s, n in r.sources.most_common()) or "—"
        engines = ", ".join(f"{e} ({n})" for e, n in r.engines.most_common()) or "—"
        out.append([r.station, notices, sources, engines])
    return out


# ---------------------------------------------------------------- formats

Renderer = Callable[[Report], bytes]
_FORMATS: dict[str, Renderer] = {}


def register_format(name: str, renderer: Renderer) -> None:
    """Make a report format available under `name`."""
    _FORMATS[name] = renderer


def formats() -> list[str]:
    """Registered report formats."""
    return sorted(_FORMATS)


def render(report: Report, fmt: str) -> bytes:
    """The report in one registered format."""
    if fmt not in _FORMATS:
        raise BroadcastError(f"Không có định dạng báo cáo '{fmt}'. Các định dạng: {', '.join(formats())}.")
    return _FORMATS[fmt](report)


def _plain(value: object) -> str:
    """A cell's text on one line, without control characters (office formats refuse them)."""
    # Read by people in Markdown and Word: Vietnamese groups thousands with dots and uses a decimal comma.
    if isinstance(value, float):
        return f"{value:,.1f}".translate(str.maketrans(",.", ".,"))
    if isinstance(value, int) and not isinstance(value, bool):
        return grouped(value)
    return one_line(value)


def _shown(value: object) -> str:
    """A cell as a reader of a Vietnamese document expects it: a decimal comma (4,5 phút; 18,8%)."""
    return decimal(value, 1) if isinstance(value, float) else _plain(value)


def _csv_cell(value: object) -> object:
    """A CSV cell that spreadsheet software never runs as a formula (text from feeds is untrusted)."""
    if isinstance(value, (int, float)):
        return value
    text = _plain(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _md_table(headings: list[str], rows: list[list]) -> str:
    def cell(v) -> str:
        # Escape backslashes too, so "\|" in a source name cannot turn an escape into a column
        # break; brackets and angle brackets, so feed text cannot become a link or HTML.
        return re.sub(r"([\\|<>\[\]`])", r"\\\1", _shown(v))
    lines = ["| " + " | ".join(headings) + " |", "|" + "---|" * len(headings)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def render_md(report: Report) -> bytes:
    parts = ["# Báo cáo kết quả tuyên truyền cải cách hành chính trên hệ thống truyền thanh cơ sở",
             f"\nTỉnh {report.province}, {report.period_label}.\n",
             "## Tổng hợp theo đài\n",
             _md_table(SUMMARY_HEADINGS, [summary_row(r) for r in report.ranking] + [summary_row(report.total)]),
             "\n## Tin đã phát theo chủ đề của Kế hoạch\n",
             _md_table(["Chủ đề", "Số tin", "Số phút"], topic_rows(report))]
    never = [report.topic_labels[t] for t in report.topics_never]
    parts.append("\nChủ đề chưa có tin nào được phát: " + ("; ".join(never) if never else "không có") + ".\n")
    parts += ["## Thông báo, nguồn tin và giọng đọc theo đài\n",
              _md_table(["Mã đài", "Thông báo theo mức", "Nguồn tin", "Giọng đọc"], detail_rows(report))]
    missing = missing_rows(report)
    parts.append("\n## Buổi không phát và lý do\n")
    parts.append(_md_table(["Mã đài", "Ngày", "Buổi", "Lý do"], missing) if missing else "Không có.")
    return ("\n".join(parts) + "\n").encode("utf-8")


def render_csv(report: Report) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in [*report.stations, report.total]:
        writer.writerow([_csv_cell(v) for v in summary_row(r)])
    # BOM: spreadsheet software on Windows then reads the Vietnamese correctly.
    return buf.getvalue().encode("utf-8-sig")


register_format("md", render_md)
register_format("csv", render_csv)


def _office(module: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise BroadcastError(
            "Định dạng này cần thêm thư viện: hãy cài bằng lệnh pip install \"broadcast[report]\"."
        ) from None


def charts(report: Report) -> list[tuple[str, bytes]]:
    """PNG charts: bulletins aired per week, and minutes by topic."""
    matplotlib = _office("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = []
    weeks = sorted(report.total.weeks)
    fig, ax = plt.subplots(figsize=(7, 3), dpi=110)
    ax.bar([w.strftime("%d/%m") for w in weeks], [report.total.weeks[w] for w in weeks], color="#2f6f9f")
    ax.set_title("Số bản tin đã phát mỗi tuần")
    ax.set_xlabel("Tuần bắt đầu ngày")
    ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    out.append(("Số bản tin đã phát mỗi tuần", buf.getvalue()))
    rows = topic_rows(report)
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=110)
    ax.barh([r[0] for r in rows][::-1], [r[2] for r in rows][::-1], color="#c0392b")
    ax.set_title("Số phút tin đã phát theo chủ đề")
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    out.append(("Số phút tin đã phát theo chủ đề", buf.getvalue()))
    return out


def render_xlsx(report: Report) -> bytes:
    openpyxl = _office("openpyxl")
    from openpyxl.drawing.image import Image
    from openpyxl.styles import Font

    wb = openpyxl.Workbook()
    sheets = [
        ("Tổng hợp", SUMMARY_HEADINGS, [summary_row(r) for r in report.ranking] + [summary_row(report.total)]),
        ("Chủ đề", ["Chủ đề", "Số tin", "Số phút"], topic_rows(report)),
        ("Chi tiết", ["Mã đài", "Thông báo theo mức", "Nguồn tin", "Giọng đọc"], detail_rows(report)),
        ("Buổi không phát", ["Mã đài", "Ngày", "Buổi", "Lý do"], missing_rows(report)),
    ]
    first = True
    for title, headings, rows in sheets:
        ws = wb.active if first else wb.create_sheet()
        first = False
        ws.title = title
        ws.append([f"Báo cáo tuyên truyền CCHC trên truyền thanh cơ sở, tỉnh {report.province}, {report.period_label}"])
        ws.append(headings)
        for cell in ws[2]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append([_plain(v) if isinstance(v, str) else v for v in row])
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text, even when it starts with "=": never a formula
        for col in ws.columns:
            width = max(len(str(c.value or "")) for c in list(col)[1:]) if ws.max_row > 1 else 10
            ws.column_dimensions[col[0].column_letter].width = min(max(10, width + 2), 60)
    ws = wb.create_sheet("Biểu đồ")
    row = 1
    for title, png in charts(report):
        ws.cell(row=row, column=1, value=title)
        img = Image(io.BytesIO(png))
        ws.add_image(img, f"A{row + 1}")
        row += 22
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def render_docx(report: Report) -> bytes:
    docx = _office("docx")
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    doc = docx.Document()
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(13)
    for section in doc.sections:
        section.left_margin, section.right_margin = Cm(3), Cm(2)
        section.top_margin, section.bottom_margin = Cm(2), Cm(2)

    def centered(text: str, bold: bool = False, size: int = 13) -> None:
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = p.add_run(text)
        run.bold = bold
        run.font.size = Pt(size)

    centered("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True)
    centered("Độc lập - Tự do - Hạnh phúc", bold=True)
    centered("BÁO CÁO", bold=True, size=14)
    centered("Kết quả tuyên truyền cải cách hành chính trên hệ thống truyền thanh cơ sở", bold=True)
    centered(f"Tỉnh {report.province}, {report.period_label}")
    t = report.total
    doc.add_paragraph(
        f"Trong kỳ, {len(report.stations)} đài truyền thanh cấp xã đã phát {t.aired}/{t.planned} bản tin cải cách "
        f"hành chính theo kế hoạch ({decimal(t.coverage * 100, 1)}%), với {t.items} tin và {decimal(t.minutes, 0)} phút nội dung "
        f"cải cách hành chính; {t.standing} lượt thông điệp của Kế hoạch và {sum(t.notices.values())} thông báo của "
        f"địa phương đã được phát.")

    def table(headings: list[str], rows: list[list]) -> None:
        tbl = doc.add_table(rows=1, cols=len(headings))
        tbl.style = "Table Grid"
        for cell, text in zip(tbl.rows[0].cells, headings):
            cell.text = _plain(text)
            for r in cell.paragraphs[0].runs:
                r.bold = True
                r.font.size = Pt(10)
        for row in rows:
            cells = tbl.add_row().cells
            for cell, value in zip(cells, row):
                cell.text = _shown(value)
                for r in cell.paragraphs[0].runs:
                    r.font.size = Pt(10)

    doc.add_heading("1. Kết quả theo đài", level=2)
    table(SUMMARY_HEADINGS[:2] + SUMMARY_HEADINGS[3:5] + SUMMARY_HEADINGS[7:9] + SUMMARY_HEADINGS[13:],
          [[*(row[:2]), *(row[3:5]), *(row[7:9]), row[13]] for row in
           [summary_row(r) for r in report.ranking] + [summary_row(report.total)]])
    doc.add_heading("2. Tin đã phát theo chủ đề của Kế hoạch", level=2)
    table(["Chủ đề", "Số tin", "Số phút"], topic_rows(report))
    never = [report.topic_labels[x] for x in report.topics_never]
    doc.add_paragraph("Chủ đề chưa có tin nào được phát: " + ("; ".join(never) if never else "không có") + ".")
    doc.add_heading("3. Biểu đồ", level=2)
    for title, png in charts(report):
        doc.add_picture(io.BytesIO(png), width=Cm(15))
        centered(title, size=11)
    missing = missing_rows(report)
    doc.add_heading("4. Buổi không phát và lý do", level=2)
    if missing:
        table(["Mã đài", "Ngày", "Buổi", "Lý do"], missing)
    else:
        doc.add_paragraph("Không có.")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


register_format("xlsx", render_xlsx)
register_format("docx", render_docx)
