"""The review desk (`broadcast serve` on 127.0.0.1) meeting careless files and hostile colleagues.

A light site: two stations with no bulletin yet, accounts made with the real
CLI, the real server in its own process, real SQLite, real files.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
import requests

from offline import offline_config
from test_web import PASSWORDS, cli_run
from test_web_e2e import serve_site

STATIONS = '''
[[stations]]
id = "hoa-phu"
name = "Đài truyền thanh xã Hòa Phú"
target_minutes = 3
lexicon = "tu-dien-hoa-phu.tsv"

[[stations]]
id = "ea-tieu"
name = "Đài truyền thanh xã Ea Tiêu"
target_minutes = 2
'''


def make_light_site(root: Path) -> Path:
    """Configuration and accounts only: 'lan' staffs Hòa Phú, 'hung' Ea Tiêu, 'quantri' administers."""
    config = offline_config(root, STATIONS)
    for name, role, station in (("lan", "staff", "hoa-phu"), ("hung", "staff", "ea-tieu"),
                                ("quantri", "admin", "")):
        args = ["user", "add", name, "--role", role, "--password-stdin"] + (["--station", station] if station else [])
        result = cli_run(config, *args, input=PASSWORDS[name] + "\n")
        assert result.exit_code == 0, result.output
    return config


def form_value(html: str, name: str) -> str:
    found = re.findall(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no {name} in the page"
    return found[-1]


def log_in(base: str, name: str) -> requests.Session:
    s = requests.Session()
    token = form_value(s.get(f"{base}/login", timeout=10).text, "csrf_token")
    resp = s.post(f"{base}/login", data={"username": name, "password": PASSWORDS[name], "csrf_token": token},
                  allow_redirects=False, timeout=10)
    assert resp.status_code == 302, resp.text[:500]
    return s


def error_line(resp: requests.Response) -> str:
    m = re.search(r'class="error" role="alert">([^<]+)<', resp.text)
    assert m, resp.text[:1500]
    return m.group(1)


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    make_light_site(root)
    return root


# ---------------------------------------------------------------- the dictionary file as staff left it


def add_entry(base: str, s: requests.Session, written: str, spoken: str) -> requests.Response:
    page = s.get(f"{base}/stations/hoa-phu/lexicon", timeout=10)
    return s.post(f"{base}/stations/hoa-phu/lexicon", data={"csrf_token": form_value(page.text, "csrf_token"),
                                                             "written": written, "spoken": spoken},
                  allow_redirects=False, timeout=20)


def test_an_entry_joins_a_dictionary_saved_by_notepad_as_unicode(site):
    # Notepad's "Unicode" is UTF-16 with a byte-order mark: the nightly run reads such a file, so the desk
    # must add to it too, keeping every entry already there.
    lexicon = site / "tu-dien-hoa-phu.tsv"
    lexicon.write_bytes("# Từ điển của đài\r\nEa Kly\tÊ a Kly\r\n".encode("utf-16"))
    with serve_site(site) as base:
        s = log_in(base, "lan")
        resp = add_entry(base, s, "HTX", "hợp tác xã")
        assert resp.status_code == 302, error_line(resp)
        page = s.get(f"{base}/stations/hoa-phu/lexicon", timeout=10).text
    assert "Ê a Kly" in page and "hợp tác xã" in page
    from broadcast.textnorm.lexicon import read_tsv
    assert dict(read_tsv(lexicon)) == {"Ea Kly": "Ê a Kly", "HTX": "hợp tác xã"}


def test_a_dictionary_path_that_is_a_pipe_is_refused_not_waited_on(site):
    # A careless configuration names a FIFO (or a device) as the station's dictionary: adding an entry
    # must answer with the reason, not hang a desk thread on it for ever (or, for /dev/zero, read it all).
    lexicon = site / "tu-dien-hoa-phu.tsv"
    os.mkfifo(lexicon)
    release = threading.Event()

    def unblock() -> None:
        # Whatever reads the pipe before the fix is let go at the end, so the server can stop.
        release.wait()
        try:
            fd = os.open(lexicon, os.O_WRONLY | os.O_NONBLOCK)
            os.close(fd)
        except OSError:
            pass

    helper = threading.Thread(target=unblock, daemon=True)
    helper.start()
    try:
        with serve_site(site) as base:
            s = log_in(base, "lan")
            try:
                resp = add_entry(base, s, "HTX", "hợp tác xã")
            except requests.Timeout:
                pytest.fail("the desk waited on the pipe instead of answering")
            assert resp.status_code == 400
            assert "không phải tệp thường" in error_line(resp)
    finally:
        release.set()
