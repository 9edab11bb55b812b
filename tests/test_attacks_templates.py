"""Station templates written to hurt: the sandbox must stop them before they cost the night's run its memory."""

from __future__ import annotations

import datetime as dt
import tracemalloc
from pathlib import Path

import pytest

from broadcast.script import ScriptContext, TemplateError, render_script

DAY = dt.date(2026, 3, 12)


def test_nested_loops_cannot_build_a_huge_script_in_memory(tmp_path: Path) -> None:
    # Each '*' is capped, but two loops of a few thousand turns write 48 MB before any size check,
    # and four loops of range(100000) would write far more than the server has.
    (tmp_path / "ban-tin.txt.j2").write_text(
        "[mở đầu]\n{% for i in range(2000) %}{% for j in range(2000) %}Xin chào bà con {% endfor %}{% endfor %}\n",
        encoding="utf-8")
    ctx = ScriptContext(station_name="Đài truyền thanh xã Hòa Phú", date=DAY, items=[], standing="")
    tracemalloc.start()
    try:
        with pytest.raises(TemplateError) as caught:
            render_script(ctx, tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "quá dài" in str(caught.value) and "vòng lặp" in str(caught.value)
    assert peak < 8_000_000, f"rendering held {peak / 1e6:.0f} MB"
