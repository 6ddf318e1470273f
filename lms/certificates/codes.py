"""Verification codes: 60 random bits, written for reading aloud (XXXX-XXXX-XXXX), case-insensitive.

The alphabet is Crockford's base 32: digits and letters without I, L, O and U, so nothing on a
certificate can be misread as something else. When reading a code back, the usual misreadings
(O for 0, I or L for 1) are accepted.
"""

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 12  # 12 characters x 5 bits = 60 bits of entropy
_MISREADINGS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.]+")


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return format_code(raw)


def format_code(raw: str) -> str:
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def normalize_code(text: str) -> str | None:
    """Return the canonical XXXX-XXXX-XXXX form of a typed code, or None if it cannot be one."""
    cleaned = _SEPARATORS.sub("", (text or "").upper()).translate(_MISREADINGS)
    if len(cleaned) != LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return format_code(cleaned)
