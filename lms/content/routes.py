"""Catalog, module overview, lessons, glossary, module images and the admin content status page."""

from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_from_directory, url_for
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from lms.access import roles, signed_in
from lms.content.forms import MarkReadForm
from lms.content.services import get_catalog, search
from lms.db import utcnow
from lms.extensions import db
from lms.progress import services as progress

bp = Blueprint("content", __name__)


def _opened_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="lesson-opened")


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
    return render_template("content/module.html", module=module, read=read, next_lesson=next_lesson,
                           prerequisites=prerequisites)


@bp.route("/modules/<module_id>/<lesson_id>")
@signed_in
def lesson(module_id: str, lesson_id: str):
    module = _module_or_404(module_id)
    current = module.lesson(lesson_id)
    if current is None:
        abort(404)
    index = module.lessons.index(current)
    read = progress.lessons_read(db.session, current_user.id, module.id).get(module.id, set())
    form = MarkReadForm(opened=_opened_signer().dumps(utcnow().timestamp()))
    return render_template("content/lesson.html", module=module, lesson=current, index=index, read=read, form=form,
                           previous=module.lessons[index - 1] if index > 0 else None,
                           following=module.lessons[index + 1] if index + 1 < len(module.lessons) else None)


@bp.route("/modules/<module_id>/<lesson_id>/read", methods=["POST"])
@signed_in
def mark_read(module_id: str, lesson_id: str):
    module = _module_or_404(module_id)
    current = module.lesson(lesson_id)
    if current is None:
        abort(404)
    form = MarkReadForm()
    seconds = None
    try:
        opened = _opened_signer().loads(form.opened.data or "", max_age=24 * 3600)
        seconds = int(utcnow().timestamp() - float(opened))
    except (BadSignature, TypeError, ValueError):
        pass  # a stale or tampered timestamp: record the read, not the time
    _record, created = progress.mark_lesson_read(db.session, current_user.id, module, current.id, seconds, utcnow())
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
