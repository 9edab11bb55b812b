"""Configuration: the minimal schema, defaults, and errors that name file, line and key."""

from pathlib import Path

import pytest

from broadcast.config import demo_config_path, load_config
from broadcast.errors import ConfigError

MINIMAL = '''
[[feeds]]
name = "baochinhphu"
url = "https://baochinhphu.vn/rss"   # http(s) URL or a local file path

[[stations]]
id = "hoa-phu"
name = "Đài truyền thanh xã Hòa Phú"

[tts]
engine = "auto"   # "auto" | "gtts" | "espeak"
'''


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "broadcast.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_minimal_schema_from_the_issue_loads(tmp_path):
    cfg = load_config(write(tmp_path, MINIMAL))
    assert [f.name for f in cfg.feeds] == ["baochinhphu"]
    assert cfg.feeds[0].url == "https://baochinhphu.vn/rss"
    st = cfg.station("hoa-phu")
    assert st.name == "Đài truyền thanh xã Hòa Phú"
    assert st.tts.resolved_chain() == ["gtts", "espeak"]
    assert cfg.data_dir == tmp_path / "data"


def test_relative_paths_resolve_against_the_config_file(tmp_path):
    text = MINIMAL.replace('url = "https://baochinhphu.vn/rss"', 'url = "feeds/tin.xml"')
    text += '\n[audio]\njingle = "am-thanh/nhac.mp3"\n'
    cfg = load_config(write(tmp_path, text))
    assert cfg.feeds[0].url == str(tmp_path / "feeds" / "tin.xml")
    assert cfg.stations[0].audio.jingle == tmp_path / "am-thanh" / "nhac.mp3"


def test_station_overrides_inherit_the_global_sections(tmp_path):
    text = MINIMAL + '''
[audio]
loudness = -18.0

[[stations]]
id = "ea-kar"
name = "Đài truyền thanh xã Ea Kar"
slots = [{name = "sang", time = "06:00"}, "17:00"]
[stations.tts]
chain = ["espeak"]
speed = 1.1
[stations.audio]
bitrate = "64k"
'''
    cfg = load_config(write(tmp_path, text))
    ea = cfg.station("ea-kar")
    assert ea.tts.resolved_chain() == ["espeak"] and ea.tts.speed == 1.1
    assert ea.audio.bitrate == "64k" and ea.audio.loudness == -18.0
    assert [(s.name, s.time) for s in ea.slots] == [("sang", "06:00"), ("17h00", "17:00")]
    assert cfg.station("hoa-phu").audio.bitrate == "128k"


def test_toml_syntax_error_names_file_and_line(tmp_path):
    text = MINIMAL.replace('engine = "auto"', "engine = auto")
    bad_line = text.splitlines().index("engine = auto   # \"auto\" | \"gtts\" | \"espeak\"") + 1
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        load_config(p)
    msg = str(e.value)
    assert str(p) in msg and f"dòng {bad_line}:" in msg


@pytest.mark.parametrize("snippet, key", [
    ('[tts]\nengine = "robot"', "tts.engine"),
    ('[audio]\nloudness = "to"', "audio.loudness"),
    ('[audio]\nbitrate = "100k"', "audio.bitrate"),
    ('[selection]\nmax_itms = 3', "selection.max_itms"),
])
def test_bad_values_name_the_key(tmp_path, snippet, key):
    text = MINIMAL.replace('[tts]\nengine = "auto"   # "auto" | "gtts" | "espeak"', snippet)
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, text))
    assert f"'{key}'" in str(e.value)


def test_station_id_must_be_safe_for_file_names(tmp_path):
    with pytest.raises(ConfigError, match=r"stations\[0\]\.id"):
        load_config(write(tmp_path, MINIMAL.replace('id = "hoa-phu"', 'id = "../Hòa Phú"')))


def test_missing_file_and_non_utf8_file(tmp_path):
    with pytest.raises(ConfigError, match="Không tìm thấy tệp cấu hình"):
        load_config(tmp_path / "khong-co.toml")
    p = tmp_path / "latin.toml"
    p.write_bytes(MINIMAL.encode("utf-8") + b'\n# \xe0\xe1 ghi ch\xfa\n')
    with pytest.raises(ConfigError, match="UTF-8"):
        load_config(p)


def test_unknown_station_lists_the_known_ones(tmp_path):
    cfg = load_config(write(tmp_path, MINIMAL))
    with pytest.raises(ConfigError, match="Các đài đã khai báo: hoa-phu"):
        cfg.station("ea-kar")


def test_bundled_demo_config_is_valid_and_offline():
    cfg = load_config(demo_config_path())
    assert cfg.stations and cfg.feeds
    for feed in cfg.feeds:
        assert Path(feed.url).is_file(), "the demo feed must ship with the package"


@pytest.mark.parametrize("bad_id", ["hoa-phu\\n", "hoa-phu\\r\\n", "\\nhoa-phu", "hoa phu", "Hoa-Phu"])
def test_station_id_must_match_the_pattern_in_full(tmp_path, bad_id):
    # "$" alone lets a trailing newline through; the id names files and folders.
    text = MINIMAL.replace('id = "hoa-phu"', f'id = "{bad_id}"')
    with pytest.raises(ConfigError, match="stations\\[0\\]\\.id"):
        load_config(write(tmp_path, text))


@pytest.mark.parametrize("extra, expected", [
    ("[general]\nfetch_timeout = " + "9" * 400 + "\n", "'general.fetch_timeout': số quá lớn"),
    ("[general]\nfetch_retries = " + "9" * 5000 + "\n", "số quá dài"),
    ("[general]\nx = " + "[" * 5000 + "]" * 5000 + "\n", "lồng bảng hoặc danh sách quá sâu"),
])
def test_overflow_and_deep_nesting_are_config_errors(tmp_path, extra, expected):
    # Python would raise OverflowError, ValueError or RecursionError here: exit 70.
    with pytest.raises(ConfigError, match=expected):
        load_config(write(tmp_path, extra + MINIMAL))


def test_file_urls_work_and_other_schemes_are_refused(tmp_path):
    feed = tmp_path / "tin huyện.xml"
    feed.write_text("<rss/>", encoding="utf-8")
    cfg = load_config(write(tmp_path, MINIMAL.replace("https://baochinhphu.vn/rss", feed.as_uri())))
    assert cfg.feeds[0].url == str(feed)
    from broadcast.feeds import fetch
    assert fetch(cfg.feeds[0]).body == b"<rss/>"
    for url, words in [("ftp://example.vn/rss.xml", "chỉ dùng được địa chỉ http://, https:// hoặc đường dẫn tệp"),
                       ("file://may-khac/tin.xml", "tệp trên máy khác (may-khac)")]:
        with pytest.raises(ConfigError) as err:
            load_config(write(tmp_path, MINIMAL.replace("https://baochinhphu.vn/rss", url)))
        assert "feeds[0].url" in str(err.value) and words in str(err.value)
