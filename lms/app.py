"""The application factory: config -> extensions -> blueprints -> CLI -> errors."""

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from lms import access
from lms.config import PROJECT_ROOT, load_config
from lms.extensions import csrf, db, limiter, login_manager, migrate
from lms.validation import init_validation


def create_app(overrides: dict | None = None) -> Flask:
    """Build a configured application; ``overrides`` win over defaults and the environment."""
    app = Flask(
        "lms",
        instance_path=str((overrides or {}).get("INSTANCE_PATH") or PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    load_config(app, overrides)
    init_extensions(app)
    init_validation(app)  # the bounded <int:...> converter must exist before any blueprint adds its rules
    register_blueprints(app)
    register_cli(app)
    register_request_hooks(app)
    return app


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """Turn on foreign keys, WAL and a busy timeout for SQLite connections only."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


def init_extensions(app: Flask) -> None:
    from lms.accounts import models as _accounts_models  # noqa: F401 - registers the models with the metadata
    from lms.accounts.routes import load_signed_in_user, unauthorized
    from lms.api import models as _api_models  # noqa: F401
    from lms.api.services import load_api_user
    from lms.content.services import init_content
    from lms.curricula import models as _curricula_models  # noqa: F401
    from lms.notifications import models as _notification_models  # noqa: F401
    from lms.progress import models as _progress_models  # noqa: F401
    from lms.quizzes import models as _quiz_models  # noqa: F401
    from lms.quizzes.services import init_quizzes
    from lms.sandbox.core import models as _sandbox_models  # noqa: F401
    from lms.sandbox.core.services import init_sandbox

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "lms" / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_signed_in_user)
    login_manager.request_loader(lambda req: load_api_user(db.session, req))
    login_manager.unauthorized_handler(unauthorized)
    init_content(app)
    init_quizzes(app)
    init_sandbox(app)
    if app.config["PROXY_COUNT"]:
        count = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)


def register_blueprints(app: Flask) -> None:
    from lms.accounts.routes import bp as accounts_bp
    from lms.api.routes import bp as api_bp
    from lms.certificates.routes import bp as certificates_bp
    from lms.content.routes import bp as content_bp
    from lms.core.routes import bp as core_bp
    from lms.curricula.routes import bp as curricula_bp
    from lms.notifications.routes import bp as notifications_bp
    from lms.progress.routes import bp as progress_bp
    from lms.quizzes.routes import bp as quizzes_bp
    from lms.sandbox.core.routes import bp as sandbox_bp
    from lms.sandbox.interfaces import views as _interface_views  # noqa: F401 - its routes join the sandbox blueprint

    app.register_blueprint(core_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(content_bp)
    app.register_blueprint(quizzes_bp)
    app.register_blueprint(progress_bp)
    app.register_blueprint(certificates_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(curricula_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(sandbox_bp)
    # Static files are public; declare it like any other endpoint.
    app.view_functions["static"] = access.public(app.view_functions["static"])


def register_cli(app: Flask) -> None:
    from lms.accounts.cli import users_cli
    from lms.content.cli import content_cli
    from lms.core.cli import register_core_commands
    from lms.demo.cli import demo_cli
    from lms.notifications.cli import notify_cli
    from lms.quizzes.cli import quizzes_cli
    from lms.sandbox.core.cli import sandbox_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(content_cli)
    app.cli.add_command(quizzes_cli)
    app.cli.add_command(notify_cli)
    app.cli.add_command(sandbox_cli)
    app.cli.add_command(demo_cli)
    register_core_commands(app)


def register_request_hooks(app: Flask) -> None:
    from lms.core.routes import inject_layout_context
    from lms.core.security import register_error_handlers, set_security_headers

    app.before_request(access.refuse_undeclared)
    app.after_request(set_security_headers)
    app.context_processor(inject_layout_context)
    register_error_handlers(app)
