"""The GitHub Actions workflows pass actionlint, with no finding allowed.

actionlint checks the workflow schema, the ``${{ }}`` expressions, the inputs
of well-known actions (and whether their runtime is deprecated), the job graph
(``needs``), and, through ShellCheck, the shell scripts of ``run:`` steps.
Both programs come from pinned PyPI wheels that ship their binaries
(``requirements.txt``), so the check works offline and gives the same answer
on every machine.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))


def _tool(name):
    """The executable ``name`` installed next to this Python (the venv), or on PATH."""
    beside_python = Path(sys.executable).parent / name
    if beside_python.is_file():
        return str(beside_python)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: run `make test` (or pip install -r requirements.txt -c constraints.txt)")
    return found


def _actionlint(*paths):
    """Run actionlint on ``paths`` with ShellCheck on and pyflakes off; return (exit code, findings)."""
    command = [
        _tool("actionlint"),
        "-no-color",
        "-oneline",
        f"-shellcheck={_tool('shellcheck')}",
        # No Python `run:` scripts here; an empty value switches the pyflakes
        # integration off explicitly instead of depending on what is on PATH.
        "-pyflakes=",
        *map(str, paths),
    ]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    return result.returncode, (result.stdout + result.stderr).strip()


def test_there_is_a_workflow():
    assert WORKFLOWS, "no workflow found under .github/workflows"


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_workflow_passes_actionlint(workflow):
    returncode, findings = _actionlint(workflow.relative_to(ROOT))
    assert returncode == 0 and not findings, f"actionlint found problems:\n{findings}"


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        # An input the action does not have.
        ("      - uses: actions/checkout@v7\n        with:\n          no-such-input: 1\n", "no-such-input"),
        # A job that needs a job that does not exist.
        ("      - run: echo hi\n    needs: [nowhere]\n", "nowhere"),
        # A shell script ShellCheck objects to (SC2086: unquoted variable).
        ("      - run: rm -rf $TARGET/build\n", "SC2086"),
    ],
    ids=["unknown-input", "missing-need", "shellcheck"],
)
def test_actionlint_catches_broken_workflows(tmp_path, snippet, expected):
    """The linter really checks: a workflow with a known mistake is reported."""
    workflow = tmp_path / "broken.yml"
    workflow.write_text(
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n" + snippet,
        encoding="utf8",
    )
    returncode, findings = _actionlint(workflow)
    assert returncode != 0
    assert expected in findings, findings


def test_ci_script_passes_shellcheck():
    """The script CI runs (`.ci/run`) is clean under ShellCheck too."""
    result = subprocess.run(
        [_tool("shellcheck"), str(ROOT / ".ci" / "run")], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
