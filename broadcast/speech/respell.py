"""Per-engine pronunciation fixes: words one voice gets wrong, respelled for that voice only.

The station's dictionary (textnorm) already turned writing into speech for
every engine. Some voices still stumble on a name or a borrowed word that
another voice reads well; tts.<engine>.lexicon names a `written<Tab>spoken`
file applied to the text just before that engine speaks it.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from broadcast.textnorm.lexicon import read_tsv


class Respelling:
    """Whole-word replacements, longest first, matched without regard to case."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = {unicodedata.normalize("NFC", w).lower(): s for w, s in pairs}
        words = sorted(self.pairs, key=len, reverse=True)
        self._re = (
            re.compile(r"(?<!\w)(" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.IGNORECASE)
            if words else None
        )

    def apply(self, text: str) -> str:
        """`text` with every listed word replaced by how this engine should be told to say it."""
        if self._re is None:
            return text
        return self._re.sub(lambda m: self.pairs[m.group(1).lower()], text)


def load_respelling(path: Path) -> Respelling:
    """Read a `written<Tab>spoken` file; raise ConfigError naming the file and line."""
    return Respelling(read_tsv(path))
