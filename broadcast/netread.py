"""Reading answers from servers the project does not control: as pieces arrive, within a size and a time."""

from __future__ import annotations

import time
from typing import Iterator

import requests
import urllib3

CHUNK = 64 * 1024


def pieces(resp: requests.Response, size: int = CHUNK) -> Iterator[bytes]:
    """Body pieces as soon as they arrive, so a caller's deadline is checked between reads."""
    raw = resp.raw
    if not hasattr(raw, "read1"):  # urllib3 1.x: whole chunks only
        yield from resp.iter_content(size)
        return
    while True:
        try:
            data = raw.read1(size, decode_content=True)
        except urllib3.exceptions.ReadTimeoutError as exc:
            raise requests.Timeout(str(exc)) from None
        except urllib3.exceptions.DecodeError as exc:
            raise requests.exceptions.ContentDecodingError(str(exc)) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise requests.ConnectionError(str(exc)) from None
        if not data:
            return
        yield data


def read_start(resp: requests.Response, limit: int, deadline: float) -> bytes:
    """At most the first `limit` bytes of a streamed body: what arrived by `deadline` (time.monotonic).

    For answers only quoted, never used: a body that never ends, or trickles a
    byte at a time under the per-read timeout, stops here instead of holding
    the run and filling its memory. A connection that fails midway gives what came.
    """
    buf = bytearray()
    try:
        for data in pieces(resp, min(limit, CHUNK)):
            buf += data
            if len(buf) >= limit or time.monotonic() > deadline:
                break
    except requests.RequestException:
        pass
    return bytes(buf[:limit])
