"""How many experts could match a need being written: a count shown on the need form.

It is a keyword-and-facts estimate of the pool the matcher ranks from, cheap enough for a web
request: nothing is embedded here (encoders run only in the worker). An expert counts when
they are active, consent to matching, confirmed their availability recently, accept the
need's engagement mode, speak one of its languages (if it names any), are free during its
dates (when it gives them), and share at least one word with it in the index the reader may
search (for an institution: the skills and background of the experts open to institutions). The
matcher may still rank some of them low, and time zones and hours are not checked here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, or_, select

from service.core import policy
from service.core.search import expert_index_for
from service.models import ExpertProfile, Visibility
from service.models.types import utcnow
from service.schemas.needs import NeedPreview
from service.search import SearchBackend

# Generous: the count should not stop at the matcher's lexical pool of a few hundred.
PREVIEW_POOL = 20_000
# Ids per query: well under SQLite's limit on bound parameters.
CHUNK = 900
MATCHER_MODES = frozenset({"remote", "mission", "hybrid"})


def preview_text(need: NeedPreview) -> str:
    """Gets the words of a need the keyword search looks for: title, description, skills."""
    parts = [need.title, need.description, ", ".join(need.required_skills)]
    return ". ".join(part for part in parts if part)


def need_window(need: NeedPreview) -> tuple[date, date] | None:
    """Gets the dates the matcher checks availability against, as it reads them: from the
    earliest start to the latest start plus the duration; None when the need has no dates."""
    if need.start_from is None or need.start_until is None or not need.duration_weeks:
        return None
    return need.start_from, need.start_until + timedelta(weeks=need.duration_weeks)


def accepts_mode(expert_modes: Iterable[str], need_mode: str) -> bool:
    """Tells whether an expert's engagement modes are compatible with a need's mode."""
    accepted = set(expert_modes) & MATCHER_MODES
    if need_mode == "hybrid":
        return bool(accepted)  # ranked down when only one side is covered, never excluded
    return need_mode in accepted or "hybrid" in accepted


def speaks_one_of(expert_languages: Sequence[dict[str, object]], required: Sequence[str]) -> bool:
    """Tells whether an expert speaks at least one of the required languages (any if none)."""
    if not required:
        return True
    spoken = {str(item.get("code", "")).lower() for item in expert_languages}
    return any(code.lower() in spoken for code in required)


def free_during(
    available_from: date | None, available_until: date | None, window: tuple[date, date] | None
) -> bool:
    """Tells whether an expert's availability overlaps the need's dates (always, without)."""
    if window is None:
        return True
    start, end = window
    return max(start, available_from or start) <= min(end, available_until or end)


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for offset in range(0, len(ids), CHUNK):
        yield ids[offset : offset + CHUNK]


def preview_count(
    session: Session,
    search: SearchBackend,
    need_data: NeedPreview,
    *,
    reader: policy.Reader,
    reconfirm_days: int = 90,
    now: datetime | None = None,
) -> int:
    """Counts the experts who could match a need being written (a keyword-and-facts estimate
    of the matcher's pool; no names, nothing embedded). It counts only in what this reader
    may search, so it tells them nothing a search would not: an institution's count never
    includes an expert hidden from institutions, nor words of fields it may not read."""
    policy.require(reader, policy.Action.PREVIEW_NEED)
    index = expert_index_for(reader)
    text = preview_text(need_data)
    if not text:
        return 0
    ids = sorted({doc_id for doc_id, _ in search.lexical_scores(index, text, PREVIEW_POOL)})
    if not ids:
        return 0
    now = now or utcnow()
    today = now.date()
    window = need_window(need_data)
    mode = str(need_data.mode)
    count = 0
    for chunk in _chunks(ids):
        statement = select(
            ExpertProfile.modes,
            ExpertProfile.languages,
            col(ExpertProfile.available_from),
            col(ExpertProfile.available_until),
        ).where(
            col(ExpertProfile.id).in_(chunk),
            col(ExpertProfile.active).is_(True),
            col(ExpertProfile.consent_matching_at).is_not(None),
            # Read from the database too, so an index that has not caught up hides nobody.
            col(ExpertProfile.visibility) == Visibility.INSTITUTIONS,
            col(ExpertProfile.availability_confirmed_at) >= now - timedelta(days=reconfirm_days),
            or_(
                col(ExpertProfile.available_until).is_(None),
                col(ExpertProfile.available_until) >= today,
            ),
        )
        for modes, languages, available_from, available_until in session.exec(statement):
            if (
                accepts_mode(modes or [], mode)
                and speaks_one_of(languages or [], need_data.languages)
                and free_during(available_from, available_until, window)
            ):
                count += 1
    return count
