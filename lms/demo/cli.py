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


@demo_cli.command("scale")
@click.option("--trainees", default=5000, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--items", default=12, show_default=True, type=click.IntRange(1, 50), help="Modules in the curriculum.")
def scale_command(trainees: int, items: int) -> None:
    """Add a large cohort with a curriculum and realistic progress (for dashboards and benchmarks)."""
    from lms.demo.scale import scale

    result = scale(db.session, get_catalog(), get_library(), trainees, items)
    db.session.commit()
    if not result["created"]:
        click.echo(f"{result['cohort']} already exists: nothing changed")
        return
    click.echo(f"Created {result['created']} trainees in {result['cohort']} with {result['credits']} credits; "
               f"supervisor {result['supervisor']} (password demo-password)")
