"""`lms notify run`: produce due notifications, queue their emails and deliver the outbox. Safe from cron."""

import click
from flask import current_app, url_for
from flask.cli import AppGroup

from lms.content.services import get_catalog
from lms.db import utcnow
from lms.extensions import db
from lms.notifications import services
from lms.quizzes.services import get_library

notify_cli = AppGroup("notify", help="In-app notifications and their emails.")


@notify_cli.command("run")
@click.option("--base-url", default=None,
              help="Public address of the site, for links in emails (default: the BASE_URL setting).")
def run(base_url: str | None) -> None:
    """Add due notifications, then, when SMTP is configured, queue and send their emails.

    Idempotent: run it every few minutes. Concurrent runs neither duplicate a notification nor send
    an email twice.
    """
    config = current_app.config
    now = utcnow()
    with current_app.test_request_context():
        link = url_for("curricula.my_assignments")
    created = services.generate(db.session, now.date(), now, get_catalog(), get_library(), link=link)
    db.session.commit()
    click.echo(f"Notifications created: {created}")
    if not services.smtp_configured(config):
        click.echo("Email is off (LMS_SMTP_HOST is not set).")
        return
    try:
        sender = services.SmtpSender.from_config(config)
    except ValueError as error:  # the inbox is filled; only email waits for the fix
        raise click.ClickException(str(error)) from error
    queued = services.queue_emails(db.session, True, now, base_url or config.get("BASE_URL") or "")
    db.session.commit()
    result = services.deliver(db.session, sender, now)
    click.echo(f"Emails queued: {queued}; sent: {result.sent}; to retry: {result.retrying}; "
               f"failed: {result.failed}; left to another run: {result.skipped}")
