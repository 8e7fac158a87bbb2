"""Impact and skills-gap reports for coordinators, as plain data, with CSV exports."""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session

from matching.fusion import GOOD_SCORE
from matching.texts import normalise_skill
from service.core.skill_merging import skill_groups
from service.models import EngagementStatus
from service.repos import engagements as engagements_repo
from service.repos import proposals as proposals_repo
from service.repos import reports as reports_repo

# On the scale of the scores (see matching.fusion), not a share: a need whose best proposal
# scores under a "good match" is poorly covered. The coverage is the share of needs that are not.
DEFAULT_COVERAGE_THRESHOLD = GOOD_SCORE
MAX_COVERAGE_THRESHOLD = 50.0


def _bounds(
    date_from: date | None, date_to: date | None
) -> tuple[datetime | None, datetime | None]:
    start = datetime.combine(date_from, time.min, UTC) if date_from else None
    end = datetime.combine(date_to + timedelta(days=1), time.min, UTC) if date_to else None
    return start, end


def _sorted(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda item: (-item[1], item[0])))


def impact_report(
    session: Session, *, date_from: date | None = None, date_to: date | None = None
) -> dict[str, Any]:
    """Sums up the engagements offered in a period: counts, hours, speed, completion, ratings."""
    start, end = _bounds(date_from, date_to)
    rows = reports_repo.engagements_in_period(session, start=start, end=end)
    feedback = engagements_repo.feedback_for(session, [e.id or 0 for e, _, _ in rows])
    by_engagement: dict[int, dict[str, Any]] = {}
    for item in feedback:
        by_engagement.setdefault(item.engagement_id, {})[item.side] = item
    by_status: Counter[str] = Counter({str(s): 0 for s in EngagementStatus})
    by_country: Counter[str] = Counter()
    by_sector: Counter[str] = Counter()
    by_mode: Counter[str] = Counter()
    hours_by_country: Counter[str] = Counter()
    days_to_confirm: list[float] = []
    hours = 0
    for engagement, need, institution in rows:
        by_status[engagement.status] += 1
        by_country[institution.country or "?"] += 1
        by_sector[need.sector or "unspecified"] += 1
        by_mode[engagement.mode or need.mode or "unspecified"] += 1
        sides = by_engagement.get(engagement.id or 0, {})
        # The expert's own count of hours is preferred; the institution's stands in for it.
        reported = sides.get("expert") or sides.get("institution")
        if reported is not None:
            hours += reported.hours
            hours_by_country[institution.country or "?"] += reported.hours
        if engagement.confirmed_at is not None and need.posted_at is not None:
            delta = engagement.confirmed_at - need.posted_at
            days_to_confirm.append(delta.total_seconds() / 86400)
    completed = by_status[EngagementStatus.COMPLETED]
    cancelled_after_confirmation = sum(
        1
        for engagement, _, _ in rows
        if engagement.status == EngagementStatus.CANCELLED and engagement.confirmed_at is not None
    )
    settled = completed + cancelled_after_confirmation
    ratings = [item.rating for item in feedback]
    return {
        "period": {
            "from": date_from.isoformat() if date_from else None,
            "to": date_to.isoformat() if date_to else None,
        },
        "engagements": len(rows),
        "by_status": dict(by_status),
        "by_country": _sorted(by_country),
        "by_sector": _sorted(by_sector),
        "by_mode": _sorted(by_mode),
        "hours_contributed": hours,
        "hours_by_country": _sorted(hours_by_country),
        "median_days_to_confirm": (
            round(statistics.median(days_to_confirm), 1) if days_to_confirm else None
        ),
        "confirmed": len(days_to_confirm),
        "completed": completed,
        "completion_rate": round(completed / settled, 3) if settled else None,
        "ratings": {
            "count": len(ratings),
            "average": round(statistics.fmean(ratings), 2) if ratings else None,
            "expert_average": _average([f.rating for f in feedback if f.side == "expert"]),
            "institution_average": _average(
                [f.rating for f in feedback if f.side == "institution"]
            ),
            "distribution": {str(n): ratings.count(n) for n in range(1, 6)},
            "would_repeat": sum(1 for f in feedback if f.would_repeat),
        },
    }


def _average(values: list[int]) -> float | None:
    return round(statistics.fmean(values), 2) if values else None


def skills_gap(
    session: Session,
    *,
    threshold: float = DEFAULT_COVERAGE_THRESHOLD,
    date_from: date | None = None,
    date_to: date | None = None,
    model: str | None = None,
) -> dict[str, Any]:
    """Sets what open needs ask for against what the active roster offers, skill by skill;
    with a model, the same skill asked in several languages is one row (its stored vectors)."""
    start, end = _bounds(date_from, date_to)
    needs = reports_repo.open_needs(session, start=start, end=end)
    best = proposals_repo.best_scores(session, [need.id or 0 for need, _ in needs])
    asked = [
        {normalise_skill(s): s.strip() for s in need.required_skills if normalise_skill(s)}
        for need, _ in needs
    ]
    labels: dict[str, Counter[str]] = {}
    for keys in asked:
        for key, text in keys.items():
            labels.setdefault(key, Counter())[text] += 1
    label_of = {key: counter.most_common(1)[0][0] for key, counter in labels.items()}
    row_of, variants = _merge_rows(session, labels, label_of, model)
    supply: Counter[str] = Counter()
    for offered in reports_repo.active_expert_skills(session):
        supply.update({row_of[k] for k in map(normalise_skill, offered) if k in row_of})
    demand: Counter[str] = Counter()
    uncovered_demand: Counter[str] = Counter()
    by_sector: dict[str, Counter[str]] = {}
    by_country: dict[str, Counter[str]] = {}
    uncovered: list[dict[str, Any]] = []
    for (need, institution), keys in zip(needs, asked, strict=True):
        rows = {row_of[key] for key in keys}
        demand.update(rows)
        score = best.get(need.id or 0)
        is_uncovered = score is None or score < threshold
        sector = by_sector.setdefault(need.sector or "unspecified", Counter())
        country = by_country.setdefault(institution.country or "?", Counter())
        for counter in (sector, country):
            counter["open_needs"] += 1
            counter["uncovered"] += int(is_uncovered)
        if is_uncovered:
            uncovered_demand.update(rows)
            uncovered.append(
                {
                    "id": need.id,
                    "title": need.title,
                    "institution": institution.name,
                    "country": institution.country,
                    "sector": need.sector,
                    "best_score": round(score, 3) if score is not None else None,
                    "skills": list(need.required_skills),
                }
            )
    skills: list[dict[str, Any]] = [
        {
            "skill": label_of[key],
            "key": key,
            "variants": variants.get(key, []),
            "open_needs": count,
            "uncovered_needs": uncovered_demand[key],
            "active_experts": supply[key],
            "gap": count - supply[key],
            "coverage": _share(count - uncovered_demand[key], count),
        }
        for key, count in demand.items()
    ]
    skills.sort(
        key=lambda s: (-s["uncovered_needs"], -s["open_needs"], s["active_experts"], s["key"])
    )
    return {
        "threshold": threshold,
        "period": {
            "from": date_from.isoformat() if date_from else None,
            "to": date_to.isoformat() if date_to else None,
        },
        "open_needs": len(needs),
        "uncovered_count": len(uncovered),
        # The share of open needs (0-1) whose best proposal scores at least the threshold.
        "coverage": _share(len(needs) - len(uncovered), len(needs)),
        "skills": skills,
        "uncovered_needs": uncovered,
        "by_sector": {k: dict(v) for k, v in sorted(by_sector.items())},
        "by_country": {k: dict(v) for k, v in sorted(by_country.items())},
    }


def _share(part: int, whole: int) -> float | None:
    """Gets a share between 0 and 1 (None of nothing), as the pages' meters and percentages read
    it: a count of needs over a count of needs, never a score."""
    return round(part / whole, 3) if whole else None


def _merge_rows(
    session: Session,
    labels: dict[str, Counter[str]],
    label_of: dict[str, str],
    model: str | None,
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Maps each skill key to its row's key, and each row's key to its other labels."""
    row_of = {key: key for key in labels}
    if not model:
        return row_of, {}
    key_of = {label: key for key, label in label_of.items()}
    counts = {label_of[key]: sum(counter.values()) for key, counter in labels.items()}
    variants: dict[str, list[str]] = {}
    for group in skill_groups(session, counts=counts, model=model):
        canonical = key_of[group.canonical]
        for label in group.variants:
            row_of[key_of[label]] = canonical
        if group.variants:
            variants[canonical] = list(group.variants)
    return row_of, variants


def impact_csv(report: dict[str, Any]) -> str:
    """Writes an impact report as CSV rows of (section, key, value)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["section", "key", "value"])
    writer.writerow(["period", "from", report["period"]["from"] or ""])
    writer.writerow(["period", "to", report["period"]["to"] or ""])
    for name in ("engagements", "hours_contributed", "median_days_to_confirm", "completed"):
        writer.writerow(["total", name, _cell(report[name])])
    writer.writerow(["total", "completion_rate", _cell(report["completion_rate"])])
    for section in ("by_status", "by_country", "by_sector", "by_mode", "hours_by_country"):
        for key, value in report[section].items():
            writer.writerow([section, key, value])
    ratings = report["ratings"]
    for name in ("count", "average", "expert_average", "institution_average", "would_repeat"):
        writer.writerow(["ratings", name, _cell(ratings[name])])
    for stars, count in ratings["distribution"].items():
        writer.writerow(["rating_distribution", stars, count])
    return buffer.getvalue()


def skills_gap_csv(report: dict[str, Any]) -> str:
    """Writes the skills-gap report as CSV, one skill per row, most needed first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["skill", "open_needs", "uncovered_needs", "active_experts", "gap", "variants"])
    for row in report["skills"]:
        writer.writerow(
            [
                _safe(row["skill"]),
                row["open_needs"],
                row["uncovered_needs"],
                row["active_experts"],
                row["gap"],
                _safe(" | ".join(row.get("variants") or [])),
            ]
        )
    return buffer.getvalue()


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _safe(text: str) -> str:
    """Defuses spreadsheet formulas in text typed by users."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def bars(series: dict[str, int | float]) -> list[dict[str, Any]]:
    """Turns a series into bars for the inline SVG charts: label, value and width in percent."""
    top = max((float(v) for v in series.values()), default=0.0)
    return [
        {"label": label, "value": value, "pct": round(100 * float(value) / top, 1) if top else 0.0}
        for label, value in series.items()
    ]
