"""`coach --help` stays instant: no heavy library is imported to print it."""

from __future__ import annotations

import subprocess
import sys

HEAVY = [
    "torch",
    "sentence_transformers",
    "chromadb",
    "gradio",
    "langchain_core",
    "langchain_openai",
    "sqlalchemy",
    "bm25s",
    "numpy",
    "pydantic",
    "yaml",
    "rich",
    "docx",
    "icalendar",
]


def test_help_imports_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from coach.cli import cli\n"
        "r = CliRunner().invoke(cli, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_help_lists_the_commands() -> None:
    out = subprocess.run([sys.executable, "-m", "coach.cli", "--help"], capture_output=True, text=True, check=True)
    for name in ("index", "kb", "plan", "search"):
        assert name in out.stdout


def test_bad_queries_path_is_input_error_without_traceback(tmp_path) -> None:
    # A folder given where a queries file is expected.
    out = subprocess.run(
        [sys.executable, "-m", "coach.cli", "search", "--queries", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
