"""The words of a Meilisearch index, held in the process that searches it.

A misspelled word used to cost the Meilisearch backend two or three round trips: the search as
typed, a probe of the words Meilisearch matched it to (when the page showed none), then the
corrected search. With the index's words at hand the correction is known before the first
request, so the corrected search goes first, in one request, and carries what tells whether
the correction is the one Meilisearch's own answers would have given (the typed words' probe
and counts, the candidates' counts): `MeiliBackend.search` falls back to the typed search when
it is not. The vocabulary only proposes; the server decides, so a word another process added
or deleted since the vocabulary was read costs a round trip, never a different page.

Candidates follow Meilisearch's typo rules (`settings_for` in meili.py: one typo from
`ONE_TYPO` letters, two from `TWO_TYPOS`; an edit of the first letter counts as two typos; a
transposition as one; the last word may match a prefix) and then the other backends' rule
(`semantic.allowed_edits`, `semantic.best_correction`: fewest edits, then the most documents).
"""

from __future__ import annotations

import bisect
import functools
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from service.search import query as q
from service.search.base import Document
from service.search.documents import IndexSchema
from service.search.semantic import allowed_edits, best_correction, edit_distance

# Meilisearch's `minWordSizeForTypos` (see meili.py `settings_for`).
ONE_TYPO = 5
TWO_TYPOS = 9
# Fields whose words Meilisearch never matches with a typo (meili.py `_NO_TYPOS`).
NO_TYPOS = ("email", "phone")
_WORD = re.compile(r"[^\W_]+")  # as `q.phrase_words` splits words
_BINS = 32  # letter-count histogram bins: a cheap lower bound of the edit distance


@functools.lru_cache(maxsize=200_000)
def _fold(token: str) -> tuple[str, ...]:
    """The folded words of a token that is not plain ASCII (folding may split it)."""
    return tuple(q.phrase_words(q.fold(token)))


def _words(text: str) -> set[str]:
    """The folded words of a text, as `q.fold` then `q.phrase_words` give them (an ASCII word
    folds to itself; the others are remembered, as the same few recur across documents)."""
    words: set[str] = set()
    for token in _WORD.findall(text.casefold()):
        if token.isascii():
            words.add(token)
        else:
            words.update(_fold(token))
    return words


def typo_budget(word: str) -> int:
    """How many typos Meilisearch allows a (folded) query word."""
    return 0 if len(word) < ONE_TYPO else 1 if len(word) < TWO_TYPOS else 2


def _histogram(word: str) -> NDArray[np.int16]:
    """Counts a word's letters in `_BINS` bins (an edit changes the counts by at most 2)."""
    counts = np.zeros(_BINS, dtype=np.int16)
    for c in word:
        counts[ord(c) % _BINS] += 1
    return counts


def meili_typos(typed: str, word: str, *, prefix: bool) -> int | None:
    """The typos Meilisearch counts matching a typed word to an index word (with `prefix`, to a
    word starting like it), or None when it does not match them within the typed word's budget:
    an edit of the first letter counts twice."""
    budget = typo_budget(typed)
    if prefix:
        ends = range(max(1, len(typed) - budget), min(len(word), len(typed) + budget) + 1)
        targets = [word[:end] for end in ends] or [word]
    else:
        targets = [word]
    best: int | None = None
    for target in targets:
        if target[:1] == typed[:1]:
            distance = edit_distance(typed, target, budget)
            cost = distance if distance <= budget else None
        else:
            cost = 2 if budget >= 2 and edit_distance(typed, target, 1) <= 1 else None
        if cost is not None and (best is None or cost < best):
            best = cost
    return best


@dataclass
class Guess:
    """A search's words as the vocabulary corrects them, and what the server must confirm."""

    words: list[str]  # as typed
    corrected: list[str]
    held: dict[int, bool]  # by position of each correctable word: does a document hold it?
    options: dict[int, list[str]] = field(default_factory=dict)  # closest words, by position
    # Positions of the words the vocabulary knows nothing close to (nor a word they begin).
    unknown: list[int] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether the correction changes a word."""
        return self.corrected != self.words

    def ties(self) -> list[str]:
        """The candidates whose counts choose between them (several equally close)."""
        return sorted({w for options in self.options.values() if len(options) > 1 for w in options})

    def choose(self, frequency: dict[str, int]) -> list[str]:
        """The correction with the candidates counted by the server (`best_correction`)."""
        corrected = list(self.corrected)
        for i, options in self.options.items():
            counted = ((w, frequency.get(w, 0)) for w in options)
            corrected[i] = best_correction(q.fold(self.words[i]), counted) or self.words[i]
        return corrected


class IndexWords:
    """The words of one index: how many documents hold each (in any searchable field), and,
    for typo candidates, which appear in a field Meilisearch matches with typos."""

    def __init__(self, schema: IndexSchema) -> None:
        self.schema = schema
        self._all = [s.name for s in schema.searchable]
        self._typo_fields = [s.name for s in schema.searchable if s.name not in NO_TYPOS]
        self._other_fields = [s.name for s in schema.searchable if s.name in NO_TYPOS]
        self.lock = threading.Lock()
        self.frequency: dict[str, int] = {}
        self.typo_words: set[str] = set()
        self._tails: dict[str, list[str]] = {}  # a word less its first letter -> the words
        self._pending: set[str] = set()  # typo words not yet in the arrays
        self._words: list[str] = []
        self._sorted: list[str] = []
        self._starts = np.zeros(0, dtype=np.int32)
        self._lengths = np.zeros(0, dtype=np.int16)
        self._histograms = np.zeros((0, _BINS), dtype=np.int16)
        self._bounds: dict[str, tuple[int, int]] = {}
        self.task_uid: int | None = None  # the index's last task when they were read
        self.checked_at = 0.0  # when that was last compared (time.monotonic)

    def add(self, documents: Iterable[Document]) -> None:
        """Counts the words of more documents (a replaced document's old words stay: the
        server confirms every count a search relies on)."""
        with self.lock:
            for doc in documents:
                typo = _words("\n".join(q.searchable_text(doc.get(n)) for n in self._typo_fields))
                held = typo | _words(
                    "\n".join(q.searchable_text(doc.get(n)) for n in self._other_fields)
                )
                for word in held:
                    self.frequency[word] = self.frequency.get(word, 0) + 1
                for word in typo:
                    if word not in self.typo_words and word.isalpha():
                        self.typo_words.add(word)
                        self._pending.add(word)
                        if len(word) >= TWO_TYPOS - 1:
                            self._tails.setdefault(word[1:], []).append(word)

    def _arrays(self) -> None:
        """Sorts the typo words by first letter and length, with their letter histograms
        (caller holds the lock)."""
        if not self._pending:
            return
        words = sorted(set(self._words) | self._pending, key=lambda w: (w[0], len(w), w))
        self._words = words
        self._sorted = sorted(words)
        self._pending = set()
        self._lengths = np.fromiter((len(w) for w in words), dtype=np.int16, count=len(words))
        self._histograms = np.zeros((len(words), _BINS), dtype=np.int16)
        for row, word in enumerate(words):
            for c in word:
                self._histograms[row, ord(c) % _BINS] += 1
        self._bounds = {}
        for row, word in enumerate(words):
            start, _ = self._bounds.get(word[0], (row, row))
            self._bounds[word[0]] = (start, row + 1)

    def closest(self, typed: str, *, last: bool) -> list[str] | None:
        """The index words closest to a typed word that Meilisearch would match it to (none:
        []), or None when the index holds the word as typed or, for the last word, a word
        starting with it (a word being typed)."""
        folded = q.fold(typed)
        with self.lock:
            if folded in self.typo_words or (last and self._starts_a_word(folded)):
                return None
            limit = allowed_edits(folded)
            if not limit:
                return []
            self._arrays()
            found = self._same_first_letter(folded, limit)
            if typo_budget(folded) >= 2:
                found |= self._other_first_letter(folded)
        near: list[tuple[int, str]] = []
        for word in found:
            distance = edit_distance(folded, word, limit)
            # As the word searched alone (a prefix then) matches it: how the server's own
            # correction finds the candidates of a word the page shows none for.
            if distance <= limit and meili_typos(folded, word, prefix=True) is not None:
                near.append((distance, word))
        if not near:
            return []
        best = min(d for d, _ in near)
        return sorted(w for d, w in near if d == best)

    def _starts_a_word(self, prefix: str) -> bool:
        """Whether a typo word starts with the prefix (caller holds the lock)."""
        if any(w.startswith(prefix) for w in self._pending):
            return True
        at = bisect.bisect_left(self._sorted, prefix)
        return at < len(self._sorted) and self._sorted[at].startswith(prefix)

    def _same_first_letter(self, folded: str, limit: int) -> set[str]:
        """Words of the same first letter within `limit` edits by length and letter counts."""
        start, end = self._bounds.get(folded[0], (0, 0))
        lengths = self._lengths[start:end]
        lo = start + int(np.searchsorted(lengths, len(folded) - limit, side="left"))
        hi = start + int(np.searchsorted(lengths, len(folded) + limit, side="right"))
        found: set[str] = set()
        if hi > lo:
            gap = np.abs(self._histograms[lo:hi] - _histogram(folded)).sum(axis=1)
            found.update(self._words[lo + int(r)] for r in np.flatnonzero(gap <= 2 * limit))
        found.update(
            w for w in self._pending if w[0] == folded[0] and abs(len(w) - len(folded)) <= limit
        )
        return found

    def _other_first_letter(self, folded: str) -> set[str]:
        """Words one edit of the first letter away: it deleted, inserted, replaced or swapped
        with the second."""
        found = {folded[1:], folded[1] + folded[0] + folded[2:]}
        found.update(self._tails.get(folded, ()))
        found.update(self._tails.get(folded[1:], ()))
        return {w for w in found if w in self.typo_words and w[:1] != folded[:1]}

    def guess(self, words: Sequence[str], asked: Sequence[int]) -> Guess:
        """Corrects the words at the `asked` positions no document holds, as the server's
        answers would (`MeiliBackend._correct`), from this vocabulary alone."""
        corrected = list(words)
        held: dict[int, bool] = {}
        options: dict[int, list[str]] = {}
        unknown: list[int] = []
        for i in asked:
            folded = q.fold(words[i])
            held[i] = self.frequency.get(folded, 0) > 0
            if held[i]:
                continue
            closest = self.closest(words[i], last=i == len(words) - 1)
            if closest:
                options[i] = closest
                choice = best_correction(folded, ((w, self.frequency.get(w, 0)) for w in closest))
                corrected[i] = choice or words[i]
            elif closest == []:
                unknown.append(i)
        # A word no document holds, left as typed (not the last: it may be a prefix), means
        # no document can hold them all: the typed search is the one to send.
        if any(i < len(words) - 1 for i in unknown):
            corrected, options = list(words), {}
        return Guess(
            words=list(words), corrected=corrected, held=held, options=options, unknown=unknown
        )


class Vocabulary:
    """The words of each index this process searches, read once from the server's documents
    and followed by this process's own upserts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._indexes: dict[str, IndexWords] = {}

    def get(self, uid: str) -> IndexWords | None:
        """Gets an index's words if they were read."""
        return self._indexes.get(uid)

    def put(self, uid: str, words: IndexWords) -> None:
        """Sets (or replaces, after a re-read) an index's words."""
        with self._lock:
            self._indexes[uid] = words

    def forget(self, uid: str) -> None:
        """Forgets an index's words (the index was dropped)."""
        with self._lock:
            self._indexes.pop(uid, None)
