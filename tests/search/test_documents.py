"""The privacy mapping: which index gets which fields."""

from __future__ import annotations

import pytest

from service.search.documents import (
    EXPERTS_PUBLIC,
    EXPERTS_STAFF,
    NEEDS,
    expert_documents,
    need_documents,
)
from tests.search.factories import expert, need


def test_staff_document_keeps_contact_details() -> None:
    staff = expert_documents(expert(1))[EXPERTS_STAFF]
    assert staff is not None
    assert staff["email"] == "expert1@example.org" and staff["phone"]


def test_public_document_drops_contact_details() -> None:
    public = expert_documents(expert(1))[EXPERTS_PUBLIC]
    assert public is not None
    assert "email" not in public and "phone" not in public


@pytest.mark.parametrize("fields", [{"visibility": "coordinators"}, {"active": False}])
def test_hidden_or_inactive_experts_are_absent_from_the_public_index(fields: dict) -> None:
    documents = expert_documents(expert(1, **fields))
    assert documents[EXPERTS_PUBLIC] is None
    assert documents[EXPERTS_STAFF] is not None


def test_fields_outside_the_whitelist_never_reach_an_index() -> None:
    documents = expert_documents(expert(1, password_hash="x", notes="private", user_id=9))
    for doc in documents.values():
        assert doc is not None
        assert not {"password_hash", "notes", "user_id"} & doc.keys()


def test_values_are_normalised() -> None:
    staff = expert_documents(
        expert(1, languages=["FR", "fr", " en "], origin_country="sn", hours_per_month="12")
    )[EXPERTS_STAFF]
    assert staff is not None
    assert staff["languages"] == ["fr", "en"]
    assert staff["origin_country"] == "SN"
    assert staff["hours_per_month"] == 12


def test_only_open_needs_are_indexed() -> None:
    assert need_documents(need(1))[NEEDS] is not None
    assert need_documents(need(1, status="closed"))[NEEDS] is None


def test_a_document_needs_an_integer_id() -> None:
    with pytest.raises(ValueError, match="id"):
        expert_documents({**expert(1), "id": "one"})


def test_an_index_gets_the_vector_only_if_it_holds_what_the_vector_embeds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from service.search import documents

    record = expert(1, embedding=[0.6, 0.8])
    both = expert_documents(record)
    assert both[EXPERTS_STAFF]["embedding"] == [0.6, 0.8]  # type: ignore[index]
    # An index that hides the bio from its readers must not get a vector embedded from it.
    public = documents.SCHEMAS[EXPERTS_PUBLIC]
    without_bio = documents.IndexSchema(
        **{**public.__dict__, "fields": tuple(f for f in public.fields if f != "bio")}
    )
    monkeypatch.setitem(documents.SCHEMAS, EXPERTS_PUBLIC, without_bio)
    hidden = expert_documents(record)[EXPERTS_PUBLIC]
    assert hidden is not None and "bio" not in hidden and "embedding" not in hidden


def test_the_institutions_index_gets_the_public_vector_never_the_full_one() -> None:
    record = expert(1, embedding=[0.6, 0.8], public_embedding=[1.0, 0.0])
    mapped = expert_documents(record)
    assert mapped[EXPERTS_STAFF]["embedding"] == [0.6, 0.8]  # type: ignore[index]
    assert mapped[EXPERTS_PUBLIC]["embedding"] == [1.0, 0.0]  # type: ignore[index]
    # No public vector yet: the institutions' index searches by keywords only.
    only_full = expert_documents(expert(1, embedding=[0.6, 0.8]))[EXPERTS_PUBLIC]
    assert only_full is not None and "embedding" not in only_full
