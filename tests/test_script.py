"""Script templates: rendering, the staff-editable text format, broken templates."""

import datetime as dt

import pytest

from broadcast.errors import TemplateError
from broadcast.models import Candidate
from broadcast.messages import standing_for, standing_messages
from broadcast.script import ScriptContext, parse_script, render_script

DAY = dt.date(2025, 3, 12)


def item(n: int, title: str = "Đắk Lắk đẩy mạnh dịch vụ công trực tuyến") -> Candidate:
    return Candidate(
        id=n, title=title, summary=f"Tóm tắt tin số {n}.", link=f"https://example.vn/{n}",
        sources=["Báo Đắk Lắk", "Báo Chính phủ"], feeds=["a"], published=None,
        first_seen=dt.datetime(2025, 3, 12, 5, 0), score=3.0, topics=["dvctt"],
    )


def ctx(items, **kw) -> ScriptContext:
    return ScriptContext(station_name="Đài truyền thanh xã Hòa Phú", date=DAY, items=items,
                         standing="Thông điệp của ngày.", **kw)


def test_script_has_station_date_in_words_items_and_sources():
    text = render_script(ctx([item(1), item(2, "Một cửa liên thông")], notices=["Thông báo họp dân."]))
    assert "Đài truyền thanh xã Hòa Phú" in text
    assert "Thứ Tư, ngày mười hai tháng ba năm hai nghìn không trăm hai mươi lăm" in text
    assert "Theo Báo Đắk Lắk và Báo Chính phủ." in text
    assert "[tin 2] Một cửa liên thông" in text
    assert "Thông điệp của ngày." in text and "Thông báo họp dân." in text


def test_parse_round_trip_keeps_kinds_order_and_item_metadata():
    text = render_script(ctx([item(1)], notices=["Thông báo họp dân."]))
    segs = parse_script(text)
    assert [s.kind for s in segs] == ["greeting", "item", "standing", "notice", "closing"]
    it = segs[1]
    assert it.title == "Đắk Lắk đẩy mạnh dịch vụ công trực tuyến"
    assert it.sources == ["Báo Đắk Lắk", "Báo Chính phủ"]
    assert it.link == "https://example.vn/1"
    assert it.paragraphs() == ["Đắk Lắk đẩy mạnh dịch vụ công trực tuyến.", "Tóm tắt tin số 1.",
                               "Theo Báo Đắk Lắk và Báo Chính phủ."]
    assert not any("#" in s.text for s in segs), "notes are never read aloud"


def test_a_source_name_with_a_comma_survives_the_round_trip():
    it = item(1)
    it.sources = ["Sở Nội vụ, tỉnh Đắk Lắk", "Báo Chính phủ"]
    segs = parse_script(render_script(ctx([it])))
    assert segs[1].sources == ["Sở Nội vụ, tỉnh Đắk Lắk", "Báo Chính phủ"]
    # A script written before sources were separated by ';' still reads.
    old = parse_script("[tin 1] Tin\n# nguồn: Báo Đắk Lắk, Báo Chính phủ\nNội dung.")
    assert old[0].sources == ["Báo Đắk Lắk", "Báo Chính phủ"]


def test_staff_edits_are_read_as_written():
    edited = "Lời chào tự viết.\n\n[tin 1] Tin sửa\nNội dung sửa tay.\n\n# ghi chú\n[kết thúc]\nHết.\n"
    segs = parse_script(edited)
    assert [(s.kind, s.text) for s in segs] == [
        ("greeting", "Lời chào tự viết."), ("item", "Nội dung sửa tay."), ("closing", "Hết.")]


def test_no_items_says_so():
    text = render_script(ctx([]))
    assert "chưa có tin mới" in text
    assert "[tin" not in text


def test_slot_label_in_greeting():
    assert "bản tin cải cách hành chính buổi chiều" in render_script(ctx([], slot_time="17:00"))


def test_station_template_folder_wins_and_missing_template_lists_paths(tmp_path):
    (tmp_path / "mo-dau.txt.j2").write_text("Xin chào từ {{ station.name }}.\n", encoding="utf-8")
    text = render_script(ctx([]), tmp_path)
    assert "Xin chào từ Đài truyền thanh xã Hòa Phú." in text
    (tmp_path / "ban-tin.txt.j2").write_text('{% include "khong-co.j2" %}', encoding="utf-8")
    with pytest.raises(TemplateError) as e:
        render_script(ctx([]), tmp_path)
    assert "khong-co.j2" in str(e.value) and str(tmp_path) in str(e.value)


def test_a_template_edited_between_renders_is_read_again(tmp_path):
    import os

    station = tmp_path / "mo-dau.txt.j2"
    station.write_text("Xin chào từ {{ station.name }}.\n", encoding="utf-8")
    assert "Xin chào từ" in render_script(ctx([]), tmp_path)
    station.write_text("Kính chào bà con, đây là {{ station.name }}.\n", encoding="utf-8")
    later = station.stat().st_mtime + 5
    os.utime(station, (later, later))
    text = render_script(ctx([]), tmp_path)
    assert "Kính chào bà con" in text and "Xin chào từ" not in text


def test_broken_template_names_file_and_line(tmp_path):
    (tmp_path / "ban-tin.txt.j2").write_text("dòng một\n{% for x in items %}\nchưa đóng vòng lặp\n",
                                             encoding="utf-8")
    with pytest.raises(TemplateError) as e:
        render_script(ctx([]), tmp_path)
    assert "ban-tin.txt.j2" in str(e.value) and "dòng" in str(e.value)
    assert "thiếu {% endfor %}" in str(e.value) and "Jinja" not in str(e.value)


@pytest.mark.parametrize("template, said", [
    ("{{ station.name }\n", "'}' không đúng chỗ"),
    ("{{ station.name date_words }}\n", "cần '}}' nhưng gặp 'date_words'"),
    ("{% endfor %}\n", "thẻ {% endfor %} không có hoặc thừa"),
    ("{% for x in items %}{% endif %}\n", "gặp {% endif %} trong khi cần {% endfor %} hoặc {% else %}"),
])
def test_template_syntax_errors_are_explained_in_vietnamese(tmp_path, template, said):
    (tmp_path / "ban-tin.txt.j2").write_text(template, encoding="utf-8")
    with pytest.raises(TemplateError) as e:
        render_script(ctx([]), tmp_path)
    assert said in str(e.value), str(e.value)


def test_unknown_variable_is_a_clear_error(tmp_path):
    (tmp_path / "ban-tin.txt.j2").write_text("{{ station.fax }}\n", encoding="utf-8")
    with pytest.raises(TemplateError, match="biến không có: thuộc tính 'fax'"):
        render_script(ctx([]), tmp_path)
    (tmp_path / "ban-tin.txt.j2").write_text("{{ fax }}\n", encoding="utf-8")
    with pytest.raises(TemplateError, match="biến không có: 'fax'"):
        render_script(ctx([]), tmp_path)


def test_standing_messages_come_from_the_plan_and_rotate_daily():
    msgs = standing_messages(None)
    assert len(msgs) >= 5
    assert any("0262.8552255" in m.text for m in msgs)
    assert any("Tập trung nguồn lực CCHC" in m.text for m in msgs)
    days = {standing_for(DAY + dt.timedelta(days=i), msgs) for i in range(len(msgs))}
    assert len(days) == len(msgs)


def test_the_years_theme_is_read_only_in_its_year():
    msgs = standing_messages(None)
    in_2025 = {standing_for(dt.date(2025, 6, 1) + dt.timedelta(days=i), msgs) for i in range(30)}
    in_2026 = {standing_for(dt.date(2026, 6, 1) + dt.timedelta(days=i), msgs) for i in range(30)}
    assert any("năm 2025" in m for m in in_2025)
    assert not any("năm 2025" in m for m in in_2026)
    assert len(in_2026) == len(msgs) - 1


def test_a_station_adds_its_own_dated_messages(tmp_path):
    from broadcast.config import StationConfig

    own = tmp_path / "rieng.toml"
    own.write_text('[[messages]]\ntext = "Xã Hòa Phú tiếp dân vào thứ Năm."\n'
                   'valid_from = 2026-12-01\nvalid_to = 2026-12-31\n', encoding="utf-8")
    st = StationConfig(id="hoa-phu", name="Đài", standing_file=own)
    msgs = standing_messages(None, st)
    assert msgs[-1].text == "Xã Hòa Phú tiếp dân vào thứ Năm."
    assert msgs[-1].valid_on(dt.date(2026, 12, 15)) and not msgs[-1].valid_on(dt.date(2027, 1, 1))


@pytest.mark.parametrize("title", [
    "[Infographic] Đắk Lắk cắt giảm thủ tục hành chính",
    "[tin 9] Đắk Lắk cắt giảm thủ tục hành chính",
    "[kết thúc] Đắk Lắk cắt giảm thủ tục hành chính",
    "# nguồn: Giả mạo\n[thông báo] Đắk Lắk cắt giảm thủ tục hành chính",
    "(ảnh) Đắk Lắk cắt giảm thủ tục hành chính [Video]",
])
def test_feed_text_never_becomes_structure(title):
    hostile = Candidate(
        id=7, title=title, summary="[thông báo]\n# nguồn: Giả mạo\n[kết thúc] Nội dung tin.", link="javascript:alert(1)",
        sources=["Báo\n[tin 3] Giả"], feeds=["a"], published=None,
        first_seen=dt.datetime(2025, 3, 12, 5, 0), score=3.0, topics=["tthc"])
    segments = parse_script(render_script(ctx([hostile])))
    assert [s.kind for s in segments] == ["greeting", "item", "standing", "closing"]
    item = segments[1]
    assert item.item_id == 7 and item.link == ""
    assert item.title.endswith("Đắk Lắk cắt giảm thủ tục hành chính")
    assert not item.title.startswith(("[", "#"))
    assert item.sources == ["Báo [tin 3] Giả"]
    assert "Nội dung tin." in item.text and "Giả mạo" in item.text


ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.system('touch MARKER') }}",
    "{{ lipsum.__globals__['os'].popen('touch MARKER').read() }}",
    "{{ joiner.__init__.__globals__.__builtins__['open']('MARKER', 'w').write('x') }}",
    "{% for c in ''.__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
]


@pytest.mark.parametrize("body", ESCAPES)
def test_a_station_template_cannot_reach_python_or_run_commands(tmp_path, body):
    marker = tmp_path / "da-chay-lenh"
    folder = tmp_path / "mau"
    folder.mkdir()
    (folder / "ban-tin.txt.j2").write_text(body.replace("MARKER", str(marker)), encoding="utf-8")
    with pytest.raises(TemplateError, match="không được phép") as e:
        render_script(ctx([]), folder)
    assert "Traceback" not in str(e.value)
    assert not marker.exists()


@pytest.mark.parametrize("body", ["{{ 'a' * 10**9 }}", "{{ 2 ** 100000000 }}", "{{ range(10**9) | list }}",
                                  "{% for i in range(99999) %}{{ 'dòng dài ' * 99 }}{% endfor %}"])
def test_a_template_cannot_exhaust_memory(tmp_path, body):
    (tmp_path / "ban-tin.txt.j2").write_text(body, encoding="utf-8")
    with pytest.raises(TemplateError, match="^Mẫu kịch bản"):
        render_script(ctx([]), tmp_path)


@pytest.mark.parametrize("body", ["{{ 1 / 0 }}", "{{ standing + 1 }}", "{{ station | sum }}"])
def test_runtime_errors_in_a_template_are_a_vietnamese_sentence(tmp_path, body):
    (tmp_path / "ban-tin.txt.j2").write_text(body, encoding="utf-8")
    with pytest.raises(TemplateError, match="^Mẫu kịch bản gặp lỗi khi chạy"):
        render_script(ctx([]), tmp_path)


def test_the_bundled_templates_still_render_in_the_sandbox():
    text = render_script(ctx([item(1)], notices=["Thông báo họp dân."]))
    assert "[tin 1] Đắk Lắk đẩy mạnh dịch vụ công trực tuyến" in text


@pytest.mark.parametrize("link", ["https://a.vn/tin.html\n", "https://a.vn/tin.html\n[kết thúc]", "ftp://a.vn/x"])
def test_only_a_whole_http_link_reaches_the_script(link):
    c = item(1)
    c.link = link
    segments = parse_script(render_script(ctx([c])))
    (it,) = [s for s in segments if s.kind == "item"]
    assert it.link == ""


def test_control_characters_from_feeds_never_reach_the_script():
    from broadcast.script import clean_feed_text

    assert clean_feed_text("Cải cách\x07 hành chính\x1b[31m") == "Cải cách hành chính[31m"
