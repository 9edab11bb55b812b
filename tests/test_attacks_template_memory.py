"""One template operation must not make a string bigger than a script may be: formats, padding, replacing, joining."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from broadcast.script import ScriptContext, render_script
from test_attacks_templates import DAY, refused_with_peak

HOSTILE = [
    "{{ '%999999999s' % 'x' }}",
    "{{ '%.999999999f' % 1.5 }}",
    "{{ '%*s' % (999999999, 'x') }}",
    "{{ '{:>999999999}'.format('x') }}",
    "{{ '{:{w}}'.format('x', w=999999999) }}",
    "{{ 'x'.ljust(999999999) }}",
    "{{ 'x'|center(999999999) }}",
    "{{ '%999999999s'|format('x') }}",
    "{{ ('a' * 300000)|replace('a', 'b' * 300000) }}",
    "{{ ('a' * 300000).replace('a', 'b' * 300000) }}",
    "{{ (['a' * 300000] * 300000)|join }}",
    "{{ ''.join(['a' * 300000] * 300000) }}",
    "{{ (['a' * 300000] * 300000)|join('-') }}",
]


@pytest.mark.parametrize("expr", HOSTILE)
def test_one_operation_cannot_make_a_giant_string(tmp_path: Path, expr: str) -> None:
    (tmp_path / "ban-tin.txt.j2").write_text(f"[mở đầu]\nXin chào {expr}\n", encoding="utf-8")
    started = time.process_time()
    caught, peak = refused_with_peak(tmp_path)
    assert "không được phép" in str(caught.value) and "hãy sửa mẫu" in str(caught.value)
    assert peak < 8_000_000, f"{expr} held {peak / 1e6:.0f} MB"
    assert time.process_time() - started < 5


def test_ordinary_formats_padding_and_joins_still_work(tmp_path: Path) -> None:
    (tmp_path / "ban-tin.txt.j2").write_text(
        "[mở đầu]\nXin chào {{ '%s bà con' % 'toàn thể' }}, {{ '{:>3}'.format('x') }}|"
        "{{ 'a-b'|replace('-', ' và ') }}|{{ ['một', 'hai']|join(', ') }}|{{ 'y'|center(5) }}|"
        "{{ '%05.1f'|format(2.5) }}|{{ ', '.join(['ba', 'bốn']) }}|{{ 'z'.ljust(3) }}.\n",
        encoding="utf-8")
    ctx = ScriptContext(station_name="Đài truyền thanh xã Hòa Phú", date=DAY, items=[], standing="")
    text = render_script(ctx, tmp_path)
    assert "Xin chào toàn thể bà con,   x|a và b|một, hai|  y  |002.5|ba, bốn|z  ." in text, text
