"""Loading modules: schema errors name file, line and field; broken modules are skipped, never fatal."""

import shutil
from pathlib import Path

import pytest

from lms.content.loader import load_catalog
from tests.conftest import DATA


@pytest.fixture
def content(tmp_path) -> Path:
    """A writable copy of the tiny test content tree."""
    target = tmp_path / "content"
    shutil.copytree(DATA / "content", target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def messages(catalog) -> list[str]:
    return [str(p) for p in catalog.problems]


def test_test_content_loads_cleanly(content):
    catalog = load_catalog(content)
    assert messages(catalog) == []
    assert [m.id for m in catalog.modules] == ["alpha", "beta"]
    alpha = catalog.module("alpha")
    assert [lesson.id for lesson in alpha.lessons] == ["first", "second"]
    assert alpha.ceus == 0.05 and alpha.objectives[1].text == "Convert an NDC to 11 digits."


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("audience: T", "audience: X", "modules/01-alpha/module.md:6: audience: 'X' is not valid"),
    ("contact_hours: 0.5", "contact_hours: lots", "modules/01-alpha/module.md:10: contact_hours: must be a number"),
    ('topic_code: "04"', "topic_code: 4", "modules/01-alpha/module.md:12: topic_code: '4' is not valid"),
    ("activity_number: 0000-0000-26-001-H04-T", "activity_number: 26-001",
     "modules/01-alpha/module.md:13: activity_number: '26-001' is not valid"),
    ("activity_number: 0000-0000-26-001-H04-T", "activity_number: 0000-0000-26-001-H05-T",
     "modules/01-alpha/module.md:13: activity_number: topic 05 differs from topic_code 04"),
    ("id: alpha", "id: Alpha Module", "modules/01-alpha/module.md:2: id: 'Alpha Module' is not valid"),
    ("title: Alpha module\n", "", "modules/01-alpha/module.md:1: title: is required"),
    ("  - id: o2\n", "  - idd: o2\n", "modules/01-alpha/module.md:17: objectives[1]: each objective needs an id"),
    ("summary: A tiny module for tests.", "summary: [unclosed",
     "modules/01-alpha/module.md:5: front matter is not valid YAML"),
])
def test_bad_front_matter_names_file_line_and_field(content, old, new, expected):
    edit(content / "modules/01-alpha/module.md", old, new)
    catalog = load_catalog(content)
    assert any(m.startswith(expected) for m in messages(catalog)), messages(catalog)
    assert catalog.module("alpha") is None, "a module with bad front matter is skipped"
    assert catalog.module("beta") is not None, "other modules are still served"


def test_vague_objective_verb_is_reported_but_module_still_served(content):
    edit(content / "modules/01-alpha/module.md", "Identify the three", "Understand the three")
    catalog = load_catalog(content)
    assert any("measurable verb" in m and "objectives[0]" in m for m in messages(catalog))
    assert catalog.module("alpha") is not None


def test_duplicate_module_id_skips_the_second(content):
    edit(content / "modules/02-beta/module.md", "id: beta", "id: alpha")
    catalog = load_catalog(content)
    assert any("duplicate module id 'alpha'" in m for m in messages(catalog))
    assert len(catalog.modules) == 1


def test_broken_links_are_reported_with_the_file_line(content):
    edit(content / "modules/02-beta/01-only.md", "[par level](glossary:par-level)", "[par level](glossary:par)")
    catalog = load_catalog(content)
    assert messages(catalog) == [
        "modules/02-beta/01-only.md:7: unknown glossary term 'par' (add it to content/glossary.yaml)"]


def test_missing_image_and_unknown_prerequisite(content):
    (content / "modules/01-alpha/images/pocket.png").unlink()
    edit(content / "modules/02-beta/module.md", "prerequisites: [alpha]", "prerequisites: [gamma]")
    found = messages(load_catalog(content))
    assert "modules/01-alpha/01-first.md:11: missing image 'images/pocket.png'" in found
    assert "modules/02-beta/module.md:21: prerequisites: unknown module id 'gamma'" in found


def test_curriculum_standards_are_checked_when_asked(content):
    found = messages(load_catalog(content, min_words=100))
    assert "modules/02-beta:1: the module has no a worked example (::: example)" in found
    assert "modules/02-beta:1: the module has no '## Summary' section" in found
    assert any(m.startswith("modules/01-alpha:1: the lessons have") for m in found)


def test_lesson_without_front_matter_is_skipped_with_an_error(content):
    (content / "modules/02-beta/01-only.md").write_text("## No front matter\n")
    catalog = load_catalog(content)
    assert "modules/02-beta/01-only.md:1: missing front matter: the file must start with a '---' line" in \
        messages(catalog)
    assert catalog.module("beta") is None


def test_bad_glossary_entries_are_reported(content):
    (content / "glossary.yaml").write_text("- id: ndc\n  term: NDC\n  definition: x\n- id: ndc\n  term: again\n"
                                           "  definition: y\n- id: Bad Id\n  term: t\n  definition: d\n")
    found = messages(load_catalog(content))
    assert "glossary.yaml:4: duplicate glossary id 'ndc'" in found
    assert "glossary.yaml:7: id 'Bad Id' must be kebab-case" in found


def test_content_hash_changes_with_the_files(content):
    before = load_catalog(content).module("beta").content_hash
    edit(content / "modules/02-beta/01-only.md", "zanzibar", "zanzibar!")
    after = load_catalog(content)
    assert after.module("beta").content_hash != before
    assert after.module("alpha").content_hash == load_catalog(content).module("alpha").content_hash
