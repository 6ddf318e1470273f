"""The content store (catalog cached per content version) and catalog search."""

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app

from lms.content.loader import Catalog, Module, load_catalog


class ContentStore:
    """Holds the rendered catalog. Renders once per content version, never per request.

    In debug mode each access compares a cheap fingerprint of the files (names, sizes and
    modification times) and reloads when an author has edited something; in production a
    restart picks up edits.
    """

    def __init__(self, content_dir: str, min_words: int, watch: bool):
        self.content_dir = Path(content_dir)
        self.min_words = min_words
        self.watch = watch
        self._catalog: Catalog | None = None
        self._fingerprint: tuple | None = None
        self._lock = threading.Lock()

    def _current_fingerprint(self) -> tuple:
        entries = []
        for folder, _dirs, files in os.walk(self.content_dir):
            for name in files:
                stat = os.stat(os.path.join(folder, name))
                entries.append((folder, name, stat.st_size, stat.st_mtime_ns))
        return tuple(sorted(entries))

    def catalog(self) -> Catalog:
        if self._catalog is not None and not self.watch:
            return self._catalog
        with self._lock:
            fingerprint = self._current_fingerprint() if self.watch else None
            if self._catalog is None or fingerprint != self._fingerprint:
                catalog = load_catalog(self.content_dir, min_words=self.min_words)
                for problem in catalog.problems:
                    if problem.fatal:
                        current_app.logger.warning("content: skipped module: %s", problem)
                self._catalog, self._fingerprint = catalog, fingerprint
            return self._catalog


def init_content(app: Flask) -> None:
    app.extensions["lms_content"] = ContentStore(app.config["CONTENT_DIR"], app.config["CONTENT_MIN_WORDS"],
                                                 watch=app.debug)


def get_catalog() -> Catalog:
    return current_app.extensions["lms_content"].catalog()


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
