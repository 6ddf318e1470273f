"""The content store (catalog cached per content version) and catalog search."""

import re
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app

from lms.content.loader import Catalog, Module, load_catalog
from lms.datafiles import FolderCache


def init_content(app: Flask) -> None:
    content_dir = Path(app.config["CONTENT_DIR"])
    min_words = app.config["CONTENT_MIN_WORDS"]

    def load() -> Catalog:
        catalog = load_catalog(content_dir, min_words=min_words)
        for problem in catalog.problems:
            if problem.fatal:
                app.logger.warning("content: skipped module: %s", problem)
        return catalog

    app.extensions["lms_content"] = FolderCache([content_dir], load, watch=app.debug)


def get_catalog() -> Catalog:
    return current_app.extensions["lms_content"].get()


# --- search ----------------------------------------------------------------------------

@dataclass(frozen=True)
class SearchHit:
    module: Module
    score: int
    lesson_id: str | None
    lesson_title: str | None
    snippet: str


_TERM = re.compile(r"[\w'-]+")


def search(catalog: Catalog, query: str, limit: int = 30) -> list[SearchHit]:
    """Modules whose title, summary, objectives or lesson text contain every query term.

    Title and objective matches rank above body-text matches.
    """
    terms = [t.lower() for t in _TERM.findall(query)][:8]
    if not terms:
        return []
    hits = []
    for module in catalog.modules:
        heading = " ".join([module.title, module.summary, " ".join(module.topics)]).lower()
        objectives = " ".join(o.text for o in module.objectives).lower()
        lessons = [(lesson, " ".join(lesson.text.split()), lesson.text.lower()) for lesson in module.lessons]
        body = " ".join(text for _l, _t, text in lessons)
        if not all(t in heading or t in objectives or t in body for t in terms):
            continue
        score = sum(10 * heading.count(t) + 5 * objectives.count(t) + min(body.count(t), 20) for t in terms)
        best = max(lessons, key=lambda item: sum(item[2].count(t) for t in terms))
        lesson, flat, _lower = best
        position = flat.lower().find(terms[0])
        snippet = ""
        if position >= 0:
            start = max(position - 80, 0)
            snippet = ("…" if start else "") + flat[start:position + 160].strip() + "…"
        hits.append(SearchHit(module, score, lesson.id if position >= 0 else None,
                              lesson.title if position >= 0 else None, snippet))
    hits.sort(key=lambda hit: (-hit.score, hit.module.number))
    return hits[:limit]
