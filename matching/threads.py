"""How many threads an encoder call runs on: one for the small calls a re-matching job makes.

torch (OpenMP, MKL) and OpenBLAS (USE) meet at a barrier after every operation. When the
machine is busy, a thread of the pair is often waiting for a core, and the other spins at the
barrier until it gets one: a job's call (one need's two texts, one profile, the phrases its
explanations quote) took ~10x the CPU and ~10x the wall time on two threads than on one at
load 16-20 on 2 cores (e5: 1,144 vs 114 ms CPU per need; USE: 444 vs 61 ms per 80 phrases).
A small call gains little from a second thread even on an idle machine, so it runs on one;
bulk calls (a sync's batches) keep the configured count.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

# Characters of text in one call at most for it to run on one thread: a need (~400), a
# profile (~500), an explanation's phrases (~3,000 for ten candidates); a sync's batch of 64
# profiles has ~30,000.
SMALL_CALL_CHARS = 8192


def threads_for(texts: Sequence[str], configured: int) -> int:
    """One thread for a small call, the configured count otherwise."""
    return 1 if sum(len(t) for t in texts) <= SMALL_CALL_CHARS else configured


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Runs torch's operations in this thread on `count` threads, then restores the count
    (OpenMP's and MKL's counts are per calling thread)."""
    import torch  # only the torch encoders call this: others never import it

    before = torch.get_num_threads()
    if count == before:
        yield
        return
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)
