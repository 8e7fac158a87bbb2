"""The audit log in words: each recorded action's code (need.published) as a reader's sentence,
and what it is about, in the reader's language. The core records codes; only this module words
them, for the audit log and a need's history alike."""

from __future__ import annotations

from typing import Any

from service.i18n import N_, NP_, gettext_, label, pgettext_

# Every action the core records (service/core: record(..., action=...)), worded for the reader.
ACTIONS: dict[str, str] = {
    # Accounts and API tokens.
    "user.registered": N_("Account created"),
    "user.sessions_ended": N_("Signed out on every device"),
    "user.password_changed": N_("Password changed"),
    "user.password_reset_requested": N_("Password reset link asked for"),
    "user.password_reset": N_("Password reset with an emailed link"),
    "user.email_changed": N_("Email address changed"),
    "user.email_change_requested": N_("New email address asked for, awaiting confirmation"),
    "user.email_change_cancelled": N_("Email address change cancelled"),
    "user.email_prefs_changed": N_("Email preferences changed"),
    "user.deleted": N_("Account and personal data erased"),
    "token.created": N_("API token created"),
    "token.revoked": N_("API token revoked"),
    # Institutions.
    "institution.registered": N_("Institution registered"),
    "institution.updated": N_("Institution's profile changed"),
    "institution.verified": N_("Institution verified"),
    "institution.unverified": N_("Institution's verification withdrawn"),
    "institution.info_requested": N_("Information asked of the institution"),
    "institution.declined": N_("Institution declined"),
    "institution.answered": N_("The institution answered the request for information"),
    "institution.resubmitted": N_("Declined institution corrected its profile: back in the queue"),
    "institution.member_invited": N_("A colleague invited to join the institution"),
    "institution.invitation_resent": N_("Invitation to join the institution sent again"),
    "institution.invitation_revoked": N_("Invitation to join the institution revoked"),
    "institution.member_joined": N_("A colleague joined the institution through an invitation"),
    # Experts, imports and exports.
    "expert.updated": N_("Expert's profile changed"),
    "expert.availability_confirmed": N_("Availability confirmed"),
    "experts.exported": N_("Roster downloaded as CSV"),
    "export.experts": N_("Experts exported"),
    "export.institutions": N_("Institutions exported"),
    "export.needs": N_("Needs exported"),
    "import.experts": N_("Experts imported"),
    "import.institutions": N_("Institutions imported"),
    "import.needs": N_("Needs imported"),
    # Needs.
    "need.posted": N_("Need posted"),
    "need.edited": N_("Need edited"),
    "need.published": N_("Draft published"),
    "need.discarded": N_("Draft discarded"),
    "need.modes_widened": N_("Widened to other engagement modes"),
    "need.modes_narrowed": N_("Kept to its engagement mode"),
    "need.interest": N_("An expert said they are interested"),
    "need.interest_withdrawn": N_("An expert withdrew their interest"),
    "need.suggestion": N_("The institution suggested an expert from the roster"),
    "need.filled": N_("Need filled"),
    "need.reopened": N_("Need open again"),
    "need.proposals_withdrawn": N_("Pending offers withdrawn"),
    "need.offers_told": N_("The experts with open offers were told what changed"),
    # Proposals and teams.
    "proposal.approve": N_("Proposal approved"),
    "proposal.reject": N_("Proposal rejected"),
    "assignment.approve": N_("Team of experts approved"),
    # Engagements (service/core/engagements.py MOVES, and the offer that starts one).
    "engagement.offer": N_("Engagement offered to the expert"),
    "engagement.accept": N_("Offer accepted"),
    "engagement.decline": N_("Offer declined"),
    "engagement.confirm": N_("Engagement confirmed by the institution"),
    "engagement.start": N_("Engagement started"),
    "engagement.terms": N_("Dates, mode or hours changed"),
    "engagement.complete": N_("Work reported done"),
    "engagement.confirm_completion": N_("Completion confirmed"),
    "engagement.cancel": N_("Engagement cancelled"),
    "engagement.expire": N_("Offer expired unanswered"),
    "engagement.withdraw": N_("Offer withdrawn"),
    "engagement.feedback": N_("Feedback given"),
}

# What an event is about (its entity_type), as the audit log's filter and rows name it.
ENTITIES: dict[str, str] = {
    "proposal": NP_("audited", "Proposal"),
    "engagement": NP_("audited", "Engagement"),
    "need": NP_("audited", "Need"),
    "institution": NP_("audited", "Institution"),
    "expert": NP_("audited", "Expert"),
    "user": NP_("audited", "Account"),
    "token": NP_("audited", "API token"),
    "assignment": NP_("audited", "Team"),
    "import": NP_("audited", "Import"),
    "export": NP_("audited", "Export"),
}
# The entity types the audit log can be filtered by, in this order.
FILTERABLE = ("proposal", "engagement", "need", "institution", "expert", "user")

# An action recorded by a newer version, or under an older name: said by what it is about.
FALLBACKS: dict[str, str] = {
    "proposal": N_("A proposal changed"),
    "engagement": N_("An engagement changed"),
    "need": N_("A need changed"),
    "institution": N_("An institution changed"),
    "expert": N_("An expert's profile changed"),
    "user": N_("An account changed"),
}
UNKNOWN = N_("A change was recorded")

# The stored states each kind of entity moves through, named by service.i18n.LABELS.
STATE_KINDS = {
    "need": "need_status",
    "proposal": "proposal_status",
    "engagement": "engagement_status",
}
# The states no label kind names: an institution's verification, an account.
STATES: dict[str, dict[str, str]] = {
    "institution": {
        "pending": NP_("audited state", "Awaiting verification"),
        "info_requested": NP_("audited state", "Information asked"),
        "answered": NP_("audited state", "Answered, awaiting review"),
        "declined": NP_("audited state", "Declined"),
        "verified": NP_("audited state", "Verified"),
    },
    "user": {
        "active": NP_("audited state", "Active"),
        "deleted": NP_("audited state", "Erased"),
    },
}


def action_words(action: str, entity_type: str = "") -> str:
    """Says an audited action as a sentence in the reader's language; never the code itself."""
    text = ACTIONS.get(action)
    if text is None:
        prefix = entity_type or action.partition(".")[0]
        text = FALLBACKS.get(prefix, UNKNOWN)
    return gettext_(text)


NAMED_INTEREST = N_("%(name)s said they are interested")
NAMED_INTEREST_WITHDRAWN = N_("%(name)s withdrew their interest")
NAMED_SUGGESTION = N_("The institution suggested %(name)s")


def event_words(
    action: str,
    entity_type: str = "",
    data: dict[str, Any] | None = None,
    names: dict[int, str] | None = None,
) -> str:
    """Says an audited event as `action_words` does; an expert's interest, or an
    institution's suggestion, names the expert when `names` (expert id -> name, what a
    coordinator's page knows) has them."""
    expert_id = (data or {}).get("expert_id")
    if action == "need.interest" and names and expert_id in names:
        return gettext_(NAMED_INTEREST) % {"name": names[expert_id]}
    if action == "need.interest_withdrawn" and names and expert_id in names:
        return gettext_(NAMED_INTEREST_WITHDRAWN) % {"name": names[expert_id]}
    if action == "need.suggestion" and names and expert_id in names:
        return gettext_(NAMED_SUGGESTION) % {"name": names[expert_id]}
    return action_words(action, entity_type)


def entity_words(entity_type: str) -> str:
    """Names what an event is about in the reader's language (Need, Engagement...)."""
    text = ENTITIES.get(entity_type)
    return pgettext_("audited", text) if text else pgettext_("audited", "Other")


def state_words(entity_type: str, state: str) -> str:
    """Names a state an entity moved from or to (Open, Closed...), in the reader's language."""
    kind = STATE_KINDS.get(entity_type)
    if kind and state:
        return label(kind, state)
    text = STATES.get(entity_type, {}).get(state)
    return pgettext_("audited state", text) if text else state


# Marked for extraction: what entity_words says of an entity type it does not know.
OTHER = NP_("audited", "Other")
