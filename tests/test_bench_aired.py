"""The aired-stories benchmark: stream extraction, the simulated station, label joins and counts."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
REFORM = "Xã Hòa Phú cắt giảm thủ tục hành chính tại bộ phận một cửa"
REFORM_LEAD = ("UBND xã Hòa Phú rút ngắn thời gian giải quyết thủ tục hành chính, người dân nộp hồ sơ "
               "trên Cổng dịch vụ công quốc gia.")
OTHER = "Đội bóng phố núi thắng trận thứ ba liên tiếp"
OTHER_LEAD = "Đội bóng ghi hai bàn trong hiệp hai trước hàng nghìn khán giả."


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    sys.path.insert(0, str(BENCH))
    try:
        return importlib.import_module("bench_aired")
    finally:
        sys.path.remove(str(BENCH))


def item(day: str, outlet: str, title: str, summary: str, link: str, hour: int = 8) -> dict[str, str]:
    return {"date": day, "published": f"{day}T{hour:02d}:00:00+07:00", "outlet": outlet, "title": title,
            "summary": summary, "link": link}


def stream() -> list[dict[str, str]]:
    return [
        item("2026-05-01", "Tuổi Trẻ", REFORM, REFORM_LEAD, "https://tuoitre.vn/a"),
        item("2026-05-01", "VnExpress", OTHER, OTHER_LEAD, "https://vnexpress.net/b"),
        # Day two: the same story from another outlet, still fresh; nothing new about reform.
        item("2026-05-02", "Thanh Niên", REFORM + ".", REFORM_LEAD, "https://thanhnien.vn/c"),
        item("2026-05-02", "VnExpress", OTHER + " nữa", OTHER_LEAD, "https://vnexpress.net/d"),
        item("2026-05-03", "Thanh Niên",
             "Tỉnh công bố chỉ số hài lòng của người dân với dịch vụ hành chính công (SIPAS)",
             "Sở Nội vụ công bố chỉ số SIPAS, đo sự hài lòng của người dân khi làm thủ tục hành chính "
             "tại bộ phận một cửa các xã.", "https://thanhnien.vn/e"),
    ]


def test_station_airs_reform_news_once_and_never_the_rest(bench: ModuleType, tmp_path: Path) -> None:
    from broadcast.relevance import load_vocabulary

    rows = stream()
    days = bench.stream_days(rows)
    assert days == [dt.date(2026, 5, 1), dt.date(2026, 5, 2), dt.date(2026, 5, 3)]
    for model in (True, False):
        folder = tmp_path / str(model)
        folder.mkdir()
        aired = bench.simulate(rows, load_vocabulary(model=model), days, folder)
        titles = [a.title for a in aired]
        # The reform story airs on its day; its copy on day two (another outlet) does not air again.
        assert [(a.date, a.title) for a in aired if "Hòa Phú" in a.title] == [("2026-05-01", REFORM)]
        assert not any("Đội bóng" in t for t in titles)
        assert "2026-05-02" not in {a.date for a in aired}
        assert [a.date for a in aired if "SIPAS" in a.title] == ["2026-05-03"]
        assert len(set(map(bench.title_key, titles))) == len(titles)


def test_labels_join_on_normalized_titles_and_counts_add_up(bench: ModuleType) -> None:
    aired = [bench.Aired("2026-05-01", "Tuổi Trẻ", "Tin A: cải cách", "", "", 3.0),
             bench.Aired("2026-05-02", "VnExpress", "tin a  cải cách", "", "", 3.0),  # same key as above
             bench.Aired("2026-05-02", "VnExpress", "Tin B", "", "", 2.0),
             bench.Aired("2026-05-25", "Thanh Niên", "Tin C", "", "", 2.0),
             bench.Aired("2026-05-26", "Thanh Niên", "Tin D", "", "", 2.0)]
    reused = [{"title": "TIN A — cải cách", "label": "1"}]
    hand = [{"title": "Tin B", "label": "0", "unsure": "1"}, {"title": "Tin C", "label": "1", "unsure": "0"},
            # A hand label never overrides the earlier labelled set.
            {"title": "Tin A: cải cách", "label": "0", "unsure": "0"}]
    labels = bench.load_labels(reused, hand)
    s = bench.summarize(aired, labels, days=26)
    assert (s.days, s.aired, s.reform, s.reused, s.hand, s.unsure, s.missing) == (26, 5, 3, 2, 2, 1, 1)
    p, lo, hi = s.share
    assert p == pytest.approx(3 / 4) and lo < p < hi
    assert s.share == bench.wilson(3, 4)
    days = [dt.date(2026, 5, 1) + dt.timedelta(days=i) for i in range(26)]
    first, n = bench.first_days(aired, days, 21)
    assert n == 21 and [a.title for a in first] == ["Tin A: cải cách", "tin a  cải cách", "Tin B"]
    lines = bench.report({"arm": aired}, labels, days)
    assert lines[1].split()[:4] == ["arm", "26", "5", "3"]
    assert lines[-1].split()[:4] == ["arm", "21", "3", "2"]


def test_hand_labels_round_trip_keeps_quotes(bench: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "h.tsv.gz"
    rows = [{"date": "2026-05-01", "outlet": "Tuổi Trẻ", "label": "1", "unsure": "0", "kind": "aired",
             "title": 'Bộ "gỡ nút thắt"\tcấp xã', "summary": "dòng một\ndòng hai", "link": "https://x.vn/1"}]
    bench.write_hand_labels(path, rows)
    back = bench.read_tsv(path)
    assert back == [{**rows[0], "title": 'Bộ "gỡ nút thắt" cấp xã', "summary": "dòng một dòng hai"}]


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args],
                   check=True, capture_output=True)


def test_stream_reads_each_day_file_before_it_was_deleted(bench: ModuleType, tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "data" / "news").mkdir(parents=True)
    git(work, "init", "-q")
    day_file = work / "data" / "news" / "2026-05-01.json"

    def news(title: str, source: str, published: str) -> dict[str, str]:
        return {"title": title, "summary": "Sapo.", "link": f"https://x.vn/{len(title)}", "source": source,
                "published": published, "category": "x", "fetched": published}

    day_file.write_text(json.dumps([news("Tin cũ", "Tuổi Trẻ", "2026-05-01T07:00:00+07:00")]), "utf-8")
    git(work, "add", "-A")
    git(work, "commit", "-qm", "one")
    day_file.write_text(json.dumps([
        news("Tin mới", "VnExpress - Thế Giới", "2026-05-01T09:00:00+07:00"),
        news("Tin mới!", "Thanh Niên", "2026-05-01T08:00:00+07:00"),  # same title key, earlier: kept
        news("Tin báo khác", "Dân Trí", "2026-05-01T09:00:00+07:00"),
        news("Tin tháng trước", "Tuổi Trẻ", "2026-04-30T09:00:00+07:00"),
    ]), "utf-8")
    git(work, "commit", "-qam", "two")
    git(work, "rm", "-q", str(day_file))
    git(work, "commit", "-qm", "gone")
    out = tmp_path / "stream.jsonl.gz"
    assert bench.build_stream(work / ".git", out) == 1
    [row] = bench.read_stream(out)
    assert (row["title"], row["outlet"], row["date"]) == ("Tin mới!", "Thanh Niên", "2026-05-01")
    assert set(row) == {"date", "published", "outlet", "title", "summary", "link"}


def test_without_a_stream_it_says_how_to_build_one(bench: ModuleType, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--stream", str(tmp_path / "none.jsonl.gz")]) == 2
    err = capsys.readouterr().err
    assert "--build-stream" in err and "tintuchangngay" in err
