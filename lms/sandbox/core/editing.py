"""A maintenance screen described as data: the fields of one table a trainee may change and the rules a change
must pass. Each subsystem declares its screens with these; ``core.editors`` collects them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from lms.sandbox.core.world import Rec, World


@dataclass(frozen=True)
class Field:
    name: str  # the column (or for references, the column without _id)
    label: str
    kind: str  # text | int | float | bool | choice | ref | date
    required: bool = False
    choices: tuple = ()
    ref: str | None = None  # referenced table for kind "ref"
    help: str = ""
    on_create_only: bool = False
    high: int = 100_000  # the largest whole number an "int" field accepts (the form refuses more, with a message)

    @property
    def column(self) -> str:
        return f"{self.name}_id" if self.kind == "ref" else self.name


@dataclass(frozen=True)
class Editor:
    name: str  # URL segment and YAML name of the table
    table: str
    label: str
    intro: str
    fields: tuple[Field, ...]
    columns: tuple[tuple[str, Callable[[World, Rec], str]], ...]  # list view
    create: bool = False
    delete: bool = False
    update: bool = True
    validate: Callable[[World, dict, Rec | None], dict[str, str]] | None = None
    derive: Callable[[World, dict, Rec | None], dict] | None = None
    search: Callable[[World, Rec], str] | None = None
    sort: Callable[[World, Rec], tuple] | None = None  # list order (default: as stored)
    can_edit_row: Callable[[Rec], str | None] = field(default=lambda row: None)  # a reason when the row is locked
    # A subsystem's own pages for this table (endpoints taking instance_id, and row_id for one row): the generic
    # list and row screens send readers there (the interface messages open in the message browser, whose rows
    # have no form to edit). The change service still applies, and refuses, what a ticket step sends it.
    page: str | None = None
    row_page: str | None = None
