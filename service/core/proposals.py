"""Match proposals: a coordinator approves (making an offer) or rejects them, one or many."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from matching.explain import SKILL_RELATED_THRESHOLD
from matching.skill_groups import same_skill
from service.config import Settings
from service.core import policy
from service.core.audit import record
from service.core.engagements import state_since
from service.core.experts import view_for
from service.core.match_labels import label_ranked_rows
from service.core.needs import interested_experts
from service.core.notifications import notify
from service.core.policy import ExpertView
from service.errors import DomainError, FieldErrors, InvalidTransition, NotFound
from service.i18n import N_
from service.models import (
    Engagement,
    EngagementStatus,
    ExpertProfile,
    MatchProposal,
    Need,
    NeedStatus,
    ProposalStatus,
    User,
)
from service.models.types import utcnow
from service.repos import assignment as assignment_repo
from service.repos import engagements as engagements_repo
from service.repos import experts as experts_repo
from service.repos import institutions as institutions_repo
from service.repos import needs as needs_repo
from service.repos import proposals as proposals_repo
from service.repos import suggestions as suggestions_repo
from service.repos import users as users_repo

# A proposal a coordinator approved ("suggested to the expert") is an offer now: it leaves the
# expert's "Needs for you" and is answered on the offers page. The needs-for-you query and the
# need page an expert opens both read this set; nothing else decides it.
SUGGESTED_TO_EXPERT: frozenset[str] = frozenset({ProposalStatus.APPROVED})
# Proposals that rank a need for the expert no more: set aside by a coordinator or the matcher.
SET_ASIDE: frozenset[str] = frozenset({ProposalStatus.REJECTED, ProposalStatus.WITHDRAWN})
# What "Needs for you" leaves out.
NOT_FOR_YOU: frozenset[str] = SUGGESTED_TO_EXPERT | SET_ASIDE
# Why a proposal cannot be decided again, and why a need takes no more offers, as catalogue
# sentences (an f-string of the state stayed English on every page).
ALREADY_DECIDED: dict[str, str] = {
    ProposalStatus.APPROVED: N_("This proposal is already approved."),
    ProposalStatus.REJECTED: N_("This proposal is already rejected."),
    ProposalStatus.WITHDRAWN: N_("This proposal is already withdrawn."),
}
NO_MORE_OFFERS: dict[str, str] = {
    NeedStatus.DRAFT: N_("This need is a draft again: it takes no offers."),
    NeedStatus.FILLED: N_("This need is filled: it takes no more offers."),
    NeedStatus.CLOSED: N_("This need is closed: it takes no more offers."),
}


@dataclass(frozen=True)
class OfferState:
    """Where the offer made to an expert for a need stands: a state the pages put in words."""

    engagement_id: int
    status: str  # the engagement's status (EngagementStatus)
    since: datetime | None  # when it came to that state
    answer_by: datetime | None  # the deadline to answer, while the offer waits for the expert


def offer_state(session: Session, *, proposal: MatchProposal | None) -> OfferState | None:
    """Gets where the offer made from a proposal stands, if the proposal was suggested to the
    expert (None while it is only a need ranked for them)."""
    if proposal is None or proposal.status not in SUGGESTED_TO_EXPERT:
        return None
    engagement = engagements_repo.get_for_proposals(session, [proposal.id or 0]).get(
        proposal.id or 0
    )
    if engagement is None:
        return None
    waiting = engagement.status == EngagementStatus.OFFERED
    return OfferState(
        engagement_id=engagement.id or 0,
        status=engagement.status,
        since=state_since(engagement),
        answer_by=engagement.offer_expires_at if waiting else None,
    )


def _require_staff(session: Session, user: User) -> None:
    policy.require(policy.reader_for(session, user), policy.Action.DECIDE_PROPOSALS)


def unavailable_reason(expert: ExpertProfile | None) -> str | None:
    """Says why institutions may not be proposed this expert any more, if so (see the policy)."""
    if expert is None or not expert.active:
        return N_("This expert is no longer available.")
    if expert.consent_matching_at is None:
        return N_("This expert has withdrawn their consent to be matched.")
    if not policy.open_to_institutions(expert):
        return N_("This expert chose to be visible to coordinators only.")
    return None


@dataclass(frozen=True)
class Seats:
    """How many experts a need wants, and how many offers approved for it still stand (offered,
    accepted, confirmed or under way: not declined, expired or cancelled)."""

    wanted: int
    out: int

    def over_with(self, approving: int = 1) -> bool:
        """Tells whether approving this many more offers makes more than the need wants."""
        return self.out + approving > self.wanted


def standing_offers(session: Session, need: Need, *, states: Iterable[str] | None = None) -> Seats:
    """Counts a need's approved offers that still stand, against the experts it wants; the
    review page and the flash after an approval both read this. `states`: the statuses of the
    need's engagements, where a page already read them with its candidates."""
    if states is None:
        taken = assignment_repo.seats_taken(session, [need.id or 0]).get(need.id or 0, 0)
    else:
        taken = sum(1 for state in states if state in assignment_repo.SEAT_HOLDING)
    return Seats(wanted=need.experts_wanted, out=taken)


def approve_proposal(
    session: Session,
    *,
    proposal: MatchProposal,
    coordinator: User,
    settings: Settings,
    reason: str = "",
    now: datetime | None = None,
) -> Engagement:
    """Approves a proposal: the expert is offered the engagement and has a deadline to answer.

    The decision is one conditional UPDATE: of two coordinators deciding at once, one wins
    and the other gets InvalidTransition (409), with nothing recorded.
    """
    _require_staff(session, coordinator)
    need = needs_repo.get_need(session, proposal.need_id)
    if need is None or need.status != NeedStatus.OPEN:
        raise InvalidTransition(
            NO_MORE_OFFERS.get(need.status, "") if need else "This need does not exist."
        )
    if proposal.status != ProposalStatus.PROPOSED:
        raise InvalidTransition(ALREADY_DECIDED.get(proposal.status, ""))
    expert = experts_repo.get_expert(session, proposal.expert_id)
    reason_unavailable = unavailable_reason(expert)
    if expert is None or reason_unavailable is not None:
        raise InvalidTransition(reason_unavailable or "")
    now = now or utcnow()
    _decide(
        session,
        proposal=proposal,
        target=ProposalStatus.APPROVED,
        coordinator=coordinator,
        reason=reason.strip(),
        now=now,
    )
    engagement = Engagement(
        proposal_id=proposal.id or 0,
        need_id=need.id or 0,
        expert_id=expert.id,
        status=EngagementStatus.OFFERED,
        mode=need.mode,
        offered_at=now,
        offer_expires_at=now + timedelta(days=settings.offer_expiry_days),
        created_at=now,
        updated_at=now,
    )
    session.add(engagement)
    session.flush()
    record(
        session,
        actor=coordinator,
        action="proposal.approve",
        entity_type="proposal",
        entity_id=proposal.id,
        from_state=ProposalStatus.PROPOSED,
        to_state=ProposalStatus.APPROVED,
        reason=proposal.reason,
        data={"need_id": need.id, "engagement_id": engagement.id},
    )
    record(
        session,
        actor=coordinator,
        action="engagement.offer",
        entity_type="engagement",
        entity_id=engagement.id,
        to_state=EngagementStatus.OFFERED,
        data={"proposal_id": proposal.id},
    )
    user = users_repo.get_user(session, expert.user_id) if expert.user_id else None
    if user is not None:
        institution = institutions_repo.get_institution(session, need.institution_id)
        notify(
            session,
            user=user,
            kind="offer.new",
            params={
                "need": need.title,
                "institution": institution.name if institution else "",
                "deadline": (engagement.offer_expires_at or now).strftime("%Y-%m-%d"),
            },
            link="/expert/proposals",
            settings=settings,
            now=now,
            engagement_id=engagement.id,
        )
    return engagement


NOT_INTERESTED = N_(
    "This expert has not said they are interested in this need, and the institution did not "
    "suggest them."
)


def offer_to_interested(
    session: Session,
    *,
    need: Need,
    expert_id: int,
    coordinator: User,
    settings: Settings,
) -> Engagement:
    """Offers a need to an expert who said they are interested in it, or whom its institution
    suggested, whether or not the matcher ranks them: their proposal (made by hand if there is
    none) is approved, as `approve_proposal` does it (an expert no longer available is refused
    there)."""
    _require_staff(session, coordinator)
    need_id = need.id or 0
    if expert_id not in interested_experts(
        session, need_id=need_id
    ) and expert_id not in suggestions_repo.suggested_experts(session, need_id):
        raise InvalidTransition(NOT_INTERESTED)
    now = utcnow()
    proposals_repo.propose_pair(session, need_id=need_id, expert_id=expert_id, now=now)
    proposal = proposals_repo.get_pair(session, need_id=need_id, expert_id=expert_id)
    if proposal is None:
        raise NotFound("This proposal does not exist.")
    return approve_proposal(
        session, proposal=proposal, coordinator=coordinator, settings=settings, now=now
    )


@dataclass(frozen=True, slots=True)
class InterestedExpert:
    """An expert who said they are interested in a need, or whom its institution suggested, as
    its review page lists them."""

    id: int
    name: str
    # Their proposal on the page, if the need has one (ranked, or proposed by hand).
    proposal_id: int | None
    proposal_status: str | None
    interested: bool = True
    suggested: bool = False
    # Why they may not be offered the need (a catalogue message), if they may not.
    unavailable: str | None = None


def interested_on_review(
    session: Session,
    *,
    interested: set[int],
    rows: list[dict[str, Any]],
    suggested: set[int] | None = None,
) -> list[InterestedExpert]:
    """Lists the experts interested in a need, and those its institution suggested, with their
    proposal on its review page, if any, and why one may not be offered the need (an expert
    since erased or deactivated is left out), by name."""
    suggested = suggested or set()
    by_expert = {row["proposal"].expert_id: row["proposal"] for row in rows}
    listed = []
    for expert_id in sorted(interested | suggested):
        expert = experts_repo.get_expert(session, expert_id)
        if expert is None or not expert.active:
            continue
        proposal = by_expert.get(expert_id)
        listed.append(
            InterestedExpert(
                id=expert_id,
                name=expert.display_name,
                proposal_id=proposal.id if proposal else None,
                proposal_status=str(proposal.status) if proposal else None,
                interested=expert_id in interested,
                suggested=expert_id in suggested,
                unavailable=unavailable_reason(expert),
            )
        )
    return sorted(listed, key=lambda item: item.name.casefold())


def _decide(
    session: Session,
    *,
    proposal: MatchProposal,
    target: str,
    coordinator: User,
    reason: str,
    now: datetime,
) -> None:
    """Moves a proposal from proposed to `target` in one conditional UPDATE, or refuses (409)."""
    won = proposals_repo.decide(
        session,
        proposal.id or 0,
        source=ProposalStatus.PROPOSED,
        target=target,
        values={
            "decided_by_id": coordinator.id,
            "decided_at": now,
            "reason": reason,
            "updated_at": now,
        },
    )
    session.refresh(proposal)
    if not won:
        raise InvalidTransition(ALREADY_DECIDED.get(proposal.status, ""))


def reject_proposal(
    session: Session,
    *,
    proposal: MatchProposal,
    coordinator: User,
    reason: str,
    now: datetime | None = None,
) -> MatchProposal:
    """Rejects a proposal; the reason is kept."""
    _require_staff(session, coordinator)
    if proposal.status != ProposalStatus.PROPOSED:
        raise InvalidTransition(ALREADY_DECIDED.get(proposal.status, ""))
    reason = reason.strip()
    if not reason:
        raise FieldErrors({"reason": "Please give a reason for the rejection."})
    now = now or utcnow()
    _decide(
        session,
        proposal=proposal,
        target=ProposalStatus.REJECTED,
        coordinator=coordinator,
        reason=reason,
        now=now,
    )
    record(
        session,
        actor=coordinator,
        action="proposal.reject",
        entity_type="proposal",
        entity_id=proposal.id,
        from_state=ProposalStatus.PROPOSED,
        to_state=ProposalStatus.REJECTED,
        reason=reason,
        data={"need_id": proposal.need_id},
    )
    return proposal


def decide_in_bulk(
    session: Session,
    *,
    need_id: int,
    proposal_ids: list[int],
    action: str,
    reason: str,
    coordinator: User,
    settings: Settings,
    now: datetime | None = None,
) -> list[MatchProposal]:
    """Approves or rejects several proposals of one need; all of them, or none if one fails."""
    _require_staff(session, coordinator)
    if action == "reject" and not reason.strip():
        raise FieldErrors({"reason": "Please give a reason for the rejection."})
    wanted = sorted(set(proposal_ids))
    proposals = proposals_repo.get_proposals(session, wanted)
    found = {p.id for p in proposals if p.need_id == need_id}
    missing = [pid for pid in wanted if pid not in found]
    if missing:
        raise NotFound(f"No proposal {missing[0]} for this need.")
    now = now or utcnow()
    for proposal in proposals:
        try:
            if action == "approve":
                approve_proposal(
                    session,
                    proposal=proposal,
                    coordinator=coordinator,
                    settings=settings,
                    reason=reason,
                    now=now,
                )
            else:
                reject_proposal(
                    session, proposal=proposal, coordinator=coordinator, reason=reason, now=now
                )
        except FieldErrors:
            raise
        except DomainError as exc:
            raise type(exc)(
                exc.message, detail=f"Proposal {proposal.id}: {exc.detail}", **exc.params
            ) from exc
    return proposals


def availability_is_current(expert: ExpertProfile, *, now: datetime, reconfirm_days: int) -> bool:
    """Tells whether an expert confirmed their availability recently enough to be proposed."""
    confirmed = expert.availability_confirmed_at
    return confirmed is not None and confirmed >= now - timedelta(days=reconfirm_days)


def reconfirm_availability(
    session: Session, *, expert: ExpertProfile, actor: User, now: datetime | None = None
) -> ExpertProfile:
    """Records that an expert is still available (one click)."""
    now = now or utcnow()
    previous = expert.availability_confirmed_at
    expert.availability_confirmed_at = now
    session.add(expert)
    record(
        session,
        actor=actor,
        action="expert.availability_confirmed",
        entity_type="expert",
        entity_id=expert.id,
        data={"previous": previous.isoformat() if previous else None},
    )
    return expert


def review_rows(session: Session, *, need_id: int, reader: User) -> list[dict[str, Any]]:
    """Gets a need's ranked proposals with the expert as the reader may see them."""
    proposals = proposals_repo.list_for_need(session, need_id)
    # Two queries for the whole page, not three per candidate.
    experts = experts_repo.get_experts_with_emails(session, [p.expert_id for p in proposals])
    engagements = engagements_repo.get_for_proposals(session, [p.id or 0 for p in proposals])
    seen_by = policy.reader_for(session, reader)
    rows = []
    for proposal in proposals:
        expert, email = experts.get(proposal.expert_id, (None, ""))
        rows.append(
            {
                "proposal": proposal,
                "expert": (
                    view_for(
                        session,
                        expert,
                        reader=reader,
                        view=policy.expert_view(seen_by, expert),
                        email=email,
                    )
                    if expert is not None
                    else None
                ),
                "engagement": engagements.get(proposal.id or 0),
                "explanation": explanation_for_people(proposal.explanation),
            }
        )
    return rows


@dataclass(frozen=True, slots=True)
class ReviewedProposal:
    """A proposal as the review pages show it: read, never changed (a decision goes through
    `approve_proposal` and `reject_proposal`, on the model)."""

    id: int
    need_id: int
    expert_id: int
    rank: int
    score: float
    components: dict[str, float]
    status: str
    reason: str


@dataclass(frozen=True, slots=True)
class EngagementRef:
    """The engagement an approved proposal became, as the review pages link to it."""

    id: int
    status: str


@dataclass(frozen=True, slots=True)
class _Standing:
    """The columns of a profile the access policy decides from (policy.ExpertStanding)."""

    user_id: int | None
    active: bool
    consent_matching_at: datetime | None
    visibility: str


# The fields of an expert the review and comparison pages show, when the reader's view has them.
REVIEWED_EXPERT_FIELDS = ("id", "display_name", "headline", "residence_country", "languages")


def review_page_rows(session: Session, *, need_id: int, reader: User) -> list[dict[str, Any]]:
    """Gets a need's ranked proposals as the review and comparison pages show them: the rows of
    `review_rows`, with the fields of the expert these pages print (those of the reader's view,
    as `view_for` decides it), in one query of plain rows instead of three of models; each row
    with its concerns and its label (`match_labels.label_ranked_rows`)."""
    seen_by = policy.reader_for(session, reader)
    rows = []
    for row in proposals_repo.review_candidates(session, need_id):
        expert = None
        if row.profile_id is not None:
            view = policy.expert_view(
                seen_by,
                _Standing(
                    row.profile_user_id,
                    row.profile_active,
                    row.profile_consent_matching_at,
                    row.profile_visibility,
                ),
            )
            if view == ExpertView.HIDDEN:
                raise NotFound("This expert does not exist.")
            expert = policy.project_expert(
                {name: row._mapping[f"profile_{name}"] for name in REVIEWED_EXPERT_FIELDS}, view
            )
        rows.append(
            {
                "proposal": ReviewedProposal(
                    row.id,
                    row.need_id,
                    row.expert_id,
                    row.rank,
                    row.score,
                    row.components,
                    row.status,
                    row.reason,
                ),
                "expert": expert,
                "engagement": (
                    EngagementRef(row.engagement_id, row.engagement_status)
                    if row.engagement_id is not None
                    else None
                ),
                "explanation": explanation_for_people(row.explanation),
            }
        )
    label_ranked_rows(rows)
    return rows


def explanation_for_people(explanation: dict[str, Any]) -> dict[str, Any]:
    """Normalises a matcher explanation so a page can show each part (missing parts are empty)."""

    def items(name: str) -> list[Any]:
        value = explanation.get(name)
        return list(value) if isinstance(value, list) else []

    def skills(name: str) -> list[dict[str, Any]]:
        return [
            {
                "required": str(item.get("required", "")),
                "matched": str(item.get("matched", "")),
                "similarity": _number(item.get("similarity")),
                "how": str(item.get("how", "")),
            }
            for item in items(name)
            if isinstance(item, dict)
        ]

    # Proposals ranked under an earlier threshold keep their old claims: the one rule
    # (`same_skill`) judges them again here, so a page never calls a neighbouring skill covering
    # nor leaves the same skill in another language "similar, not counted".
    covered, related, missing = [], [], list(items("missing_skills"))
    for skill in skills("covered_skills"):
        similarity = skill["similarity"]
        if skill["how"] != "semantic" or similarity is None or same_skill(similarity):
            covered.append(skill)
            continue
        missing.append(skill["required"])
        if similarity >= SKILL_RELATED_THRESHOLD:
            related.append({**skill, "how": "related"})
    for skill in skills("related_skills"):
        similarity = skill["similarity"]
        if similarity is not None and same_skill(similarity) and skill["required"] in missing:
            missing.remove(skill["required"])
            covered.append({**skill, "how": "semantic"})
        else:
            related.append(skill)
    facts = explanation.get("facts")
    phrases = [
        {
            "text": str(item.get("text", "")),
            "source": str(item.get("source", "")),
            "similarity": _number(item.get("similarity")),
        }
        for item in items("closest_phrases")
        if isinstance(item, dict)
    ]
    notes = explanation.get("notes")
    return {
        "covered_skills": covered,
        "related_skills": related,
        "facts": facts if isinstance(facts, dict) else {},
        "missing_skills": [str(s) for s in missing],
        "closest_phrases": phrases,
        "shared_languages": [str(s) for s in items("shared_languages")],
        "missing_languages": [str(s) for s in items("missing_languages")],
        "mode": explanation.get("mode"),
        "availability": explanation.get("availability"),
        "timezone": explanation.get("timezone"),
        "overlap_hours": explanation.get("overlap_hours"),
        "country_tie": explanation.get("country_tie"),
        "notes": [str(n) for n in notes]
        if isinstance(notes, list)
        else ([str(notes)] if notes else []),
    }


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None
