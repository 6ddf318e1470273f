"""Every maintenance screen of the mock hospital, by name: each subsystem's ``EDITORS`` merged.

A subsystem declares its screens in its own ``editors`` module (with ``core.editing``) and is named here, so the
change service, the ticket loader and the pages find a screen by the name a ticket step gives.
"""

import importlib

from lms.sandbox.core.editing import Editor

SUBSYSTEM_EDITORS = ("lms.sandbox.pharmacy.editors", "lms.sandbox.interfaces.editors")

EDITORS: dict[str, Editor] = {}
for _module in SUBSYSTEM_EDITORS:
    for _name, _editor in importlib.import_module(_module).EDITORS.items():
        assert _name not in EDITORS, f"two subsystems declare the {_name} screen"
        EDITORS[_name] = _editor
