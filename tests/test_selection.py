"""Choosing a bulletin's stories: importance, freshness, variety, airtime; leads cut at sentence ends."""

from __future__ import annotations

import datetime as dt

import pytest

from broadcast.config import SelectionConfig, StationConfig, TTSConfig
from broadcast.models import VN_TZ, Candidate
from broadcast.selection import (
    candidate_to_dict, estimate_seconds, select, shorten_lead, split_sentences, total_seconds,
)

NOW = dt.datetime(2026, 9, 14, 18, 0, tzinfo=VN_TZ)
LEAD = ("UBND tỉnh yêu cầu các sở rút ngắn thời gian giải quyết hồ sơ. "
        "Người dân có thể nộp hồ sơ trực tuyến qua Cổng Dịch vụ công quốc gia.")


def cand(i: int, score: float = 2.0, source: str = "Báo Đắk Lắk", feed: str = "daklak",
         topics: list[str] | None = None, hours_old: float = 2.0, summary: str = LEAD,
         title: str | None = None, sources: list[str] | None = None) -> Candidate:
    when = NOW - dt.timedelta(hours=hours_old)
    return Candidate(id=i, title=title or f"Tin cải cách hành chính số {i}", summary=summary,
                     link=f"https://a.vn/{i}", sources=sources or [source], feeds=[feed],
                     published=when, first_seen=when, score=score, topics=topics or ["tthc"])


def station(**sel: object) -> StationConfig:
    return StationConfig(id="hoa-phu", name="Đài xã Hòa Phú", selection=SelectionConfig(**sel),
                         tts=TTSConfig())


# ------------------------------------------------------------ speaking time

def test_estimate_counts_syllables_and_expands_numbers() -> None:
    # At 60 syllables a minute one syllable is one second.
    assert estimate_seconds("cải cách hành chính", 60) == pytest.approx(4)
    assert estimate_seconds("2.600", 60) == pytest.approx(4)  # hai nghìn sáu trăm
    assert estimate_seconds("2,600", 60) == pytest.approx(4)  # English separators, same number
    assert estimate_seconds("2025", 60) == pytest.approx(7)  # hai nghìn không trăm hai mươi lăm
    assert estimate_seconds("UBND", 60) == pytest.approx(4)  # u bê en đê
    assert estimate_seconds("30%", 60) == pytest.approx(4)  # ba mươi phần trăm
    assert estimate_seconds("0,47", 60) == pytest.approx(5)  # không phẩy bốn mươi bảy
    assert estimate_seconds("", 190) == 0.0
    # Sentences add pauses; a faster engine takes less time.
    two = "Một hai ba. Bốn năm sáu."
    assert estimate_seconds(two, 60) == pytest.approx(6 + 0.7)
    assert estimate_seconds(LEAD, 200) < estimate_seconds(LEAD, 150)


# ------------------------------------------------------------ leads for radio

def test_sentences_split_outside_abbreviations_and_numbers() -> None:
    text = ("Sáng 5/9, UBND TP. Buôn Ma Thuột tổ chức hội nghị. Tăng trưởng đạt 4.5% so với năm trước. "
            "PGS.TS. Nguyễn Văn An phát biểu. Ông Nguyễn V. Bình cho biết: \"Xã đã làm tốt.\" Tổng thu đạt 2.023,8 tỷ đồng.")
    assert split_sentences(text) == [
        "Sáng 5/9, UBND TP. Buôn Ma Thuột tổ chức hội nghị.",
        "Tăng trưởng đạt 4.5% so với năm trước.",
        "PGS.TS. Nguyễn Văn An phát biểu.",
        "Ông Nguyễn V. Bình cho biết: \"Xã đã làm tốt.\"",
        "Tổng thu đạt 2.023,8 tỷ đồng.",
    ]


def test_lead_is_cut_only_at_sentence_ends() -> None:
    lead = "Câu thứ nhất khá ngắn. Câu thứ hai cũng ngắn. Câu thứ ba thì dài hơn nhiều so với hai câu đầu."
    assert shorten_lead(lead, 50) == "Câu thứ nhất khá ngắn. Câu thứ hai cũng ngắn."
    assert shorten_lead(lead, 1000) == lead
    # One long sentence is kept whole rather than cut.
    assert shorten_lead(lead, 5) == "Câu thứ nhất khá ngắn."
    # A lead the site truncated mid-sentence loses its broken tail.
    assert shorten_lead("Xã đã số hóa hồ sơ. Ngoài ra, xã còn...", 500) == "Xã đã số hóa hồ sơ."
    assert shorten_lead("", 500) == ""


# ------------------------------------------------------------ choosing

def test_all_candidates_returned_ranked_with_reasons() -> None:
    cands = [cand(1, score=2.0), cand(2, score=0.4), cand(3, score=5.0, source="Báo Chính phủ", feed="bcp")]
    ranked = select(cands, station(), {"daklak": 1.0, "bcp": 1.0}, 600, min_score=1.0, now=NOW)
    assert [c.id for c in ranked] == [3, 1, 2]
    assert [c.selected for c in ranked] == [True, True, False]
    assert ranked[0].reason.startswith("được chọn: điểm 5,00; chủ đề: Thủ tục hành chính;")
    assert "ít liên quan" in ranked[2].reason and "ngưỡng 1" in ranked[2].reason
    assert all(c.spoken_summary for c in ranked)
    assert cands[0].selected is False  # inputs are not modified


def test_local_feed_weight_lifts_provincial_news() -> None:
    cands = [cand(1, score=3.0, source="Báo Chính phủ", feed="bcp"), cand(2, score=2.0)]
    ranked = select(cands, station(max_items=1), {"bcp": 1.0, "daklak": 2.0}, 600, min_score=1.0, now=NOW)
    assert [c.id for c in ranked if c.selected] == [2]
    assert "đã đủ 1 tin" in ranked[1].reason


def test_fresher_story_wins_between_equals_and_stale_ones_are_left_out() -> None:
    cands = [cand(1, hours_old=60), cand(2, hours_old=1), cand(3, hours_old=100)]
    ranked = select(cands, station(fresh_hours=72), {}, 600, min_score=1.0, now=NOW)
    assert [c.id for c in ranked if c.selected] == [2, 1]
    assert ranked[-1].id == 3 and "cũ hơn 72 giờ" in ranked[-1].reason


def test_variety_across_sources_and_topics() -> None:
    cands = [cand(i, score=5.0 - i * 0.1, source="Báo Chính phủ", feed="bcp", topics=["tthc"]) for i in range(1, 5)]
    cands.append(cand(9, score=3.9, source="Báo Đắk Lắk", feed="daklak", topics=["de_an_06"]))
    ranked = select(cands, station(per_source_max=2, max_items=4), {}, 900, min_score=1.0, now=NOW)
    chosen = [c for c in ranked if c.selected]
    assert [c.id for c in chosen] == [1, 9, 2]  # the local VNeID story comes before a third national one
    assert sum(c.sources == ["Báo Chính phủ"] for c in chosen) == 2
    assert any("đã đủ 2 tin từ Báo Chính phủ" in c.reason for c in ranked if not c.selected)


def test_story_from_several_sources_ranks_up() -> None:
    cands = [cand(1, score=2.0), cand(2, score=2.0, sources=["Báo Đắk Lắk", "Báo Chính phủ", "VTV"])]
    ranked = select(cands, station(), {}, 600, min_score=1.0, now=NOW)
    assert ranked[0].id == 2 and "3 nguồn đưa tin" in ranked[0].reason
    named = select(cands, station(), {}, 600, min_score=1.0, now=NOW, labels={"tthc": "TTHC"})
    assert "chủ đề: TTHC" in named[0].reason


def test_fitted_to_the_airtime_budget() -> None:
    long_lead = " ".join(f"Câu số {i} kể về việc số hóa hồ sơ tại xã." for i in range(30))
    cands = [cand(i, score=3.0, summary=long_lead, source=f"Nguồn {i}", feed=f"f{i}", topics=[f"t{i}"])
             for i in range(1, 8)]
    st = station(item_chars=400, max_items=10)
    rate = st.tts.syllables_per_minute["espeak"]
    ranked = select(cands, st, {}, 120, engine="espeak", min_score=1.0, now=NOW)
    chosen = [c for c in ranked if c.selected]
    assert 1 <= len(chosen) < 7
    assert total_seconds(chosen, rate) <= 120
    assert all(len(c.spoken_summary) <= 400 for c in chosen)
    assert any("không đủ thời lượng" in c.reason for c in ranked if not c.selected)
    # A tiny budget still fits a story by reading only its first sentence.
    tiny = select(cands[:1], st, {}, 12, engine="espeak", min_score=1.0, now=NOW)
    assert tiny[0].selected and tiny[0].spoken_summary == "Câu số 0 kể về việc số hóa hồ sơ tại xã."


def test_zero_weight_feed_is_never_aired() -> None:
    ranked = select([cand(1, feed="muted")], station(), {"muted": 0.0}, 600, min_score=1.0, now=NOW)
    assert not ranked[0].selected and "trọng số 0" in ranked[0].reason


def test_min_score_from_station_config() -> None:
    ranked = select([cand(1, score=2.0)], station(min_score=2.5), {}, 600, now=NOW)
    assert not ranked[0].selected


def test_json_record_has_what_items_prints() -> None:
    ranked = select([cand(1)], station(), {}, 600, min_score=1.0, now=NOW)
    rec = candidate_to_dict(ranked[0])
    assert {"title", "source", "link", "published", "topics", "score", "selected"} <= set(rec)
    assert rec["source"] == "Báo Đắk Lắk" and rec["selected"] is True
    assert rec["published"] == "2026-09-14T16:00:00+07:00"


def test_without_now_freshness_follows_the_newest_candidate() -> None:
    # The store already kept the fresh stories for the bulletin's date; building
    # for a past date must not call them stale by the wall clock.
    cands = [cand(1, hours_old=1), cand(2, hours_old=50)]
    ranked = select(cands, station(fresh_hours=24), {}, 600, min_score=1.0)
    assert [c.selected for c in ranked] == [True, True]
    assert ranked[0].id == 1  # fresher first between equal scores


def test_local_item_outranks_news_and_is_read_whole() -> None:
    import dataclasses

    body = " ".join(f"Câu thứ {n} của tin địa phương về thủ tục tại xã." for n in range(1, 21))
    local = dataclasses.replace(cand(1, score=0.0, feed="xa", source="Bộ phận Một cửa xã Hòa Phú", summary=body),
                                local=True)
    news = cand(2, score=3.0)
    ranked = select([news, local], station(max_items=1, item_chars=200), {"xa": 2.0, "daklak": 1.0}, 600,
                    min_score=1.0, now=NOW)
    assert [c.id for c in ranked if c.selected] == [1]
    assert ranked[0].spoken_summary == body  # not cut to item_chars: staff wrote it to be read
    assert ranked[1].reason == "đã đủ 1 tin cho bản tin"
    # Below the threshold a news story is still left out.
    assert not select([cand(3, score=0.5)], station(), {}, 600, min_score=1.0, now=NOW)[0].selected
