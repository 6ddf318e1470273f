"""Catalog, module overview, lessons, glossary, module images and the admin content status page."""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    get_template_attribute,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup

from lms.access import roles, signed_in
from lms.content.forms import MarkReadForm
from lms.content.loader import Lesson, Module
from lms.content.services import get_catalog, search
from lms.db import utcnow
from lms.extensions import db
from lms.progress import services as progress
from lms.quizzes.services import get_library
from lms.validation import parse_int
from lms.web import issue_credit

bp = Blueprint("content", __name__)


def _opened_mac(timestamp: str) -> str:
    key = (current_app.config["SECRET_KEY"] + ":lesson-opened").encode()
    return hmac.new(key, timestamp.encode(), hashlib.sha256).hexdigest()[:20]


def opened_token(now: datetime) -> str:
    """A tamper-evident 'page served at' stamp for the mark-as-read form (cheap: plain HMAC)."""
    stamp = str(int(now.timestamp()))
    return f"{stamp}.{_opened_mac(stamp)}"


def seconds_since(token: str, now: datetime) -> int | None:
    """Seconds since the page carrying ``token`` was served, or None if the stamp is not ours or too old."""
    stamp, _, mac = (token or "").partition(".")
    opened = parse_int(stamp)  # ASCII digits only: "²" passes str.isdigit() but not int()
    # compare_digest refuses non-ASCII str; as bytes any text compares (and fails) in constant time.
    if opened is None or not hmac.compare_digest(mac.encode(), _opened_mac(stamp).encode()):
        return None
    seconds = int(now.timestamp()) - opened
    return seconds if 0 <= seconds <= 24 * 3600 else None


def _module_or_404(module_id: str):
    module = get_catalog().module(module_id)
    if module is None:
        abort(404)
    return module


@bp.route("/modules")
@signed_in
def catalog():
    cat = get_catalog()
    query = request.args.get("q", "").strip()[:200]
    read = progress.lessons_read(db.session, current_user.id)
    hits = search(cat, query) if query else None
    categories: dict[str, list] = {}
    for module in cat.modules:
        categories.setdefault(module.category, []).append(module)
    return render_template("content/catalog.html", catalog=cat, categories=categories, query=query, hits=hits,
                           read=read)


@bp.route("/modules/<module_id>")
@signed_in
def module_overview(module_id: str):
    cat = get_catalog()
    module = _module_or_404(module_id)
    read = progress.lessons_read(db.session, current_user.id, module.id).get(module.id, set())
    next_lesson = next((lesson for lesson in module.lessons if lesson.id not in read), None)
    prerequisites = [cat.module(p) for p in module.prerequisites if cat.module(p)]
    post_test = get_library().bank_for_module(module.id)
    return render_template("content/module.html", module=module, read=read, next_lesson=next_lesson,
                           prerequisites=prerequisites, post_test=post_test,
                           state=progress.completion(db.session, current_user.id, module),
                           has_post_test=post_test is not None and any(i.graded for i in post_test.items))


@dataclass(frozen=True)
class LessonParts:
    body: Markup
    pager: Markup
    mark_read_url: str


def lesson_parts(version: str, module: Module, lesson: Lesson) -> LessonParts:
    """The reader-independent parts of a lesson page, rendered once per content version and mount point."""
    cache = current_app.extensions.setdefault("lms_lesson_parts", {})
    key = (version, module.id, lesson.id, request.script_root)
    parts = cache.get(key)
    if parts is None:
        macros = get_template_attribute("content/_lesson_parts.html", "body"), \
            get_template_attribute("content/_lesson_parts.html", "pager")
        index = module.lessons.index(lesson)
        parts = LessonParts(macros[0](module, lesson, index), macros[1](module, index),
                            url_for("content.mark_read", module_id=module.id, lesson_id=lesson.id))
        if len(cache) > 2000:  # old content versions after many debug reloads
            cache.clear()
        cache[key] = parts
    return parts


@bp.route("/modules/<module_id>/<lesson_id>")
@signed_in
def lesson(module_id: str, lesson_id: str):
    catalog = get_catalog()
    module = catalog.module(module_id)
    current = module.lesson(lesson_id) if module else None
    if current is None:
        abort(404)
    return render_template("content/lesson.html", module=module, lesson=current,
                           parts=lesson_parts(catalog.version, module, current),
                           is_read=progress.has_read(db.session, current_user.id, module.id, current.id),
                           opened=opened_token(utcnow()))


@bp.route("/modules/<module_id>/<lesson_id>/read", methods=["POST"])
@signed_in
def mark_read(module_id: str, lesson_id: str):
    module = _module_or_404(module_id)
    current = module.lesson(lesson_id)
    if current is None:
        abort(404)
    # A stale or tampered stamp records the read without a time.
    seconds = seconds_since(MarkReadForm().opened.data or "", utcnow())
    _record, created = progress.mark_lesson_read(db.session, current_user.id, module, current.id, seconds, utcnow())
    issue_credit(module)  # reading the last lesson can be the step that completes the module
    db.session.commit()
    if created:
        flash(f"Marked “{current.title}” as read.", "success")
    index = module.lessons.index(current)
    if index + 1 < len(module.lessons):
        return redirect(url_for("content.lesson", module_id=module.id, lesson_id=module.lessons[index + 1].id))
    return redirect(url_for("content.module_overview", module_id=module.id))


@bp.route("/modules/<module_id>/assets/<path:filename>")
@signed_in
def asset(module_id: str, filename: str):
    module = _module_or_404(module_id)
    if Path(filename).suffix.lower() not in (".png", ".jpg", ".jpeg", ".gif", ".webp"):
        abort(404)
    response = send_from_directory(module.path, filename, max_age=3600)  # safe_join refuses ../ escapes
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.route("/glossary")
@signed_in
def glossary():
    terms = sorted(get_catalog().glossary.values(), key=lambda t: t.term.lower())
    return render_template("content/glossary.html", terms=terms)


@bp.route("/admin/content")
@roles("admin")
def status():
    cat = get_catalog()
    return render_template("content/status.html", catalog=cat, problems=cat.problems,
                           skipped=[p for p in cat.problems if p.fatal])
