"""Per-route access declarations.

Every view is wrapped by exactly one of these decorators. The declaration is stored on the
view function (``view.access``) so a test can walk the URL map, and a before-request guard
refuses any endpoint that has none: a forgotten declaration fails closed.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from flask import abort, current_app, request
from flask_login import current_user

ROLES = ("trainee", "supervisor", "admin")


@dataclass(frozen=True)
class Access:
    """Who may call a view: a level, the roles allowed, and an optional object rule."""

    level: str  # "public" | "signed_in" | "role" | "rule"
    roles: tuple[str, ...] = ()
    rule: str = ""

    def describe(self) -> str:
        if self.level == "rule":
            return f"rule: {self.rule}"
        if self.level == "role":
            return "roles: " + ", ".join(self.roles)
        return self.level


def _declare(access: Access, check: Callable[[dict], None] | None = None):
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if access.level != "public":
                if not current_user.is_authenticated:
                    return current_app.login_manager.unauthorized()
                if access.roles and current_user.role not in access.roles:
                    abort(403)
            if check is not None:
                check(kwargs)
            return view(*args, **kwargs)

        wrapped.access = access
        return wrapped

    return decorator


def public(view):
    """Anyone, signed in or not."""
    return _declare(Access("public"))(view)


def signed_in(view):
    """Any active, signed-in user."""
    return _declare(Access("signed_in"))(view)


def roles(*allowed: str):
    """Signed-in users whose role is one of ``allowed``."""
    unknown = set(allowed) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")
    return _declare(Access("role", tuple(allowed)))


def rule(description: str, allowed: tuple[str, ...], check: Callable[[dict], None]):
    """Signed-in users of ``allowed`` roles who also pass ``check(view_kwargs)``.

    ``check`` aborts (403/404) when the current user may not act on the object named by
    the URL, e.g. a supervisor opening a cohort they do not own.
    """
    return _declare(Access("rule", tuple(allowed), description), check)


def declared(view) -> Access | None:
    """Return a view's access declaration, or None."""
    return getattr(view, "access", None)


def refuse_undeclared() -> None:
    """Before-request guard: answer 403 for an endpoint without a declaration."""
    if request.endpoint is None:
        return  # 404/405 are handled by routing
    view = current_app.view_functions.get(request.endpoint)
    if view is not None and declared(view) is None:
        current_app.logger.error("endpoint %s has no access declaration", request.endpoint)
        abort(403)
