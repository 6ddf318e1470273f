"""`lms quizzes check | import-gift | export-gift` from the command line."""

from pathlib import Path

import pytest
import yaml

from tests.conftest import DATA, make_app

FIXTURE = Path(__file__).resolve().parents[2].parent / "shared/fixtures/moodle/questions.gift.txt"


def test_check_passes_and_prints_a_summary(app, runner):
    result = runner.invoke(args=["quizzes", "check"])
    # The tiny test tree does not meet the curriculum standard (25 items per bank); the shipped one does.
    assert "7 items in 1 banks, 1 blueprints" in result.output
    assert result.exit_code == 1 and "needs at least 25" in result.output


def test_check_on_the_shipped_banks_passes(tmp_path):
    from lms.config import PROJECT_ROOT

    app = make_app(tmp_path, QUIZZES_DIR=str(PROJECT_ROOT / "quizzes"), CONTENT_DIR=str(PROJECT_ROOT / "content"))
    result = app.test_cli_runner().invoke(args=["quizzes", "check"])
    assert result.exit_code == 0, result.output
    count = int(result.output.split(" items")[0].split()[-1])
    assert count >= 330 and result.output.rstrip().endswith("OK")


@pytest.mark.skipif(not FIXTURE.exists(), reason="../shared/fixtures is not present (CI has it)")
def test_import_gift_writes_a_bank_and_lists_warnings_with_lines(app, runner, tmp_path):
    out = tmp_path / "moodle.yaml"
    result = runner.invoke(args=["quizzes", "import-gift", str(FIXTURE), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Wrote 9 items" in result.output and "questions.gift.txt:31: ignored" in result.output
    bank = yaml.safe_load(out.read_text())
    assert bank["bank"] == "moodle" and len(bank["items"]) == 9


def test_import_gift_refuses_a_malformed_file(app, runner, tmp_path):
    source = tmp_path / "bad.gift"
    source.write_text("::Q1:: Which one?\n{\n=yes\n~no\n")
    result = runner.invoke(args=["quizzes", "import-gift", str(source), "-o", str(tmp_path / "out.yaml")])
    assert result.exit_code != 0 and f"{source}:2:" in result.output
    assert not (tmp_path / "out.yaml").exists()


def test_export_then_import_keeps_every_item(app, runner, tmp_path):
    gift = tmp_path / "alpha.gift"
    result = runner.invoke(args=["quizzes", "export-gift", "alpha", "-o", str(gift)])
    assert result.exit_code == 0, result.output
    back = tmp_path / "alpha.yaml"
    assert runner.invoke(args=["quizzes", "import-gift", str(gift), "-o", str(back)]).exit_code == 0
    original = yaml.safe_load((DATA / "quizzes/banks/alpha.yaml").read_text())["items"]
    again = yaml.safe_load(back.read_text())["items"]
    assert [(i["id"], i["type"]) for i in again] == [(i["id"], i["type"]) for i in original]


def test_export_of_an_unknown_bank_fails_clearly(app, runner, tmp_path):
    result = runner.invoke(args=["quizzes", "export-gift", "nope", "-o", str(tmp_path / "x.gift")])
    assert result.exit_code != 0 and "no bank 'nope'" in result.output
