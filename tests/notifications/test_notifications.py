"""Notifications: produced idempotently from assignment progress, mirrored to an email outbox, shown in the inbox."""

import re
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from lms.accounts.models import CohortMember
from lms.content.services import get_catalog
from lms.curricula.models import Assignment, Curriculum, CurriculumItem, DueDateExtension
from lms.db import utcnow
from lms.extensions import db
from lms.notifications import services
from lms.notifications.cli import notify_cli
from lms.notifications.models import Notification, OutboxEmail
from lms.progress.models import Credit
from lms.quizzes.services import get_library
from tests.conftest import (
    create_cohort,
    create_user,
    fresh,
    login,
    post_form,
)
from tests.curricula.test_curricula import count_queries

TODAY = date(2026, 3, 2)
DUE = TODAY + timedelta(days=10)


def at(day: date, hour: int = 6) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def make_curriculum(owner, modules=("alpha",), name="Onboarding") -> Curriculum:
    curriculum = Curriculum(name=name, owner_id=owner.id)
    for position, module in enumerate(modules, start=1):
        curriculum.items.append(CurriculumItem(position=position, kind="module", ref_id=module))
    db.session.add(curriculum)
    db.session.commit()
    return curriculum


def make_assignment(curriculum, due_on=DUE, cohort=None, user=None, start_on=TODAY - timedelta(days=20)) -> Assignment:
    assignment = Assignment(curriculum_id=curriculum.id, cohort_id=cohort.id if cohort else None,
                            user_id=user.id if user else None, start_on=start_on, due_on=due_on,
                            curriculum_version=curriculum.version, created_by_id=curriculum.owner_id)
    db.session.add(assignment)
    db.session.commit()
    return assignment


def give_credit(user, module="alpha") -> None:
    """Complete a module the way the completion rule records it: a credit."""
    db.session.add(Credit(user_id=user.id, module_id=module, content_version="v1", module_version="1.0",
                          activity_title="Alpha module", activity_number="0000-0000-26-001-H04-T",
                          activity_type="knowledge", topic_code="04", topics=[], contact_hours=0.5, ceus=0.05,
                          score_percent=100.0, completed_at=at(TODAY - timedelta(days=1)),
                          verification_code=f"7K3M-9QXR-{user.id:04d}"[:14]))
    db.session.commit()


def run(today: date = TODAY) -> int:
    created = services.generate(db.session, today, at(today), get_catalog(), get_library())
    db.session.commit()
    return created


def kinds(user) -> list[str]:
    return sorted(db.session.scalars(select(Notification.kind).where(Notification.user_id == user.id)))


def snapshot() -> list[tuple]:
    return [tuple(row) for row in db.session.execute(
        select(Notification.user_id, Notification.kind, Notification.dedupe_key, Notification.title)
        .order_by(Notification.id))]


@pytest.fixture
def world(app):
    """A supervisor's cohort of two trainees with a one-module curriculum assigned, due on DUE."""
    supervisor = create_user("supervisor")
    ann, ben = create_user("trainee", name="Ann"), create_user("trainee", name="Ben")
    cohort = create_cohort("Main", supervisors=[supervisor], trainees=[ann, ben])
    curriculum = make_curriculum(supervisor)
    assignment = make_assignment(curriculum, cohort=cohort)
    return SimpleNamespace(supervisor=supervisor, ann=ann, ben=ben, cohort=cohort, curriculum=curriculum,
                           assignment=assignment)


class FakeSender:
    """Records what would be emailed; fails the first ``failures`` calls like an unreachable server."""

    def __init__(self, failures: int = 0):
        self.failures, self.calls, self.sent = failures, 0, []

    def __call__(self, to_address: str, subject: str, body: str) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionRefusedError("SMTP server unreachable")
        self.sent.append((to_address, subject, body))


# --- producing notifications -----------------------------------------------------------------------

def test_running_twice_adds_nothing_the_second_time(world):
    """A second run on the same day (or minutes later, from cron) produces no new rows."""
    assert run(DUE - timedelta(days=3)) == 4  # assigned + due_7, for each of the two trainees
    before = snapshot()
    assert run(DUE - timedelta(days=3)) == 0
    assert run(DUE - timedelta(days=2)) == 0
    assert snapshot() == before
    assert kinds(world.ann) == kinds(world.ben) == ["assigned", "due_7"]


def test_reminders_come_7_days_and_1_day_ahead_and_after_the_due_date(world):
    """Run daily across the due date: each reminder appears once, on the day its window opens."""
    first_seen = {}
    for offset in range(-12, 4):
        day = DUE + timedelta(days=offset)
        run(day)
        for kind in kinds(world.ann):
            first_seen.setdefault(kind, offset)
    assert first_seen == {"assigned": -12, "due_7": -7, "due_1": -1, "overdue": 1}
    assert kinds(world.ann) == ["assigned", "due_1", "due_7", "overdue"]
    titles = dict(db.session.execute(select(Notification.kind, Notification.title)
                                     .where(Notification.user_id == world.ann.id)).all())
    assert titles == {"assigned": "New assignment: Onboarding", "due_7": "Due in 7 days: Onboarding",
                      "due_1": "Due tomorrow: Onboarding", "overdue": "Overdue: Onboarding"}


@pytest.mark.parametrize(("days_left", "expected"), [
    (8, ["assigned"]), (7, ["assigned", "due_7"]), (2, ["assigned", "due_7"]), (1, ["assigned", "due_1"]),
    (0, ["assigned", "due_1"]), (-1, ["assigned", "overdue"]), (-30, ["assigned", "overdue"])])
def test_a_first_run_sends_only_the_most_urgent_reminder(world, days_left, expected):
    """A run that missed days catches up with the reminder due now, never a stale earlier one."""
    run(DUE - timedelta(days=days_left))
    assert kinds(world.ann) == expected


def test_an_extension_produces_new_due_reminders_and_no_overdue_for_the_old_date(world):
    """The due date is part of the dedupe key: after an extension the new date is reminded again."""
    run(DUE - timedelta(days=1))
    assert kinds(world.ann) == ["assigned", "due_1"]
    new_due = DUE + timedelta(days=7)
    db.session.add(DueDateExtension(assignment_id=world.assignment.id, user_id=world.ann.id, due_on=new_due,
                                    created_by_id=world.supervisor.id))
    db.session.commit()
    run(DUE + timedelta(days=1))  # past the old date: Ben is overdue, Ann is not
    assert kinds(world.ann) == ["assigned", "due_1", "due_7"]
    assert kinds(world.ben) == ["assigned", "due_1", "overdue"]
    run(new_due - timedelta(days=1))
    assert kinds(world.ann) == ["assigned", "due_1", "due_1", "due_7"]
    keys = db.session.scalars(select(Notification.dedupe_key).where(Notification.user_id == world.ann.id,
                                                                    Notification.kind == "due_1")).all()
    assert sorted(keys) == [f"due_1:{world.assignment.id}:{world.ann.id}:{DUE}",
                            f"due_1:{world.assignment.id}:{world.ann.id}:{new_due}"]


def test_a_trainee_who_completed_the_curriculum_gets_nothing(world):
    """Completion (here: the module's credit) stops every notification, even past the due date."""
    give_credit(world.ann)
    for offset in (-10, -7, -1, 2):
        run(DUE + timedelta(days=offset))
    assert kinds(world.ann) == []
    assert kinds(world.ben) == ["assigned", "due_1", "due_7", "overdue"]


def test_a_late_cohort_joiner_gets_an_assigned_notification(world):
    """Cohort assignments reach members who join later, and so does their notification."""
    run(TODAY)
    late = create_user("trainee")
    db.session.add(CohortMember(cohort_id=world.cohort.id, user_id=late.id))
    db.session.commit()
    assert run(TODAY + timedelta(days=1)) == 1
    assert kinds(late) == ["assigned"]
    notification = db.session.scalar(select(Notification).where(Notification.user_id == late.id))
    assert notification.link == "/my/assignments" and notification.body.startswith("Onboarding is assigned to you.")


def test_direct_assignments_count_and_ended_assignments_and_deactivated_accounts_do_not(world):
    """One-trainee assignments notify their trainee; unassigned work and deactivated accounts get nothing."""
    solo = create_user("trainee")
    make_assignment(make_curriculum(world.supervisor, name="Solo"), user=solo, due_on=TODAY + timedelta(days=1))
    world.assignment.ended_at = at(TODAY)
    world.ben.active = False
    db.session.commit()
    run(TODAY)
    assert kinds(solo) == ["assigned", "due_1"] and kinds(world.ann) == [] and kinds(world.ben) == []


def test_generate_uses_the_same_number_of_queries_for_3_or_30_trainees(world):
    """No N+1: the walk over assignments and trainees is a fixed set of queries."""

    def add_trainees(n):
        for _ in range(n):
            db.session.add(CohortMember(cohort_id=world.cohort.id, user_id=create_user("trainee").id))
        db.session.commit()

    add_trainees(1)
    with count_queries() as small:
        assert run(TODAY) == 3
    add_trainees(27)
    with count_queries() as large:
        assert run(TODAY) == 27
    assert small["n"] == large["n"] and small["n"] < 15



def test_a_concurrent_run_that_inserts_first_is_tolerated(race_app):
    """Two runs racing: the one that loses at the unique constraint skips those rows instead of failing."""
    supervisor, trainee = create_user("supervisor"), create_user("trainee")
    cohort = create_cohort("Main", supervisors=[supervisor], trainees=[trainee])
    make_assignment(make_curriculum(supervisor), cohort=cohort, due_on=TODAY + timedelta(days=3))
    other = Session(db.engine)
    state = {"raced": False}

    @event.listens_for(db.session(), "do_orm_execute")
    def other_run_commits_first(orm_execute_state):
        if orm_execute_state.is_insert and not state["raced"]:
            state["raced"] = True  # after this run read the existing keys, before it inserts
            assert services.generate(other, TODAY, at(TODAY), get_catalog(), get_library()) == 2
            other.commit()

    try:
        assert run(TODAY) == 0
    finally:
        event.remove(db.session(), "do_orm_execute", other_run_commits_first)
        other.close()
    assert state["raced"] and kinds(trainee) == ["assigned", "due_7"]
    assert run(TODAY) == 0


# --- the email outbox ---------------------------------------------------------------------------------

def test_emails_are_queued_only_when_smtp_is_configured(world):
    """Without SMTP settings the outbox stays empty; with them each notification is queued exactly once."""
    now = at(DUE - timedelta(days=3))
    run(now.date())
    assert services.queue_emails(db.session, False, now) == 0
    assert db.session.query(OutboxEmail).count() == 0
    assert services.queue_emails(db.session, True, now, "https://academy.hospital.test/") == 4
    db.session.commit()
    assert services.queue_emails(db.session, True, now) == 0
    emails = db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()
    assert sorted({e.to_address for e in emails}) == sorted([world.ann.email, world.ben.email])
    assert all(e.status == "pending" and e.attempts == 0 for e in emails)
    assert emails[0].subject == "New assignment: Onboarding"
    assert "https://academy.hospital.test/my/assignments" in emails[0].body


def test_read_or_old_notifications_are_not_emailed(world):
    """Switching email on later does not mail out old news, nor what was already read in the app."""
    run(DUE - timedelta(days=12))  # "assigned", two days before the email run
    run(DUE - timedelta(days=7))  # "due_7", on the day
    services.mark_read(db.session, world.ann.id, db.session.scalar(
        select(Notification.id).where(Notification.user_id == world.ann.id, Notification.kind == "due_7")), at(DUE))
    assert services.queue_emails(db.session, True, at(DUE - timedelta(days=7), 7)) == 1
    assert db.session.scalar(select(OutboxEmail.to_address)) == world.ben.email


def queue_all(world, now) -> list[OutboxEmail]:
    run(now.date())
    services.queue_emails(db.session, True, now)
    db.session.commit()
    return db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()


def test_a_failing_send_is_retried_with_backoff_then_succeeds(world):
    """Failures wait 5, then 10 minutes before the next attempt; success records the send once."""
    world.ben.active = False
    now = at(DUE - timedelta(days=20))
    [email] = queue_all(world, now)  # Ann's "assigned"
    sender = FakeSender(failures=2)
    result = services.deliver(db.session, sender, now)
    assert (result.sent, result.retrying, result.failed) == (0, 1, 0)
    email = fresh(email)
    assert (email.status, email.attempts, email.next_attempt_at) == ("pending", 1, now + timedelta(minutes=5))
    assert email.last_error == "ConnectionRefusedError: SMTP server unreachable"
    assert services.deliver(db.session, sender, now + timedelta(minutes=4)).retrying == 0  # not yet due
    assert sender.calls == 1
    services.deliver(db.session, sender, now + timedelta(minutes=5))
    email = fresh(email)
    assert (email.status, email.attempts, email.next_attempt_at) == ("pending", 2, now + timedelta(minutes=15))
    result = services.deliver(db.session, sender, now + timedelta(minutes=15))
    assert result.sent == 1
    email = fresh(email)
    assert (email.status, email.attempts, email.sent_at, email.last_error) == ("sent", 3, now + timedelta(minutes=15),
                                                                               None)
    assert [to for to, _s, _b in sender.sent] == [email.to_address]


def test_a_send_that_keeps_failing_gives_up_after_max_attempts(world):
    """The last allowed failure is final: the email is marked failed and never tried again."""
    now = at(DUE - timedelta(days=20))
    queue_all(world, now)
    sender = FakeSender(failures=1000)
    later = now
    for _ in range(3):
        services.deliver(db.session, sender, later, max_attempts=3)
        later += timedelta(days=1)
    statuses = db.session.execute(select(OutboxEmail.status, OutboxEmail.attempts)).all()
    assert [tuple(s) for s in statuses] == [("failed", 3), ("failed", 3)]
    calls = sender.calls
    services.deliver(db.session, sender, later + timedelta(days=30), max_attempts=3)
    assert sender.calls == calls == 6


def test_running_deliver_twice_sends_each_email_once(world):
    """A second run, later or overlapping the first, never sends an email again."""
    now = at(DUE + timedelta(days=2))
    emails = queue_all(world, now)
    assert len(emails) == 4
    sender = FakeSender()
    overlapping = []

    def sender_that_starts_another_run(to_address, subject, body):
        if not overlapping:  # while the first email is "on the wire", cron starts a second run
            overlapping.append(services.deliver(db.session, sender, now))
        sender(to_address, subject, body)

    first = services.deliver(db.session, sender_that_starts_another_run, now)
    second = services.deliver(db.session, sender, now + timedelta(hours=2))
    assert overlapping[0].sent == 3 and first.sent == 1 and first.skipped == 3 and second.sent == 0
    assert sorted(sender.sent) == sorted({(e.to_address, e.subject, e.body) for e in emails})
    assert len(sender.sent) == 4
    assert {e.status for e in db.session.scalars(select(OutboxEmail))} == {"sent"}


def test_an_email_abandoned_mid_send_is_not_sent_again(world):
    """A run that died after claiming an email may have sent it: after the lease it is failed, not resent."""
    now = at(DUE - timedelta(days=20))
    email = queue_all(world, now)[0]
    email.status, email.attempts, email.next_attempt_at = "sending", 1, now + services.LEASE
    db.session.commit()
    sender = FakeSender()
    services.deliver(db.session, sender, now + timedelta(minutes=10))
    assert fresh(email).status == "sending" and len(sender.sent) == 1  # only the other email, lease still held
    result = services.deliver(db.session, sender, now + services.LEASE)
    assert result.failed == 1 and fresh(email).status == "failed" and len(sender.sent) == 1
    assert "may have been sent" in fresh(email).last_error


def test_backoff_doubles_and_is_capped():
    """Waits double from 5 minutes and stop growing at the cap."""
    assert [services.backoff(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (5, 10, 20, 40)]
    assert services.backoff(30) == services.RETRY_CAP


class FakeSMTP:
    instances = []

    def __init__(self, host, port, timeout):
        self.host, self.port, self.timeout, self.log = host, port, timeout, []
        FakeSMTP.instances.append(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.log.append("quit")

    def starttls(self, context):
        self.log.append("starttls")

    def login(self, username, password):
        self.log.append(f"login {username}:{password}")

    def send_message(self, message):
        self.log.append(message)


SMTP_SETTINGS = {"SMTP_HOST": "smtp.hospital.test", "SMTP_PORT": 587, "SMTP_USERNAME": "academy",
                 "SMTP_PASSWORD": "app-password", "SMTP_FROM": "academy@hospital.test", "SMTP_STARTTLS": True}


def test_the_smtp_sender_uses_starttls_and_logs_in(monkeypatch):
    """The production sender speaks STARTTLS, authenticates and sends a plain-text message."""
    monkeypatch.setattr(services.smtplib, "SMTP", FakeSMTP)
    FakeSMTP.instances.clear()
    services.SmtpSender.from_config(SMTP_SETTINGS)("ann@hospital.test", "Due tomorrow: Onboarding", "Body text")
    smtp = FakeSMTP.instances[0]
    assert (smtp.host, smtp.port) == ("smtp.hospital.test", 587)
    assert smtp.log[:2] == ["starttls", "login academy:app-password"] and smtp.log[-1] == "quit"
    message = smtp.log[2]
    assert (message["From"], message["To"], message["Subject"]) == (
        "academy@hospital.test", "ann@hospital.test", "Due tomorrow: Onboarding")
    assert message.get_content().strip() == "Body text"
    assert services.SmtpSender.from_config({**SMTP_SETTINGS, "SMTP_STARTTLS": "false"}).starttls is False
    with pytest.raises(ValueError, match="LMS_SMTP_FROM"):
        services.SmtpSender.from_config({"SMTP_HOST": "smtp.hospital.test"})


# --- `lms notify run` --------------------------------------------------------------------------------

@pytest.fixture
def due_next_month(world):
    """The CLI runs on the real date: move the assignment's due date a month past it."""
    world.assignment.due_on = utcnow().date() + timedelta(days=30)
    db.session.commit()
    return world


def test_notify_run_without_smtp_fills_the_inbox_only(due_next_month, runner):
    """Without SMTP settings the command fills the inbox, says email is off, and a rerun adds nothing."""
    result = runner.invoke(notify_cli, ["run"])
    assert result.exit_code == 0, result.output
    assert "Notifications created: 2" in result.output and "Email is off" in result.output
    assert db.session.query(OutboxEmail).count() == 0
    again = runner.invoke(notify_cli, ["run"])
    assert "Notifications created: 0" in again.output


def test_notify_run_with_smtp_sends_each_email_once(due_next_month, app, runner, monkeypatch):
    """With SMTP settings the command queues and sends, and a rerun sends nothing again."""
    monkeypatch.setattr(services.smtplib, "SMTP", FakeSMTP)
    FakeSMTP.instances.clear()
    app.config.update(SMTP_SETTINGS)
    result = runner.invoke(notify_cli, ["run", "--base-url", "https://academy.hospital.test"])
    assert result.exit_code == 0, result.output
    assert "Notifications created: 2" in result.output and "Emails queued: 2; sent: 2;" in result.output
    assert "https://academy.hospital.test/my/assignments" in FakeSMTP.instances[0].log[2].get_content()
    again = runner.invoke(notify_cli, ["run"])
    assert "Emails queued: 0; sent: 0;" in again.output and len(FakeSMTP.instances) == 2


def test_notify_run_with_smtp_but_no_sender_address_fills_the_inbox_and_fails(due_next_month, app, runner):
    """A half-configured SMTP is an error cron will report, but the in-app notifications still appear."""
    app.config.update(SMTP_HOST="smtp.hospital.test")
    result = runner.invoke(notify_cli, ["run"])
    assert result.exit_code != 0 and "LMS_SMTP_FROM" in result.output
    assert "Notifications created: 2" in result.output and db.session.query(OutboxEmail).count() == 0


# --- the inbox over HTTP -------------------------------------------------------------------------------
# These need the blueprint registered in lms/app.py; until then they skip (and fail in CI, which allows
# no skips), so forgetting to wire the blueprint cannot pass unnoticed.

@pytest.fixture
def inbox(app, client, world):
    if "notifications" not in app.blueprints:
        pytest.skip("wire lms.notifications.routes.bp in lms/app.py register_blueprints() to run the inbox tests")
    run(DUE - timedelta(days=1))  # Ann and Ben: "assigned" and "due_1" each
    return client


def notification_ids(user) -> list[int]:
    return db.session.scalars(select(Notification.id).where(Notification.user_id == user.id)
                              .order_by(Notification.id)).all()


def test_inbox_shows_only_the_users_own_notifications_newest_first(inbox, world):
    """Ann sees her two notifications, newest first and marked new; nothing of Ben's."""
    bens = notification_ids(world.ben)
    db.session.get(Notification, bens[0]).title = "Ben's private notice"
    db.session.commit()
    login(inbox, world.ann)
    page = inbox.get("/inbox")
    assert page.status_code == 200
    assert page.text.index("Due tomorrow: Onboarding") < page.text.index("New assignment: Onboarding")
    assert "Ben" not in page.text and "2 unread notifications." in page.text
    assert page.text.count('class="card notification unread"') == 2


def test_marking_read_is_the_owners_alone(inbox, world):
    """Ann can mark her notification read; Ben's answers 404 to her and stays unread."""
    login(inbox, world.ann)
    anns, bens = notification_ids(world.ann), notification_ids(world.ben)
    response = post_form(inbox, f"/inbox/{anns[0]}/read")
    assert response.status_code == 302 and response.headers["Location"].endswith("/inbox")
    assert fresh(db.session.get(Notification, anns[0])).read_at is not None
    assert post_form(inbox, f"/inbox/{bens[0]}/read").status_code == 404
    assert post_form(inbox, "/inbox/999999/read").status_code == 404
    assert fresh(db.session.get(Notification, bens[0])).read_at is None
    assert "1 unread notification." in inbox.get("/inbox").text
    opened = post_form(inbox, f"/inbox/{anns[1]}/read", {"open": "1"})
    assert opened.headers["Location"].endswith("/my/assignments")


def test_mark_all_read_touches_only_the_users_notifications(inbox, world):
    """The "mark all as read" button clears Ann's unread notifications and leaves Ben's alone."""
    login(inbox, world.ann)
    assert post_form(inbox, "/inbox/read-all").status_code == 302
    assert services.unread_count(db.session, world.ann.id) == 0
    assert services.unread_count(db.session, world.ben.id) == 2
    assert "No unread notifications." in inbox.get("/inbox").text


def test_inbox_posts_need_a_csrf_token_and_the_inbox_needs_sign_in(inbox, world):
    """Anonymous visitors are sent to sign in; posts without a CSRF token change nothing."""
    assert "/login?next=" in inbox.get("/inbox").headers["Location"]
    login(inbox, world.ann)
    assert inbox.post("/inbox/read-all").status_code == 400
    assert inbox.post(f"/inbox/{notification_ids(world.ann)[0]}/read").status_code == 400
    assert services.unread_count(db.session, world.ann.id) == 2


def test_the_inbox_is_paginated(inbox, world):
    """Twenty to a page, with a link to the next."""
    for n in range(23):
        db.session.add(Notification(user_id=world.ann.id, kind="assigned", assignment_id=world.assignment.id,
                                    dedupe_key=f"test:{n}", title=f"Notice {n:02d}", created_at=at(TODAY)))
    db.session.commit()
    login(inbox, world.ann)
    first = inbox.get("/inbox").text
    assert len(re.findall(r'class="card notification', first)) == 20 and 'rel="next"' in first
    second = inbox.get("/inbox?page=2").text
    assert len(re.findall(r'class="card notification', second)) == 5 and "Page 2 of 2" in second


def test_nav_badge_counts_unread_and_is_refreshed_by_the_inbox(inbox, world):
    """The badge is counted at most once a minute, but reading the inbox brings it up to date."""
    login(inbox, world.ann)
    assert "Inbox (2 new)" in inbox.get("/home").text
    post_form(inbox, "/inbox/read-all")
    page = inbox.get("/home").text
    assert "Inbox (2 new)" not in page and ">Inbox<" in page
