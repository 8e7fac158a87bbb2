"""Hard facts between an expert and a need: what excludes, what ranks up or down, and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from matching.records import ExpertRecord, NeedRecord


@dataclass(frozen=True)
class MatchPolicy:
    """What a coordinator expects: hard exclusions and soft adjustments (in z-score units)."""

    stale_after_days: int = 90  # availability not reconfirmed for this long: not proposed
    min_live_overlap_hours: float = 1.0  # live remote sessions need at least this shared time
    good_overlap_hours: float = 4.0  # overlap at which the time-zone adjustment vanishes
    country_tie_bonus: float = 0.5
    widened_mode_penalty: float = 1.0
    partial_hybrid_penalty: float = 0.3
    missing_language_penalty: float = 0.5  # per missing language, when at least one is shared
    partial_window_penalty: float = 0.5  # scaled by the share of the need's window not covered
    timezone_penalty: float = 0.3  # scaled by how far the overlap falls short of good_overlap
    over_committed_penalty: float = 1.5  # no free hours left
    short_hours_penalty: float = 0.5  # scaled by the share of the need's hours not free


@dataclass
class Assessment:
    """The outcome of checking one expert against one need."""

    eligible: bool
    exclusions: list[str] = field(default_factory=list)
    adjustments: dict[str, float] = field(default_factory=dict)
    shared_languages: list[str] = field(default_factory=list)
    missing_languages: list[str] = field(default_factory=list)
    mode: str = ""
    availability: str = ""
    timezone: str = ""
    overlap_hours: float | None = None
    country_tie: bool = False
    # Codes and values, worded by the pages in the reader's language:
    # mode_fit (accepted/both/partial/widened), need_mode, expert_modes, window_days,
    # covered_days, window_start, window_end, free_hours, needed_hours, declared_hours,
    # committed_hours, expert_timezone, need_timezone, country.
    facts: dict[str, Any] = field(default_factory=dict)


def expert_exclusion(expert: ExpertRecord, policy: MatchPolicy, today: date) -> str | None:
    """Says why an expert may not be proposed at all (inactive, opted out, stale), if so."""
    if not expert.active:
        return "inactive"
    if expert.opted_out:
        return "opted out of matching"
    confirmed = expert.availability_confirmed_on
    # Unknown confirmation is not stale: the service sets it when the expert saves availability.
    if confirmed is not None and (today - confirmed).days > policy.stale_after_days:
        return f"availability not reconfirmed since {confirmed.isoformat()}"
    if expert.available_until is not None and expert.available_until < today:
        return f"availability ended on {expert.available_until.isoformat()}"
    return None


def assess(expert: ExpertRecord, need: NeedRecord, policy: MatchPolicy, today: date) -> Assessment:
    """Checks every constraint; the assessment lists exclusions and signed adjustments."""
    result = Assessment(eligible=True)
    reason = expert_exclusion(expert, policy, today)
    if reason:
        result.exclusions.append(reason)
    _check_mode(expert, need, policy, result)
    _check_languages(expert, need, policy, result)
    _check_window(expert, need, policy, result, today)
    _check_hours(expert, need, policy, result)
    _check_timezone(expert, need, policy, result, today)
    tie = bool(need.country) and need.country in {c.upper() for c in expert.country_ties}
    result.country_tie = tie
    result.facts["country"] = need.country or ""
    result.adjustments["country_tie"] = policy.country_tie_bonus if tie else 0.0
    result.eligible = not result.exclusions
    return result


def _check_mode(
    expert: ExpertRecord, need: NeedRecord, policy: MatchPolicy, result: Assessment
) -> None:
    accepted = set(expert.modes)
    adjustment = 0.0
    result.facts["need_mode"] = need.mode
    result.facts["expert_modes"] = sorted(accepted)
    if need.mode == "hybrid":
        full = "hybrid" in accepted or {"remote", "mission"} <= accepted
        if full:
            result.mode = "hybrid: expert does both remote and on-site work"
            result.facts["mode_fit"] = "both"
        elif accepted:
            result.facts["mode_fit"] = "partial"
            adjustment = -policy.partial_hybrid_penalty
            result.mode = f"hybrid: expert only does {', '.join(sorted(accepted))}"
        else:
            result.exclusions.append("expert declared no engagement mode")
    elif need.mode in accepted or "hybrid" in accepted:
        result.mode = f"{need.mode}: accepted by the expert"
        result.facts["mode_fit"] = "accepted"
    elif need.widen_modes:
        result.facts["mode_fit"] = "widened"
        adjustment = -policy.widened_mode_penalty
        result.mode = (
            f"{need.mode}: expert only does {', '.join(sorted(accepted)) or 'nothing declared'}"
            " (search widened by the coordinator)"
        )
    else:
        result.exclusions.append(
            f"mode {need.mode} not accepted (expert: {', '.join(sorted(accepted)) or 'none'})"
        )
    result.adjustments["mode"] = adjustment


def _check_languages(
    expert: ExpertRecord, need: NeedRecord, policy: MatchPolicy, result: Assessment
) -> None:
    spoken = {lang.lower() for lang in expert.languages}
    required = [lang.lower() for lang in need.languages]
    result.shared_languages = [lang for lang in required if lang in spoken]
    result.missing_languages = [lang for lang in required if lang not in spoken]
    adjustment = 0.0
    if required and not result.shared_languages:
        result.exclusions.append(f"speaks none of {', '.join(required)}")
    elif result.missing_languages:
        adjustment = -policy.missing_language_penalty * len(result.missing_languages)
    result.adjustments["languages"] = adjustment


def _check_window(
    expert: ExpertRecord, need: NeedRecord, policy: MatchPolicy, result: Assessment, today: date
) -> None:
    adjustment = 0.0
    if need.start is None or need.end is None:
        result.availability = "need has no fixed dates"
    else:
        start = max(need.start, expert.available_from or need.start)
        end = min(need.end, expert.available_until or need.end)
        need_days = (need.end - need.start).days + 1
        covered = max(0, (end - start).days + 1)
        if covered == 0:
            result.exclusions.append("availability does not overlap the need's dates")
            result.availability = "no overlap with the need's dates"
        else:
            share = covered / need_days
            result.facts.update(
                window_days=need_days, covered_days=covered, window_start=start, window_end=end
            )
            adjustment = 0.0 - policy.partial_window_penalty * (1.0 - share)
            result.availability = (
                f"available {covered} of the need's {need_days} days "
                f"({start.isoformat()} to {end.isoformat()})"
            )
    result.adjustments["availability"] = adjustment


def _check_hours(
    expert: ExpertRecord, need: NeedRecord, policy: MatchPolicy, result: Assessment
) -> None:
    adjustment = 0.0
    if expert.hours_per_week is not None:
        free = expert.hours_per_week - expert.committed_hours_per_week
        result.facts.update(
            free_hours=round(free, 1),
            needed_hours=need.hours_per_week,
            declared_hours=expert.hours_per_week,
            committed_hours=expert.committed_hours_per_week,
        )
        if free <= 0:
            adjustment = -policy.over_committed_penalty
            result.availability += (
                f"; already committed {expert.committed_hours_per_week:g} h/week of "
                f"{expert.hours_per_week:g} declared"
            )
        elif need.hours_per_week and free < need.hours_per_week:
            shortfall = 1.0 - free / need.hours_per_week
            adjustment = -policy.short_hours_penalty * shortfall
            result.availability += f"; {free:g} h/week free of {need.hours_per_week:g} needed"
        else:
            result.availability += f"; {free:g} h/week free"
    result.adjustments["capacity"] = adjustment


def _check_timezone(
    expert: ExpertRecord, need: NeedRecord, policy: MatchPolicy, result: Assessment, today: date
) -> None:
    adjustment = 0.0
    remote = need.mode in ("remote", "hybrid")
    if not remote:
        result.timezone = "on-site mission: time zones do not matter"
    elif not expert.timezone or not need.timezone:
        result.timezone = "time zone unknown"
        if need.live_sessions and not expert.timezone:
            result.timezone += " (live sessions: check with the expert)"
    else:
        day = need.start if need.start and need.start > today else today
        try:
            overlap = working_overlap_hours(
                expert.timezone,
                (expert.work_start_hour, expert.work_end_hour),
                need.timezone,
                (need.work_start_hour, need.work_end_hour),
                day,
            )
        except ZoneInfoNotFoundError:
            overlap = None
        if overlap is None:
            result.timezone = "time zone not recognised"
        else:
            result.overlap_hours = overlap
            result.facts.update(expert_timezone=expert.timezone, need_timezone=need.timezone)
            result.timezone = (
                f"{overlap:g} h of shared working hours ({expert.timezone} / {need.timezone})"
            )
            if need.live_sessions and overlap < policy.min_live_overlap_hours:
                result.exclusions.append(
                    f"live sessions need {policy.min_live_overlap_hours:g} h overlap, "
                    f"only {overlap:g} h"
                )
            shortfall = max(0.0, 1.0 - overlap / policy.good_overlap_hours)
            adjustment = 0.0 - policy.timezone_penalty * shortfall
    result.adjustments["timezone"] = adjustment


def working_overlap_hours(
    tz_a: str, hours_a: tuple[int, int], tz_b: str, hours_b: tuple[int, int], day: date
) -> float:
    """Hours per day when both working days overlap, around `day`, with DST applied."""
    zone_a, zone_b = ZoneInfo(tz_a), ZoneInfo(tz_b)
    b_start, b_end = _utc_interval(zone_b, hours_b, day)
    total = timedelta()
    # A's previous and next days matter when the zones are far apart (evening meets morning).
    for offset in (-1, 0, 1):
        a_start, a_end = _utc_interval(zone_a, hours_a, day + timedelta(days=offset))
        start, end = max(a_start, b_start), min(a_end, b_end)
        if end > start:
            total += end - start
    return round(total.total_seconds() / 3600.0, 2)


def _utc_interval(zone: ZoneInfo, hours: tuple[int, int], day: date) -> tuple[datetime, datetime]:
    """A local working day as a UTC interval (end hour 24 means midnight)."""
    start_hour, end_hour = hours
    start = datetime.combine(day, time(start_hour % 24), tzinfo=zone)
    end = datetime.combine(day, time(0), tzinfo=zone) + timedelta(hours=end_hour)
    return start.astimezone(UTC), end.astimezone(UTC)
