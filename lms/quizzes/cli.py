"""`lms quizzes ...`: validate banks, and move questions in and out of Moodle's GIFT format."""

from pathlib import Path

import click
import yaml
from flask import current_app
from flask.cli import AppGroup

from lms.content.loader import load_catalog
from lms.quizzes.bank import load_library

quizzes_cli = AppGroup("quizzes", help="Question banks and practice exams.")


@quizzes_cli.command("check")
def check() -> None:
    """Validate every bank and blueprint; print file:line: message and a summary line."""
    root = Path(current_app.config["QUIZZES_DIR"])
    catalog = load_catalog(current_app.config["CONTENT_DIR"])
    library = load_library(root, catalog, standards=True)
    for problem in library.problems:
        click.echo(f"{root}/{problem}")
    click.echo(f"{library.item_count} items in {len(library.banks)} banks, {len(library.blueprints)} blueprints"
               + (f": {len(library.problems)} problem(s)" if library.problems else ": OK"))
    if library.problems:
        raise SystemExit(1)


@quizzes_cli.command("import-gift")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The YAML bank to write.")
@click.option("--bank-id", default=None, help="Bank id (default: the output file's name).")
@click.option("--module", "module_id", default=None, help="Module whose objectives the items assess.")
def import_gift_command(source: Path, output: Path, bank_id: str | None, module_id: str | None) -> None:
    """Convert a GIFT file to a YAML bank. Unsupported pieces are listed with their line numbers."""
    from lms.quizzes.gift import GiftError, import_gift  # only these commands need the GIFT parser

    bank_id = bank_id or output.stem
    try:
        imported = import_gift(source.read_text(encoding="utf-8"), str(source), bank_id=bank_id,
                               title=f"Imported from {source.name}", id_prefix=bank_id)
    except GiftError as error:
        raise click.ClickException(str(error)) from error
    if module_id:
        imported.bank["module"] = module_id
    for warning in imported.warnings:
        click.echo(f"warning: {warning}", err=True)
    output.write_text(yaml.safe_dump(imported.bank, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8")
    click.echo(f"Wrote {len(imported.bank['items'])} items to {output}"
               + (f" ({len(imported.warnings)} warning(s))" if imported.warnings else ""))


@quizzes_cli.command("export-gift")
@click.argument("bank_id")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
def export_gift_command(bank_id: str, output: Path) -> None:
    """Write a bank (by id, or a path to a YAML bank) as GIFT for Moodle."""
    from lms.quizzes.gift import export_gift

    path = Path(bank_id)
    if not path.exists():
        path = Path(current_app.config["QUIZZES_DIR"]) / "banks" / f"{bank_id}.yaml"
    if not path.exists():
        raise click.ClickException(f"no bank {bank_id!r} (looked for {path})")
    bank = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        text = export_gift(bank)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    output.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {len(bank.get('items', []))} items to {output}")
