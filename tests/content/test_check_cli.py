"""`lms content check` on good and bad trees, and on the shipped curriculum."""

import shutil

from lms.config import PROJECT_ROOT
from lms.content.loader import load_catalog
from tests.conftest import DATA, make_app


def test_check_passes_on_good_content(app, runner):
    result = runner.invoke(args=["content", "check"])
    assert result.exit_code == 0, result.output
    assert "2 modules, 3 lessons" in result.output and result.output.rstrip().endswith("OK")


def test_check_prints_file_line_message_and_fails(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(DATA / "content", content)
    lesson = content / "modules/01-alpha/02-second.md"
    lesson.write_text(lesson.read_text().replace("## Summary", "## Summary\n\nSee [x](module:nowhere)."))
    runner = make_app(tmp_path, CONTENT_DIR=str(content)).test_cli_runner()
    result = runner.invoke(args=["content", "check"])
    assert result.exit_code == 1
    assert f"{content}/modules/01-alpha/02-second.md:17: link to unknown module 'nowhere'" in result.output


def test_check_enforces_the_word_minimum_when_configured(app, runner):
    result = runner.invoke(args=["content", "check", "--min-words", "500"])
    assert result.exit_code == 1 and "a module needs at least 500" in result.output


def test_shipped_curriculum_meets_the_standard():
    """At least 12 modules of 2,500+ words, each with objectives, a worked example and a case study."""
    catalog = load_catalog(PROJECT_ROOT / "content", min_words=2500)
    assert [str(p) for p in catalog.problems] == []
    assert len(catalog.modules) >= 12
    for module in catalog.modules:
        assert module.words >= 2500, module.id
        assert 3 <= len(module.objectives) <= 6, module.id
        assert module.activity_number.endswith(f"-H{module.topic_code}-T"), module.id
    ids = [m.id for m in catalog.modules]
    assert len(ids) == len(set(ids))


def test_check_reports_objectives_no_quiz_item_assesses(tmp_path):
    quizzes = tmp_path / "quizzes"
    shutil.copytree(DATA / "quizzes", quizzes)
    bank = quizzes / "banks/alpha.yaml"
    bank.write_text(bank.read_text().replace("objectives: [o3]", "objectives: [o1]")
                    .replace("objectives: [o1, o3]", "objectives: [o1]"))
    runner = make_app(tmp_path, QUIZZES_DIR=str(quizzes)).test_cli_runner()
    result = runner.invoke(args=["content", "check"])
    assert result.exit_code == 1
    assert "modules/01-alpha/module.md:1: objectives: o3 is not assessed by any quiz item" in result.output
    assert "02-beta" not in result.output, "a module without a bank is not checked for quiz coverage"
