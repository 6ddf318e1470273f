"""`lms content check`: validate every module and the glossary."""

import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from lms.content.loader import load_catalog

content_cli = AppGroup("content", help="Learning modules.")


@content_cli.command("check")
@click.option("--min-words", type=int, default=None,
              help="Minimum words of lesson text per module (default: CONTENT_MIN_WORDS, 2500).")
def check(min_words: int | None) -> None:
    """Print file:line: message for every problem; exit 1 if there is any."""
    root = Path(current_app.config["CONTENT_DIR"])
    minimum = current_app.config["CONTENT_MIN_WORDS"] if min_words is None else min_words
    catalog = load_catalog(root, min_words=minimum)
    shown_root = os.path.relpath(root) if not os.path.relpath(root).startswith("..") else str(root)
    for problem in catalog.problems:
        click.echo(f"{shown_root}/{problem}" + ("  [module skipped]" if problem.fatal else ""))
    lessons = sum(len(m.lessons) for m in catalog.modules)
    words = sum(m.words for m in catalog.modules)
    click.echo(f"{len(catalog.modules)} modules, {lessons} lessons, {words:,} words, "
               f"{len(catalog.glossary)} glossary terms: "
               + (f"{len(catalog.problems)} problem(s)" if catalog.problems else "OK"))
    if catalog.problems:
        raise SystemExit(1)
