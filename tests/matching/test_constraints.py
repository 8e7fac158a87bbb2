"""Hard and soft constraints, through the matcher (hashing encoder) and on their own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

from matching.constraints import MatchPolicy, assess, working_overlap_hours
from matching.matcher import Matcher
from matching.records import ExpertRecord, NeedRecord

from .conftest import TODAY

Build = Callable[[list[ExpertRecord]], Matcher]


def _expert(expert_id: str, **fields: object) -> ExpertRecord:
    base = ExpertRecord(
        expert_id=expert_id,
        headline="epidemiologist",
        skills=["epidemiology", "biostatistics"],
        bio="Teaches epidemiology.",
        languages=["en", "fr"],
        modes=["remote"],
        timezone="Europe/Paris",
    )
    return replace(base, **fields)  # type: ignore[arg-type]


NEED = NeedRecord(
    need_id="n1",
    title="epidemiology teaching",
    description="co-teach an epidemiology and biostatistics module",
    languages=["fr"],
    mode="remote",
    timezone="Africa/Dakar",
)


def _ids(matcher: Matcher, need: NeedRecord = NEED, k: int = 10) -> list[str]:
    return [c.expert_id for c in matcher.rank_experts(need, k=k, explain=False)]


def test_remote_need_never_gets_on_site_only_expert(make_matcher: Build) -> None:
    matcher = make_matcher([_expert("onsite", modes=["mission"]), _expert("remote")])
    assert _ids(matcher) == ["remote"]


def test_widened_remote_need_ranks_on_site_expert_down(make_matcher: Build) -> None:
    matcher = make_matcher([_expert("onsite", modes=["mission"]), _expert("remote")])
    ranked = matcher.rank_experts(replace(NEED, widen_modes=True), k=10, explain=False)
    assert [c.expert_id for c in ranked] == ["remote", "onsite"]
    assert ranked[1].components["mode"] < 0 == ranked[0].components["mode"]


def test_live_session_need_never_gets_zero_overlap(make_matcher: Build) -> None:
    # Honolulu 9-17 is 19:00-03:00 UTC; Dakar 9-17 is 09:00-17:00 UTC: no shared hour.
    far = _expert("far", timezone="Pacific/Honolulu")
    matcher = make_matcher([far, _expert("near")])
    live = replace(NEED, live_sessions=True)
    assert _ids(matcher, live) == ["near"]
    assert set(_ids(matcher, replace(live, live_sessions=False))) == {"far", "near"}


def test_inactive_opted_out_and_stale_never_appear(make_matcher: Build) -> None:
    stale_day = TODAY - timedelta(days=200)
    matcher = make_matcher(
        [
            _expert("inactive", active=False),
            _expert("opted", opted_out=True),
            _expert("stale", availability_confirmed_on=stale_day),
            _expert("ok", availability_confirmed_on=TODAY - timedelta(days=10)),
        ]
    )
    assert _ids(matcher) == ["ok"]


FILLERS = [
    _expert(f"filler{i}", headline=topic, skills=[topic], bio="")
    for i, topic in enumerate(["baker", "pilot", "welder", "lawyer", "florist", "geologist"])
]


def test_over_committed_expert_ranks_down(make_matcher: Build) -> None:
    busy = _expert("busy", hours_per_week=5, committed_hours_per_week=6)
    free = _expert("free", hours_per_week=5, bio="Teaches epidemiology online.")
    matcher = make_matcher([busy, free, *FILLERS])
    ranked = matcher.rank_experts(NEED, k=2, explain=False)
    # Busy has the better text match, but its capacity penalty puts it second.
    assert ranked[0].components["relevance"] < ranked[1].components["relevance"]
    assert [c.expert_id for c in ranked] == ["free", "busy"]
    assert ranked[1].components["capacity"] < 0


def test_country_tie_ranks_up(make_matcher: Build) -> None:
    matcher = make_matcher([_expert("a"), _expert("b", country_ties=["sn"])])
    ranked = matcher.rank_experts(replace(NEED, country="SN"), k=2, explain=False)
    assert ranked[0].expert_id == "b"
    assert ranked[0].components["country_tie"] > 0
    assert ranked[0].explanation.country_tie is False  # explain=False leaves it empty


def test_required_language_must_be_spoken(make_matcher: Build) -> None:
    matcher = make_matcher([_expert("en_only", languages=["en"]), _expert("fr")])
    assert _ids(matcher) == ["fr"]


def test_window_without_overlap_excludes() -> None:
    need = replace(NEED, start=date(2026, 6, 1), end=date(2026, 7, 15))
    gone = _expert("gone", available_from=date(2026, 8, 1))
    part = _expert("part", available_until=date(2026, 6, 30))
    assert not assess(gone, need, MatchPolicy(), TODAY).eligible
    partial = assess(part, need, MatchPolicy(), TODAY)
    assert partial.eligible and partial.adjustments["availability"] < 0


def test_working_overlap_hours_across_zones_and_dst() -> None:
    # Paris (UTC+1 in winter) and Dakar (UTC+0): 7 of 8 hours shared.
    assert working_overlap_hours("Europe/Paris", (9, 17), "Africa/Dakar", (9, 17), TODAY) == 7
    # In summer Paris is UTC+2: 6 hours.
    summer = date(2026, 7, 1)
    assert working_overlap_hours("Europe/Paris", (9, 17), "Africa/Dakar", (9, 17), summer) == 6
    # Evening in Los Angeles meets the next morning in Manila (17:00 PT = 09:00 PHT in winter).
    assert working_overlap_hours("America/Los_Angeles", (9, 20), "Asia/Manila", (9, 17), TODAY) == 3
    assert working_overlap_hours("Pacific/Honolulu", (9, 17), "Africa/Dakar", (9, 17), TODAY) == 0
