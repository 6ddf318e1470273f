"""Home pages per role and the load-balancer health check."""

import time

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import func, select, text

from lms.access import public, signed_in
from lms.accounts import services as accounts
from lms.accounts.models import AuditEvent, Cohort, CohortMember, User
from lms.content.services import get_catalog
from lms.extensions import db
from lms.notifications.services import unread_count
from lms.progress import services as progress

bp = Blueprint("core", __name__)


@bp.route("/healthz")
@public
def healthz():
    """Answer 200 when the app can reach its database, 503 when it cannot."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means "unhealthy"
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok")


@bp.route("/")
@public
def index():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    return redirect(url_for("accounts.login"))


@bp.route("/home")
@signed_in
def home():
    user = current_user
    if user.role == "admin":
        counts = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
        recent = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(10)).all()
        return render_template("core/home_admin.html", counts=counts, recent=recent,
                               cohort_count=db.session.scalar(select(func.count()).select_from(Cohort)))
    if user.role == "supervisor":
        cohorts = accounts.visible_cohorts(db.session, user)
        sizes = dict(db.session.execute(
            select(CohortMember.cohort_id, func.count()).where(CohortMember.cohort_id.in_([c.id for c in cohorts]))
            .group_by(CohortMember.cohort_id)).all())
        return render_template("core/home_supervisor.html", cohorts=cohorts, sizes=sizes)
    cohorts = db.session.scalars(select(Cohort).join(CohortMember).where(CohortMember.user_id == user.id)
                                 .order_by(Cohort.name)).all()
    return render_template("core/home_trainee.html", cohorts=cohorts,
                           **trainee_overview(user.id))


def trainee_overview(user_id: int) -> dict:
    """Modules in progress and the next lesson to read, for the trainee's home page."""
    catalog = get_catalog()
    read = progress.lessons_read(db.session, user_id)
    in_progress = [(m, len(read[m.id])) for m in catalog.modules if read.get(m.id) and len(read[m.id]) < len(m.lessons)]
    completed = [m for m in catalog.modules if read.get(m.id) and len(read[m.id]) >= len(m.lessons)]
    last = catalog.module(progress.last_read_module(db.session, user_id) or "")
    candidates = ([last] if last else []) + [m for m, _n in in_progress] + list(catalog.modules)
    next_step = None
    for module in candidates:
        lesson = next((lesson for lesson in module.lessons if lesson.id not in read.get(module.id, ())), None)
        if lesson is not None:
            next_step = (module, lesson)
            break
    return {"in_progress": in_progress, "completed": completed, "next_step": next_step}


# The main navigation: (label, endpoint, roles that see it, endpoint prefixes that mark it current).
NAV = [
    ("Home", "core.home", ("trainee", "supervisor", "admin"), ("core.home",)),
    ("Modules", "content.catalog", ("trainee", "supervisor", "admin"),
     ("content.catalog", "content.module_overview", "content.lesson", "content.glossary")),
    ("My assignments", "curricula.my_assignments", ("trainee",), ("curricula.my_assignments",)),
    ("Inbox", "notifications.inbox", ("trainee",), ("notifications.",)),
    ("My learning", "progress.my_learning", ("trainee", "supervisor", "admin"),
     ("progress.",)),
    ("Quizzes", "quizzes.index", ("trainee", "supervisor", "admin"),
     ("quizzes.index", "quizzes.take", "quizzes.result", "quizzes.review_page")),
    ("Sandbox", "sandbox.home", ("trainee", "supervisor", "admin"), ("sandbox.",)),
    ("Dashboard", "curricula.dashboard", ("supervisor", "admin"), ("curricula.dashboard", "curricula.assignment")),
    ("Curricula", "curricula.curriculum_list", ("supervisor", "admin"),
     ("curricula.curriculum", "curricula.add_item", "curricula.change_item", "curricula.copy")),
    ("Cohorts", "accounts.cohort_list", ("supervisor", "admin"), ("accounts.cohort",)),
    ("Item statistics", "quizzes.stats_index", ("supervisor", "admin"), ("quizzes.stats",)),
    ("Users", "accounts.user_list", ("admin",), ("accounts.user",)),
    ("Audit log", "accounts.audit_log", ("admin",), ("accounts.audit_log",)),
    ("Credits", "certificates.credit_list", ("admin",), ("certificates.credit_list", "certificates.revoke",
                                                              "certificates.reinstate", "certificates.correct_name")),
    ("Content", "content.status", ("admin",), ("content.status",)),
    ("Profile", "accounts.profile", ("trainee", "supervisor", "admin"), ("accounts.profile",)),
]
_STATIC_URLS = {
    "site_css": ("static", {"filename": "css/site.css"}),
    "print_css": ("static", {"filename": "css/print.css"}),
    "favicon": ("static", {"filename": "img/favicon.svg"}),
    "forms_js": ("static", {"filename": "js/forms.js"}),
    "index": ("core.index", {}),
    "logout": ("accounts.logout", {}),
}


def _layout_urls() -> dict[str, str]:
    """URLs the layout uses on every page, built once per app and mount point (url_for is not free)."""
    cache = current_app.extensions.setdefault("lms_layout_urls", {})
    key = request.script_root
    if key not in cache:
        urls = {name: url_for(endpoint, **values) for name, (endpoint, values) in _STATIC_URLS.items()}
        urls.update({endpoint: url_for(endpoint) for _label, endpoint, _roles, _prefixes in NAV})
        cache[key] = urls
    return cache[key]


UNREAD_CACHE_SECONDS = 60


def _unread(user_id: int) -> int:
    """The inbox badge. Counted at most once a minute per session: notifications arrive from a cron job
    every few minutes anyway, and counting on every page view would cost the busiest pages a query."""
    cached = session.get("unread")
    now = time.time()
    if cached and cached[1] > now:
        return cached[0]
    count = unread_count(db.session, user_id)
    session["unread"] = [count, now + UNREAD_CACHE_SECONDS]
    return count


def inject_layout_context():
    """Template globals every page needs: the signed-in user, the navigation and layout URLs."""
    urls = _layout_urls()
    user = current_user._get_current_object() if current_user.is_authenticated else None
    nav_items = []
    if user is not None:
        endpoint = request.endpoint or ""
        visible = [(label, target, prefixes) for label, target, allowed, prefixes in NAV if user.role in allowed]
        unread = _unread(user.id) if any(t == "notifications.inbox" for _l, t, _p in visible) else 0
        nav_items = [(f"{label} ({unread} new)" if target == "notifications.inbox" and unread else label,
                      urls[target], endpoint.startswith(prefixes)) for label, target, prefixes in visible]
    return {"me": user, "nav_items": nav_items, "static_urls": urls}
