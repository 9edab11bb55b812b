"""Why each token is read the way it is: the typed result of textnorm.explain()."""

from __future__ import annotations

from dataclasses import dataclass

# Rule identifiers and how staff see them (Vietnamese, shown by `broadcast normalize --explain`).
RULE_NAMES = {
    "word": "giữ nguyên",
    "capitals": "chữ in hoa đọc như chữ thường",
    "casing": "chữ hoa gõ nhầm giữa từ có dấu",
    "dictionary": "từ điển phát âm",
    "company": "viết tắt trong tên công ty",
    "context": "viết tắt theo ngữ cảnh",
    "place": "viết tắt đơn vị hành chính",
    "place_name": "tên đất Tây Nguyên đọc theo từ điển",
    "compound": "từ ghép có dấu nối",
    "apostrophe": "tên có dấu nháy",
    "code": "mã gồm chữ và số",
    "roman": "số La Mã",
    "letter": "một chữ cái",
    "spelled": "đánh vần từng chữ cái",
    "foreign": "tên nước ngoài đọc theo âm tiết",
    "brand": "tên thương hiệu viết liền, đọc từng phần",
    "glued": "các âm tiết viết liền được tách ra",
    "symbol": "ký hiệu",
    "email": "địa chỉ thư điện tử",
    "web": "địa chỉ trang web",
    "phone": "số điện thoại",
    "emergency": "số khẩn cấp, đọc từng chữ số",
    "code_number": "số trong tên riêng",
    "document": "số hiệu văn bản",
    "date": "ngày tháng",
    "time": "giờ",
    "ratio": "tỷ số, phân số",
    "unit": "số kèm đơn vị",
    "number": "số",
}


@dataclass(frozen=True)
class Reading:
    """One written token, what is said for it, the rule that chose it, and whether to check it.

    `unsure` marks guesses staff should listen to: words spelled letter by letter,
    foreign names read by syllable, unknown capitals, letters from another script.
    """

    written: str
    spoken: str
    rule: str
    unsure: bool = False

    @property
    def rule_name(self) -> str:
        """The rule in words staff understand."""
        return RULE_NAMES.get(self.rule, self.rule)


def describe(readings: list[Reading]) -> list[str]:
    """Lines for staff: each token that was rewritten or needs checking, with its rule."""
    lines = []
    for r in readings:
        if r.rule == "word" and not r.unsure:
            continue
        mark = "  [cần nghe lại]" if r.unsure else ""
        written = r.written or "…"
        lines.append(f"  {written} → {r.spoken} ({r.rule_name}){mark}")
    return lines
