"""Benchmark delivery: one 10-minute bulletin (128 kb/s, 9.6 MB) to a folder, an SFTP server and an HTTP
server on 127.0.0.1, against the physical floor measured in the same run (the same bytes written and
fsynced to a file; the same bytes sent over a plain loopback socket). Also times writing a podcast feed of
a year of episodes.

    python bench/bench_publish.py --repeat 5
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from publish_servers import SFTPServer, UploadServer  # noqa: E402

from broadcast.publish.folder import FolderTarget  # noqa: E402
from broadcast.publish.http import HTTPTarget  # noqa: E402
from broadcast.publish.sftp import SFTPTarget  # noqa: E402
from broadcast.publish.targets import Upload  # noqa: E402

SIZE = 128_000 // 8 * 600


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def disk_floor(folder: Path, data: bytes) -> None:
    path = folder / "floor.bin"
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    path.unlink()


def socket_floor(data: bytes) -> float:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def drain() -> None:
        conn, _ = server.accept()
        left = len(data)
        while left:
            left -= len(conn.recv(1 << 20))
        conn.sendall(b"k")
        conn.close()

    th = threading.Thread(target=drain)
    th.start()
    t = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as c:
        c.sendall(data)
        c.recv(1)
    elapsed = time.perf_counter() - t
    th.join()
    server.close()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    data = os.urandom(SIZE)
    upload = Upload(station="hoa-phu", date=dt.date(2026, 3, 12), slot="", slot_time="", kind="bulletin",
                    title="Bản tin", base="hoa-phu", data=data, checksum=hashlib.sha256(data).hexdigest(),
                    version="v")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        floor_disk = best(lambda: disk_floor(root, data), args.repeat)
        floor_net = min(socket_floor(data) for _ in range(args.repeat))
        folder = FolderTarget(root / "giao", "{station}_{date}.mp3")
        t_folder = best(lambda: folder.send(upload, "hoa-phu_2026-03-12.mp3"), args.repeat)
        with UploadServer() as http:
            target = HTTPTarget(http.url("/up/{name}"), "PUT", "x", field="file", form={}, headers={},
                                token_file=None, token_env=None, token_header="Authorization", timeout=60)
            t_http = best(lambda: target.send(upload, "hoa-phu.mp3"), args.repeat)
        with SFTPServer(root / "sftp", root / "keys") as server:
            kh = server.known_hosts(root / "known_hosts")
            target = SFTPTarget("127.0.0.1", server.port, "loa", "nhan", "x", known_hosts=kh,
                                key_file=server.user_key_file, key_env=None, password_file=None,
                                password_env=None, timeout=30)
            t_sftp = best(lambda: target.send(upload, "hoa-phu.mp3"), args.repeat)
        t_feed = feed_time(root)
    mb = SIZE / 1e6
    print(f"payload: {mb:.1f} MB (10 minutes at 128 kb/s), best of {args.repeat}")
    print(f"floor: write+fsync {floor_disk * 1000:.1f} ms; loopback socket {floor_net * 1000:.1f} ms")
    print(f"folder: {t_folder * 1000:.1f} ms  ({t_folder / floor_disk:.2f}x write+fsync; it also re-reads "
          "and hashes the copy)")
    print(f"http PUT: {t_http * 1000:.1f} ms  ({t_http / floor_net:.2f}x loopback socket)")
    print(f"sftp (connect, encrypt, upload, stat, rename): {t_sftp * 1000:.1f} ms  "
          f"({t_sftp / floor_net:.2f}x loopback socket)")
    print(f"podcast feed + page of 365 episodes: {t_feed * 1000:.1f} ms")


def feed_time(root: Path) -> float:
    from broadcast.config import parse_config
    from broadcast.publish import podcast
    from broadcast.publish.records import Episode, save_episode
    from broadcast.store import Store
    from broadcast.workspace import Workspace

    config = parse_config({"publish": {"base_url": "https://truyenthanh.example.gov.vn/bantin/"},
                           "stations": [{"id": "hoa-phu", "name": "Đài truyền thanh xã Hòa Phú"}]},
                          root / "broadcast.toml")
    ws = Workspace(root / "out", root / "data")
    store = Store(root / "data" / "broadcast.sqlite3")
    start = dt.date(2026, 1, 1)
    now = dt.datetime(2026, 12, 31, 6, tzinfo=dt.timezone.utc)
    for i in range(365):
        day = start + dt.timedelta(days=i)
        audio = ws.paths("hoa-phu", day).audio
        audio.parent.mkdir(parents=True, exist_ok=True)
        audio.write_bytes(b"x")
        version = f"{i:016x}.{i:016x}"
        served = ws.public_audio("hoa-phu", day, "", version)
        podcast.put_public_audio(served, audio, b"x", hashlib.sha256(b"x").hexdigest())
        save_episode(store, Episode("hoa-phu", day, "", f"urn:{i}", version, f"Bản tin ngày {day}", "Các tin: …",
                                    podcast.audio_ref(ws, served), 1, 300.0, hashlib.sha256(b"x").hexdigest(),
                                    dt.datetime.combine(day, dt.time(5), dt.timezone.utc)))
    t = time.perf_counter()
    podcast.write_station(config, ws, store, config.stations[0], now)
    elapsed = time.perf_counter() - t
    store.close()
    return elapsed


if __name__ == "__main__":
    main()
