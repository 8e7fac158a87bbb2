"""The Meilisearch backend's correction probes, without a server."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from service.search.base import MARK_CLOSE, MARK_OPEN, BackendUnavailable
from service.search.documents import EXPERTS_STAFF, schema_for
from service.search.meili import MeiliBackend

PANIC = (
    "Meilisearch failed: internal Inside `.queries[0]`: task 7 panicked with message "
    '"range end index 10 out of range for slice of length 3"'
)


def test_probes_meilisearch_panics_on_are_asked_again_without_cropping(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backend = MeiliBackend(url="http://127.0.0.1:9")
    sent: list[list[dict[str, Any]]] = []

    def multi_search(queries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        sent.append(copy.deepcopy(queries))
        if len(sent) == 1:
            raise BackendUnavailable(PANIC)
        hit = {"id": 1, "_formatted": {"headline": f"Youth {MARK_OPEN}coordinator{MARK_CLOSE}"}}
        return [{"hits": [hit]}]

    monkeypatch.setattr(backend, "_multi_search", multi_search)
    assert backend._correct(schema_for(EXPERTS_STAFF), ["coordinatr"]) == ["coordinator"]
    assert [("attributesToCrop" in probes[0]) for probes in sent] == [True, False]


def test_other_failures_of_the_probes_are_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = MeiliBackend(url="http://127.0.0.1:9")

    def multi_search(queries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        raise BackendUnavailable("Meilisearch unreachable: connection refused")

    monkeypatch.setattr(backend, "_multi_search", multi_search)
    with pytest.raises(BackendUnavailable):
        backend._correct(schema_for(EXPERTS_STAFF), ["coordinatr"])
