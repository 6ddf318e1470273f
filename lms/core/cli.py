"""`lms serve`: the production server (gunicorn)."""

import os
import shutil
import sys

import click
from flask import Flask


def register_core_commands(app: Flask) -> None:
    @app.cli.command("serve")
    @click.option("--host", default="0.0.0.0", show_default=True, help="Address to bind.")  # noqa: S104
    @click.option("--port", default=8000, show_default=True, type=int)
    @click.option("--workers", default=lambda: max(2, (os.cpu_count() or 1) * 2), type=int,
                  help="gunicorn worker processes (default: 2 per core).")
    def serve(host: str, port: int, workers: int) -> None:
        """Serve with gunicorn for production. Needs LMS_SECRET_KEY; never seeds demo data."""
        if not os.environ.get("LMS_SECRET_KEY"):
            raise click.ClickException(
                "LMS_SECRET_KEY is not set. Production servers must share one secret key; "
                "set it in the environment (e.g. python -c 'import secrets; print(secrets.token_hex(32))')."
            )
        gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or shutil.which("gunicorn")
        if gunicorn is None:
            raise click.ClickException("gunicorn is not installed in this environment.")
        click.echo(f"Serving on http://{host}:{port} with {workers} workers")
        os.execv(gunicorn, [gunicorn, "--bind", f"{host}:{port}", "--workers", str(workers),  # noqa: S606
                            "--preload", "--access-logfile", "-", "lms.wsgi:app"])
