"""The HL7 v2 interface engine of the mock hospital, as a pharmacy interface analyst works in it.

    receive.py   framing, segment terminators (the channel's normalise setting), MSH-2 and the header
    issues.py    what an ACK reports: one Issue per ERR segment, coded from HL7 table 0357
    engine.py    validate and map (RDE^O11, ADT A01/A02/A03/A08), the changes to make, the ACK; pure functions
    services.py  the engine against an instance: receive, replay (oldest first), verification's CAB-OUT message
    editors.py   the code map and channel screens, and the message row that refuses edits
    checks.py    the interface tickets' checks (replay the stored message; what it filed)
"""
