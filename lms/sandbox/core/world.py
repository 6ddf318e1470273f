"""A read-only snapshot of one sandbox instance, loaded table by table on first use.

The engine and the graders are pure functions of a World, so the same code runs on rows straight from the seed
(fast tests, `lms sandbox check`) and on an instance in the database (grading a trainee's work).
"""

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.sandbox.core.schema import BY_NAME
from lms.sandbox.core.seed import normalize_key


class Rec(dict):
    """A row whose columns read as attributes (``pocket.par``)."""

    __slots__ = ()

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class World:
    def __init__(self, fetch: Callable[[str], list[dict]], now: datetime):
        self._fetch = fetch
        self._tables: dict[str, dict[int, Rec]] = {}
        self._indexes: dict[tuple[str, str], dict] = {}  # (table, column) -> value -> rows in id order
        self.now = now

    @classmethod
    def from_rows(cls, rows: dict[str, list[dict]], now: datetime) -> "World":
        return cls(lambda table: rows.get(table, []), now)

    @classmethod
    def from_db(cls, session: Session, instance_id: int, now: datetime) -> "World":
        def fetch(table: str) -> list[dict]:
            t = BY_NAME[table].table
            columns = [c for c in t.columns if c.name != "instance_id"]
            return [dict(r._mapping) for r in session.execute(
                select(*columns).where(t.c.instance_id == instance_id).order_by(t.c.id))]

        return cls(fetch, now)

    def table(self, name: str) -> dict[int, Rec]:
        if name not in self._tables:
            self._tables[name] = {r["id"]: Rec(r) for r in self._fetch(name)}
        return self._tables[name]

    def get(self, table: str, row_id: int | None) -> Rec | None:
        return None if row_id is None else self.table(table).get(row_id)

    def _index(self, table: str, column: str) -> dict:
        key = (table, column)
        if key not in self._indexes:
            index: dict = {}
            for row in self.table(table).values():
                index.setdefault(row.get(column), []).append(row)
            self._indexes[key] = index
        return self._indexes[key]

    def where(self, table: str, **equal) -> list[Rec]:
        """Rows whose columns equal the given values, in id order. The first column is looked up in an index built
        on first use (the interface engine asks thousands of these per queue); the rest filter its rows."""
        if not equal:
            return list(self.table(table).values())
        (column, value), *rest = equal.items()
        try:
            candidates = self._index(table, column).get(value, ())
        except TypeError:  # an unhashable value (a JSON column): scan
            candidates = [r for r in self.table(table).values() if r.get(column) == value]
        return [r for r in candidates if all(r.get(k) == v for k, v in rest)]

    def key_of(self, table: str, row: Rec) -> str:
        """The data-file key of ``row`` (``ED-1/2-3`` for a pocket)."""
        if table == "sb_pocket":
            return f"{self.get('sb_cabinet', row.cabinet_id).name}/{row.drawer}-{row.position}"
        if table == "sb_override_item":
            return f"{self.get('sb_cabinet', row.cabinet_id).name}/{self.get('sb_drug', row.drug_id).code}"
        if table == "sb_order_set_version":
            return f"{self.get('sb_order_set', row.order_set_id).name}@{row.version}"
        if table == "sb_stock":
            return f"{self.get('sb_lot', row.lot_id).lot_number}@{row.place}"
        if table == "sb_discrepancy":
            return f"{self.key_of('sb_pocket', self.get('sb_pocket', row.pocket_id))}#{row.id}"
        if table == "sb_code_map":
            return f"{self.get('sb_interface_channel', row.channel_id).name}/{row.code_type}/{row.external_code}"
        spec = BY_NAME[table]
        if not spec.key:
            return str(row.id)
        return "/".join(str(row[k]) for k in spec.key)

    def by_key(self, table: str, key: str) -> Rec | None:
        wanted = normalize_key(table, key)
        if table == "sb_product":  # by its 11-digit form, or as printed (when the stored 11 digits are wrong)
            return next((r for r in self.table(table).values() if r.ndc11 == wanted), None) or \
                next((r for r in self.table(table).values() if r.ndc10 == str(key).strip()), None)
        if table == "sb_discrepancy" and "#" not in str(key):  # a pocket's key names its open discrepancy
            return next((d for d in self.table(table).values() if d.resolved_at is None
                         and normalize_key("sb_pocket", self.key_of("sb_pocket", self.get("sb_pocket", d.pocket_id)))
                         == wanted), None)
        if not BY_NAME[table].key and table not in ("sb_stock", "sb_discrepancy"):
            return self.get(table, int(key)) if str(key).isdigit() else None
        return next((r for r in self.table(table).values() if normalize_key(table, self.key_of(table, r)) == wanted),
                    None)

    def store(self, table: str, row: dict) -> None:
        """Put a row the caller has just written into the snapshot (the interface engine applies a queue in one
        World, so the next message sees what the last one changed)."""
        current = self.table(table).get(row["id"])
        new = Rec({**(current or {}), **row})
        self.table(table)[row["id"]] = new
        for (indexed, column), index in list(self._indexes.items()):
            if indexed != table:
                continue
            try:
                if current is not None:
                    bucket = index.get(current.get(column), [])
                    bucket[:] = [r for r in bucket if r is not current]
                bucket = index.setdefault(new.get(column), [])
            except TypeError:  # the row now holds an unhashable value there: rebuild (or scan) on next use
                del self._indexes[(indexed, column)]
                continue
            bucket.append(new)
            if len(bucket) > 1 and bucket[-2]["id"] > new["id"]:
                bucket.sort(key=lambda r: r["id"])

    # Shortcuts the engine reads often.
    def drug(self, drug_id):
        return self.get("sb_drug", drug_id)

    def drug_label(self, drug_id) -> str:
        drug = self.drug(drug_id)
        if drug is None:
            return "(no drug)"
        return f"{drug.tall_man_name or drug.generic_name} {drug.strength} {drug.form}"

    def pocket_label(self, pocket) -> str:
        return self.key_of("sb_pocket", pocket)
