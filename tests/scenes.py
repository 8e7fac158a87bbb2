"""Scenes the page tests and the browser tests both arrange, built once through the factories.

A page test checks the HTML a scene gives; a browser test checks how the same scene is laid
out (CSS, directions, a phone's width). Building it in one place keeps them about one scene.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session

from service.models import Engagement, InstitutionMember, Role
from service.models.types import utcnow
from tests.factories import make_engagement, make_expert, make_institution, make_need, make_user

FES_HOSPITAL = "المركز الاستشفائي الجامعي الحسن الثاني بفاس"
FES_NEED = "دعم قسم الأشعة بالقراءة عن بعد وتكوين المقيمين"
# Its members, in the order they joined: a name typed in Arabic, another in Latin letters.
FES_MEMBERS = (
    ("يوسف بنجلون", "y.benjelloun@chu-fes.example"),
    ("Nadia Alaoui", "n.alaoui@chu-fes.example"),
)
RADIOLOGIST_EMAIL = "imane.berrada@courriel.example"
RADIOLOGIST_PHONE = "+32 470 12 34 56"
RADIOLOGIST_SKILLS = ("téléradiologie", "التصوير الطبي")


def make_fes_engagement(
    session: Session, *, skills: Sequence[str] = RADIOLOGIST_SKILLS, **fields: Any
) -> Engagement:
    """An agreed engagement, under way: a hospital in Fès (its name in Arabic, two members)
    and a Brussels radiologist; `fields` set more of the engagement."""
    institution = make_institution(session, name=FES_HOSPITAL, country="MA", city="فاس")
    for name, email in FES_MEMBERS:
        user = make_user(session, role=Role.INSTITUTION, email=email)
        user.display_name = name
        session.add(user)
        session.add(InstitutionMember(institution_id=institution.id or 0, user_id=user.id or 0))
        session.commit()
    need = make_need(session, institution=institution, title=FES_NEED, languages=["ar", "fr"])
    expert = make_expert(
        session,
        user=make_user(session, email=RADIOLOGIST_EMAIL),
        display_name="Dr. Imane Berrada",
        headline="Radiologue – scanner, IRM, téléradiologie",
        skills=list(skills),
        phone=RADIOLOGIST_PHONE,
        education="DES de radiologie (Université Mohammed V de Rabat)",
    )
    engagement: Engagement = make_engagement(
        session,
        need=need,
        expert=expert,
        status="active",
        offered_at=utcnow() - timedelta(days=30),
        start_date=date(2026, 9, 1),
        end_date=date(2026, 12, 18),
        **fields,
    )
    return engagement
