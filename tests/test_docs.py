"""The documentation: a short README with the set-up commands, generated pages that are fresh, a site that builds."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from pydantic import Field

from rag import errors
from rag.settings import Settings
from tests.conftest import REPO
from tests.servers import RAG

README = (REPO / "README.md").read_text(encoding="utf-8")
GEN_DOCS = [sys.executable, str(REPO / "scripts" / "gen_docs.py")]


def test_the_readme_is_short_and_keeps_the_two_set_up_commands():
    assert len(README) <= 8000, f"README.md is {len(README)} characters; move detail into docs/"
    assert "bash scripts/start.sh" in README and "bash scripts/test.sh" in README
    for script in ("start.sh", "test.sh"):
        assert (REPO / "scripts" / script).exists()


def test_the_readme_says_how_to_ask_about_your_own_articles_on_its_first_screen():
    first_screen = "\n".join(README.splitlines()[:50])
    assert re.search(r"rag ingest ~?/?[\w-]+", first_screen), "no `rag ingest FOLDER` on the first screen"
    assert "rag ask" in first_screen


def test_the_readme_links_resolve_to_files_in_the_repository():
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
    assert links
    missing = [link for link in links if not link.startswith("http") and not (REPO / link).exists()]
    assert missing == []


def test_generated_pages_are_fresh():
    """docs/settings.md and the README's figures block equal what scripts/gen_docs.py makes now."""
    result = subprocess.run([*GEN_DOCS, "--check"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_the_settings_page_lists_every_field_with_default_environment_variable_and_flag():
    page = (REPO / "docs" / "settings.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(" `"): line for line in page.splitlines() if line.startswith("| `")}
    assert set(rows) == set(Settings.model_fields)
    for name, field in Settings.model_fields.items():
        row = rows[name]
        assert f"`RAG_{name.upper()}`" in row and f"`--{name.replace('_', '-')}`" in row
        default = field.get_default(call_default_factory=True)
        if isinstance(default, int | float | str) and not isinstance(default, bool):
            assert f"`{default}`" in row, name
        assert field.description and field.description.replace("|", "\\|") in row


def test_a_new_setting_makes_the_settings_page_stale(monkeypatch):
    """The freshness check is real: a field added to Settings is missing from the committed page."""
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import gen_docs
    finally:
        sys.path.remove(str(REPO / "scripts"))
    assert gen_docs.stale() == []

    class Extended(Settings):
        harbour_knob: int = Field(3, ge=1, description="A setting added after the page was generated.")

    monkeypatch.setattr(gen_docs, "Settings", Extended)
    assert gen_docs.stale() == [gen_docs.SETTINGS_PAGE]
    assert "| `harbour_knob` | integer, ≥ 1 | `3` | `RAG_HARBOUR_KNOB` | `--harbour-knob` |" in gen_docs.settings_page()


def test_the_operating_page_shows_the_error_table_the_code_applies(monkeypatch):
    """A status changed in rag/errors.py makes the generated table on the operating page stale."""
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import gen_docs
    finally:
        sys.path.remove(str(REPO / "scripts"))
    page = (REPO / "docs" / "operating.md").read_text(encoding="utf-8")
    for kind, meaning in errors.TABLE.items():
        assert f"| `{kind.__name__}` |" in page and f"| {meaning.status} | {meaning.exit_code} |" in page
    changed = dict(errors.TABLE) | {errors.EmptyIndex: errors.Meaning(404, errors.EXIT_USAGE)}
    monkeypatch.setattr(gen_docs.errors, "TABLE", changed)
    assert gen_docs.stale() == [gen_docs.OPERATING]


@pytest.mark.slow  # a `rag` process, the build or the benchmark: seconds to minutes
def test_rag_version_is_the_package_version():
    result = subprocess.run([RAG, "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    declared = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert result.stdout.strip() == f"rag {version('rag-news')}" == f"rag {declared}"


ARTICLE = """Harbour Committee Meets

The harbour committee is chaired by Ilse Marten, the council said on Monday.
The committee voted to close three piers for repairs during the storm season.
"""


@pytest.mark.slow  # a `rag` process, the build or the benchmark: seconds to minutes
def test_rag_eval_writes_figures_with_date_machine_and_command_only_when_asked(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "harbour.txt").write_text(ARTICLE, encoding="utf-8")
    questions = tmp_path / "quiz.jsonl"
    case = {"question": "Who chairs the harbour committee?", "answers": ["Ilse Marten"], "sources": ["harbour.txt"]}
    questions.write_text(json.dumps(case) + "\n", encoding="utf-8")
    common = [RAG, "eval", "--corpus", "corpus", "--questions", "quiz.jsonl", "--data-dir", "data", "--report-only"]
    plain = subprocess.run(common, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert plain.returncode == 0, plain.stderr
    assert not (tmp_path / "figures").exists()  # nothing written for the docs unless asked

    asked = subprocess.run([*common, "--figures", "figures"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert asked.returncode == 0, asked.stderr
    written = sorted(p.name for p in (tmp_path / "figures").iterdir())
    assert written == ["eval-quiz.json", "eval-quiz.md", "eval-quiz.png"]
    page = (tmp_path / "figures" / "eval-quiz.md").read_text(encoding="utf-8")
    assert re.search(r"Measured \d{4}-\d\d-\d\d \d\d:\d\d UTC on \d+ cores \(.+\)", page)
    assert "`rag eval --corpus corpus --questions quiz.jsonl --data-dir data --report-only --figures figures`" in page
    assert "\n\n| metric |" in page and "| accuracy | 1.000 |" in page
    data = json.loads((tmp_path / "figures" / "eval-quiz.json").read_text(encoding="utf-8"))
    assert data["set"] == "quiz" and data["runs"][0]["metrics"]["questions"] == 1


@pytest.mark.slow  # a `rag` process, the build or the benchmark: seconds to minutes
def test_the_docs_site_builds_strictly(tmp_path):
    """Broken links, a missing figure or a module the reference names but the code lost fail the build."""
    mkdocs = Path(sys.executable).parent / "mkdocs"
    if not mkdocs.exists():
        pytest.fail("mkdocs is not installed: bash scripts/setup.sh test installs the docs extra")
    result = subprocess.run(
        [str(mkdocs), "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    settings_html = (tmp_path / "site" / "settings" / "index.html").read_text(encoding="utf-8")
    assert all(f"RAG_{name.upper()}" in settings_html for name in Settings.model_fields)
    stage = (tmp_path / "site" / "architecture" / "retrieve" / "index.html").read_text(encoding="utf-8")
    assert "rag.retrieve" in stage  # the stage pages are generated from the modules' docstrings


def test_every_module_has_its_place_on_a_stage_page():
    """A module added, renamed or removed shows here by name (the build would fail on a removed one)."""
    pages = (REPO / "docs" / "architecture").glob("*.md")
    documented = [m for page in pages for m in re.findall(r"^::: ([\w.]+)$", page.read_text(), re.M)]
    modules = {
        ".".join(path.relative_to(REPO).with_suffix("").parts)
        for package in ("rag", "ui")
        for path in (REPO / package).rglob("*.py")
        if path.name != "__init__.py"
    }
    assert sorted(modules - set(documented)) == [], "add these to a page in docs/architecture/"
    assert sorted(set(documented) - modules) == [], "these modules are gone: update docs/architecture/"
    assert len(documented) == len(set(documented)), "a module is documented on two pages"


@pytest.mark.slow  # a `rag` process, the build or the benchmark: seconds to minutes
def test_the_benchmark_writes_its_table_with_provenance_when_asked(tmp_path):
    command = [sys.executable, str(REPO / "bench" / "bench.py"), "--side-by-side", "--n", "3", "--runs", "1"]
    for option in ("out", "work", "figures"):
        command += [f"--{option}", str(tmp_path / option)]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    page = (tmp_path / "figures" / "bench-side-by-side.md").read_text(encoding="utf-8")
    assert re.search(r"Measured \d{4}-\d\d-\d\d \d\d:\d\d UTC on \d+ cores \(.+\)", page)
    assert "by `bench/bench.py --side-by-side --n 3 --runs 1 " in page
    table = [line for line in page.splitlines() if line.startswith("|")]
    assert table[0].split("|")[1].strip() == "N" and table[2].split("|")[1].strip() == "3"
    data = json.loads((tmp_path / "figures" / "bench-side-by-side.json").read_text(encoding="utf-8"))
    assert data["results"][0]["n"] == 3 and data["results"][0]["rag_cpu_s"] > 0
