"""The review desk attacked by a logged-in staffer of one commune, through Flask's test client over real files
and a real SQLite database: what one station's account may change must stay that station's."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from broadcast import api
from broadcast.config import load_config
from broadcast.models import VN_TZ
from broadcast.web.app import DeskSettings, create_app
from offline import offline_config

NOW = dt.datetime(2026, 3, 12, 6, 0, tzinfo=VN_TZ)
PASSWORDS = {"lan": "mat-khau-lan-1", "tinh": "mat-khau-tinh-1"}
PROVINCE_FILE = "# từ điển dùng chung của tỉnh\nUBND\tủy ban nhân dân\n"


def desk_for(root: Path, stations: str, general: str = ""):
    """A desk over `stations` with staff 'lan' (hoa-phu only) and province account 'tinh'."""
    config_path = offline_config(root, stations)
    if general:
        text = config_path.read_text(encoding="utf-8").replace('data_dir = "data"', f'data_dir = "data"\n{general}')
        config_path.write_text(text, encoding="utf-8")
    config = load_config(config_path)
    with api.accounts(config) as acc:
        acc.add("lan", PASSWORDS["lan"], "staff", ["hoa-phu"], NOW)
        acc.add("tinh", PASSWORDS["tinh"], "province", [], NOW)
    app = create_app(config, root / "audio_out", lambda: NOW, DeskSettings())
    app.testing = True
    return app


def client_of(app, name: str):
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    resp = client.post("/login", data={"username": name, "password": PASSWORDS[name], "csrf_token": token})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return client


def add_word(client, station: str, written: str, spoken: str):
    page = client.get(f"/stations/{station}/lexicon").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post(f"/stations/{station}/lexicon",
                       data={"csrf_token": token, "date": "2026-03-12", "written": written, "spoken": spoken})


TWO_STATIONS = '''
[[stations]]
id = "hoa-phu"
name = "Đài truyền thanh xã Hòa Phú"

[[stations]]
id = "ea-tieu"
name = "Đài truyền thanh xã Ea Tiêu"
'''


def test_staff_of_one_commune_cannot_rewrite_the_province_dictionary(tmp_path):
    # No station has its own file: both read the province's. A commune's staffer adding a word there
    # would change what every loudspeaker in the province says.
    (tmp_path / "tu-dien-tinh.tsv").write_text(PROVINCE_FILE, encoding="utf-8")
    app = desk_for(tmp_path, TWO_STATIONS, general='lexicon = "tu-dien-tinh.tsv"')
    lan = client_of(app, "lan")
    page = lan.get("/stations/hoa-phu/lexicon").get_data(as_text=True)
    assert "dùng chung" in page and 'name="written"' not in page
    resp = add_word(lan, "hoa-phu", "UBND", "một lời xúc phạm")
    assert resp.status_code == 403
    assert "dùng chung" in resp.get_data(as_text=True)
    assert (tmp_path / "tu-dien-tinh.tsv").read_text(encoding="utf-8") == PROVINCE_FILE
    # The province's own staff may still keep the shared file.
    resp = add_word(client_of(app, "tinh"), "hoa-phu", "HĐND", "hội đồng nhân dân")
    assert resp.status_code == 302
    assert "HĐND\thội đồng nhân dân" in (tmp_path / "tu-dien-tinh.tsv").read_text(encoding="utf-8")


def test_a_file_two_stations_name_is_not_one_stations_to_change(tmp_path):
    (tmp_path / "chung.tsv").write_text("Ea Tiêu\tÊ a Tiêu\n", encoding="utf-8")
    app = desk_for(tmp_path, TWO_STATIONS.replace('Hòa Phú"\n', 'Hòa Phú"\nlexicon = "chung.tsv"\n')
                   .replace('Ea Tiêu"\n', 'Ea Tiêu"\nlexicon = "./chung.tsv"\n'))
    resp = add_word(client_of(app, "lan"), "hoa-phu", "Ea Tiêu", "Ê Tiêu")
    assert resp.status_code == 403
    assert (tmp_path / "chung.tsv").read_text(encoding="utf-8") == "Ea Tiêu\tÊ a Tiêu\n"


def test_a_stations_own_dictionary_stays_editable_by_its_staff(tmp_path):
    (tmp_path / "tu-dien-tinh.tsv").write_text(PROVINCE_FILE, encoding="utf-8")
    app = desk_for(tmp_path, TWO_STATIONS.replace('Hòa Phú"\n', 'Hòa Phú"\nlexicon = "tu-dien-hoa-phu.tsv"\n'),
                   general='lexicon = "tu-dien-tinh.tsv"')
    resp = add_word(client_of(app, "lan"), "hoa-phu", "Krông Búk", "Krông Búc")
    assert resp.status_code == 302
    assert "Krông Búk\tKrông Búc" in (tmp_path / "tu-dien-hoa-phu.tsv").read_text(encoding="utf-8")
    assert (tmp_path / "tu-dien-tinh.tsv").read_text(encoding="utf-8") == PROVINCE_FILE


def test_another_site_cannot_make_a_staffers_browser_spend_the_voice_service(tmp_path):
    # Cookies go along on a top-level visit from another site (SameSite=Lax): a page there could open
    # the sample URL with new text again and again, each a paid request to the voice vendor.
    app = desk_for(tmp_path, TWO_STATIONS)
    lan = client_of(app, "lan")
    url = "/stations/hoa-phu/speech?text=Xin+ch%C3%A0o+b%C3%A0+con"
    cross = lan.get(url, headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"})
    assert cross.status_code == 403
    assert cross.mimetype == "text/html" and "bàn duyệt" in cross.get_data(as_text=True)
    assert not list((tmp_path / "data" / "speech-cache").rglob("*.wav"))
    own = lan.get(url, headers={"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Dest": "audio"})
    assert own.status_code == 200 and own.mimetype == "audio/wav"
    assert lan.get(url).status_code == 200  # a browser that sends no such header is not refused


def test_a_staffer_cannot_start_renders_without_limit(tmp_path):
    # Each "Làm lại âm thanh" on another day starts a render at once: a staffer (or a script with their
    # session) pressing it for every day on record would run dozens of syntheses and encodes together.
    import time

    from click.testing import CliRunner

    from broadcast.cli import cli

    app = desk_for(tmp_path, TWO_STATIONS.replace('Hòa Phú"\n', 'Hòa Phú"\ntarget_minutes = 1\n'))
    days = ["2026-03-10", "2026-03-11", "2026-03-12"]
    for day in days:
        result = CliRunner().invoke(cli, ["--config", str(tmp_path / "broadcast.toml"), "--out",
                                          str(tmp_path / "audio_out"), "--date", day, "script", "--station",
                                          "hoa-phu", "--no-fetch"], env={"BROADCAST_NOW": NOW.isoformat()})
        assert result.exit_code == 0, result.output
    lan = client_of(app, "lan")
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      lan.get(f"/stations/hoa-phu/{days[0]}").get_data(as_text=True)).group(1)
    answers = [lan.post(f"/stations/hoa-phu/{day}/render", data={"csrf_token": token}) for day in days]
    try:
        assert [a.status_code for a in answers] == [302, 302, 429]
        assert "đang làm âm thanh cho 2 bản tin" in answers[2].get_data(as_text=True)
    finally:
        deadline = time.monotonic() + 300
        for day, answer in zip(days, answers):  # let the renders that started finish before tmp_path goes
            while answer.status_code == 302 and time.monotonic() < deadline:
                if lan.get(f"/api/stations/hoa-phu/{day}").get_json()["render"]["done"]:
                    break
                time.sleep(0.3)
