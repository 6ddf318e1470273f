"""`lms demo ...`: demo data for trying the platform locally."""

import click
from flask.cli import AppGroup

from lms.content.services import get_catalog
from lms.demo.services import COHORTS, DEMO_PASSWORD, STAFF, TRAINEES, seed_demo
from lms.extensions import db
from lms.quizzes.services import get_library

demo_cli = AppGroup("demo", help="Demo data for local use (never run by `lms serve`).")


@demo_cli.command("seed")
def seed() -> None:
    """Create the demo accounts, cohorts and activity (safe to run again)."""
    report = seed_demo(db.session, get_catalog(), get_library())
    db.session.commit()
    click.echo(f"Demo data: {len(report.created)} records created" if report.changed
               else "Demo data: already present, nothing changed")
    click.echo(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
    for email, _name, role in STAFF:
        owns = ", ".join(name for name, _d, owner in COHORTS if owner == email)
        click.echo(f"  {role:<10} {email}" + (f"  (owns {owns})" if owns else ""))
    for email, _name, cohort, *_ in TRAINEES:
        click.echo(f"  {'trainee':<10} {email}  ({cohort})")
