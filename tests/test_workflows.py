"""What the GitHub workflow and the build configuration promise.

The workflow's syntax, expressions and shell steps are linted by actionlint
and ShellCheck in ``make lint``; this module checks what a linter cannot:
that the workflow tests every push and pull request, tests the version floors
that ``pyproject.toml`` declares, publishes only what passed, and builds the
book with the repository's own address; and that ``tools/book_config.py``
turns that one address into every repository and launch button, and a build
without it into none.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
sys.path.insert(0, str(ROOT / "tools"))

import book_config  # noqa: E402  (a script in tools/, not a package)


@pytest.fixture(scope="module")
def workflow():
    text = WORKFLOW.read_text(encoding="utf8")
    # YAML 1.1 reads the key `on` as True.
    data = yaml.safe_load(text)
    data["on"] = data.pop(True)
    return data


def _pyproject_text() -> str:
    return (ROOT / "pyproject.toml").read_text(encoding="utf8")


def test_tests_run_on_every_push_and_pull_request(workflow):
    assert "push" in workflow["on"] and "pull_request" in workflow["on"]
    # No branch filter: every push, on any branch.
    assert not (workflow["on"]["push"] or {}).get("branches")
    steps = workflow["jobs"]["test"]["steps"]
    assert any(step.get("run", "").strip() == "bash .ci/run" for step in steps)


def test_floors_job_uses_the_declared_floors(workflow):
    job = workflow["jobs"]["floors"]
    python = next(
        step["with"]["python-version"]
        for step in job["steps"]
        if step.get("uses", "").startswith("actions/setup-python")
    )
    requires = re.search(r'requires-python\s*=\s*">=([0-9.]+)"', _pyproject_text())
    assert requires, "pyproject.toml declares no requires-python floor"
    assert python == requires.group(1)

    # The shell line that reads NumPy's floor really finds it in pyproject.toml.
    script = next(
        step["run"] for step in job["steps"] if "floor=" in step.get("run", "")
    )
    sed = re.search(r"floor=\$\((sed .*) pyproject\.toml\)", script)
    assert sed, script
    found = subprocess.run(
        ["bash", "-c", sed.group(1) + " pyproject.toml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    declared = re.search(r'"numpy>=([0-9.]+)', _pyproject_text())
    assert declared and found == declared.group(1)


def test_only_tested_builds_are_published(workflow):
    deploy = workflow["jobs"]["deploy"]
    assert {"test", "floors", "build"} <= set(deploy["needs"])
    assert "refs/heads/main" in deploy["if"] and "pull_request" in deploy["if"]


def test_pages_build_gets_the_repository_address(workflow):
    steps = workflow["jobs"]["build"]["steps"]
    build = next(step for step in steps if step.get("name") == "Build the book")
    assert (
        build["env"]["REPOSITORY_URL"] == "https://github.com/${{ github.repository }}"
    )
    assert "REPOSITORY_URL=" in build["run"]


def _base_config():
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf8"))


def test_committed_config_has_no_repository_address():
    """No invented address: the buttons exist only in a build that is given one."""
    config = _base_config()
    assert "repository" not in config
    assert "launch_buttons" not in config
    html = config.get("html", {})
    assert not any(
        html.get(key) for key in ("use_repository_button", "use_issues_button")
    )


def test_one_address_drives_every_button():
    url = "https://github.com/example/nabla-phi"
    config = book_config.configure(_base_config(), repository_url=url + "/")
    assert config["repository"]["url"] == url
    assert config["html"]["use_repository_button"] is True
    assert config["html"]["use_issues_button"] is True
    assert config["launch_buttons"]["colab_url"].startswith("https://colab")
    assert config["launch_buttons"]["binderhub_url"] == "https://mybinder.org"


def test_without_an_address_there_are_no_buttons():
    config = book_config.configure(_base_config(), repository_url=None)
    assert config == _base_config()


@pytest.mark.parametrize(
    "url", ["http://github.com/a/b", "https://example.org/a/b", "github.com/a/b"]
)
def test_a_wrong_address_is_refused(url):
    with pytest.raises(ValueError, match="repository_url"):
        book_config.configure(_base_config(), repository_url=url)


def test_offline_config_serves_local_mathjax():
    config = book_config.configure(_base_config(), offline_mathjax="_mathjax")
    assert config["sphinx"]["config"]["mathjax_path"] == "mathjax/tex-mml-chtml.js"
    assert config["sphinx"]["config"]["html_static_path"] == ["_mathjax"]
    assert "_mathjax" in config["exclude_patterns"]


def _pins(text: str) -> dict[str, str]:
    return dict(re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)", text, flags=re.MULTILINE))


def test_pre_commit_hooks_use_the_pinned_versions():
    """A hook's tool is the version `make lint` runs, so both give one answer."""
    pinned = _pins((ROOT / "requirements.txt").read_text(encoding="utf8"))
    config = yaml.safe_load(
        (ROOT / ".pre-commit-config.yaml").read_text(encoding="utf8")
    )
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    checked = 0
    for hook in hooks:
        for requirement in hook.get("additional_dependencies", []):
            name, version = requirement.split("==")
            assert pinned.get(name) == version, (hook["id"], requirement)
            checked += 1
    assert checked >= 5
    assert {
        "ruff-check",
        "ruff-format",
        "mypy",
        "numpydoc-validation",
        "actionlint",
    } <= {hook["id"] for hook in hooks}


def test_binder_installs_the_pinned_notebook_stack():
    """Binder's environment: Python 3.11 and the versions the tests ran with."""
    pinned = _pins((ROOT / "requirements.txt").read_text(encoding="utf8"))
    pinned |= _pins((ROOT / "constraints.txt").read_text(encoding="utf8"))
    binder = (ROOT / "binder" / "requirements.txt").read_text(encoding="utf8")
    wanted = _pins(binder)
    assert {"numpy", "sympy", "matplotlib", "myst-nb"} <= set(wanted)
    for name, version in wanted.items():
        assert pinned.get(name) == version, (name, version)
    assert re.search(r"^-e \.$", binder, flags=re.MULTILINE), "the package itself"
    runtime = (ROOT / "binder" / "runtime.txt").read_text(encoding="utf8").strip()
    assert runtime == "python-3.11"
