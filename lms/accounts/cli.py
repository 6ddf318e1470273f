"""`lms users ...`: create accounts from the command line (e.g. the first admin)."""

import click
from flask import current_app, url_for
from flask.cli import AppGroup

from lms.access import ROLES
from lms.accounts import services
from lms.accounts.services import AccountError, Actor
from lms.db import utcnow
from lms.extensions import db

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--name", default="", help="Full name (defaults to the part of the email before @).")
@click.option("--base-url", default="http://127.0.0.1:5000", show_default=True,
              help="Public address of the site, used to build the set-password link.")
def create(email: str, role: str, name: str, base_url: str) -> None:
    """Create an account and print a one-time link for the user to set a password."""
    cli_actor = Actor(None, "cli")
    try:
        user = services.create_user(db.session, cli_actor, email, name or email.split("@")[0], role)
        token = services.issue_password_link(db.session, cli_actor, user, utcnow(),
                                             current_app.config["SET_PASSWORD_LINK_HOURS"])
    except AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    with current_app.test_request_context():
        link = base_url.rstrip("/") + url_for("accounts.set_password", token=token)
    click.echo(f"Created {role} {user.email}.")
    click.echo(f"Set-password link (valid {current_app.config['SET_PASSWORD_LINK_HOURS']} h, one use): {link}")
