"""The built-in jobs: offer expiry and reminders, availability reminders, email, clean-up."""

from __future__ import annotations

from datetime import timedelta

from service.core.engagements import expire_due_offers, remind_due_offers
from service.core.jobs import enqueue
from service.core.notifications import notify
from service.core.proposals import availability_is_current
from service.mail import send_pending
from service.repos import experts as experts_repo
from service.repos import jobs as jobs_repo
from service.repos import proposals as proposals_repo
from service.repos import users as users_repo
from service.worker.queue import JobContext, register_handler

KEEP_DONE = timedelta(days=7)


def expire_offers(context: JobContext) -> None:
    """Expires unanswered offers."""
    expire_due_offers(context.session, settings=context.settings, now=context.now)


def remind_offers(context: JobContext) -> None:
    """Reminds experts of offers about to expire."""
    remind_due_offers(context.session, settings=context.settings, now=context.now)


def availability_reminders(context: JobContext) -> None:
    """Queues one reminder per expert and overdue period for experts who must reconfirm."""
    days = context.settings.availability_reconfirm_days
    before = context.now - timedelta(days=days)
    for expert in proposals_repo.experts_to_reconfirm(context.session, before=before):
        base = expert.availability_confirmed_at or expert.created_at
        period = (context.now - base).days // days
        enqueue(
            context.session,
            kind="availability_reminder",
            key=f"availability_reminder:{expert.id}:{int(base.timestamp())}:{period}",
            payload={"expert_id": expert.id},
            run_at=context.now,
        )


def availability_reminder(context: JobContext) -> None:
    """Asks one expert to reconfirm their availability, unless they did meanwhile."""
    expert = experts_repo.get_expert(context.session, int(context.payload["expert_id"]))
    if expert is None or expert.user_id is None or not expert.active:
        return
    days = context.settings.availability_reconfirm_days
    if availability_is_current(expert, now=context.now, reconfirm_days=days):
        return
    user = users_repo.get_user(context.session, expert.user_id)
    if user is None or not user.active:
        return
    notify(
        context.session,
        user=user,
        kind="availability.reminder",
        params={},
        link="/expert/proposals",
        settings=context.settings,
        now=context.now,
    )


def send_emails(context: JobContext) -> None:
    """Sends the queued emails (or logs them when no SMTP server is configured)."""
    send_pending(context.session, settings=context.settings, now=context.now)


def prune_jobs(context: JobContext) -> None:
    """Deletes jobs finished more than a week ago, and expired sessions."""
    jobs_repo.prune_finished(context.session, before=context.now - KEEP_DONE)
    users_repo.forget_expired_sessions(context.session, before=context.now)


register_handler("expire_offers", expire_offers, every_s=600)
register_handler("remind_offers", remind_offers, every_s=3600)
register_handler("availability_reminders", availability_reminders, every_s=3600)
register_handler("availability_reminder", availability_reminder)
register_handler("send_emails", send_emails, every_s=60)
register_handler("prune_jobs", prune_jobs, every_s=86400)
