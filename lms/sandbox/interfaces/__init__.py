"""Interfaces (HL7 v2): the interface engine a pharmacy's interface analyst works in. Empty for now (issue 12).

It will hold the engine (receive, validate and map through the channel's code maps, apply, acknowledge, replay:
pure functions of the World), its screens (message browser, channel settings, code maps, test message) and its
checks, registered in core/checks.py's SUBSYSTEM_CHECKS. Its tables (channels, messages, code maps) are already
in core/models.py.
"""
