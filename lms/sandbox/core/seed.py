"""Read the sandbox seed (YAML) into a Dataset: typed rows with local ids, references resolved, times kept relative.

Pure: no database. The same conversion reads the rows a ticket's setup inserts or changes, so a ticket and the seed
are checked by one set of rules and report problems as ``file:line: message``.
"""

import copy
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from lms.content.loader import Problem
from lms.datafiles import read_yaml, section_lines
from lms.sandbox.core.schema import BY_NAME, BY_YAML, CHOICES, SPECS, TableSpec
from lms.sandbox.pharmacy.ndc import NdcError, gtin14_from_ndc, parse_ndc, to_ndc11

_RELATIVE = re.compile(r"^([+-])(\d{1,5})([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


@dataclass(frozen=True)
class Relative:
    """A time given relative to the moment an instance is built (``-30h``, ``+400d``)."""

    delta: timedelta
    as_date: bool

    def resolve(self, now: datetime):
        return (now.date() + self.delta) if self.as_date else now + self.delta


@dataclass
class Dataset:
    """Rows per table (``sb_*`` name -> list of column dicts with ``id``), and row keys -> ids per table."""

    rows: dict[str, list[dict]] = field(default_factory=lambda: {s.name: [] for s in SPECS})
    keys: dict[str, dict[str, int]] = field(default_factory=lambda: {s.name: {} for s in SPECS})
    where: dict[tuple[str, int], tuple[str, int]] = field(default_factory=dict)  # (table, id) -> (file, line)
    digest: str = ""

    def copy(self) -> "Dataset":
        return Dataset(copy.deepcopy(self.rows), copy.deepcopy(self.keys), dict(self.where), self.digest)

    def row(self, table: str, row_id: int) -> dict | None:
        return next((r for r in self.rows[table] if r["id"] == row_id), None)

    def next_id(self, table: str) -> int:
        return max((r["id"] for r in self.rows[table]), default=0) + 1

    def first_free_id(self) -> int:
        """The first local id above every row of every table: where an instance's own new rows start."""
        return max((r["id"] for rows in self.rows.values() for r in rows), default=0) + 1

    def materialize(self, now: datetime) -> dict[str, list[dict]]:
        """Rows with relative times turned into dates and times for ``now``; the dataset itself is not changed."""
        out = {}
        for table, rows in self.rows.items():
            out[table] = [{k: (v.resolve(now) if isinstance(v, Relative) else v) for k, v in r.items()} for r in rows]
        return out


def normalize_key(spec_name: str, key: str) -> str:
    """The canonical spelling of a row key: NDCs in 11 digits, everything else trimmed and case-folded."""
    key = str(key).strip()
    if spec_name == "sb_product":
        try:
            return to_ndc11(key)
        except NdcError:
            return key
    return key.casefold()


def row_key(spec: TableSpec, raw: dict) -> str | None:
    """The key a data file uses for this row: ``ED-1/2-3`` for a pocket, ``Name@2`` for an order-set version."""
    if not spec.key:
        return None
    if spec.name == "sb_product":
        return normalize_key(spec.name, raw.get("ndc", ""))
    if spec.name == "sb_pocket":
        return normalize_key(spec.name, f"{raw.get('cabinet')}/{raw.get('drawer')}-{raw.get('position')}")
    if spec.name == "sb_order_set_version":
        return normalize_key(spec.name, f"{raw.get('order_set')}@{raw.get('version')}")
    return normalize_key(spec.name, "/".join(str(raw.get(k, "")) for k in spec.key))


class RowError(ValueError):
    """A value in a row that cannot be stored; ``field`` names the offending field."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name


def parse_time(value, as_date: bool):
    """A date/datetime or a relative offset from YAML; raise ValueError with a readable message."""
    if isinstance(value, str):
        match = _RELATIVE.match(value.strip())
        if match:
            sign, amount, unit = match.groups()
            delta = timedelta(**{_UNITS[unit]: int(amount) * (1 if sign == "+" else -1)})
            return Relative(delta, as_date)
        try:
            value = date.fromisoformat(value) if as_date else datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{value!r} is neither a date (2026-03-01) nor an offset like +400d or -30h") from None
    if as_date:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
    else:
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise ValueError(f"{value!r} is not a {'date' if as_date else 'time'}")


def convert_value(spec: TableSpec, column, value):
    """Check and convert one YAML value for ``column``; raise RowError naming the field."""
    name = column.name
    if value is None:
        if not column.nullable:
            raise RowError(name, "is required")
        return None
    kind = spec.kind_of(column)
    try:
        if kind == "bool":
            if not isinstance(value, bool):
                raise ValueError("must be true or false")
        elif kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"must be a whole number, not {value!r}")
        elif kind == "float":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"must be a number, not {value!r}")
            value = float(value)
        elif kind in ("date", "datetime"):
            value = parse_time(value, kind == "date")
        elif kind == "json":
            if not isinstance(value, dict | list):
                raise ValueError("must be a mapping or a list")
        else:
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise ValueError(f"must be text, not {value!r}")
            value = str(value)
            length = getattr(column.type, "length", None)
            if length and len(value) > length:
                raise ValueError(f"is {len(value)} characters long; the most is {length}")
    except ValueError as error:
        raise RowError(name, str(error)) from None
    allowed = CHOICES.get((spec.name, name))
    if allowed and value not in allowed:
        raise RowError(name, f"{value!r} is not one of: {', '.join(allowed)}")
    return value


def _defaults(spec: TableSpec) -> dict:
    """Scalar defaults; callable ones (utcnow, dict) are left to the insert, which applies them."""
    return {c.name: c.default.arg for c in spec.columns
            if c.default is not None and not callable(getattr(c.default, "arg", None))}


def build_row(spec: TableSpec, raw: dict, data: Dataset) -> tuple[dict, list[dict]]:
    """Turn a YAML row into a column dict (without id); also return extra rows it implies (a product's barcode).

    Raises RowError for the first bad field.
    """
    raw = dict(raw)
    extra: list[dict] = []
    if spec.name == "sb_product":
        raw = _product_fields(raw)
    if spec.name == "sb_robot_item" and "expected_barcode" not in raw and "product" in raw:
        product_id = data.keys["sb_product"].get(normalize_key("sb_product", raw["product"]))
        product = data.row("sb_product", product_id) if product_id else None
        raw["expected_barcode"] = product["gtin14"] if product else None
    barcode = raw.pop("barcode", "gtin14") if spec.name == "sb_product" else None
    columns = {c.name: c for c in spec.columns}
    refs = spec.references
    by_field = {ref.field: ref for ref in refs.values()}
    values = {k: v for k, v in _defaults(spec).items()}
    for name, value in raw.items():
        if name in by_field:
            ref = by_field[name]
            if value is None:
                values[ref.column] = None
                continue
            target = data.keys[ref.table].get(normalize_key(ref.table, value))
            if target is None:
                raise RowError(name, f"no {BY_NAME[ref.table].yaml_name} row has the key {value!r}")
            values[ref.column] = target
        elif name in columns and name not in refs:
            values[name] = convert_value(spec, columns[name], value)
        else:
            known = sorted([*by_field, *(c for c in columns if c not in refs)])
            raise RowError(name, f"unknown field; {spec.yaml_name} rows have: {', '.join(known)}")
    for name, column in columns.items():
        if name not in values:
            if not column.nullable and column.default is None:
                label = refs[name].field if name in refs else name
                raise RowError(label, "is required")
            if column.default is None:
                values[name] = None
        elif values[name] is None and not column.nullable and column.default is None:
            raise RowError(refs[name].field if name in refs else name, "is required")
    if spec.name == "sb_product" and barcode not in ("none", None):
        if barcode != "gtin14":
            raise RowError("barcode", "must be gtin14 (the default) or none")
        extra.append({"value": values["gtin14"], "kind": "gtin14"})
    return values, extra


def _product_fields(raw: dict) -> dict:
    """Derive the 11-digit NDC, format and GTIN-14 from the NDC as printed."""
    if "ndc" not in raw:
        raise RowError("ndc", "is required (the NDC as printed, with hyphens)")
    try:
        ndc = parse_ndc(str(raw.pop("ndc")))
    except NdcError as error:
        raise RowError("ndc", str(error)) from None
    if ndc.format not in CHOICES[("sb_product", "ndc_format")]:
        raise RowError("ndc", f"write the NDC as printed on the package (4-4-2, 5-3-2 or 5-4-1), not {ndc.display}")
    return {**raw, "ndc11": to_ndc11(ndc), "ndc10": ndc.display, "ndc_format": ndc.format,
            "gtin14": gtin14_from_ndc(ndc)}


def insert_row(data: Dataset, spec: TableSpec, values: dict, extra: list[dict], where: tuple[str, int]) -> int:
    row_id = data.next_id(spec.name)
    row = {"id": row_id, **values}
    data.rows[spec.name].append(row)
    data.where[(spec.name, row_id)] = where
    for barcode in extra:
        barcode_id = data.next_id("sb_barcode")
        data.rows["sb_barcode"].append({"id": barcode_id, "product_id": row_id, **barcode})
        data.keys["sb_barcode"][normalize_key("sb_barcode", barcode["value"])] = barcode_id
        data.where[("sb_barcode", barcode_id)] = where
    return row_id


def load_seed(folder: Path, root: Path | None = None) -> tuple[Dataset, list[Problem]]:
    """Read every ``*.yaml`` in ``folder`` (name order) into one Dataset; problems name file and line."""
    problems: list[Problem] = []
    root = root or folder
    by_table: dict[str, list[tuple[dict, str, dict]]] = {s.name: [] for s in SPECS}
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.yaml")):
        rel = str(path.relative_to(root)) if path.is_relative_to(root) else path.name
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
        doc, node = read_yaml(path, rel, problems)
        if doc is None:
            continue
        if not isinstance(doc, dict):
            problems.append(Problem(rel, 1, "a seed file maps table names to lists of rows"))
            continue
        lines = section_lines(node)
        for table_name, rows in doc.items():
            table_line, row_lines = lines.get(table_name, (1, []))
            spec = BY_YAML.get(table_name)
            if spec is None or spec.name in ("sb_audit", "sb_barcode"):
                problems.append(Problem(rel, table_line, f"unknown table {table_name!r}; tables are: "
                                        + ", ".join(s.yaml_name for s in SPECS if s.name not in ("sb_audit",
                                                                                                   "sb_barcode"))))
                continue
            if not isinstance(rows, list):
                problems.append(Problem(rel, table_line, f"{table_name}: must be a list of rows"))
                continue
            for index, raw in enumerate(rows):
                row_line = row_lines[index] if index < len(row_lines) else {"": table_line}
                by_table[spec.name].append((raw, rel, row_line))
    data = Dataset(digest=digest.hexdigest()[:16])
    # Tables are read parents first (SPECS order), so a row may refer to any file; within a table, a row refers
    # only to rows above it (a unit dose names its carton, which comes first).
    for spec in SPECS:
        for raw, rel, line in by_table[spec.name]:
            if not isinstance(raw, dict):
                problems.append(Problem(rel, line[""], f"{spec.yaml_name}: each row is a mapping of field: value"))
                continue
            key = row_key(spec, raw)
            if key is not None and key in data.keys[spec.name]:
                problems.append(Problem(rel, line[""], f"{spec.yaml_name}: a second row has the key {key!r}"))
                continue
            try:
                values, extra = build_row(spec, raw, data)
            except RowError as error:
                problems.append(Problem(rel, line.get(error.field, line[""]),
                                        f"{spec.yaml_name}: {error.field}: {error}"))
                continue
            row_id = insert_row(data, spec, values, extra, (rel, line[""]))
            if key is not None:
                data.keys[spec.name][key] = row_id
    return data, problems
