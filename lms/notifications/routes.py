"""The inbox: a signed-in user's own notifications, newest first, and marking them read."""

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_login import current_user

from lms.access import ROLES, rule, signed_in
from lms.db import utcnow
from lms.extensions import db
from lms.notifications import services
from lms.notifications.models import Notification
from lms.validation import page_arg
from lms.web import ActionForm

bp = Blueprint("notifications", __name__)

PAGE_SIZE = 20


def _own_notification(view_args: dict) -> None:
    notification = db.session.get(Notification, view_args["notification_id"])
    if notification is None or notification.user_id != current_user.id:
        abort(404)  # another user's notification answers as if it did not exist


recipient = rule("the notification's recipient", ROLES, _own_notification)


def _inbox_url() -> str:
    page = request.form.get("page", type=int)
    return url_for("notifications.inbox", page=page if page and page > 1 else None)


def _safe_link(link: str) -> str | None:
    """Follow only site-relative links (the ones generate() stores)."""
    return link if link.startswith("/") and not link.startswith("//") and "\\" not in link else None


@bp.route("/inbox")
@signed_in
def inbox():
    session.pop("unread", None)  # the nav badge recounts here, so it agrees with the page
    page = page_arg()
    pagination = db.paginate(services.inbox_query(current_user.id), page=page, per_page=PAGE_SIZE, error_out=False)
    return render_template("notifications/inbox.html", pagination=pagination,
                           unread=services.unread_count(db.session, current_user.id), action_form=ActionForm())


@bp.route("/inbox/<int:notification_id>/read", methods=["POST"])
@recipient
def mark_read(notification_id: int):
    """Mark one notification read; with ``open`` in the form, go on to what it is about."""
    notification = services.mark_read(db.session, current_user.id, notification_id, utcnow())
    if notification is None:
        abort(404)
    db.session.commit()
    session.pop("unread", None)
    target = _safe_link(notification.link) if request.form.get("open") else None
    return redirect(target or _inbox_url())


@bp.route("/inbox/read-all", methods=["POST"])
@signed_in
def mark_all_read():
    services.mark_all_read(db.session, current_user.id, utcnow())
    db.session.commit()
    session.pop("unread", None)
    return redirect(url_for("notifications.inbox"))
