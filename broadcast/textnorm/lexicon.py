"""Pronunciation dictionary: shipped abbreviations and lexicon plus a station's overrides."""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Iterator

from broadcast.errors import ConfigError
from broadcast.fsutil import MAX_SETTINGS_BYTES, read_staff_text

log = logging.getLogger(__name__)

SHIPPED_FILES = ("abbreviations.tsv", "lexicon.tsv")

# One dictionary token: what the word pass of the normaliser calls a word.
# Internal '.', '&', '-' and apostrophes stay inside ("TP.HCM", "KH&CN", "NĐ-CP", "M'gar").
TOKEN_RE = re.compile(r"[^\W_](?:\w|['’.&\-](?=[^\W_]))*")


# The Highland word for water, printed three ways in place names.
_DAK_SPELLINGS = ("Đắk", "Đăk", "Đak")
_FOLDED = "\x00"  # marks a case-folded key in a tracking set
_NEVER = re.compile(r"(?!)")


def split_key(key: str) -> tuple[str, ...]:
    """Split a written form into the tokens the word pass sees ('PAR INDEX' -> ('PAR', 'INDEX'))."""
    return tuple(TOKEN_RE.findall(key))


@dataclass
class Lexicon:
    """Written forms and how to say them.

    Keys with a lower-case letter ("Zalo", "Cư M'gar") match in any case; all-capital
    keys ("UBND", "CT") match only as written, so an abbreviation never fires on an
    ordinary word.
    """

    entries: dict[str, str] = field(default_factory=dict)
    folded: dict[str, str] = field(default_factory=dict)
    # first token (exact or case-folded) -> longest key length in tokens
    starts: dict[str, int] = field(default_factory=dict)
    # Written forms added by a station's own file, in file order.
    overrides: list[str] = field(default_factory=list)
    # Keys found while tracking (see track()); None when nobody is tracking.
    hits: set[str] | None = field(default=None, repr=False, compare=False)
    _numbers_re: re.Pattern | None = field(default=None, repr=False, compare=False)
    # Lower-case words the word pass found to read exactly as written, so later lines
    # skip the dictionary and rule checks for them; emptied whenever an entry is added.
    plain: set[str] = field(default_factory=set, repr=False, compare=False)

    def add(self, written: str, spoken: str, override: bool = False) -> None:
        """Add or replace one entry; `override` also drops other spellings it now covers."""
        if override:
            self.overrides.append(written)
        if override and any(ch.islower() for ch in written):
            # A station's "zalo" must beat the shipped "Zalo", which would match first.
            fold = written.casefold()
            for other in [k for k in self.entries if k != written and k.casefold() == fold]:
                del self.entries[other]
        self.entries[written] = spoken
        self._numbers_re = None
        self.__dict__.pop("_unmarked", None)  # the word pass's unmarked-name index is stale
        self.plain.clear()  # and so are the words known to read as written
        tokens = split_key(written)
        if not tokens:
            return
        n = len(tokens)
        first = tokens[0]
        self.starts[first] = max(self.starts.get(first, 0), n)
        if any(ch.islower() for ch in written):
            self.folded[written.casefold()] = spoken
            low = first.casefold()
            self.starts[low] = max(self.starts.get(low, 0), n)
            if first in _DAK_SPELLINGS:
                # "Đắk Glei" is also printed "Đăk Glei" and "Đak Glei": the same name.
                for other in _DAK_SPELLINGS:
                    self.folded.setdefault(other.casefold() + written[len(first):].casefold(), spoken)
                    self.starts[other.casefold()] = max(self.starts.get(other.casefold(), 0), n)

    def get(self, written: str) -> str | None:
        """Spoken form of `written`, or None."""
        hit = self.entries.get(written)
        if hit is None:
            hit = self.folded.get(written.casefold())
            if hit is not None and self.hits is not None:
                self.hits.add(_FOLDED + written.casefold())
        elif self.hits is not None:
            self.hits.add(written)
        return hit

    def numbers_pattern(self) -> re.Pattern | None:
        """One pattern for entries written with a bare number ("113", "Đề án 06"), or None.

        The digit rules would read these before any word lookup, so they are matched first.
        """
        if self._numbers_re is None:
            keys = [k for k in self.entries if any(t.isdecimal() for t in split_key(k))]
            if not keys:
                self._numbers_re = _NEVER
            else:
                alts = []
                for key in sorted(keys, key=len, reverse=True):
                    body = r"\s+".join(re.escape(t) for t in key.split())
                    alts.append(f"(?i:{body})" if any(ch.islower() for ch in key) else body)
                self._numbers_re = re.compile(
                    r"(?<![\w.,/])(?:" + "|".join(alts) + r")(?![\w/]|[.,]\d)"
                )
        return None if self._numbers_re is _NEVER else self._numbers_re

    @contextlib.contextmanager
    def track(self) -> Iterator[set[str]]:
        """Record which entries match while the block runs (see `was_used`)."""
        previous, self.hits = self.hits, set()
        try:
            yield self.hits
        finally:
            self.hits = previous

    def was_used(self, written: str, hits: set[str]) -> bool:
        """Say whether entry `written` matched anything in a tracked run."""
        if written in hits:
            return True
        if not any(ch.islower() for ch in written):
            return False
        keys = [written.casefold()]
        first = split_key(written)[0]
        if first in _DAK_SPELLINGS:
            # "Đắk Glei" also matched when a page printed "Đăk Glei".
            keys = [other.casefold() + written[len(first):].casefold() for other in _DAK_SPELLINGS]
        return any(_FOLDED + key in hits for key in keys)

    def max_tokens(self, first: str) -> int:
        """Longest entry (in tokens) that can start with token `first`; 0 when none."""
        exact = self.starts.get(first, 0)
        folded = self.starts.get(first.casefold(), 0) if not first.islower() else 0
        return exact if exact >= folded else folded

    def copy(self) -> "Lexicon":
        """Return an independent copy to merge a station's entries into."""
        return Lexicon(dict(self.entries), dict(self.folded), dict(self.starts),
                       list(self.overrides))

    def __len__(self) -> int:
        return len(self.entries)


def parse_tsv(text: str, source: str) -> list[tuple[str, str]]:
    """Parse `written<TAB>spoken` lines; raise ConfigError naming `source` and the line."""
    pairs: list[tuple[str, str]] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = unicodedata.normalize("NFC", raw).strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split("\t")]
        where = f"Tệp từ điển phát âm {source}, dòng {lineno}"
        if len(parts) != 2:
            raise ConfigError(
                f"{where}: cần đúng hai cột cách nhau bằng một phím Tab "
                f"(cách viết<Tab>cách đọc), nhưng có {len(parts)} cột: {line!r}. "
                "Hãy sửa dòng này hoặc thêm dấu # ở đầu dòng để bỏ qua."
            )
        written, spoken = parts
        if not written or not spoken:
            raise ConfigError(
                f"{where}: thiếu cách viết hoặc cách đọc: {line!r}. "
                "Hãy điền đủ cả hai cột, cách nhau bằng phím Tab."
            )
        if not split_key(written):
            raise ConfigError(
                f"{where}: cách viết {written!r} không có chữ cái hay chữ số nào. "
                "Hãy ghi từ cần đọc ở cột đầu."
            )
        if any(ch.isdigit() for ch in spoken):
            raise ConfigError(
                f"{where}: cách đọc {spoken!r} còn chữ số. "
                "Hãy viết số bằng chữ (ví dụ 'một' thay cho '1')."
            )
        pairs.append((written, spoken))
    return pairs


def read_tsv(path: Path) -> list[tuple[str, str]]:
    """Read a station's dictionary file (UTF-8, or UTF-16 as Notepad saves it); raise ConfigError in Vietnamese."""
    return parse_tsv(read_staff_text(path, "tệp từ điển phát âm", MAX_SETTINGS_BYTES, ConfigError), str(path))


@functools.lru_cache(maxsize=1)
def shipped_lexicon() -> Lexicon:
    """Load the abbreviations and lexicon shipped with broadcast (once per process)."""
    lex = Lexicon()
    data = resources.files("broadcast") / "data"
    for name in SHIPPED_FILES:
        text = (data / name).read_text(encoding="utf-8")
        for written, spoken in parse_tsv(text, f"broadcast/data/{name}"):
            lex.add(written, spoken)
    log.debug("loaded %d shipped pronunciation entries", len(lex))
    return lex


def load_lexicon(extra: Path | None = None) -> Lexicon:
    """Return the shipped dictionary, plus a station's override file whose entries win."""
    base = shipped_lexicon()
    if extra is None:
        return base
    merged = base.copy()
    for written, spoken in read_tsv(Path(extra)):
        merged.add(written, spoken, override=True)
    log.info("loaded pronunciation overrides from %s", extra)
    return merged
