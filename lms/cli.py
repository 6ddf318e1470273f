"""The `lms` console script: Flask's CLI bound to the application factory."""

from flask.cli import FlaskGroup

from lms.app import create_app


def main() -> None:
    cli = FlaskGroup(create_app=lambda: create_app(), help="Pharmacy informatics academy commands.")
    cli.main(prog_name="lms")
