"""A loaded-once cache of data read from folders (content, question banks).

Data is parsed and rendered once per version of the files, never per request. In debug mode
each access compares a cheap fingerprint (names, sizes, modification times) and reloads after
an edit; in production a restart (or a new release) picks up changes.
"""

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

import yaml

T = TypeVar("T")


def folder_fingerprint(*folders: Path) -> tuple:
    entries = []
    for root in folders:
        for folder, _dirs, files in os.walk(root):
            for name in files:
                stat = os.stat(os.path.join(folder, name))
                entries.append((folder, name, stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(entries))


class FolderCache(Generic[T]):
    def __init__(self, folders: list[Path], load: Callable[[], T], watch: bool):
        self.folders, self._load, self.watch = folders, load, watch
        self._value: T | None = None
        self._fingerprint: tuple | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        if self._value is not None and not self.watch:
            return self._value
        with self._lock:
            fingerprint = folder_fingerprint(*self.folders) if self.watch else None
            if self._value is None or fingerprint != self._fingerprint:
                self._value, self._fingerprint = self._load(), fingerprint
            return self._value


# --- YAML with line numbers ------------------------------------------------------------

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml is ~10x faster when the wheel has it


def read_yaml(path: Path, rel: str, problems: list):
    """Return (data, node) or (None, None) with a problem recorded. Parses once: the node keeps line numbers."""
    from lms.content.loader import Problem

    try:
        loader = _Loader(path.read_text(encoding="utf-8"))
        try:
            node = loader.get_single_node()
            return (loader.construct_document(node) if node is not None else None), node
        finally:
            loader.dispose()
    except (OSError, UnicodeDecodeError) as error:
        problems.append(Problem(rel, 1, f"cannot read file: {error}", fatal=True))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problems.append(Problem(rel, mark.line + 1 if mark else 1,
                                f"not valid YAML: {getattr(error, 'problem', error)}", fatal=True))
    return None, None


def section_lines(node) -> dict:
    """For a top-level mapping: {key: (line of the key, [{"": item line, field: line, ...} per list item])}.

    1-based lines, so data files whose sections are lists of mappings can name the line of each row and field.
    """
    out: dict = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            items = []
            if isinstance(value, yaml.SequenceNode):
                for item in value.value:
                    lines = {"": item.start_mark.line + 1}
                    if isinstance(item, yaml.MappingNode):
                        lines.update({k.value: k.start_mark.line + 1 for k, _v in item.value})
                    items.append(lines)
            out[key.value] = (key.start_mark.line + 1, items)
    return out
