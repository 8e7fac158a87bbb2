"""Every table of Homeward; importing this module registers them all on SQLModel.metadata."""

from service.models.audit import AuditEvent
from service.models.embeddings import Embedding, SkillVector
from service.models.engagements import Engagement, EngagementFeedback, EngagementStatus
from service.models.experts import ExpertProfile, LanguageLevel, Mode, Visibility
from service.models.institutions import (
    Institution,
    InstitutionMember,
    InstitutionReply,
    InstitutionType,
)
from service.models.invitations import InstitutionInvitation
from service.models.jobs import Job
from service.models.matches import MatchProposal, ProposalOrigin, ProposalStatus
from service.models.needs import Need, NeedStatus, Support
from service.models.notifications import Notification, NotificationPublic, OutgoingEmail
from service.models.search_outbox import SearchOutbox
from service.models.suggestions import ExpertSuggestion
from service.models.users import ApiToken, LoginFailure, Role, User, UserSession

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Embedding",
    "Engagement",
    "EngagementFeedback",
    "EngagementStatus",
    "ExpertProfile",
    "ExpertSuggestion",
    "Institution",
    "InstitutionInvitation",
    "InstitutionMember",
    "InstitutionReply",
    "InstitutionType",
    "Job",
    "LanguageLevel",
    "LoginFailure",
    "MatchProposal",
    "Mode",
    "Need",
    "NeedStatus",
    "Notification",
    "NotificationPublic",
    "OutgoingEmail",
    "ProposalOrigin",
    "ProposalStatus",
    "Role",
    "SearchOutbox",
    "SkillVector",
    "Support",
    "User",
    "UserSession",
    "Visibility",
]
