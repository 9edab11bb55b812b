"""Publishing for real: bulletins built with offline speech and ffmpeg, delivered to a folder, an SFTP
server and an HTTP server on 127.0.0.1, and a podcast feed read back with feedparser."""

from __future__ import annotations

import datetime as dt
import email.parser
import email.policy
import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import asyncssh
import feedparser
import pytest
from click.testing import CliRunner

from broadcast.cli import cli
from offline import offline_config
from publish_servers import PASSWORD, SFTPServer, UploadServer

DATA = Path(__file__).parent / "data"
TODAY = dt.date(2026, 3, 12)
DATE = TODAY.isoformat()
NOW = "2026-03-12T05:30:00+07:00"
LATER = "2026-03-12T07:15:00+07:00"
BASE_URL = "https://truyenthanh.example.gov.vn/bantin/podcast/"
TITLE = "Bản tin cải cách hành chính ngày 12/03/2026"
PUBLISH = f'[publish]\nbase_url = "{BASE_URL}"\nretry_delay = 0.01\nretries = 2\n'
TOKEN = "tok-7f3a9c-2b8e-secret"


def write_config(root: Path, *, policy: str = "auto", deliver: str = "", publish: str = PUBLISH) -> Path:
    return offline_config(root, f'''
{publish}

[[stations]]
id = "hoa-phu"
name = "Đài truyền thanh xã Hòa Phú"
commune = "xã Hòa Phú"
target_minutes = 2
publish = "{policy}"
{deliver}
''')


def run(config: Path, *args: str, now: str = NOW, env: dict | None = None):
    return CliRunner().invoke(cli, ["--config", str(config), "--out", str(config.parent / "audio_out"),
                                    "--date", DATE, *args],
                              catch_exceptions=False, env={"BROADCAST_NOW": now, **(env or {})})


def audio(root: Path, base: str = "hoa-phu") -> bytes:
    return (root / "audio_out" / DATE / f"{base}.mp3").read_bytes()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def public(root: Path) -> Path:
    return root / "audio_out" / "podcast"


def served(root: Path, url: str) -> Path:
    """The file of the public folder (the only one served, at BASE_URL) that answers a feed's address."""
    assert url.startswith(BASE_URL), url
    path = public(root) / url[len(BASE_URL):]
    assert path.resolve().is_relative_to(public(root).resolve()) and path.is_file(), url
    return path


def log(config: Path) -> list[dict]:
    result = run(config, "deliveries", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """One real bulletin, rendered once and not yet published; each test works on its own copy."""
    root = tmp_path_factory.mktemp("published")
    config = write_config(root, publish="")
    result = run(config, "build")
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def root(built, tmp_path) -> Path:
    copy = tmp_path / "dai"
    shutil.copytree(built, copy)
    return copy


# ---------------------------------------------------------------- targets


def folder_target(path: str = "giao/hoa-phu", pattern: str = "") -> str:
    extra = f'\npattern = "{pattern}"' if pattern else ""
    return f'[[stations.deliver]]\nkind = "folder"\npath = "{path}"{extra}\n'


def http_target(url: str, extra: str = "") -> str:
    return f'[[stations.deliver]]\nkind = "http"\nurl = "{url}"\ntoken_env = "LOA_TOKEN"\n{extra}\n'


def sftp_target(server: SFTPServer, known_hosts: Path, auth: str) -> str:
    return (f'[[stations.deliver]]\nkind = "sftp"\nhost = "127.0.0.1"\nport = {server.port}\nuser = "loa"\n'
            f'path = "nhan/hoa-phu"\nknown_hosts = "{known_hosts}"\n{auth}\ntimeout = 10\n')


# ---------------------------------------------------------------- delivery


def test_nightly_build_delivers_to_every_target_once(root, tmp_path):
    with UploadServer() as http, SFTPServer(tmp_path / "sftp", tmp_path / "keys") as sftp:
        deliver = (folder_target() + http_target(http.url("/upload/{name}"))
                   + sftp_target(sftp, sftp.known_hosts(tmp_path / "known_hosts"), f'key_file = "{sftp.user_key_file}"'))
        config = write_config(root, deliver=deliver)
        env = {"LOA_TOKEN": TOKEN}
        result = run(config, "build", "--no-fetch", env=env)
        assert result.exit_code == 0, result.output
        data = audio(root)
        name = "hoa-phu_2026-03-12.mp3"
        assert (root / "giao" / "hoa-phu" / name).read_bytes() == data
        assert (tmp_path / "sftp" / "nhan" / "hoa-phu" / name).read_bytes() == data
        assert not [p for p in (tmp_path / "sftp" / "nhan" / "hoa-phu").iterdir() if p.name != name]
        assert [u["path"] for u in http.uploads] == [f"/upload/{name}"], result.output
        assert http.uploads[0]["method"] == "PUT" and http.uploads[0]["body"] == data
        assert http.uploads[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"
        assert http.uploads[0]["headers"]["Content-Type"] == "audio/mpeg"

        records = log(config)
        assert sorted(r["kind"] for r in records) == ["folder", "http", "podcast", "sftp"]
        for r in records:
            assert r["result"] == "delivered" and r["checksum"] == sha256(data) and r["size"] == len(data)
            assert r["at"].startswith("2026-03-12T05:30:00")
        assert {r["version"] for r in records} == {records[0]["version"]}
        status = json.loads(run(config, "status", "--json").output)
        assert status[0]["state"] == "published"

        # Exactly once per version: publishing again sends nothing.
        again = run(config, "publish", now=LATER, env=env)
        assert again.exit_code == 0, again.output
        assert "đã phát hành trước đó, không đổi" in again.output
        assert again.output.splitlines()[-1] == "2026-03-12 07:15:00 Xong: phát hành 1/1 bản tin ngày 12/03/2026."
        assert len(http.uploads) == 1 and len(log(config)) == 4
        assert sftp.logins == ["loa"]
        assert TOKEN not in again.output + result.output + json.dumps(log(config), ensure_ascii=False)


def test_retries_wait_longer_each_time(root, monkeypatch):
    from broadcast.config import load_config
    from broadcast.publish.run import Publisher
    from broadcast.store import Store
    from broadcast.workspace import Workspace

    monkeypatch.setenv("LOA_TOKEN", TOKEN)
    with UploadServer() as http:
        http.answers["/down"] = [502] * 10
        config = load_config(write_config(root, deliver=http_target(http.url("/down")),
                                          publish=PUBLISH.replace("retries = 2", "retries = 3")))
        waits: list[float] = []
        store = Store(config.data_dir / "broadcast.sqlite3")
        try:
            report = Publisher(config, Workspace(root / "audio_out", config.data_dir), store,
                               dt.datetime.fromisoformat(NOW), sleep=waits.append).run(TODAY, config.stations)
        finally:
            store.close()
        assert waits == [0.01, 0.02, 0.04]
        (pub,) = report.publications
        assert pub.failed and pub.targets[0].attempts == 4 and len(http.uploads) == 4


def test_multipart_post_with_fields_and_headers(root):
    with UploadServer() as http:
        extra = 'method = "POST"\nfield = "audio"\nform = { station = "{station}", date = "{date}" }\n' \
                'headers = { "X-Platform" = "loa-ip" }\npattern = "{station}-{yyyymmdd}.mp3"'
        config = write_config(root, deliver=http_target(http.url("/api/bantin"), extra))
        result = run(config, "publish", env={"LOA_TOKEN": TOKEN})
        assert result.exit_code == 0, result.output
        (up,) = http.uploads
        assert up["method"] == "POST" and up["headers"]["X-Platform"] == "loa-ip"
        msg = email.parser.BytesParser(policy=email.policy.default).parsebytes(
            f"Content-Type: {up['headers']['Content-Type']}\r\n\r\n".encode() + up["body"])
        parts = {p.get_param("name", header="content-disposition"): p for p in msg.iter_parts()}
        assert parts["audio"].get_filename() == "hoa-phu-20260312.mp3"
        assert parts["audio"].get_payload(decode=True) == audio(root)
        assert parts["station"].get_content().strip() == "hoa-phu"
        assert parts["date"].get_content().strip() == DATE


def test_failing_target_is_retried_logged_and_does_not_stop_the_others(root):
    with UploadServer() as http:
        http.answers["/flaky"] = [503, 500]  # then 201
        http.answers["/down"] = [500] * 10
        http.answers["/refuses"] = [403]
        deliver = (http_target(http.url("/down")) + http_target(http.url("/refuses")) + folder_target()
                   + http_target(http.url("/flaky")))
        config = write_config(root, deliver=deliver)
        result = run(config, "publish", env={"LOA_TOKEN": TOKEN})
        assert result.exit_code == 1, result.output
        assert (root / "giao" / "hoa-phu" / "hoa-phu_2026-03-12.mp3").read_bytes() == audio(root)
        by_target = {r["target"].split("/")[-1]: r for r in log(config)}
        assert by_target["flaky"]["result"] == "delivered" and by_target["flaky"]["attempts"] == 3
        assert by_target["down"]["result"] == "failed" and by_target["down"]["attempts"] == 3  # retries = 2
        assert "500" in by_target["down"]["message"]
        assert by_target["refuses"]["result"] == "failed" and by_target["refuses"]["attempts"] == 1  # 403: no retry
        assert [u["path"] for u in http.uploads].count("/flaky") == 3
        assert "LỖI (sau 3 lần thử)" in result.output
        status = json.loads(run(config, "status", "--json").output)
        assert status[0]["state"] == "rendered", "not published while a target still lacks it"

        # The next run sends only to the targets that lack this version.
        http.answers["/down"] = []
        http.answers["/refuses"] = []
        again = run(config, "publish", now=LATER, env={"LOA_TOKEN": TOKEN})
        assert again.exit_code == 0, again.output
        paths = [u["path"] for u in http.uploads]
        assert paths.count("/flaky") == 3 and paths.count("/down") == 4 and paths.count("/refuses") == 2
        assert json.loads(run(config, "status", "--json").output)[0]["state"] == "published"


def test_policy_approved_blocks_delivery_until_approval_and_hold_withdraws(root):
    config = write_config(root, policy="approved", deliver=folder_target())
    target = root / "giao" / "hoa-phu" / "hoa-phu_2026-03-12.mp3"
    result = run(config, "publish")
    assert result.exit_code == 0, result.output
    assert "chờ duyệt" in result.output
    assert not target.exists() and log(config) == []
    feed = feedparser.parse((root / "audio_out" / "podcast" / "hoa-phu.xml").read_bytes())
    assert feed.entries == []

    assert run(config, "approve", "hoa-phu", "--by", "Chị Lan").exit_code == 0
    result = run(config, "publish", now=LATER)
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == audio(root)
    feed = feedparser.parse((root / "audio_out" / "podcast" / "hoa-phu.xml").read_bytes())
    assert len(feed.entries) == 1

    assert run(config, "hold", "hoa-phu", "--reason", "sai số liệu").exit_code == 0
    # Off the web at once: no waiting for the next publication.
    assert list((public(root) / "hoa-phu").iterdir()) == []
    assert feedparser.parse((public(root) / "hoa-phu.xml").read_bytes()).entries == []
    result = run(config, "publish", now=LATER)
    assert result.exit_code == 0, result.output
    assert "đang tạm dừng" in result.output
    assert "hãy gỡ tệp đó ở nơi nhận" in result.output
    feed = feedparser.parse((root / "audio_out" / "podcast" / "hoa-phu.xml").read_bytes())
    assert feed.entries == [], "a held bulletin leaves the feed"
    assert list((public(root) / "hoa-phu").iterdir()) == [], "and the web"
    assert [r["result"] for r in log(config) if r["kind"] == "podcast"] == ["delivered", "withdrawn"]
    assert [r["result"] for r in log(config) if r["kind"] == "folder"] == ["delivered", "withdrawn"]
    assert "hãy gỡ tệp đó" not in run(config, "publish", now=LATER).output, "said once"

    # Approved again: it goes out again, to the feed and to the folder the operator was asked to clear.
    target.unlink()
    assert run(config, "approve", "hoa-phu").exit_code == 0
    assert run(config, "publish", now=LATER).exit_code == 0
    assert target.read_bytes() == audio(root)
    assert len(feedparser.parse((root / "audio_out" / "podcast" / "hoa-phu.xml").read_bytes()).entries) == 1
    lines = run(config, "deliveries").output.splitlines()
    assert len(lines) == 6 and "thư mục" in lines[-1] and "đã giao" in lines[-1]
    assert f"sha256 {sha256(audio(root))[:12]}" in lines[-1]


def test_rerendered_bulletin_replaces_the_delivered_one(root):
    config = write_config(root, deliver=folder_target())
    assert run(config, "publish").exit_code == 0
    first = audio(root)
    feed = feedparser.parse((root / "audio_out" / "podcast" / "hoa-phu.xml").read_bytes())
    old_guid = feed.entries[0].id

    script = root / "audio_out" / DATE / "hoa-phu.txt"
    text = script.read_text(encoding="utf-8")
    script.write_text(text.replace("[kết thúc]", "[thông báo 9]\nXã sẽ tổ chức tiêm phòng vào thứ Bảy.\n\n[kết thúc]"),
                      encoding="utf-8")
    result = run(config, "build", "--no-fetch", now=LATER)
    assert result.exit_code == 0, result.output
    second = audio(root)
    assert second != first
    assert (root / "giao" / "hoa-phu" / "hoa-phu_2026-03-12.mp3").read_bytes() == second
    folder = [r for r in log(config) if r["kind"] == "folder"]
    assert [r["result"] for r in folder] == ["delivered", "replaced"]
    assert "thay bản đã giao lúc 05:30 12/03/2026" in folder[1]["message"]
    assert folder[1]["checksum"] == sha256(second) and folder[0]["version"] != folder[1]["version"]
    feed = feedparser.parse((root / "audio_out" / "podcast" / "hoa-phu.xml").read_bytes())
    assert len(feed.entries) == 1 and feed.entries[0].id != old_guid
    assert int(feed.entries[0].enclosures[0].length) == len(second)
    assert served(root, feed.entries[0].enclosures[0].href).read_bytes() == second
    assert [p.read_bytes() for p in (public(root) / "hoa-phu").iterdir()] == [second], "the old version is gone"
    events = [e for e in json.loads(run(config, "history", "--json").output)[0]["events"] if e["action"] == "published"]
    assert len(events) == 2 and events[1]["detail"].startswith("thay bản đã phát hành trước")


def test_a_bulletin_deleted_by_hand_leaves_the_feed_and_the_web(root):
    config = write_config(root)
    assert run(config, "publish").exit_code == 0
    (copy,) = (public(root) / "hoa-phu").iterdir()
    (root / "audio_out" / DATE / "hoa-phu.mp3").unlink()
    run(config, "publish", now=LATER)
    assert not copy.exists()
    assert feedparser.parse((public(root) / "hoa-phu.xml").read_bytes()).entries == []


def test_a_file_no_episode_names_is_cleared_from_the_public_folder(root):
    # Left by a killed run, or put there by hand: the public folder holds published versions only.
    config = write_config(root)
    assert run(config, "publish").exit_code == 0
    (copy,) = (public(root) / "hoa-phu").iterdir()
    stray = public(root) / "hoa-phu" / f"{DATE}.mp3"
    shutil.copyfile(root / "audio_out" / DATE / "hoa-phu.mp3", stray)
    assert run(config, "publish", now=LATER).exit_code == 0
    assert list((public(root) / "hoa-phu").iterdir()) == [copy]


def test_half_written_audio_is_never_delivered(root):
    config = write_config(root, deliver=folder_target())
    mp3 = root / "audio_out" / DATE / "hoa-phu.mp3"
    mp3.write_bytes(mp3.read_bytes()[: mp3.stat().st_size // 2])
    result = run(config, "publish")
    assert result.exit_code == 1
    assert "chưa hoàn chỉnh, không phát hành" in result.output
    assert not (root / "giao").exists()
    assert log(config) == []


# ---------------------------------------------------------------- sftp safety


def test_sftp_refuses_an_unknown_host_key_and_never_shows_the_password(root, tmp_path):
    with SFTPServer(tmp_path / "sftp", tmp_path / "keys") as sftp:
        wrong = sftp.known_hosts(tmp_path / "known_hosts", asyncssh.generate_private_key("ssh-ed25519"))
        config = write_config(root, deliver=sftp_target(sftp, wrong, 'password_env = "LOA_PASSWORD"'))
        env = {"LOA_PASSWORD": PASSWORD}
        result = run(config, "-v", "publish", env=env)
        assert result.exit_code == 1
        (rec,) = [r for r in log(config) if r["kind"] == "sftp"]
        assert rec["result"] == "failed" and rec["attempts"] == 1, "a host key mismatch is not retried"
        assert "không khớp hoặc chưa có trong tệp known_hosts" in rec["message"]
        assert not (tmp_path / "sftp" / "nhan").exists()

        # With the right key the password logs in; it appears nowhere.
        sftp.known_hosts(wrong)
        result = run(config, "-v", "publish", now=LATER, env=env)
        assert result.exit_code == 0, result.output
        assert (tmp_path / "sftp" / "nhan" / "hoa-phu" / "hoa-phu_2026-03-12.mp3").read_bytes() == audio(root)
    db = root / "data" / "broadcast.sqlite3"
    with sqlite3.connect(db) as con:
        dump = "\n".join(con.iterdump())
    assert PASSWORD not in dump and PASSWORD not in result.output


def test_sftp_without_known_hosts_says_how_to_make_it(root, tmp_path):
    with SFTPServer(tmp_path / "sftp", tmp_path / "keys") as sftp:
        config = write_config(root, deliver=sftp_target(sftp, tmp_path / "khong-co", f'key_file = "{sftp.user_key_file}"'))
        result = run(config, "publish")
        assert result.exit_code == 1
        assert "ssh-keyscan" in result.output
        assert sftp.logins == [], "no connection without a way to check the host"
        doctor = run(config, "doctor", "--no-feeds")
        line = next(l for l in doctor.output.splitlines() if "nơi nhận sftp loa@127.0.0.1" in l)
        assert "ssh-keyscan" in line and "OK" not in line.split("]")[0]


# ---------------------------------------------------------------- the podcast feed


def test_podcast_feed_read_back_field_by_field(root):
    config = write_config(root, deliver=folder_target())
    assert run(config, "publish").exit_code == 0
    notice = run(config, "notice", "--priority", "emergency", "--name", "thong-bao-lu",
                 "Nước sông Krông Ana đang lên nhanh. Bà con vùng trũng di chuyển tài sản lên cao.", now=LATER)
    assert notice.exit_code == 0, notice.output
    # The emergency notice went out at once, without a publish run.
    assert (root / "giao" / "hoa-phu" / "hoa-phu_2026-03-12_thong-bao-lu.mp3").read_bytes() == \
        audio(root, "hoa-phu-thong-bao-lu")

    xml = (root / "audio_out" / "podcast" / "hoa-phu.xml").read_bytes()
    feed = feedparser.parse(xml)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "rss20"
    assert feed.feed.language == "vi"
    assert feed.feed.image.href == f"{BASE_URL}hoa-phu.png"
    assert feed.feed.title.startswith("Đài truyền thanh xã Hòa Phú")
    assert feed.feed.link == f"{BASE_URL}hoa-phu.html"
    assert b'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"' in xml
    png = (root / "audio_out" / "podcast" / "hoa-phu.png").read_bytes()
    assert png.startswith(b"\x89PNG") and int.from_bytes(png[16:20], "big") == 1400

    manifests = {b: json.loads((root / "audio_out" / DATE / f"{b}.json").read_text(encoding="utf-8"))
                 for b in ("hoa-phu", "hoa-phu-thong-bao-lu")}
    bases = ["hoa-phu-thong-bao-lu", "hoa-phu"]  # newest first
    slots = ["thong-bao-lu", ""]
    for entry, base, slot in zip(feed.entries, bases, slots):
        enc = entry.enclosures[0]
        # The public copy, named by the version published: nothing at a name guessed from the date.
        assert enc.href.startswith(f"{BASE_URL}hoa-phu/{DATE}_{slot + '_' if slot else ''}"), enc.href
        assert served(root, enc.href).read_bytes() == audio(root, base)
        assert int(enc.length) == (root / "audio_out" / DATE / f"{base}.mp3").stat().st_size
        assert enc.type == "audio/mpeg"
        h, m, s = (int(x) for x in entry.itunes_duration.split(":"))
        assert abs(h * 3600 + m * 60 + s - manifests[base]["duration"]) <= 0.5
        assert entry.guidislink is False
    assert feed.entries[1].title == TITLE
    assert feed.entries[0].title == "Thông báo khẩn ngày 12/03/2026"
    assert feed.entries[0].published == "Thu, 12 Mar 2026 07:15:00 +0700"
    assert feed.entries[1].published == "Thu, 12 Mar 2026 05:30:00 +0700"
    assert feed.entries[0].published_parsed > feed.entries[1].published_parsed
    guids = [e.id for e in feed.entries]
    assert len(set(guids)) == 2

    # Stable: writing the feed again gives the same GUIDs.
    (root / "audio_out" / "podcast" / "hoa-phu.xml").unlink()
    assert run(config, "publish", now=LATER).exit_code == 0
    assert [e.id for e in feedparser.parse((root / "audio_out" / "podcast" / "hoa-phu.xml").read_bytes()).entries] == guids

    page = (root / "audio_out" / "podcast" / "hoa-phu.html").read_text(encoding="utf-8")
    assert page.count("<audio controls") == 2
    src = feed.entries[1].enclosures[0].href[len(BASE_URL):]
    assert f'src="{src}"' in page and 'lang="vi"' in page and ".." not in page


@pytest.mark.parametrize("base_url_changed", [True, False])
def test_a_feed_of_the_old_layout_moves_to_the_public_folder_keeping_its_guids(root, base_url_changed):
    # An install upgraded from the layout where the feed pointed into the day folders (audio_out served whole,
    # base_url its address). The README asks the operator to add "podcast/" to base_url: the feed keeps its
    # address then. One who did not is told, with the value to set.
    config = write_config(root)
    assert run(config, "publish").exit_code == 0
    xml = public(root) / "hoa-phu.xml"
    (before,) = feedparser.parse(xml.read_bytes()).entries
    shutil.rmtree(public(root) / "hoa-phu")
    with sqlite3.connect(root / "data" / "broadcast.sqlite3") as con:
        con.execute("UPDATE podcast_episodes SET audio = ?", (f"{DATE}/hoa-phu.mp3",))
    old_base = BASE_URL[: -len("podcast/")] if base_url_changed else BASE_URL
    old_feed = xml.read_bytes().replace(before.enclosures[0].href.encode(), f"{old_base}{DATE}/hoa-phu.mp3".encode())
    old_feed = old_feed.replace(f'href="{BASE_URL}hoa-phu.xml"'.encode(), f'href="{old_base}podcast/hoa-phu.xml"'.encode())
    xml.write_bytes(old_feed)

    result = run(config, "publish", now=LATER)
    assert result.exit_code == 0, result.output
    assert "đã phát hành trước đó, không đổi" in result.output
    if base_url_changed:
        assert "đổi từ" not in result.output
    else:
        assert (f"địa chỉ podcast của đài hoa-phu đổi từ {BASE_URL}podcast/hoa-phu.xml thành {BASE_URL}hoa-phu.xml"
                in result.output)
        assert f'base_url = "{BASE_URL}podcast/"' in result.output
    (after,) = feedparser.parse(xml.read_bytes()).entries
    assert after.id == before.id and after.published == before.published, "listeners' apps fetch nothing again"
    assert after.enclosures[0].href == before.enclosures[0].href
    assert served(root, after.enclosures[0].href).read_bytes() == audio(root)
    assert [r["result"] for r in log(config) if r["kind"] == "podcast"] == ["delivered"]


def test_the_public_copy_is_a_link_to_the_checked_bytes_only(tmp_path):
    from broadcast.publish.podcast import put_public_audio

    source = tmp_path / DATE / "hoa-phu.mp3"
    source.parent.mkdir()
    checked = b"ID3" + bytes(range(256)) * 8
    source.write_bytes(checked)
    dest = tmp_path / "podcast" / "hoa-phu" / "a.mp3"
    put_public_audio(dest, source, checked, sha256(checked))
    assert dest.read_bytes() == checked and dest.stat().st_ino == source.stat().st_ino, "no second copy on disk"
    put_public_audio(dest, source, checked, sha256(checked))  # published again: nothing changes
    assert dest.stat().st_ino == source.stat().st_ino

    # Made again between the check and the copy (a build puts a new file in place of the old one): the public
    # files hold the checked bytes, not the new ones.
    source.unlink()
    source.write_bytes(b"ID3 lam lai chua duyet")
    other = dest.with_name("b.mp3")
    put_public_audio(other, source, checked, sha256(checked))
    assert other.read_bytes() == checked and other.stat().st_ino != source.stat().st_ino
    assert dest.read_bytes() == checked
    assert sorted(p.name for p in other.parent.iterdir()) == ["a.mp3", "b.mp3"], "no temporary file left"


def test_guid_names_the_script_and_the_audio():
    from broadcast.publish.podcast import guid_for
    from broadcast.publish.run import version_of

    script, audio_a, audio_b = "a" * 64, "b" * 64, "c" * 64
    first = guid_for("hoa-phu", TODAY, "sang", version_of(script, audio_a))
    assert first == guid_for("hoa-phu", TODAY, "sang", version_of(script, audio_a))
    assert first != guid_for("hoa-phu", TODAY, "sang", version_of(script, audio_b)), "audio remade: new episode"
    assert first != guid_for("hoa-phu", TODAY, "chieu", version_of(script, audio_a))


def test_notice_delivery_failure_is_a_warning_and_the_next_publish_sends_it(root):
    with UploadServer() as http:
        http.answers["/loa"] = [500] * 3
        config = write_config(root, deliver=http_target(http.url("/loa")))
        result = run(config, "notice", "--name", "thong-bao-hop", "Chiều nay họp dân tại nhà văn hóa thôn 3.",
                     now=LATER, env={"LOA_TOKEN": TOKEN})
        assert result.exit_code == 0, result.output
        assert "cảnh báo: chưa giao được tới http PUT" in result.output
        notice = [r for r in log(config) if r["slot"] == "thong-bao-hop" and r["kind"] == "http"]
        assert [(r["result"], r["attempts"]) for r in notice] == [("failed", 3)]
        result = run(config, "publish", "--station", "hoa-phu", now=LATER, env={"LOA_TOKEN": TOKEN})
        assert result.exit_code == 0, result.output
        bodies = [u["body"] for u in http.uploads]
        assert bodies.count(audio(root, "hoa-phu-thong-bao-hop")) == 4 and bodies.count(audio(root)) == 1


def test_episode_text_is_escaped_in_the_page(root):
    from broadcast.config import load_config
    from broadcast.publish.podcast import _page_html
    from broadcast.publish.records import Episode

    config = load_config(write_config(root))
    from broadcast.workspace import Workspace

    ep = Episode("hoa-phu", TODAY, "", "urn:x", "0" * 16 + "." + "1" * 16, "<script>alert(1)</script>",
                 "Tin \"A\" & <b>B</b>", f"podcast/hoa-phu/{DATE}_{'0' * 16}.{'1' * 16}.mp3", 10, 60.0, "c",
                 dt.datetime(2026, 3, 12, 5, 30, tzinfo=dt.timezone.utc))
    page = _page_html(config, Workspace(root / "audio_out", config.data_dir), config.stations[0], [ep])
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Tin &quot;A&quot; &amp; &lt;b&gt;B&lt;/b&gt;" in page


# ---------------------------------------------------------------- retention


def _prune(config_path: Path, root: Path, now: dt.datetime) -> None:
    from broadcast.bulletin import BuildOptions
    from broadcast.config import load_config
    from broadcast.pipeline import Builder
    from broadcast.workspace import Workspace

    config = load_config(config_path)
    builder = Builder(config, BuildOptions(date=now.date(), now=now, fetch=False),
                      Workspace(root / "audio_out", config.data_dir))
    with builder.session():
        builder._prune_old()


@pytest.mark.parametrize("podcast_days,kept", [(60, True), (10, False)])
def test_retention_keeps_what_the_feed_references_or_drops_the_episode(root, podcast_days, kept):
    publish = PUBLISH + f"podcast_days = {podcast_days}\n"
    config = write_config(root, publish=publish)
    assert run(config, "publish").exit_code == 0
    text = config.read_text(encoding="utf-8").replace("[tts]", "[audio]\nretention_days = 20\n\n[tts]")
    config.write_text(text, encoding="utf-8")
    _prune(config, root, dt.datetime(2026, 4, 20, 5, 0, tzinfo=dt.timezone(dt.timedelta(hours=7))))
    day = root / "audio_out" / DATE
    feed = feedparser.parse((root / "audio_out" / "podcast" / "hoa-phu.xml").read_bytes())
    assert day.exists() is kept
    assert len(feed.entries) == (1 if kept else 0)
    for e in feed.entries:  # whatever the feed lists is still there
        assert served(root, e.enclosures[0].href).read_bytes() == audio(root)
    # An episode that left the feed leaves the web with it.
    assert len(list((public(root) / "hoa-phu").glob("*.mp3"))) == (1 if kept else 0)


# ---------------------------------------------------------------- configuration


@pytest.mark.parametrize("deliver,message", [
    ('[[stations.deliver]]\nkind = "ftp"\n', "phải là một trong folder, http, sftp, đang ghi là 'ftp'"),
    ('[[stations.deliver]]\nkind = "folder"\npath = "x"\npattern = "{station}_{ngay}.mp3"\n', "không có {ngay}"),
    ('[[stations.deliver]]\nkind = "folder"\npath = "x"\npattern = "../{station}.mp3"\n', "chỉ là tên tệp"),
    ('[[stations.deliver]]\nkind = "sftp"\nhost = "pc-xa"\nuser = "loa"\n', "không ghi mật khẩu thẳng"),
    ('[[stations.deliver]]\nkind = "http"\nurl = "http://x/"\nheaders = { Authorization = "Bearer 1" }\n',
     "dùng token_env"),
    ('[[stations.deliver]]\nkind = "folder"\npath = "x"\nmode = 1\n', "'stations[0].deliver[0].mode'"),
])
def test_config_errors_name_the_key_and_the_fix(tmp_path, deliver, message):
    config = write_config(tmp_path, deliver=deliver)
    result = run(config, "publish")
    assert result.exit_code == 2
    assert message in result.output


def test_base_url_must_be_absolute(tmp_path):
    config = write_config(tmp_path, publish='[publish]\nbase_url = "bantin/"\n')
    result = run(config, "publish")
    assert result.exit_code == 2 and "khóa 'publish.base_url'" in result.output
