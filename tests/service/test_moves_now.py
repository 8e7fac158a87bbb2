"""Which moves a party may make on an engagement today, decided once in the core: the work
starts (and is reported done) on its agreed start date at the earliest, the day before it the
move is offered for later, and what the pages offer is exactly what a move accepts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.core.engagements import (
    MOVES,
    _check_dates,
    completion_outcome,
    moves_now,
)
from service.core.policy import Party
from service.errors import InvalidTransition
from service.models import Engagement

START = date(2027, 3, 15)


def _engagement(status: str, *, start: date | None, end: date | None = None) -> Engagement:
    return Engagement(
        proposal_id=1,
        need_id=1,
        expert_id=1,
        status=status,
        mode="remote",
        start_date=start,
        end_date=end,
        started_at=datetime(2020, 1, 1, tzinfo=UTC) if status == "active" else None,
    )


@pytest.mark.parametrize(
    ("today", "now", "later"),
    [
        (START - timedelta(days=30), [], {"start": START}),
        (START - timedelta(days=1), [], {"start": START}),
        (START, ["start"], {}),
        (START + timedelta(days=1), ["start"], {}),
    ],
)
def test_the_expert_may_start_on_the_agreed_start_date_and_not_the_day_before(
    today: date, now: list[str], later: dict[str, date]
) -> None:
    moves = moves_now(_engagement("confirmed", start=START), Party.EXPERT, today=today)
    assert (moves.actions, moves.later) == (now, later)


def test_an_institution_never_gets_start_offered_only_its_cancel() -> None:
    moves = moves_now(_engagement("confirmed", start=START), Party.INSTITUTION, today=START)
    assert (moves.actions, moves.later) == (["cancel"], {})


def test_staff_see_start_later_and_cancel_now_before_the_start_date() -> None:
    before = START - timedelta(days=1)
    moves = moves_now(_engagement("confirmed", start=START), Party.STAFF, today=before)
    assert (moves.actions, moves.later) == (["cancel"], {"start": START})


def test_without_a_start_date_the_work_may_start_any_day() -> None:
    moves = moves_now(_engagement("confirmed", start=None), Party.EXPERT, today=date(2026, 1, 1))
    assert (moves.actions, moves.later) == (["start"], {})


@settings(max_examples=200, deadline=None)
@given(
    status=st.sampled_from(["offered", "accepted", "confirmed", "active", "delivered"]),
    party=st.sampled_from(list(Party)),
    start=st.one_of(st.none(), st.dates(date(2026, 1, 1), date(2028, 12, 31))),
    offset=st.integers(-3, 3),
    hour=st.integers(0, 23),
)
def test_a_move_is_offered_today_exactly_when_its_dates_let_it_through(
    status: str, party: Party, start: date | None, offset: int, hour: int
) -> None:
    engagement = _engagement(status, start=start)
    today = (start or date(2027, 6, 1)) + timedelta(days=offset)
    now = datetime.combine(today, time(hour), tzinfo=UTC)
    moves = moves_now(engagement, party, today=today)
    assert not set(moves.actions) & set(moves.later)
    for action in [*moves.actions, *moves.later]:
        assert party in MOVES[action].by and status in MOVES[action].sources
        refused = False
        try:
            _check_dates(engagement, action=action, terms=None, now=now)
        except InvalidTransition:
            refused = True
        assert refused == (action in moves.later), (action, today, start)
        if action in moves.later:
            assert moves.later[action] == start and today < moves.later[action]


@pytest.mark.parametrize(
    ("end", "today", "outcome"),
    [
        (date(2027, 3, 30), date(2027, 3, 20), ("early", date(2027, 3, 30))),
        (date(2027, 3, 30), date(2027, 3, 29), ("early", date(2027, 3, 30))),
        (date(2027, 3, 30), date(2027, 3, 30), ("agreed_end", date(2027, 3, 30))),
        (date(2027, 3, 30), date(2027, 4, 2), ("agreed_end", date(2027, 3, 30))),
        (None, date(2027, 3, 20), ("today", date(2027, 3, 20))),
    ],
)
def test_the_completion_says_what_it_records_around_the_agreed_end(
    end: date | None, today: date, outcome: tuple[str, date]
) -> None:
    engagement = _engagement("active", start=START, end=end)
    assert completion_outcome(engagement, today=today) == outcome
