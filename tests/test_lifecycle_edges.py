"""Edge cases of the bulletin lifecycle found by using it as staff and operators do (real builds)."""

from __future__ import annotations

import datetime as dt

import pytest

from broadcast import api
from broadcast.config import load_config
from test_lifecycle import DAY, at, make_config

SLOTS = 'slots = [{time = "06:00", name = "sang"}, {time = "17:00", name = "chieu"}]'


@pytest.fixture
def slotted(tmp_path):
    config = load_config(make_config(tmp_path, station='publish = "approved"\n' + SLOTS))
    return config, tmp_path / "audio_out"


def aired_ids(config) -> list[int]:
    with api.open_store(config) as store:
        return [sid for _, _, sid in store.aired("hoa-phu", DAY)]


def test_a_slot_that_may_not_air_never_erases_what_another_slot_aired(slotted):
    config, out = slotted
    api.build(config, out, DAY, at(DAY), jobs=1)
    assert aired_ids(config) == []
    api.approve(config, out, "hoa-phu", DAY, at(DAY, 5, 5), slot="sang", by="Lan")
    morning = aired_ids(config)
    assert morning, "the approved morning bulletin's stories count as aired"

    # The nightly job runs again: the evening slot is still waiting for approval.
    api.build(config, out, DAY, at(DAY, 5, 10), fetch=False, jobs=1)
    assert aired_ids(config) == morning
    api.hold(config, out, "hoa-phu", DAY, at(DAY, 5, 15), slot="chieu", by="Lan")
    assert aired_ids(config) == morning
    (row,) = [s for s in api.report(config, DAY, DAY).stations]
    assert row.aired == 1 and row.items == len(morning)

    # The evening airs; holding the morning leaves the evening's stories recorded.
    api.approve(config, out, "hoa-phu", DAY, at(DAY, 5, 20), slot="chieu", by="Lan")
    api.hold(config, out, "hoa-phu", DAY, at(DAY, 5, 25), slot="sang", by="Lan")
    assert aired_ids(config) == morning
    api.hold(config, out, "hoa-phu", DAY, at(DAY, 5, 30), slot="chieu", by="Lan")
    assert aired_ids(config) == []
