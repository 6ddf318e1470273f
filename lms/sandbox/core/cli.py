"""`lms sandbox ...`: validate the seed and every ticket, and rehearse each ticket's solution and symptom fixes."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from lms.content.loader import load_catalog
from lms.db import utcnow
from lms.sandbox.core.tickets import load_tickets
from lms.sandbox.interfaces.cli import hl7_cli

sandbox_cli = AppGroup("sandbox", help="The mock pharmacy system: seed and tickets.")
sandbox_cli.add_command(hl7_cli)


@sandbox_cli.command("check")
@click.option("--no-rehearse", is_flag=True, help="Only validate the files; do not play the tickets through.")
def check(no_rehearse: bool) -> None:
    """Validate the seed and tickets (file:line: message), then rehearse every ticket on a scratch database."""
    root = Path(current_app.config["SANDBOX_DIR"])
    catalog = load_catalog(current_app.config["CONTENT_DIR"])
    tickets = load_tickets(root, catalog)
    problems = [f"{root}/{p}" for p in tickets.problems]
    if not no_rehearse and not tickets.problems:
        problems += rehearse_all(tickets, root)
    for problem in problems:
        click.echo(problem)
    rows = sum(len(rows) for rows in tickets.seed.rows.values())
    click.echo(f"seed: {rows} rows; {len(tickets.tickets)} tickets"
               + (f": {len(problems)} problem(s)" if problems else ": OK"))
    if problems:
        raise SystemExit(1)


def rehearse_all(tickets, root: Path) -> list[str]:
    """Play every ticket on a throwaway in-memory SQLite database, never the configured one."""
    from lms.accounts.models import User
    from lms.extensions import db
    from lms.sandbox.core.services import Actor, rehearse

    engine = create_engine("sqlite://")
    db.metadata.create_all(engine)
    problems = []
    with Session(engine) as session:
        user = User(email="rehearsal@sandbox.invalid", name="Rehearsal", role="trainee")
        session.add(user)
        session.flush()
        now = utcnow()
        for ticket in tickets.tickets:
            problems += [f"{root}/{ticket.path}:1: {p}" for p in rehearse(session, ticket, Actor(user.id, user.name),
                                                                          now)]
    engine.dispose()
    return problems
