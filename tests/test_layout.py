"""The package layout stays honest: a feature's routes never import another feature's routes or forms.

Shared web helpers (actor, cohort_manager, ActionForm, csv_response, issue_credit) live in lms/web.py.
"""

import ast
from pathlib import Path

import lms

LMS = Path(lms.__file__).parent


def _feature(path: Path) -> str:
    """The feature a module belongs to: its first folder under lms/ (lms/sandbox/core/routes.py -> sandbox)."""
    return path.relative_to(LMS).parts[0]


def _imported_modules(tree: ast.AST, package: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing package
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]  # from lms.x import routes
    return found


def test_no_routes_module_imports_another_features_routes_or_forms():
    routes = sorted(LMS.rglob("routes.py"))
    assert len(routes) >= 10  # every feature has one; a wrong path would make the test pass vacuously
    offences = []
    for path in routes:
        feature = _feature(path)
        package = ".".join(["lms", *path.relative_to(LMS).parent.parts])
        for lineno, module in _imported_modules(ast.parse(path.read_text(), str(path)), package):
            parts = module.split(".")
            if parts[0] == "lms" and len(parts) >= 3 and parts[-1] in ("routes", "forms") and parts[1] != feature:
                offences.append(f"{path.relative_to(LMS.parent)}:{lineno} imports {module}")
    assert offences == []


def test_every_subsystems_checks_module_is_in_the_check_registry():
    """A ticket finds its checks by name only if the subsystem's checks module is listed in SUBSYSTEM_CHECKS."""
    from lms.sandbox.core import checks

    sandbox = LMS / "sandbox"
    modules = {f"lms.sandbox.{p.parent.name}.checks" for p in sandbox.glob("*/checks.py") if p.parent.name != "core"}
    assert "lms.sandbox.pharmacy.checks" in modules
    assert set(checks.SUBSYSTEM_CHECKS) == modules
    registered = {fn.__module__ for fn in checks.registry().values()}
    assert modules <= registered  # each one registers at least one check
