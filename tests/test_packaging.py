"""Packaging: every subpackage ships, and the templates reach an installed CLI."""

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


def test_every_python_package_is_listed_for_install():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(meta["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "broadcast").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert found <= listed, f"not installed: {sorted(found - listed)}"
    assert "broadcast.scripts_vi" in listed
    assert meta["tool"]["setuptools"]["package-dir"]["broadcast.scripts_vi"] == "scripts_vi"


def test_templates_and_data_are_package_data():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    data = meta["tool"]["setuptools"]["package-data"]
    assert "*.j2" in data["broadcast.scripts_vi"] and "*.txt" in data["broadcast.scripts_vi"]
    shipped = {p.suffix for p in (ROOT / "broadcast" / "data").rglob("*") if p.is_file()}
    assert shipped <= {".toml", ".tsv", ".xml", ".md", ".gz"}, shipped  # .gz: the relevance model


def test_the_library_never_reads_the_clock_or_the_working_folder():
    # The CLI (and the desk's own clock) pass `now`, `date` and folders in; the
    # one exception is an HTTP Retry-After date, which is a real-time wait.
    import re

    reads = re.compile(r"\.now\(|\.today\(|\btime\.time\(\)|\.utcnow\(|Path\.cwd\(|os\.getcwd\(")
    adapters = {"cli.py", "cli_vi.py", "__main__.py"}
    allowed = {("speech/retry.py", "time.time()")}
    found = []
    for path in sorted((ROOT / "broadcast").rglob("*.py")):
        rel = path.relative_to(ROOT / "broadcast").as_posix()
        if rel in adapters:
            continue
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            m = reads.search(line)
            if m and not any(rel == f and token in line for f, token in allowed):
                found.append(f"{rel}:{lineno}: {line.strip()}")
    assert not found, "\n".join(found)


def test_numbers_in_staff_messages_take_the_vietnamese_decimal_comma() -> None:
    from broadcast.vitext import decimal, size_text

    assert decimal(2.75, 1) == "2,8" and decimal(1.25) == "1,25" and decimal(30.0) == "30"
    assert size_text(1_500_000) == "1,5 MB" and size_text(2_000_000) == "2 MB" and size_text(200_000) == "200 KB"
