"""Load troubleshooting tickets (sandbox/scenarios/*.yaml): the report, the fault to plant, hints, graders, symptom
fixes to reject, and a worked solution. Pure; problems are reported as ``file:line: message``.
"""

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from lms.content.loader import Catalog, Problem
from lms.content.render import LinkContext, render_markdown
from lms.datafiles import read_yaml, section_lines
from lms.sandbox.core.checks import CheckError, GradeContext, parameters, registry
from lms.sandbox.core.editors import EDITORS
from lms.sandbox.core.schema import BY_NAME, BY_YAML, SPECS
from lms.sandbox.core.seed import Dataset, RowError, build_row, convert_value, insert_row, load_seed, normalize_key
from lms.sandbox.core.world import World

_NO_LINKS = LinkContext("", frozenset(), {}, {}, {}, frozenset())
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
DIFFICULTY = {1: "Starter", 2: "Intermediate", 3: "Advanced"}


@dataclass(frozen=True)
class CheckSpec:
    check: str
    params: dict
    line: int
    name: str = ""  # rejects: how symptom fixes refer to this rule
    message: str = ""  # rejects: what the trainee reads when the rule is broken


@dataclass(frozen=True)
class Step:
    """One change made through a maintenance screen (create, update or delete a row of an editor's table), or a
    replay of a stored interface message from the message browser (action ``replay``, key its control id)."""

    action: str
    editor: str
    key: str | None
    values: dict
    line: int


@dataclass(frozen=True)
class SymptomFix:
    name: str
    steps: tuple[Step, ...]
    caught_by: str  # a reject rule's name, or "screen" when the maintenance screen refuses the change
    line: int
    refusal: str = ""  # with caught_by: screen, words the screen's refusal must contain


@dataclass(frozen=True)
class Ticket:
    id: str
    number: int
    title: str
    category: str
    difficulty: int
    modules: tuple[str, ...]
    objectives: tuple[str, ...]
    reported_by: str
    report_html: str
    evidence: tuple[tuple[str, str], ...]  # (label, barcode data) the trainee can paste into the scan tool
    change_control: bool
    hints_html: tuple[str, ...]
    checks: tuple[CheckSpec, ...]
    rejects: tuple[CheckSpec, ...]
    solution: tuple[Step, ...]
    symptom_fixes: tuple[SymptomFix, ...]
    dataset: Dataset = field(repr=False, compare=False)
    version: str = ""
    path: str = ""
    debrief_html: str = ""  # shown once the ticket is solved: why the fix works and what the wrong ones cost
    fault_rows: tuple[tuple[str, int], ...] = ()  # (table, row id) of every row the setup updates or inserts

    @property
    def difficulty_label(self) -> str:
        return DIFFICULTY.get(self.difficulty, str(self.difficulty))


@dataclass(frozen=True)
class TicketSet:
    tickets: tuple[Ticket, ...]
    seed: Dataset = field(repr=False)
    problems: tuple[Problem, ...] = ()

    def get(self, ticket_id: str) -> Ticket | None:
        return next((t for t in self.tickets if t.id == ticket_id), None)


@dataclass(frozen=True)
class CheckResult:
    name: str
    kind: str  # check | reject
    passed: bool
    message: str


def grade_world(world: World, ticket: Ticket, user_id: int | None) -> list[CheckResult]:
    """Run a ticket's checks and reject rules on a World. Broken reject rules show the ticket's message."""
    ctx = GradeContext(world, user_id)
    results = []
    for spec in ticket.checks:
        outcome = registry()[spec.check](ctx, **spec.params)
        results.append(CheckResult(spec.check, "check", outcome.passed, outcome.message))
    for spec in ticket.rejects:
        outcome = registry()[spec.check](ctx, **spec.params)
        results.append(CheckResult(spec.name, "reject", outcome.passed,
                                   outcome.message if outcome.passed else spec.message))
    return results


class _Reader:
    def __init__(self, rel: str, node, problems: list[Problem]):
        self.rel, self.problems = rel, problems
        self.sections = section_lines(node)
        self.ok = True

    def line(self, key, index: int | None = None) -> int:
        """The line of a top-level field, or of item ``index`` of its list."""
        key_line, items = self.sections.get(key, (1, []))
        if index is not None and index < len(items):
            return items[index][""]
        return key_line

    def problem(self, line: int, message: str, blocking: bool = True) -> None:
        """Record a problem; a blocking one keeps the ticket from loading."""
        self.problems.append(Problem(self.rel, line, message))
        self.ok = self.ok and not blocking


def _apply_setup(data: Dataset, ops: list, r: _Reader) -> list[tuple[str, int]]:
    """Plant the fault: update, delete or insert seed rows (keys as in the seed). Returns the rows it touched."""
    touched: list[tuple[str, int]] = []
    for index, op in enumerate(ops):
        line = r.line("setup", index)
        if not isinstance(op, dict):
            r.problem(line, "setup: each step is a mapping like {update: pockets, key: ..., set: {...}}")
            continue
        verb = next((v for v in ("update", "delete", "insert") if v in op), None)
        spec = BY_YAML.get(op.get(verb)) if verb else None
        if spec is None:
            r.problem(line, f"setup: name the action (update, delete or insert) and a seed table, not {op!r}")
            continue
        if verb == "insert":
            try:
                values, extra = build_row(spec, op.get("values") or {}, data)
            except RowError as error:
                r.problem(line, f"setup: insert {spec.yaml_name}: {error.field}: {error}")
                continue
            touched.append((spec.name, insert_row(data, spec, values, extra, (r.rel, line))))
            continue
        row_id = data.keys[spec.name].get(normalize_key(spec.name, str(op.get("key", ""))))
        if row_id is None:
            r.problem(line, f"setup: {spec.yaml_name} has no row with the key {op.get('key')!r}")
            continue
        if verb == "delete":
            _delete(data, spec.name, row_id, r, line)
            continue
        row = data.row(spec.name, row_id)
        touched.append((spec.name, row_id))
        columns = {c.name: c for c in spec.columns}
        refs = {ref.field: ref for ref in spec.references.values()}
        for name, value in (op.get("set") or {}).items():
            try:
                if name in refs:
                    target = None if value is None else data.keys[refs[name].table].get(
                        normalize_key(refs[name].table, value))
                    if value is not None and target is None:
                        raise RowError(name, f"no {BY_NAME[refs[name].table].yaml_name} row has the key {value!r}")
                    row[refs[name].column] = target
                elif name in columns:
                    row[name] = convert_value(spec, columns[name], value)
                else:
                    raise RowError(name, "unknown field")
            except RowError as error:
                r.problem(line, f"setup: update {spec.yaml_name}: {error.field}: {error}")
    return list(dict.fromkeys(touched))


CHANGE_CONTROL = ("required", "not_required")


def _change_control(doc: dict, r: _Reader) -> bool:
    """Intermediate and advanced tickets run under change control unless their debrief says why not."""
    value = doc.get("change_control")
    line = r.line("change_control")
    if value is not None and value not in CHANGE_CONTROL:
        r.problem(line, f"change_control: {value!r} must be required or not_required")
        return False
    if doc.get("difficulty") in (2, 3) and value != "required":
        if value != "not_required":
            r.problem(line, "change_control: intermediate and advanced tickets require change control; write "
                            "'change_control: required', or 'not_required' with the reason in the debrief")
        elif "change control" not in str(doc.get("debrief") or "").casefold():
            r.problem(r.line("debrief"), "debrief: this ticket runs without change control (change_control: "
                                         "not_required); say why in the debrief (mention 'change control')")
    return value == "required"


def _delete(data: Dataset, table: str, row_id: int, r: _Reader, line: int) -> None:
    """Delete a row; a product takes its barcode links with it. Anything else that refers to it is an error."""
    if table == "sb_product":
        data.rows["sb_barcode"] = [b for b in data.rows["sb_barcode"] if b["product_id"] != row_id]
    for spec in SPECS:
        for ref in spec.references.values():
            if ref.table == table and any(row.get(ref.column) == row_id for row in data.rows[spec.name]):
                r.problem(line, f"setup: cannot delete: {spec.yaml_name} rows still refer to it")
                return
    data.rows[table] = [row for row in data.rows[table] if row["id"] != row_id]
    data.keys[table] = {k: v for k, v in data.keys[table].items() if v != row_id}


def _checks(raw, section: str, r: _Reader, rejects: bool) -> tuple[CheckSpec, ...]:
    out = []
    for index, item in enumerate(raw or []):
        line = r.line(section, index)
        if not isinstance(item, dict) or "check" not in item:
            r.problem(line, f"{section}: each entry is a mapping with a 'check' name")
            continue
        params = dict(item)
        name = params.pop("check")
        message = str(params.pop("message", "")).strip() if rejects else ""
        rule_name = str(params.pop("name", name)) if rejects else name
        if name not in registry():
            r.problem(line, f"{section}: unknown check {name!r}; checks are: {', '.join(sorted(registry()))}")
            continue
        required, optional = parameters(name)
        missing, unknown = required - params.keys(), params.keys() - required - optional
        if missing or unknown:
            r.problem(line, f"{section}: {name}: " + "; ".join(
                filter(None, [f"missing {', '.join(sorted(missing))}" if missing else "",
                              f"unknown {', '.join(sorted(unknown))}" if unknown else ""])))
            continue
        if rejects and not message:
            r.problem(line, f"{section}: {name}: a reject rule needs the message the trainee sees")
            continue
        out.append(CheckSpec(name, params, line, rule_name, message))
    return tuple(out)


def _steps(raw, section: str, r: _Reader, base_line: int | None = None) -> tuple[Step, ...]:
    out = []
    for index, item in enumerate(raw or []):
        line = base_line or r.line(section, index)
        verb = next((v for v in ("create", "update", "delete", "replay") if isinstance(item, dict) and v in item),
                    None)
        editor = EDITORS.get(item.get(verb)) if verb else None
        if verb == "replay":  # the message browser's Replay: {replay: interface_messages, key: <MSH-10>}
            if item.get("replay") != "interface_messages" or "key" not in item:
                r.problem(line, f"{section}: a replay step is {{replay: interface_messages, key: <control id>}}")
            else:
                out.append(Step("replay", "interface_messages", str(item["key"]), {}, line))
            continue
        if editor is None:
            r.problem(line, f"{section}: each step is {{create|update|delete: <screen>, key: ..., values: {{...}}}} "
                      f"or {{replay: interface_messages, key: ...}}; screens are: {', '.join(EDITORS)}")
            continue
        if not getattr(editor, verb):
            r.problem(line, f"{section}: the {editor.name} screen does not allow {verb}")
            continue
        if verb != "create" and "key" not in item:
            r.problem(line, f"{section}: {verb} {editor.name} needs the key of the row")
            continue
        fields = {f.name for f in editor.fields}
        unknown = set(item.get("values") or {}) - fields
        if unknown:
            r.problem(line, f"{section}: {editor.name} has no field {', '.join(sorted(unknown))}; "
                      f"fields are: {', '.join(sorted(fields))}")
            continue
        out.append(Step(verb, editor.name, None if verb == "create" else str(item["key"]),
                        dict(item.get("values") or {}), line))
    return tuple(out)


def load_ticket(path: Path, rel: str, seed: Dataset, catalog: Catalog | None,
                problems: list[Problem]) -> Ticket | None:
    doc, node = read_yaml(path, rel, problems)
    if doc is None:
        return None
    r = _Reader(rel, node, problems)
    if not isinstance(doc, dict):
        r.problem(1, "a ticket is a mapping of field: value")
        return None
    ticket_id = str(doc.get("id", ""))
    if not _ID.match(ticket_id) or ticket_id != path.stem:
        r.problem(r.line("id"), f"id: {ticket_id!r} must be kebab-case and match the file name {path.stem!r}")
    for name in ("number", "title", "category", "difficulty", "report", "checks"):
        if not doc.get(name):
            r.problem(1, f"{name}: is required")
    if not isinstance(doc.get("number"), int):
        r.problem(r.line("number"), "number: must be a whole number")
    if doc.get("difficulty") not in DIFFICULTY:
        r.problem(r.line("difficulty"), "difficulty: must be 1 (starter), 2 (intermediate) or 3 (advanced)")
    modules = tuple(str(m) for m in doc.get("modules") or ())
    objectives = tuple(str(o) for o in doc.get("objectives") or ())
    if catalog is not None:
        for module_id in modules:
            if catalog.module(module_id) is None:
                r.problem(r.line("modules"), f"modules: no module has the id {module_id!r}", blocking=False)
        known = {f"{m.id}/{o.id}" for m in catalog.modules for o in m.objectives}
        for objective in objectives:
            if objective not in known:
                r.problem(r.line("objectives"), f"objectives: {objective!r} is not a module-id/objective-id of the "
                                                "catalog (e.g. bcma-barcodes/o6)", blocking=False)
    data = seed.copy()
    fault_rows = _apply_setup(data, doc.get("setup") or [], r)
    change_control = _change_control(doc, r)
    checks = _checks(doc.get("checks"), "checks", r, rejects=False)
    rejects = _checks(doc.get("rejects"), "rejects", r, rejects=True)
    solution = _steps(doc.get("solution"), "solution", r)
    fixes = []
    reject_names = {spec.name for spec in rejects}
    for index, item in enumerate(doc.get("symptom_fixes") or []):
        line = r.line("symptom_fixes", index)
        if not isinstance(item, dict) or not item.get("name") or item.get("caught_by") not in reject_names | {"screen"}:
            r.problem(line, "symptom_fixes: each needs a name, steps, and caught_by naming one of the rejects "
                            "(or 'screen' when the maintenance screen itself refuses it)")
            continue
        if item["caught_by"] == "screen" and not item.get("refusal"):
            r.problem(line, "symptom_fixes: a fix the screen refuses needs 'refusal': words of the expected message")
            continue
        fixes.append(SymptomFix(str(item["name"]), _steps(item.get("steps"), "symptom_fixes", r, line),
                                str(item["caught_by"]), line, str(item.get("refusal", ""))))
    evidence = []
    for index, item in enumerate(doc.get("evidence") or []):
        if not isinstance(item, dict) or not item.get("label") or not item.get("scan"):
            r.problem(r.line("evidence", index), "evidence: each needs a label and the scan data")
            continue
        evidence.append((str(item["label"]), str(item["scan"])))
    if not r.ok:
        return None
    version = hashlib.sha256(path.read_bytes() + seed.digest.encode()).hexdigest()[:16]
    return Ticket(ticket_id, doc["number"], str(doc["title"]), str(doc["category"]), doc["difficulty"], modules,
                  objectives, str(doc.get("reported_by", "")), render_markdown(str(doc["report"]), _NO_LINKS).html,
                  tuple(evidence), change_control,
                  tuple(render_markdown(str(h), _NO_LINKS).html for h in doc.get("hints") or ()),
                  checks, rejects, solution, tuple(fixes), data, version, rel,
                  render_markdown(str(doc.get("debrief") or ""), _NO_LINKS).html if doc.get("debrief") else "",
                  tuple(fault_rows))


def verify_fault(ticket: Ticket, now, problems: list[Problem]) -> None:
    """The planted fault must show: some check fails on the fresh instance, and no reject rule is already broken."""
    world = World.from_rows(ticket.dataset.materialize(now), now)
    try:
        results = grade_world(world, ticket, None)
    except CheckError as error:
        problems.append(Problem(ticket.path, 1, f"a check names something the instance lacks: {error}"))
        return
    if all(r.passed for r in results if r.kind == "check"):
        problems.append(Problem(ticket.path, ticket.checks[0].line if ticket.checks else 1,
                                "every check already passes before the trainee does anything: no fault is planted"))
    for result, spec in zip([r for r in results if r.kind == "reject"], ticket.rejects, strict=True):
        if not result.passed:
            problems.append(Problem(ticket.path, spec.line, f"reject rule {spec.name!r} is already broken before "
                                                            "the trainee does anything"))


def load_tickets(root: Path, catalog: Catalog | None, now=None) -> TicketSet:
    """Read the seed and every scenario under ``root`` (the sandbox folder)."""
    from lms.db import utcnow

    seed, problems = load_seed(root / "seed", root)
    tickets = []
    for path in sorted((root / "scenarios").glob("*.yaml")):
        rel = str(path.relative_to(root))
        ticket = load_ticket(path, rel, seed, catalog, problems)
        if ticket is not None:
            verify_fault(ticket, now or utcnow(), problems)
            tickets.append(ticket)
    numbers = [t.number for t in tickets]
    for t in tickets:
        if numbers.count(t.number) > 1:
            problems.append(Problem(t.path, 1, f"number: {t.number} is used by more than one ticket"))
    tickets.sort(key=lambda t: t.number)
    return TicketSet(tuple(tickets), seed, tuple(problems))
