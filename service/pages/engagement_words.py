"""An engagement's facts as sentences a person reads (who did what, when, for how long), each a
whole catalogue sentence so that every language puts the words in its own order."""

from __future__ import annotations

from datetime import date
from typing import Any

from markupsafe import escape

from service.core.engagements import completion_outcome, state_since, work_is_over
from service.core.policy import Party
from service.i18n import (
    N_,
    cldr_locale,
    country_name,
    gettext_,
    ngettext_,
    translate_message,
)
from service.models import Engagement, EngagementStatus
from service.pages.reasons import day, formatted_decimal
from service.pages.typed import isolated

S = EngagementStatus

# Where an engagement stands, said to its expert (%(date)s: when it came to that state;
# %(deadline)s: the last day to answer an offer).
TO_THE_EXPERT = {
    S.OFFERED: N_(
        "A coordinator has offered you this need — accept or decline below, before %(deadline)s."
    ),
    S.ACCEPTED: N_("You accepted on %(date)s; the institution will confirm."),
    S.DECLINED: N_("You declined this offer on %(date)s."),
    S.EXPIRED: N_("This offer expired on %(date)s without an answer."),
    S.CONFIRMED: N_("The institution confirmed the engagement on %(date)s."),
    S.ACTIVE: N_("The engagement started on %(date)s."),
    S.DELIVERED: N_("You said on %(date)s that the work is done; the institution will confirm."),
    S.COMPLETED: N_("The engagement was completed on %(date)s."),
    S.CANCELLED: N_("The engagement was cancelled on %(date)s."),
}
# The same, said to the coordinators (who follow it from outside).
TO_THE_COORDINATORS = {
    **TO_THE_EXPERT,
    S.OFFERED: N_(
        "The expert was offered this need on %(date)s and has until %(deadline)s to answer."
    ),
    S.ACCEPTED: N_("The expert accepted on %(date)s; the institution is to confirm."),
    S.DECLINED: N_("The expert declined this offer on %(date)s."),
    S.DELIVERED: N_(
        "The expert said on %(date)s that the work is done; the institution is to confirm."
    ),
}
# The same, said to the institution: what it is to do next, it is told to do, below.
TO_THE_INSTITUTION = {
    **TO_THE_COORDINATORS,
    S.ACCEPTED: N_("The expert accepted on %(date)s: please confirm the engagement below."),
    S.DELIVERED: N_(
        "The expert said on %(date)s that the work is done: please confirm its completion below."
    ),
}
# Who reads the sentence (the engagement view's "as"): the one place it is decided.
BY_READER = {
    Party.EXPERT: TO_THE_EXPERT,
    Party.INSTITUTION: TO_THE_INSTITUTION,
    Party.STAFF: TO_THE_COORDINATORS,
}
# How the sentence is shown to the expert: waiting for them, under way or done, or ended
# without work (declined, expired, cancelled: not a success).
TONE_TO_THE_EXPERT = {
    S.OFFERED: "info",
    S.ACCEPTED: "success",
    S.CONFIRMED: "success",
    S.ACTIVE: "success",
    S.DELIVERED: "success",
    S.COMPLETED: "success",
    S.DECLINED: "ended",
    S.EXPIRED: "ended",
    S.CANCELLED: "ended",
}
# Where a move's button would be, on a day before it opens (core.engagements.moves_now
# decides; %(date)s: the first day it may be made).
LATER_MOVES = {
    "start": N_("You can mark it as started from %(date)s."),
    "complete": N_("You can mark it as completed from %(date)s."),
}
# What marking the work completed records, asked before it is done (it cannot be undone);
# core.engagements.completion_outcome says which (%(date)s: the agreed end, or today).
COMPLETION_OUTCOMES = {
    "early": N_(
        "The agreed end is %(date)s: marking it completed today records that the work ended early."
    ),
    "agreed_end": N_(
        "The agreed end is %(date)s: marking it completed records that the work ended on that day."
    ),
    "today": N_(
        "No end was agreed: marking it completed records that the work ended today, %(date)s."
    ),
}
CANNOT_UNDO = N_("This cannot be undone.")
# The same, once the work is over (core.engagements.work_is_over).
MODES_OVER = {
    "remote": N_("The work was done remotely."),
    "mission": N_("The work was done on a mission, on site."),
    "hybrid": N_("The work was done partly remotely, partly on site."),
}
MODES = {
    "remote": N_("The work is done remotely."),
    "mission": N_("The work is done on a mission, on site."),
    "hybrid": N_("The work is done partly remotely, partly on site."),
}


def state_sentence(engagement: Engagement, *, reader: Party | str | None) -> str:
    """Says where an engagement stands and since when, to its reader (expert, institution or
    coordinator), in the reader's language."""
    words = BY_READER.get(Party(reader), TO_THE_COORDINATORS) if reader else TO_THE_COORDINATORS
    said = words[S(engagement.status)]
    deadline = engagement.offer_expires_at
    return gettext_(said) % {
        "date": day(state_since(engagement)),
        "deadline": day(deadline) if deadline else "—",
    }


def later_moves(view: dict[str, Any]) -> list[tuple[str, str]]:
    """Says, for each move the reader may make only from a later day, from which day."""
    return [
        (action, gettext_(LATER_MOVES[action]) % {"date": day(first)})
        for action, first in (view.get("actions_later") or {}).items()
        if action in LATER_MOVES
    ]


def completion_question(engagement: Engagement, *, today: date) -> str:
    """Says what marking the engagement completed today will record, before it is done."""
    outcome, first = completion_outcome(engagement, today=today)
    said = gettext_(COMPLETION_OUTCOMES[outcome]) % {"date": day(first)}
    return f"{said} {gettext_(CANNOT_UNDO)}"


def engagement_facts(engagement: Engagement, view: dict[str, Any]) -> list[str]:
    """Says an engagement's facts, one sentence each: where it stands, who asked, how, when,
    for how many hours, and the reason given."""
    need = view.get("need") or {}
    facts = [state_sentence(engagement, reader=view.get("as"))]
    if need.get("institution"):
        country = need.get("country") or ""
        # The typed name keeps its own direction inside the sentence (Markup escapes it).
        said = escape(
            gettext_("Asked by %(institution)s, %(country)s.")
            if country
            else gettext_("Asked by %(institution)s.")
        )
        institution = isolated(need["institution"])
        facts.append(said % {"institution": institution, "country": country_name(country)})
    mode = engagement.mode or need.get("mode") or ""
    over = work_is_over(engagement)
    if mode in MODES:
        facts.append(gettext_((MODES_OVER if over else MODES)[mode]))
    start, end = engagement.start_date, engagement.end_date
    facts += _dates(start, end, engagement.ended_on, over=over)
    if engagement.agreed_hours:
        facts.append(
            ngettext_(
                "%(num)s hour in total is agreed.",
                "%(num)s hours in total are agreed.",
                engagement.agreed_hours,
            )
            % {"num": formatted_decimal(engagement.agreed_hours, "#,##0", cldr_locale())}
        )
    if engagement.reason:
        reason = isolated(translate_message(engagement.reason))
        facts.append(escape(gettext_("Reason given: %(reason)s")) % {"reason": reason})
    return facts


def _dates(
    start: date | None, end: date | None, ended: date | None, *, over: bool = False
) -> list[str]:
    """Says when the work runs, or ran once it ended: on the day it really ended, and that it
    ended early when that was before the end agreed (see core.engagements.ended_on); over
    without a day recorded (before such days were), on the days agreed."""
    if ended is None and over and end is not None:
        ended, end = end, None
    if ended is not None:
        said = (
            gettext_("The work ran from %(start)s to %(end)s.")
            % {"start": day(start), "end": day(ended)}
            if start
            else gettext_("The work ended on %(end)s.") % {"end": day(ended)}
        )
        if end is not None and ended < end:
            return [
                said,
                gettext_("It ended early: it was planned to run until %(end)s.")
                % {"end": day(end)},
            ]
        return [said]
    if start and end:
        return [
            gettext_("The work runs from %(start)s to %(end)s.")
            % {"start": day(start), "end": day(end)}
        ]
    if start and over:
        return [gettext_("The work started on %(start)s.") % {"start": day(start)}]
    if start:
        return [gettext_("The work starts on %(start)s.") % {"start": day(start)}]
    if end:
        return [gettext_("The work ends on %(end)s.") % {"end": day(end)}]
    return []


def work_period(view: dict[str, Any]) -> str:
    """Says an engagement's dates in a few words, for a list (the engagement view's ISO dates):
    its start and end, the day it really ended once it has (as its page says)."""
    start = view.get("start_date") or ""
    end = view.get("ended_on") or view.get("end_date") or ""
    if start and end:
        return gettext_("%(start)s – %(end)s") % {"start": day(start), "end": day(end)}
    if start:
        return gettext_("from %(start)s") % {"start": day(start)}
    if end:
        return gettext_("until %(end)s") % {"end": day(end)}
    return "—"


def feedback_sentences(item: dict[str, Any]) -> list[str]:
    """Says one side's feedback, one sentence each."""
    hours = int(item.get("hours") or 0)
    said = [gettext_("Rated %(rating)s out of 5.") % {"rating": item.get("rating")}]
    # Hours left empty are stored as 0: saying "0 hours contributed" reports what nobody said.
    if hours:
        said.append(
            ngettext_(
                "%(num)s hour contributed in total.", "%(num)s hours contributed in total.", hours
            )
            % {"num": formatted_decimal(hours, "#,##0", cldr_locale())}
        )
    said.append(
        gettext_("Would do it again.")
        if item.get("would_repeat")
        else gettext_("Would not do it again.")
    )
    # What a person typed keeps its own direction inside the sentence (Markup escapes it):
    # French typed on an Arabic page, or Arabic on a French one, stays in the order it was typed.
    if item.get("delivered"):
        said.append(
            escape(gettext_("What was delivered: %(text)s")) % {"text": isolated(item["delivered"])}
        )
    if item.get("impact"):
        said.append(escape(gettext_("Impact: %(text)s")) % {"text": isolated(item["impact"])})
    return said
