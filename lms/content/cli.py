"""`lms content check`: validate every module and the glossary."""

import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from lms.content.loader import Catalog, Problem, load_catalog

content_cli = AppGroup("content", help="Learning modules.")


@content_cli.command("check")
@click.option("--min-words", type=int, default=None,
              help="Minimum words of lesson text per module (default: CONTENT_MIN_WORDS, 2500).")
def check(min_words: int | None) -> None:
    """Print file:line: message for every problem; exit 1 if there is any."""
    root = Path(current_app.config["CONTENT_DIR"])
    minimum = current_app.config["CONTENT_MIN_WORDS"] if min_words is None else min_words
    catalog = load_catalog(root, min_words=minimum)
    problems = list(catalog.problems) + unassessed_objectives(catalog, Path(current_app.config["QUIZZES_DIR"]))
    shown_root = os.path.relpath(root) if not os.path.relpath(root).startswith("..") else str(root)
    for problem in problems:
        click.echo(f"{shown_root}/{problem}" + ("  [module skipped]" if problem.fatal else ""))
    lessons = sum(len(m.lessons) for m in catalog.modules)
    words = sum(m.words for m in catalog.modules)
    click.echo(f"{len(catalog.modules)} modules, {lessons} lessons, {words:,} words, "
               f"{len(catalog.glossary)} glossary terms: "
               + (f"{len(problems)} problem(s)" if problems else "OK"))
    if problems:
        raise SystemExit(1)


def unassessed_objectives(catalog: Catalog, quizzes_dir: Path) -> list[Problem]:
    """Objectives that no quiz item assesses (only once the module has a question bank)."""
    from lms.quizzes.bank import load_library  # content does not otherwise depend on quizzes

    library = load_library(quizzes_dir, catalog)
    assessed = {objective for item in library.items.values() for objective in item.objectives}
    problems = []
    for module in catalog.modules:
        if library.bank_for_module(module.id) is None:
            continue
        for objective in module.objectives:
            if f"{module.id}:{objective.id}" not in assessed:
                problems.append(Problem(f"modules/{module.folder}/module.md", 1,
                                        f"objectives: {objective.id} is not assessed by any quiz item"))
    return problems
