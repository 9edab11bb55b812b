"""Titles and leads come out as plain Vietnamese text a reader can read aloud."""

from __future__ import annotations

import unicodedata

import pytest

from broadcast.textclean import clean_summary, clean_title, is_placeholder, strip_site_prefix


def test_html_is_stripped_and_entities_decoded() -> None:
    raw = ('<a href="https://vietnamnet.vn/x.html"><img alt="Lãi suất" src="https://a/b.jpg?width=0&s=2g" ></a>'
           '</br>Lãi suất ngân hàng hôm nay, 24/9/2026, tăng &amp; giảm trái chiều.')
    assert clean_summary(raw) == "Lãi suất ngân hàng hôm nay, 24/9/2026, tăng & giảm trái chiều."


def test_numeric_entities_inside_cdata_are_decoded() -> None:
    # vietnambiz writes entities inside CDATA titles; the parser leaves them as text.
    assert clean_title("TCH v&#224; hai m&#227; họ FPT") == "TCH và hai mã họ FPT"
    assert clean_title("HOSE bổ sung 5 m&#227; v&#224;o danh s&#225;ch") == "HOSE bổ sung 5 mã vào danh sách"


def test_html_escaped_twice_is_still_removed() -> None:
    # vietstock escapes the HTML of its descriptions.
    raw = "&lt;img alt='' width='120' src='https://image.vietstock.vn/a.jpg'/&gt;Do trùng với kỳ nghỉ lễ dài."
    assert clean_summary(raw) == "Do trùng với kỳ nghỉ lễ dài."
    assert clean_title("Lợi nhuận &amp;amp; doanh thu") == "Lợi nhuận & doanh thu"


def test_decomposed_vietnamese_becomes_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Hòa Bình cải cách hành chính")
    out = clean_title(decomposed)
    assert out == "Hòa Bình cải cách hành chính"
    assert unicodedata.is_normalized("NFC", out)


@pytest.mark.parametrize("raw, expected", [
    ("(Chinhphu.vn) - Chính phủ ban hành Nghị quyết số 40/2026/NQ-CP.", "Chính phủ ban hành Nghị quyết số 40/2026/NQ-CP."),
    ("(Chinhphu.vn) -  Phó Thủ tướng làm việc với tỉnh.", "Phó Thủ tướng làm việc với tỉnh."),
    ("VOV.VN - Sáng nay, Quốc hội họp.", "Sáng nay, Quốc hội họp."),
    ("TTO - Sáng 5/9, UBND TP.HCM tổ chức hội nghị.", "Sáng 5/9, UBND TP.HCM tổ chức hội nghị."),
    ("Baodaklak.vn – Chiều nay, tỉnh tổ chức hội nghị.", "Chiều nay, tỉnh tổ chức hội nghị."),
    ("(Dân trí) - Người dân nộp hồ sơ trực tuyến.", "Người dân nộp hồ sơ trực tuyến."),
])
def test_site_prefixes_are_removed(raw: str, expected: str) -> None:
    assert clean_summary(raw) == expected


@pytest.mark.parametrize("text", [
    "(1) Tăng cường công tác tuyên truyền.",
    "Hà Nội - nơi hội tụ tinh hoa.",
    "(Chinhphu.vn)",
])
def test_leads_that_only_look_like_prefixes_stay(text: str) -> None:
    assert strip_site_prefix(text) == text


def test_captions_and_bylines_are_dropped() -> None:
    raw = ("<p>Người dân làm thủ tục tại bộ phận một cửa (Ảnh: VGP/Nhật Bắc). Tỉnh đã số hóa 90% hồ sơ.</p>"
           "<figure><img src='a.jpg'><figcaption>Ảnh: Báo Đắk Lắk</figcaption></figure>"
           "<p>Ảnh minh họa.</p><p class='author'>Hoàng Gia</p><p>Theo Báo Đắk Lắk</p>")
    assert clean_summary(raw) == "Người dân làm thủ tục tại bộ phận một cửa. Tỉnh đã số hóa 90% hồ sơ."


@pytest.mark.parametrize("raw, expected", [
    ("Hồ sơ tăng mạnh. Theo Bộ Nội vụ, số hồ sơ tăng 20%.", "Hồ sơ tăng mạnh. Theo Bộ Nội vụ, số hồ sơ tăng 20%."),
    ("Theo kế hoạch, Bộ Xây dựng hoàn thành 34 dự án.", "Theo kế hoạch, Bộ Xây dựng hoàn thành 34 dự án."),
    ("Xã làm tốt. Nhóm PV", "Xã làm tốt."),
    ("Xã làm tốt. Bài và ảnh: Hoàng Anh", "Xã làm tốt."),
    ("Xã làm tốt. Phóng viên ghi nhận người dân hài lòng.", "Xã làm tốt. Phóng viên ghi nhận người dân hài lòng."),
    ("Xã làm tốt. Xem thêm: Các bài viết khác", "Xã làm tốt."),
])
def test_bylines_only_at_the_end(raw: str, expected: str) -> None:
    assert clean_summary(raw) == expected


def test_whitespace_and_stray_newlines_collapse() -> None:
    assert clean_title("\nMột tuần Hà Nội có 1.400 người bệnh\n sốt xuất huyết\u00a0vào viện\n") == \
        "Một tuần Hà Nội có 1.400 người bệnh sốt xuất huyết vào viện"
    assert clean_summary("  Câu   một.\u200b\n\n  Câu hai.  ") == "Câu một. Câu hai."


def test_placeholder_descriptions_become_empty() -> None:
    title = "Cửa khẩu số hóa, doanh nghiệp thêm lựa chọn thanh toán"
    assert clean_summary("Noi dung tom tat.", title) == ""
    assert clean_summary(" No Description ", "") == ""
    assert clean_summary(title, title) == ""
    assert not is_placeholder("Chính phủ ban hành nghị quyết mới.", title)


def test_title_repeated_at_head_of_lead_is_removed() -> None:
    title = "Đắk Lắk đẩy mạnh cải cách thủ tục hành chính"
    lead = f"{title}. UBND tỉnh yêu cầu các sở rút ngắn 30% thời gian giải quyết hồ sơ."
    assert clean_summary(lead, title) == "UBND tỉnh yêu cầu các sở rút ngắn 30% thời gian giải quyết hồ sơ."


def test_broken_html_never_raises() -> None:
    assert clean_summary("<p>Không đóng thẻ <b>đậm <i>nghiêng</p></div></span>") == "Không đóng thẻ đậm nghiêng"
    assert clean_summary("Lãi suất < 5% và > 3%") == "Lãi suất < 5% và > 3%"
    assert clean_title(None) == ""
