"""Load and validate question banks and practice-exam blueprints. Pure: no Flask, no database.

Items become frozen dataclasses. The stem, options and explanations are rendered through the
same sanitizer as lessons. Problems carry file, line and message like `lms content check`.
"""

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from lms.content.loader import Catalog, Problem
from lms.content.render import LinkContext, render_markdown
from lms.datafiles import read_yaml

ITEM_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
TYPES = ("single", "multiple", "true_false", "numeric", "short", "matching", "ordering", "essay")
DOMAINS = {
    "medications": "Medications",
    "federal-requirements": "Federal Requirements",
    "patient-safety-quality": "Patient Safety and Quality Assurance",
    "order-entry-processing": "Order Entry and Processing",
    "informatics-systems": "Informatics: systems, projects and change control",
    "informatics-automation": "Informatics: automation and machine-readable technology",
    "informatics-interfaces": "Informatics: interfaces and e-prescribing",
    "informatics-data": "Informatics: data, reports and records",
}
DIFFICULTIES = ("easy", "medium", "hard")
_NO_LINKS = LinkContext("", frozenset(), {}, {}, {}, frozenset())


@dataclass(frozen=True)
class Option:
    id: str
    text: str
    html: str
    feedback: str
    weight: float | None = None  # percent, for weighted multiple response


@dataclass(frozen=True)
class ShortAnswer:
    text: str
    score: float  # 0-100
    feedback: str = ""


@dataclass(frozen=True)
class NumericAnswer:
    answer: float
    tolerance: float
    score: float  # 0-100
    feedback: str = ""


@dataclass(frozen=True)
class Item:
    id: str
    bank: str
    module_id: str | None
    type: str
    stem: str
    stem_html: str
    explanation_html: str
    objectives: tuple[str, ...]  # module-qualified: "bcma-barcodes:o3"
    domain: str
    difficulty: str
    references: tuple[str, ...] = ()
    options: tuple[Option, ...] = ()
    key: tuple[str, ...] = ()  # single/multiple: option ids
    partial: bool = False
    truth: bool | None = None  # true_false
    numeric: tuple[NumericAnswer, ...] = ()
    unit: str = ""
    short: tuple[ShortAnswer, ...] = ()
    pattern: str = ""
    pairs: tuple[tuple[str, str], ...] = ()
    distractors: tuple[str, ...] = ()
    sequence: tuple[str, ...] = ()
    feedback_correct: str = ""
    feedback_incorrect: str = ""
    feedback_true: str = ""
    feedback_false: str = ""
    name: str = ""
    category: str = ""

    @property
    def graded(self) -> bool:
        return self.type != "essay"

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)


@dataclass(frozen=True)
class Bank:
    id: str
    module_id: str | None
    title: str
    pass_mark: int
    post_test_items: int
    attempt_limit: int | None
    time_limit_minutes: int | None
    items: tuple[Item, ...]
    path: str
    version: str


@dataclass(frozen=True)
class Blueprint:
    id: str
    title: str
    description: str
    item_count: int
    time_limit_minutes: int
    pass_mark: int
    domains: dict[str, float]  # domain -> share of the items (sums to 1)
    path: str


@dataclass(frozen=True)
class Library:
    banks: tuple[Bank, ...]
    blueprints: tuple[Blueprint, ...]
    problems: tuple[Problem, ...]
    items: dict[str, Item] = field(default_factory=dict)

    def bank_for_module(self, module_id: str) -> Bank | None:
        return next((b for b in self.banks if b.module_id == module_id), None)

    def bank(self, bank_id: str) -> Bank | None:
        return next((b for b in self.banks if b.id == bank_id), None)

    def blueprint(self, blueprint_id: str) -> Blueprint | None:
        return next((b for b in self.blueprints if b.id == blueprint_id), None)

    @property
    def item_count(self) -> int:
        return len(self.items)


# --- YAML with line numbers ------------------------------------------------------------

def _lines(node) -> dict:
    """Map keys of a mapping node (and item indexes of its 'items') to 1-based line numbers."""
    lines: dict = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            lines[key.value] = key.start_mark.line + 1
            if key.value == "items" and isinstance(value, yaml.SequenceNode):
                for index, item in enumerate(value.value):
                    item_lines = {"": item.start_mark.line + 1}
                    if isinstance(item, yaml.MappingNode):
                        item_lines.update({k.value: k.start_mark.line + 1 for k, _v in item.value})
                    lines[index] = item_lines
    return lines


def _html(markdown: str) -> str:
    return render_markdown(markdown or "", _NO_LINKS).html


def _text(value) -> str:
    return "" if value is None else str(value).strip()


# --- items -----------------------------------------------------------------------------

class _ItemReader:
    def __init__(self, raw: dict, rel: str, lines: dict, problems: list[Problem]):
        self.raw, self.rel, self.lines, self.problems, self.ok = raw, rel, lines, problems, True
        self.label = f"item {raw.get('id', '?')}"

    def problem(self, key: str, message: str) -> None:
        line = self.lines.get(key, self.lines.get("", 1))
        self.problems.append(Problem(self.rel, line, f"{self.label}: {key}: {message}" if key else
                                     f"{self.label}: {message}"))
        self.ok = False

    def number(self, key: str, value, low=None, high=None) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(key, f"must be a number, got {value!r}")
            return None
        if (low is not None and value < low) or (high is not None and value > high):
            self.problem(key, f"must be between {low} and {high}, got {value}")
            return None
        return float(value)


def _read_item(raw, rel: str, lines: dict, bank_id: str, module_id: str | None,
               objectives: set[str] | None, references: set[str] | None, problems: list[Problem]) -> Item | None:
    if not isinstance(raw, dict):
        problems.append(Problem(rel, lines.get("", 1), "each item is a mapping of field: value"))
        return None
    r = _ItemReader(raw, rel, lines, problems)
    item_id = _text(raw.get("id"))
    if not ITEM_ID.fullmatch(item_id):
        r.problem("id", f"{item_id!r} must be kebab-case, e.g. bcma-001")
    kind = raw.get("type")
    if kind not in TYPES:
        r.problem("type", f"{kind!r} is not one of {', '.join(TYPES)}")
        return None
    stem = _text(raw.get("stem"))
    if not stem:
        r.problem("stem", "is required")
    domain = raw.get("domain")
    if domain not in DOMAINS:
        r.problem("domain", f"{domain!r} is not one of {', '.join(DOMAINS)}")
    difficulty = raw.get("difficulty", "medium")
    if difficulty not in DIFFICULTIES:
        r.problem("difficulty", f"{difficulty!r} is not one of {', '.join(DIFFICULTIES)}")
    item_objectives = raw.get("objectives") or []
    if not isinstance(item_objectives, list) or not item_objectives and kind != "essay":
        r.problem("objectives", "list the objective ids this item assesses, e.g. [o1]")
        item_objectives = []
    qualified = []
    for objective in item_objectives:
        objective = str(objective)
        if ":" in objective:  # shared banks name the module: "bcma-barcodes:o3"
            qualified.append(objective)
        elif module_id is None:
            r.problem("objectives", f"{objective!r} needs a module prefix (module-id:o1) in a shared bank")
        else:
            if objectives is not None and objective not in objectives:
                r.problem("objectives", f"{objective!r} is not an objective of module {module_id}")
            qualified.append(f"{module_id}:{objective}")
    item_refs = tuple(str(x) for x in raw.get("references") or [])
    if references is not None:
        for ref in item_refs:
            if ref not in references:
                r.problem("references", f"{ref!r} is not a reference of module {module_id}")
    fields: dict = {}

    if kind in ("single", "multiple"):
        options = []
        raw_options = raw.get("options") or []
        if not isinstance(raw_options, list) or not 2 <= len(raw_options) <= 8:
            r.problem("options", "give 2 to 8 options")
            raw_options = raw_options if isinstance(raw_options, list) else []
        for index, option in enumerate(raw_options):
            if not isinstance(option, dict) or not _text(option.get("id")) or not _text(option.get("text")):
                r.problem("options", f"option {index + 1} needs an id and a text")
                continue
            if not _text(option.get("feedback")):
                r.problem("options", f"option {option['id']!r} has no feedback")
            weight = option.get("weight")
            if weight is not None:
                weight = r.number("options", weight, -100, 100)
            options.append(Option(_text(option["id"]), _text(option["text"]), _html(_text(option["text"])),
                                  _text(option.get("feedback")), weight))
        ids = [o.id for o in options]
        if len(set(ids)) != len(ids):
            r.problem("options", "option ids must be unique")
        fields["options"] = tuple(options)
        key = raw.get("key")
        weighted = any(o.weight is not None for o in options)
        if kind == "single":
            if not isinstance(key, str) or key not in ids:
                r.problem("key", f"must be one option id ({', '.join(ids)}), got {key!r}")
            fields["key"] = (str(key),)
        elif weighted:
            if any(o.weight is None for o in options):
                r.problem("options", "give every option a weight, or none")
            if key is not None:
                r.problem("key", "use either key or option weights, not both")
            if not any((o.weight or 0) > 0 for o in options):
                r.problem("options", "at least one option needs a positive weight")
            fields["key"] = tuple(o.id for o in options if (o.weight or 0) > 0)
        else:
            if not isinstance(key, list) or not key or any(k not in ids for k in key):
                r.problem("key", f"must be a list of option ids ({', '.join(ids)}), got {key!r}")
                key = []
            fields["key"] = tuple(str(k) for k in key)
            scoring = raw.get("scoring", "all_or_nothing")
            if scoring not in ("all_or_nothing", "partial"):
                r.problem("scoring", "must be all_or_nothing or partial")
            fields["partial"] = scoring == "partial"
    elif kind == "true_false":
        if not isinstance(raw.get("key"), bool):
            r.problem("key", "must be true or false")
        fields["truth"] = bool(raw.get("key"))
        fields["feedback_true"] = _text(raw.get("feedback_true"))
        fields["feedback_false"] = _text(raw.get("feedback_false"))
        if not fields["feedback_true"] or not fields["feedback_false"]:
            r.problem("", "give feedback_true and feedback_false")
    elif kind == "numeric":
        answers = []
        if raw.get("answers") is not None:
            for entry in raw.get("answers") or []:
                if not isinstance(entry, dict):
                    r.problem("answers", "each answer needs answer, tolerance and score")
                    continue
                value = r.number("answers", entry.get("answer"))
                tolerance = r.number("answers", entry.get("tolerance", 0), 0)
                score = r.number("answers", entry.get("score", 100), 0, 100)
                if None not in (value, tolerance, score):
                    answers.append(NumericAnswer(value, tolerance, score, _text(entry.get("feedback"))))
        else:
            value = r.number("answer", raw.get("answer"))
            tolerance = r.number("tolerance", raw.get("tolerance", 0), 0)
            if value is not None and tolerance is not None:
                answers.append(NumericAnswer(value, tolerance, 100.0))
        if not any(a.score == 100 for a in answers):
            r.problem("answer", "needs a fully correct answer")
        fields["numeric"] = tuple(answers)
        fields["unit"] = _text(raw.get("unit"))
    elif kind == "short":
        answers = []
        for entry in raw.get("answers") or []:
            if not isinstance(entry, dict) or not _text(entry.get("text")):
                r.problem("answers", "each answer needs a text and a score")
                continue
            score = r.number("answers", entry.get("score", 100), 0, 100)
            if score is not None:
                answers.append(ShortAnswer(_text(entry["text"]), score, _text(entry.get("feedback"))))
        pattern = _text(raw.get("pattern"))
        if pattern:
            try:
                re.compile(pattern)
            except re.error as error:
                r.problem("pattern", f"not a valid regular expression: {error}")
        if not pattern and not any(a.score == 100 for a in answers):
            r.problem("answers", "needs a fully correct answer (score 100) or a pattern")
        fields["short"], fields["pattern"] = tuple(answers), pattern
    elif kind == "matching":
        pairs = []
        for entry in raw.get("pairs") or []:
            if not isinstance(entry, dict) or not _text(entry.get("left")) or not _text(entry.get("right")):
                r.problem("pairs", "each pair needs a left and a right")
                continue
            pairs.append((_text(entry["left"]), _text(entry["right"])))
        if not 2 <= len(pairs) <= 8:
            r.problem("pairs", "give 2 to 8 pairs")
        rights = [right for _left, right in pairs] + [_text(d) for d in raw.get("distractors") or []]
        if len(set(rights)) != len(rights):
            r.problem("pairs", "right-hand answers (and distractors) must all differ")
        fields["pairs"] = tuple(pairs)
        fields["distractors"] = tuple(_text(d) for d in raw.get("distractors") or [])
    elif kind == "ordering":
        sequence = [_text(step) for step in raw.get("sequence") or []]
        if not 3 <= len(sequence) <= 8 or len(set(sequence)) != len(sequence):
            r.problem("sequence", "give 3 to 8 different steps in the right order")
        fields["sequence"] = tuple(sequence)
    if kind in ("numeric", "short", "matching", "ordering"):
        fields["feedback_correct"] = _text(raw.get("feedback_correct"))
        fields["feedback_incorrect"] = _text(raw.get("feedback_incorrect"))
        if not fields["feedback_correct"] or not fields["feedback_incorrect"]:
            r.problem("", "give feedback_correct and feedback_incorrect")
    if kind != "essay" and not _text(raw.get("explanation")):
        r.problem("explanation", "is required")
    if not r.ok:
        return None
    return Item(id=item_id, bank=bank_id, module_id=module_id, type=kind, stem=stem, stem_html=_html(stem),
                explanation_html=_html(_text(raw.get("explanation"))), objectives=tuple(qualified),
                domain=str(domain), difficulty=str(difficulty), references=item_refs,
                name=_text(raw.get("name")), category=_text(raw.get("category")), **fields)


# --- banks and blueprints ----------------------------------------------------------------

def _positive_int(data: dict, key: str, default, rel: str, lines: dict, problems: list[Problem], high=None):
    value = data.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or (high and value > high):
        problems.append(Problem(rel, lines.get(key, 1), f"{key}: must be a whole number from 1"
                                + (f" to {high}" if high else "") + f", got {value!r}"))
        return default
    return value


def load_bank(path: Path, rel: str, catalog: Catalog | None, problems: list[Problem]) -> Bank | None:
    data, node = read_yaml(path, rel, problems)
    if data is None:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        problems.append(Problem(rel, 1, "a bank needs bank, title and a list of items", fatal=True))
        return None
    lines = _lines(node)
    bank_id = _text(data.get("bank"))
    if not ITEM_ID.fullmatch(bank_id):
        problems.append(Problem(rel, lines.get("bank", 1), f"bank: {bank_id!r} must be kebab-case", fatal=True))
        return None
    module_id = _text(data.get("module")) or None
    objectives = references = None
    if module_id and catalog is not None:
        module = catalog.module(module_id)
        if module is None:
            problems.append(Problem(rel, lines.get("module", 1), f"module: no module has the id {module_id!r}"))
        else:
            objectives = {o.id for o in module.objectives}
            references = {ref.id for ref in module.references}
    pass_mark = _positive_int(data, "pass_mark", 70, rel, lines, problems, high=100)
    post_test_items = _positive_int(data, "post_test_items", 10, rel, lines, problems)
    attempt_limit = _positive_int(data, "attempt_limit", None, rel, lines, problems)
    time_limit = _positive_int(data, "time_limit_minutes", None, rel, lines, problems)
    items = []
    for index, raw in enumerate(data["items"]):
        item = _read_item(raw, rel, lines.get(index, {}), bank_id, module_id, objectives, references, problems)
        if item is not None:
            items.append(item)
    version = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return Bank(bank_id, module_id, _text(data.get("title")) or bank_id, pass_mark, post_test_items,
                attempt_limit, time_limit, tuple(items), rel, version)


def load_blueprint(path: Path, rel: str, problems: list[Problem]) -> Blueprint | None:
    data, node = read_yaml(path, rel, problems)
    if not isinstance(data, dict):
        if data is not None:
            problems.append(Problem(rel, 1, "a blueprint is a mapping with id, title, item_count and domains"))
        return None
    lines = _lines(node)
    blueprint_id = _text(data.get("id"))
    start = len(problems)
    if not ITEM_ID.fullmatch(blueprint_id):
        problems.append(Problem(rel, lines.get("id", 1), f"id: {blueprint_id!r} must be kebab-case"))
    item_count = _positive_int(data, "item_count", 0, rel, lines, problems)
    minutes = _positive_int(data, "time_limit_minutes", 0, rel, lines, problems)
    pass_mark = _positive_int(data, "pass_mark", 70, rel, lines, problems, high=100)
    domains = data.get("domains")
    if not isinstance(domains, dict) or not domains:
        problems.append(Problem(rel, lines.get("domains", 1), "domains: map each domain to its percent of items"))
        domains = {}
    for domain, weight in domains.items():
        if domain not in DOMAINS:
            problems.append(Problem(rel, lines.get("domains", 1), f"domains: unknown domain {domain!r}"))
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight <= 0:
            problems.append(Problem(rel, lines.get("domains", 1), f"domains: {domain} needs a positive percent"))
    total = sum(w for w in domains.values() if isinstance(w, int | float))
    if domains and abs(total - 100) > 0.01:
        problems.append(Problem(rel, lines.get("domains", 1), f"domains: percents add up to {total:g}, not 100"))
    if len(problems) > start:
        return None
    return Blueprint(blueprint_id, _text(data.get("title")) or blueprint_id, _text(data.get("description")),
                     item_count, minutes, pass_mark, {d: w / 100 for d, w in domains.items()}, rel)


def domain_quotas(blueprint: Blueprint) -> dict[str, int]:
    """Items per domain for a blueprint: largest-remainder rounding so they add up to item_count."""
    raw = {d: share * blueprint.item_count for d, share in blueprint.domains.items()}
    quotas = {d: int(v) for d, v in raw.items()}
    shortfall = blueprint.item_count - sum(quotas.values())
    for domain in sorted(raw, key=lambda d: raw[d] - quotas[d], reverse=True)[:shortfall]:
        quotas[domain] += 1
    return quotas


def load_library(quizzes_dir: Path | str, catalog: Catalog | None = None, standards: bool = False) -> Library:
    """Load every bank and blueprint; never raises on bad data.

    With ``standards`` the curriculum rules are checked too: a module bank has at least 25
    items, every objective of its module is assessed by at least 3 items, and each blueprint
    domain has enough items.
    """
    root = Path(quizzes_dir)
    problems: list[Problem] = []
    banks: list[Bank] = []
    for path in sorted((root / "banks").glob("*.yaml")) if (root / "banks").is_dir() else []:
        bank = load_bank(path, str(path.relative_to(root)), catalog, problems)
        if bank is not None:
            if any(b.id == bank.id for b in banks):
                problems.append(Problem(bank.path, 1, f"bank: duplicate bank id {bank.id!r}", fatal=True))
                continue
            banks.append(bank)
    items: dict[str, Item] = {}
    for bank in banks:
        for item in bank.items:
            if item.id in items:
                problems.append(Problem(bank.path, 1, f"item {item.id}: duplicate item id (also in bank "
                                                      f"{items[item.id].bank})"))
            else:
                items[item.id] = item
    blueprints = []
    for path in sorted((root / "blueprints").glob("*.yaml")) if (root / "blueprints").is_dir() else []:
        blueprint = load_blueprint(path, str(path.relative_to(root)), problems)
        if blueprint is not None:
            blueprints.append(blueprint)
    if standards:
        for bank in banks:
            if bank.module_id is None:
                continue
            if len(bank.items) < 25:
                problems.append(Problem(bank.path, 1, f"bank {bank.id}: {len(bank.items)} items; a module bank "
                                                      "needs at least 25"))
            module = catalog.module(bank.module_id) if catalog else None
            for objective in module.objectives if module else ():
                count = sum(f"{module.id}:{objective.id}" in i.objectives for i in bank.items)
                if count < 3:
                    problems.append(Problem(bank.path, 1, f"bank {bank.id}: objective {objective.id} is assessed "
                                                          f"by {count} item(s); it needs at least 3"))
        if catalog is not None:
            for module in catalog.modules:
                if not any(b.module_id == module.id for b in banks):
                    problems.append(Problem(f"banks/{module.id}.yaml", 1,
                                            f"module {module.id} has no question bank"))
        for blueprint in blueprints:
            graded = [i for i in items.values() if i.graded]
            for domain, quota in domain_quotas(blueprint).items():
                available = sum(1 for i in graded if i.domain == domain)
                if available < quota:
                    problems.append(Problem(blueprint.path, 1, f"blueprint {blueprint.id}: domain {domain} needs "
                                                               f"{quota} items, the banks have {available}"))
    return Library(tuple(banks), tuple(blueprints), tuple(problems), items)
