"""The check registry: named checks a ticket grades with, pure functions of the instance's World and its audit trail.

A ticket lists ``checks`` (what fixed looks like, several replaying the original event through the engine) and
``rejects`` (conditions a symptom fix breaks, each with the message the trainee sees). Both use this registry.
Check messages describe what the system still does wrong, never the fix.

A subsystem registers its checks by decorating them with ``@check`` in its own ``checks`` module and naming that
module in ``SUBSYSTEM_CHECKS``; ``registry()`` imports them all, so a ticket's YAML finds every check by its name.
Checks that belong to no subsystem (the audit trail) live here.
"""

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass

from lms.sandbox.core.world import World

SUBSYSTEM_CHECKS = ("lms.sandbox.pharmacy.checks", "lms.sandbox.interfaces.checks")


@dataclass(frozen=True)
class Outcome:
    passed: bool
    message: str


@dataclass(frozen=True)
class GradeContext:
    world: World
    user_id: int | None  # the trainee: their changes are audit rows with this user id


class CheckError(LookupError):
    """A check's parameters name something that is not in the instance (a ticket authoring error)."""


CHECKS: dict[str, Callable[..., Outcome]] = {}


def check(fn):
    CHECKS[fn.__name__] = fn
    return fn


def registry() -> dict[str, Callable[..., Outcome]]:
    """Every registered check by name, the subsystems' included."""
    for module in SUBSYSTEM_CHECKS:
        importlib.import_module(module)
    return CHECKS


def parameters(name: str) -> tuple[set[str], set[str]]:
    """(required, optional) parameter names of a check, for validating tickets."""
    sig = inspect.signature(registry()[name])
    params = list(sig.parameters.values())[1:]
    return ({p.name for p in params if p.default is inspect.Parameter.empty},
            {p.name for p in params if p.default is not inspect.Parameter.empty})


def find(world: World, table: str, key: str):
    row = world.by_key(table, str(key))
    if row is None:
        raise CheckError(f"{table} {key!r} is not in the instance")
    return row


def ok(message: str) -> Outcome:
    return Outcome(True, message)


def no(message: str) -> Outcome:
    return Outcome(False, message)


@check
def changed_by_trainee(ctx: GradeContext, table: str) -> Outcome:
    """The audit log attributes a change in ``table`` to the trainee (the fix was made through the screens)."""
    from lms.sandbox.core.schema import BY_YAML

    name = BY_YAML[table].name
    if any(a.table_name == name and a.user_id == ctx.user_id and ctx.user_id is not None
           for a in ctx.world.table("sb_audit").values()):
        return ok(f"The audit log records your change to {BY_YAML[table].label}.")
    return no(f"The audit log shows no change of yours to {BY_YAML[table].label}.")
