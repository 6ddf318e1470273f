"""Load content/ into frozen dataclasses, validating as we go. Pure: no Flask, no database.

Problems carry a file, a line and a message. A *fatal* problem (unreadable front matter, a
duplicate id, no lessons) means the module cannot be served; other problems (a broken link,
a missing section) fail `lms content check` but the module is still served.
"""

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from lms.content.render import CALLOUTS, IMAGE_EXTENSIONS, LinkContext, render_markdown

KEBAB = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
OBJECTIVE_ID = re.compile(r"o[0-9]+")
UAN = re.compile(r"(\d{4})-(\d{4})-(\d{2})-(\d{3})-([LHB])(\d{2})-([PT])")
MODULE_FOLDER = re.compile(r"(\d{2})-([a-z0-9-]+)")
# Verbs that state something a learner can be observed doing (Bloom's taxonomy, in part).
VAGUE_VERBS = {"understand", "know", "learn", "appreciate", "realize", "recognise", "be", "become", "grasp"}
REQUIRED_SECTIONS = ("Key terms", "Summary")
REQUIRED_CALLOUTS = {
    "example": "a worked example (::: example)",
    "on-the-job": "an on-the-job case study (::: on-the-job)",
}
WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’.-]*")


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str
    fatal: bool = False

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Objective:
    id: str
    text: str


@dataclass(frozen=True)
class Reference:
    id: str
    text: str
    url: str = ""


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    minutes: int | None
    path: str
    html: str
    toc: tuple[tuple[int, str, str], ...]
    text: str
    words: int


@dataclass(frozen=True)
class Module:
    id: str
    folder: str
    number: int
    title: str
    summary: str
    version: str
    audience: str
    activity_type: str
    category: str
    topics: tuple[str, ...]
    contact_hours: float
    estimated_minutes: int
    topic_code: str
    activity_number: str
    objectives: tuple[Objective, ...]
    prerequisites: tuple[str, ...]
    references: tuple[Reference, ...]
    intro_html: str
    lessons: tuple[Lesson, ...]
    content_hash: str
    path: str

    @property
    def ceus(self) -> float:
        return round(self.contact_hours / 10, 3)

    @property
    def words(self) -> int:
        return sum(lesson.words for lesson in self.lessons)

    def lesson(self, lesson_id: str) -> Lesson | None:
        return next((lesson for lesson in self.lessons if lesson.id == lesson_id), None)


@dataclass(frozen=True)
class GlossaryTerm:
    id: str
    term: str
    definition: str


@dataclass(frozen=True)
class Catalog:
    modules: tuple[Module, ...]
    glossary: dict[str, GlossaryTerm]
    problems: tuple[Problem, ...]
    version: str
    by_id: dict[str, Module] = field(default_factory=dict)

    def module(self, module_id: str) -> Module | None:
        return self.by_id.get(module_id)


# --- front matter ----------------------------------------------------------------------

@dataclass
class _Source:
    """A Markdown file split into front matter (with key line numbers) and body."""

    path: Path
    rel: str
    data: dict
    lines: dict[str, int]
    body: str
    body_line: int  # line number of the body's first line in the file


def _split_front_matter(path: Path, rel: str, problems: list[Problem]) -> _Source | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        problems.append(Problem(rel, 1, f"cannot read file: {error}", fatal=True))
        return None
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        problems.append(Problem(rel, 1, "missing front matter: the file must start with a '---' line", fatal=True))
        return None
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        problems.append(Problem(rel, 1, "front matter is not closed with a '---' line", fatal=True))
        return None
    raw = "\n".join(lines[1:end])
    try:
        node = yaml.compose(raw, Loader=yaml.SafeLoader)
        data = yaml.safe_load(raw)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark else 1
        problems.append(Problem(rel, line, f"front matter is not valid YAML: {getattr(error, 'problem', error)}",
                                fatal=True))
        return None
    if not isinstance(data, dict):
        problems.append(Problem(rel, 2, "front matter must be a mapping of field: value", fatal=True))
        return None
    key_lines = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key_lines[str(key_node.value)] = key_node.start_mark.line + 2
            if isinstance(value_node, yaml.SequenceNode):
                for index, item in enumerate(value_node.value):
                    key_lines[f"{key_node.value}[{index}]"] = item.start_mark.line + 2
    return _Source(path, rel, data, key_lines, "\n".join(lines[end + 1:]), end + 2)


class _Fields:
    """Typed access to front-matter fields that records a problem naming file, line and field."""

    def __init__(self, source: _Source, problems: list[Problem]):
        self.source, self.problems, self.ok = source, problems, True

    def problem(self, key: str, message: str, fatal: bool = True) -> None:
        line = self.source.lines.get(key, self.source.lines.get(key.split("[")[0], 1))
        self.problems.append(Problem(self.source.rel, line, f"{key}: {message}", fatal))
        self.ok = self.ok and not fatal

    def text(self, key: str, pattern: re.Pattern | None = None, required: bool = True, hint: str = "") -> str:
        value = self.source.data.get(key)
        if value is None:
            if required:
                self.problem(key, "is required")
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.problem(key, "must be text")
            return ""
        value = str(value).strip()
        if pattern and not pattern.fullmatch(value):
            self.problem(key, f"{value!r} is not valid" + (f" ({hint})" if hint else ""))
        return value

    def number(self, key: str, integer: bool = False) -> float:
        value = self.source.data.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or (integer and not isinstance(value, int)):
            self.problem(key, f"must be {'a whole number' if integer else 'a number'}, got {value!r}")
            return 0
        if value <= 0:
            self.problem(key, "must be greater than zero")
        return value

    def items(self, key: str, required: bool = True) -> list:
        value = self.source.data.get(key, None)
        if value is None:
            if required:
                self.problem(key, "is required")
            return []
        if not isinstance(value, list):
            self.problem(key, "must be a list")
            return []
        return value


# --- modules ---------------------------------------------------------------------------

@dataclass
class _ModuleDraft:
    folder: Path
    rel: str
    number: int
    fields: dict
    meta: _Source
    lessons: list[tuple[_Source, str, str, int | None]]  # source, id, title, minutes
    assets: frozenset[str]
    content_hash: str


def _hash_folder(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _parse_module(folder: Path, root: Path, problems: list[Problem]) -> _ModuleDraft | None:
    rel_folder = str(folder.relative_to(root))
    name_match = MODULE_FOLDER.fullmatch(folder.name)
    if not name_match:
        problems.append(Problem(rel_folder, 1, "module folders are named NN-slug, e.g. 05-bcma-barcodes", fatal=True))
        return None
    meta_path = folder / "module.md"
    if not meta_path.exists():
        problems.append(Problem(f"{rel_folder}/module.md", 1, "missing module.md with the module's front matter",
                                fatal=True))
        return None
    start = len(problems)
    meta = _split_front_matter(meta_path, f"{rel_folder}/module.md", problems)
    if meta is None:
        return None
    f = _Fields(meta, problems)
    fields: dict = {
        "id": f.text("id", KEBAB, hint="kebab-case, e.g. bcma-barcodes"),
        "title": f.text("title"),
        "summary": f.text("summary"),
        "version": f.text("version"),
        "audience": f.text("audience", re.compile("[PT]"), hint="T for technicians, P for pharmacists"),
        "activity_type": f.text("activity_type", re.compile("knowledge|application"),
                                hint="knowledge or application"),
        "category": f.text("category"),
        "topic_code": f.text("topic_code", re.compile(r"\d{2}"), hint="two digits, e.g. '04'; quote it in YAML"),
        "activity_number": f.text("activity_number", UAN, hint="UAN form 0000-0000-26-001-H04-T"),
        "contact_hours": f.number("contact_hours"),
        "estimated_minutes": int(f.number("estimated_minutes", integer=True)),
    }
    topics = f.items("topics")
    if not all(isinstance(t, str) and KEBAB.fullmatch(t) for t in topics):
        f.problem("topics", "must be a list of kebab-case tags")
    fields["topics"] = tuple(str(t) for t in topics)
    prerequisites = f.items("prerequisites", required=False)
    if not all(isinstance(p, str) for p in prerequisites):
        f.problem("prerequisites", "must be a list of module ids")
    fields["prerequisites"] = tuple(str(p) for p in prerequisites)

    objectives = []
    for index, item in enumerate(f.items("objectives")):
        key = f"objectives[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not isinstance(item.get("text"), str):
            f.problem(key, "each objective needs an id (o1, o2, ...) and a text")
            continue
        if not OBJECTIVE_ID.fullmatch(item["id"]):
            f.problem(key, f"objective id {item['id']!r} must look like o1, o2, ...")
        first_word = item["text"].split(" ", 1)[0].lower().strip(",.")
        if first_word in VAGUE_VERBS:
            f.problem(key, f"start with a measurable verb (identify, convert, calculate...), not {first_word!r}",
                      fatal=False)
        objectives.append(Objective(item["id"], item["text"].strip()))
    if len({o.id for o in objectives}) != len(objectives):
        f.problem("objectives", "objective ids must be unique")
    if objectives and not 3 <= len(objectives) <= 6:
        f.problem("objectives", f"a module has 3 to 6 objectives, not {len(objectives)}", fatal=False)
    fields["objectives"] = tuple(objectives)

    references = []
    for index, item in enumerate(f.items("references", required=False)):
        key = f"references[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not isinstance(item.get("text"), str):
            f.problem(key, "each reference needs an id and a text")
            continue
        url = str(item.get("url") or "")
        if url and not url.startswith("https://") and not url.startswith("http://"):
            f.problem(key, f"url {url!r} must start with https://")
            url = ""
        references.append(Reference(item["id"], item["text"].strip(), url))
    if len({r.id for r in references}) != len(references):
        f.problem("references", "reference ids must be unique")
    fields["references"] = tuple(references)

    if fields["activity_number"] and fields["topic_code"] and UAN.fullmatch(fields["activity_number"]):
        parts = UAN.fullmatch(fields["activity_number"]).groups()
        if parts[5] != fields["topic_code"]:
            f.problem("activity_number", f"topic {parts[5]} differs from topic_code {fields['topic_code']}")
        if fields["audience"] and parts[6] != fields["audience"]:
            f.problem("activity_number", f"audience {parts[6]} differs from audience {fields['audience']}")
    hours, minutes = fields["contact_hours"], fields["estimated_minutes"]
    if hours and (hours * 4) != int(hours * 4):
        f.problem("contact_hours", "use steps of 0.25 hours", fatal=False)
    if hours and minutes and abs(hours - minutes / 60) > 0.25:
        f.problem("contact_hours", f"{hours} h does not match estimated_minutes {minutes} (about {minutes / 60:.2f} h)",
                  fatal=False)

    lessons = []
    for path in sorted(folder.glob("[0-9][0-9]-*.md")):
        source = _split_front_matter(path, f"{rel_folder}/{path.name}", problems)
        if source is None:
            continue
        lf = _Fields(source, problems)
        lesson_id = lf.text("id", KEBAB, hint="kebab-case")
        title = lf.text("title")
        minutes = source.data.get("minutes")
        if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0):
            lf.problem("minutes", "must be a whole number of minutes")
            minutes = None
        if lesson_id and any(lesson_id == other[1] for other in lessons):
            lf.problem("id", f"duplicate lesson id {lesson_id!r} in this module")
        if lf.ok:
            lessons.append((source, lesson_id, title, minutes))
    if not lessons:
        problems.append(Problem(rel_folder, 1, "a module needs at least one lesson file named NN-slug.md", fatal=True))
    if any(p.fatal for p in problems[start:]):
        return None
    assets = frozenset(str(p.relative_to(folder)) for p in folder.rglob("*")
                       if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    return _ModuleDraft(folder, rel_folder, int(name_match.group(1)), fields, meta, lessons, assets,
                        _hash_folder(folder))


def load_glossary(content_dir: Path, problems: list[Problem]) -> dict[str, GlossaryTerm]:
    path = content_dir / "glossary.yaml"
    if not path.exists():
        return {}
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problems.append(Problem("glossary.yaml", mark.line + 1 if mark else 1, f"not valid YAML: {error}"))
        return {}
    if not isinstance(data, list):
        problems.append(Problem("glossary.yaml", 1, "the glossary is a list of {id, term, definition} entries"))
        return {}
    terms: dict[str, GlossaryTerm] = {}
    for index, item in enumerate(data):
        line = node.value[index].start_mark.line + 1 if isinstance(node, yaml.SequenceNode) else 1
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("id", "term", "definition")):
            problems.append(Problem("glossary.yaml", line, "each entry needs id, term and definition (text)"))
            continue
        if not KEBAB.fullmatch(item["id"]):
            problems.append(Problem("glossary.yaml", line, f"id {item['id']!r} must be kebab-case"))
            continue
        if item["id"] in terms:
            problems.append(Problem("glossary.yaml", line, f"duplicate glossary id {item['id']!r}"))
            continue
        terms[item["id"]] = GlossaryTerm(item["id"], item["term"].strip(), item["definition"].strip())
    return terms


def load_catalog(content_dir: Path | str, min_words: int = 0, url_prefix: str = "") -> Catalog:
    """Load and render every module under ``content_dir``; never raises on bad content."""
    root = Path(content_dir)
    problems: list[Problem] = []
    glossary = load_glossary(root, problems)
    modules_dir = root / "modules"
    drafts: list[_ModuleDraft] = []
    if modules_dir.is_dir():
        for folder in sorted(p for p in modules_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
            draft = _parse_module(folder, root, problems)
            if draft is not None:
                drafts.append(draft)
    else:
        problems.append(Problem("modules", 1, f"no modules folder under {root}"))

    seen: dict[str, _ModuleDraft] = {}
    for draft in list(drafts):
        module_id = draft.fields["id"]
        if module_id in seen:
            problems.append(Problem(draft.meta.rel, draft.meta.lines.get("id", 1),
                                    f"id: duplicate module id {module_id!r} (also in {seen[module_id].meta.rel})",
                                    fatal=True))
            drafts.remove(draft)
        else:
            seen[module_id] = draft
    module_ids = frozenset(seen)
    lesson_ids = {d.fields["id"]: frozenset(lesson[1] for lesson in d.lessons) for d in drafts}
    definitions = {term.id: term.definition for term in glossary.values()}

    modules = []
    for draft in drafts:
        fields = draft.fields
        for prereq in fields["prerequisites"]:
            if prereq not in module_ids:
                problems.append(Problem(draft.meta.rel, draft.meta.lines.get("prerequisites", 1),
                                        f"prerequisites: unknown module id {prereq!r}"))
        ctx = LinkContext(fields["id"], module_ids, lesson_ids, definitions,
                          {r.id: r.text for r in fields["references"]}, draft.assets, url_prefix)

        def render(source: _Source, ctx=ctx):
            result = render_markdown(source.body, ctx)
            for line, message in result.problems:
                problems.append(Problem(source.rel, source.body_line + line - 1, message))
            return result

        intro = render(draft.meta)
        lessons, callouts, sections = [], set(), set()
        for source, lesson_id, title, minutes in draft.lessons:
            result = render(source)
            callouts |= result.callouts
            sections |= {heading for level, _anchor, heading in result.toc if level == 2}
            lessons.append(Lesson(lesson_id, title, minutes, source.rel, result.html, tuple(result.toc),
                                  result.text, len(WORD.findall(result.text))))
        module = Module(id=fields["id"], folder=draft.folder.name, number=draft.number, title=fields["title"],
                        summary=fields["summary"], version=fields["version"], audience=fields["audience"],
                        activity_type=fields["activity_type"], category=fields["category"], topics=fields["topics"],
                        contact_hours=float(fields["contact_hours"]), estimated_minutes=fields["estimated_minutes"],
                        topic_code=fields["topic_code"], activity_number=fields["activity_number"],
                        objectives=fields["objectives"], prerequisites=fields["prerequisites"],
                        references=fields["references"], intro_html=intro.html, lessons=tuple(lessons),
                        content_hash=draft.content_hash, path=str(draft.folder))
        if min_words:
            for kind, description in REQUIRED_CALLOUTS.items():
                if kind not in callouts:
                    problems.append(Problem(draft.rel, 1, f"the module has no {description}"))
            for section in REQUIRED_SECTIONS:
                if section not in sections:
                    problems.append(Problem(draft.rel, 1, f"the module has no '## {section}' section"))
            if module.words < min_words:
                problems.append(Problem(draft.rel, 1, f"the lessons have {module.words} words; "
                                                      f"a module needs at least {min_words}"))
        modules.append(module)

    modules.sort(key=lambda m: (m.number, m.id))
    version = hashlib.sha256("".join(m.content_hash for m in modules).encode()
                             + repr(sorted(definitions.items())).encode()).hexdigest()[:16]
    return Catalog(tuple(modules), glossary, tuple(problems), version, {m.id: m for m in modules})


assert set(REQUIRED_CALLOUTS) <= set(CALLOUTS)
