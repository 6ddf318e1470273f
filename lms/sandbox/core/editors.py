"""Every maintenance screen of the mock hospital, by name: each subsystem's ``EDITORS`` merged.

A subsystem declares its screens in its own ``editors`` module (with ``core.editing``) and is named here, so the
change service, the ticket loader and the pages find a screen by the name a ticket step gives. The workspace lists
the screens by subsystem: a module's ``GROUP`` heading (default "Maintenance"), its own ``PAGES`` ((label,
endpoints) with the link's endpoint first) and its editors that have no page of their own.
"""

import importlib

from lms.sandbox.core.editing import Editor

SUBSYSTEM_EDITORS = ("lms.sandbox.pharmacy.editors", "lms.sandbox.interfaces.editors")

EDITORS: dict[str, Editor] = {}
NAV_GROUPS: list[tuple[str, tuple[tuple[str, tuple[str, ...]], ...], list[Editor]]] = []
for _module in SUBSYSTEM_EDITORS:
    _loaded = importlib.import_module(_module)
    for _name, _editor in _loaded.EDITORS.items():
        assert _name not in EDITORS, f"two subsystems declare the {_name} screen"
        EDITORS[_name] = _editor
    NAV_GROUPS.append((getattr(_loaded, "GROUP", "Maintenance"), getattr(_loaded, "PAGES", ()),
                       [e for e in _loaded.EDITORS.values() if e.page is None]))
