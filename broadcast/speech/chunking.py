"""Cut speakable Vietnamese text into pieces Google's TTS accepts (at most 100 characters).

Cuts go at sentence ends first, then clause punctuation, then between words,
never inside a word and, where at all possible, never inside the spoken form
of one number or date ("hai nghìn không trăm hai mươi lăm",
"ngày mười hai tháng ba năm ...").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

GOOGLE_LIMIT = 100

# Boundary after a chunk: decides the pause when chunk audio is re-joined.
SENTENCE, CLAUSE, WORD = "sentence", "clause", "word"

_SENT_END = re.compile(r"[.!?…]+[\"”’»)\]]*(?=\s|$)")
_CLAUSE_END = re.compile(r"[,;:]+[\"”’»)\]]*(?=\s|$)|\s[–—-](?=\s)")
_TRAILING_PUNCT = re.compile(r"[,;:.!?…\"”’»)\]]$")
_WORD_CHARS = re.compile(r"\w")

NUMBER_WORDS = frozenset(
    "không một hai ba bốn năm sáu bảy tám chín mười mươi mốt tư lăm nhăm linh lẻ "
    "trăm nghìn ngàn vạn triệu tỷ tỉ phẩy rưỡi".split()
)
# Words that introduce a number and belong to its spoken form.
NUMBER_LEADS = frozenset("ngày tháng năm mùng mồng thứ số quý giờ phút lúc".split())
# Date/time parts that continue a spoken date after a number: "mười hai | tháng ba".
DATE_PARTS = frozenset("tháng năm giờ phút".split())
# Scale words: the least bad place to cut a number too long for one chunk.
SCALE_WORDS = frozenset("trăm nghìn ngàn vạn triệu tỷ tỉ".split())


@dataclass(frozen=True)
class Chunk:
    """One request's worth of text and the kind of boundary that follows it."""

    text: str
    boundary: str  # sentence | clause | word (after the last chunk: sentence)


def _bare(token: str) -> str:
    return token.strip("\"“”‘’«»()[],;:.!?…").lower()


def _forbidden_break(tokens: list[str], i: int) -> bool:
    """True when cutting between tokens[i] and tokens[i + 1] would split a number or date."""
    a_raw, b = tokens[i], _bare(tokens[i + 1])
    if _TRAILING_PUNCT.search(a_raw):
        return False
    a = _bare(a_raw)
    if b in NUMBER_WORDS and (a in NUMBER_WORDS or a in NUMBER_LEADS):
        return True
    if a in NUMBER_WORDS and b in DATE_PARTS and i + 2 < len(tokens):
        return _bare(tokens[i + 2]) in NUMBER_WORDS
    return False


def _split_words(clause: str, limit: int) -> list[str]:
    """Cut an over-long clause between words, avoiding number and date interiors."""
    tokens: list[str] = []
    for tok in clause.split():
        # A "word" longer than the limit is garbage input; cut it hard.
        while len(tok) > limit:
            tokens.append(tok[:limit])
            tok = tok[limit:]
        if tok:
            tokens.append(tok)
    out: list[str] = []
    start = 0
    while start < len(tokens):
        length = len(tokens[start])
        end = start + 1  # exclusive
        while end < len(tokens) and length + 1 + len(tokens[end]) <= limit:
            length += 1 + len(tokens[end])
            end += 1
        if end < len(tokens):
            cut = _best_cut(tokens, start, end)
            end = cut
        out.append(" ".join(tokens[start:end]))
        start = end
    return out


def _best_cut(tokens: list[str], start: int, end: int) -> int:
    """Exclusive end for a chunk of tokens[start:end] that must be cut before `end`."""
    # Cutting at `end` itself is a candidate too: the break between end-1 and end.
    for j in range(end, start, -1):
        if not _forbidden_break(tokens, j - 1):
            return j
    # The whole window is one number: cut after a scale word, else at the edge.
    for j in range(end, start, -1):
        if _bare(tokens[j - 1]) in SCALE_WORDS:
            return j
    return end


def _cut_after(pattern: re.Pattern[str], text: str) -> list[str]:
    parts: list[str] = []
    pos = 0
    for m in pattern.finditer(text):
        piece = text[pos:m.end()].strip()
        if piece:
            parts.append(piece)
        pos = m.end()
    rest = text[pos:].strip()
    if rest:
        parts.append(rest)
    return parts


def split_sentences(text: str) -> list[str]:
    """Sentences of `text` (line breaks end sentences too)."""
    out: list[str] = []
    for line in text.splitlines():
        out.extend(_cut_after(_SENT_END, line))
    return out


def _pieces(text: str, limit: int) -> list[tuple[str, str]]:
    pieces: list[tuple[str, str]] = []
    for sentence in split_sentences(text):
        if len(sentence) <= limit:
            pieces.append((sentence, SENTENCE))
            continue
        clauses = _cut_after(_CLAUSE_END, sentence)
        for ci, clause in enumerate(clauses):
            last_kind = SENTENCE if ci == len(clauses) - 1 else CLAUSE
            if len(clause) <= limit:
                pieces.append((clause, last_kind))
                continue
            words = _split_words(clause, limit)
            for wi, w in enumerate(words):
                pieces.append((w, last_kind if wi == len(words) - 1 else WORD))
    return [(p, k) for p, k in pieces if _WORD_CHARS.search(p)]


def split_chunks(text: str, limit: int = GOOGLE_LIMIT) -> list[Chunk]:
    """Cut `text` (NFC-normalised here) into chunks of at most `limit` characters."""
    text = unicodedata.normalize("NFC", text)
    text = re.sub(r"[ \t\f\v\u00a0]+", " ", text)
    chunks: list[Chunk] = []
    buf, kind = "", SENTENCE
    for piece, pkind in _pieces(text, limit):
        if buf and len(buf) + 1 + len(piece) <= limit:
            buf, kind = f"{buf} {piece}", pkind
            continue
        if buf:
            chunks.append(Chunk(buf, kind))
        buf, kind = piece, pkind
    if buf:
        chunks.append(Chunk(buf, SENTENCE))
    return chunks
