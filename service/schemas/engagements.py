"""Payloads of proposals and engagements: decisions, moves, feedback."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)

from service.models import EngagementFeedback, EngagementStatus, Mode, ProposalStatus
from service.schemas.common import EntityId, not_before
from service.schemas.experts import ExpertRead

Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]


def _positive_hours(value: int | None) -> int | None:
    # 0 agreed hours was taken silently; empty (None) means none agreed yet.
    if value is not None and value <= 0:
        raise ValueError("Write the agreed hours as a number above 0, or leave the field empty.")
    return value


class Decision(BaseModel):
    """A coordinator's approval or rejection; a rejection needs a reason."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason = ""


class BulkDecision(BaseModel):
    """Several proposals of one need approved or rejected at once, with one reason."""

    model_config = ConfigDict(extra="forbid")

    need_id: EntityId
    proposal_ids: list[EntityId] = Field(min_length=1, max_length=200)
    action: Literal["approve", "reject"]
    reason: Reason = ""


class Move(BaseModel):
    """A move with an optional reason (required to decline or cancel)."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason = ""


class EngagementTerms(BaseModel):
    """The practical terms: dates, mode, agreed hours (set when confirming or starting, and
    changed while the engagement is confirmed)."""

    model_config = ConfigDict(extra="forbid")

    start_date: date | None = None
    end_date: Annotated[
        date | None, not_before("start_date", "The end date must not be before the start date.")
    ] = None
    mode: Mode | None = None
    # Hours for the whole engagement. The schema says 1..5000; the check of the lower bound
    # is ours, for its message (pydantic's "at least 1" did not say what the hours are).
    agreed_hours: Annotated[
        int | None,
        AfterValidator(_positive_hours),
        WithJsonSchema(
            {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 5000}, {"type": "null"}]}
        ),
    ] = Field(default=None, le=5000)


class FeedbackWrite(BaseModel):
    """One side's feedback at the end (or during) an engagement."""

    model_config = ConfigDict(extra="forbid")

    rating: int = Field(ge=1, le=5)
    delivered: Text = ""
    hours: int = Field(default=0, ge=0, le=10000)
    would_repeat: bool = True
    impact: Text = ""


class MoveRequest(EngagementTerms):
    """The body of a move over the API: a reason, and terms when confirming or starting."""

    reason: Reason = ""
    # The status the person saw: if the engagement has moved on since, the move is refused
    # (409) rather than applied to a state they did not see.
    from_status: EngagementStatus | None = None

    def terms(self) -> EngagementTerms | None:
        """Gets the terms given, if any."""
        values = self.model_dump(exclude={"reason", "from_status"}, exclude_none=True)
        return EngagementTerms.model_validate(values) if values else None


class TermsRequest(EngagementTerms):
    """The body that sets an engagement's terms while it is confirmed; a term left out keeps
    what the engagement has."""

    # The status the person saw (see MoveRequest).
    from_status: EngagementStatus | None = None

    def terms(self) -> EngagementTerms:
        """Gets the terms given."""
        return EngagementTerms.model_validate(self.model_dump(exclude={"from_status"}))


class EngagementNeed(BaseModel):
    """The need an engagement serves, as its parties see it."""

    id: int | None
    title: str
    sector: str
    mode: str
    institution: str
    country: str


class Contact(BaseModel):
    name: str
    email: str


class EngagementRead(BaseModel):
    """An engagement as a reader sees it: its need, the expert, contacts once confirmed, the
    feedback, the reader's side and the moves open to them."""

    model_config = ConfigDict(populate_by_name=True)

    id: int
    proposal_id: int
    need_id: int
    expert_id: int | None
    status: EngagementStatus
    mode: str
    agreed_hours: int | None
    start_date: date | None
    end_date: date | None
    # The day the work really ended (once marked done); before `end_date`, it ended early.
    ended_on: date | None = None
    offered_at: datetime
    offer_expires_at: datetime | None
    reminded_at: datetime | None
    responded_at: datetime | None
    confirmed_at: datetime | None
    started_at: datetime | None
    closed_at: datetime | None
    reason: str
    created_at: datetime
    updated_at: datetime
    need: EngagementNeed
    expert: ExpertRead | None
    institution_contacts: list[Contact]
    feedback: list[EngagementFeedback]
    party: str | None = Field(alias="as")
    # The moves open to the caller today; those open only from a later day, with that day.
    actions: list[str]
    actions_later: dict[str, date] = Field(default_factory=dict)
    can_set_terms: bool
    ended_early: bool
    can_give_feedback: bool


class EngagementPage(BaseModel):
    """One page of engagements."""

    items: list[EngagementRead]
    total: int
    page: int
    size: int


class ProposalRow(BaseModel):
    """A proposal under review: its score and explanation, the expert, and its engagement."""

    id: int
    need_id: int
    expert_id: int
    rank: int
    score: float
    components: dict[str, float]
    explanation: dict[str, Any]
    model_version: str
    status: ProposalStatus
    origin: str
    decided_by_id: int | None
    decided_at: datetime | None
    reason: str
    created_at: datetime
    updated_at: datetime
    expert: ExpertRead | None
    engagement_id: int | None


class ProposalList(BaseModel):
    """A need's proposals, best first."""

    items: list[ProposalRow]
    total: int
