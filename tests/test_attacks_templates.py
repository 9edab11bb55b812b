"""Station templates written to hurt: the sandbox must stop them before they cost the night's run its memory."""

from __future__ import annotations

import datetime as dt
import tracemalloc
from pathlib import Path

import pytest

from broadcast.script import ScriptContext, TemplateError, render_script

DAY = dt.date(2026, 3, 12)


def refused_with_peak(folder: Path) -> tuple[pytest.ExceptionInfo[TemplateError], int]:
    """Render the station template in folder, expecting a refusal; return it and the peak memory traced."""
    ctx = ScriptContext(station_name="Đài truyền thanh xã Hòa Phú", date=DAY, items=[], standing="")
    tracemalloc.start()
    try:
        with pytest.raises(TemplateError) as caught:
            render_script(ctx, folder)
        return caught, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_nested_loops_cannot_build_a_huge_script_in_memory(tmp_path: Path) -> None:
    # Each '*' is capped, but two loops of a few thousand turns write 48 MB before any size check,
    # and four loops of range(100000) would write far more than the server has.
    (tmp_path / "ban-tin.txt.j2").write_text(
        "[mở đầu]\n{% for i in range(2000) %}{% for j in range(2000) %}Xin chào bà con {% endfor %}{% endfor %}\n",
        encoding="utf-8")
    caught, peak = refused_with_peak(tmp_path)
    assert "quá dài" in str(caught.value) and "vòng lặp" in str(caught.value)
    assert peak < 8_000_000, f"rendering held {peak / 1e6:.0f} MB"


def test_a_link_in_the_stations_template_folder_cannot_read_the_servers_files(tmp_path: Path) -> None:
    # The station's template folder is where its staff copy and edit templates (often over a share):
    # a link named like a template would put any file the server may read into the script, read on air.
    private = tmp_path / "srv"
    private.mkdir()
    (private / "id_ed25519").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE\n",
                                        encoding="utf-8")
    folder = tmp_path / "mau-hoa-phu"
    folder.mkdir()
    (folder / "ban-tin.txt.j2").symlink_to(private / "id_ed25519")
    ctx = ScriptContext(station_name="Đài truyền thanh xã Hòa Phú", date=DAY, items=[], standing="")
    with pytest.raises(TemplateError) as caught:
        render_script(ctx, folder)
    assert "ngoài thư mục" in str(caught.value) and "ban-tin.txt.j2" in str(caught.value)
    assert "PRIVATE KEY" not in str(caught.value)


def test_a_link_between_template_files_of_the_same_folder_still_works(tmp_path: Path) -> None:
    folder = tmp_path / "mau-hoa-phu"
    folder.mkdir()
    (folder / "mau-goc.txt.j2").write_text("[mở đầu]\nXin chào bà con {{ station.name }}.\n", encoding="utf-8")
    (folder / "ban-tin.txt.j2").symlink_to("mau-goc.txt.j2")
    ctx = ScriptContext(station_name="Đài truyền thanh xã Hòa Phú", date=DAY, items=[], standing="")
    assert "Xin chào bà con Đài truyền thanh xã Hòa Phú." in render_script(ctx, folder)
