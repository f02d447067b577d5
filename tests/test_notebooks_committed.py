"""Every notebook is committed executed, clean and free of machine-specific text.

nbval in strict mode only compares cells that have stored outputs, so a
notebook committed without running would test nothing; this module makes
that a failure.
"""

import itertools
import json
import pathlib
import re
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(
    p
    for p in (ROOT / "chapters").rglob("*.ipynb")
    if ".ipynb_checkpoints" not in p.parts
)
LOCAL_PATH = re.compile(r"/(?:work|tmp|root|home)/")


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found under chapters/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_executed_in_order_without_errors(path):
    notebook = json.loads(path.read_text())
    code_cells = [
        c
        for c in notebook["cells"]
        if c["cell_type"] == "code" and "".join(c["source"]).strip()
    ]
    counts = [c["execution_count"] for c in code_cells]
    assert None not in counts, f"{path.name}: a code cell was never executed"
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: not executed top to bottom once"
    )
    for cell in code_cells:
        for output in cell["outputs"]:
            assert output["output_type"] != "error", (
                f"{path.name}: a cell stored an error"
            )
            assert output.get("name") != "stderr", (
                f"{path.name}: a cell wrote to stderr (a warning?)"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_no_local_paths_or_timings(path):
    text = path.read_text()
    assert not LOCAL_PATH.search(text), f"{path.name}: contains a local machine path"
    assert '"execution": {' not in text, f"{path.name}: contains timing metadata"


# Notebooks last executed before tools/execute_notebooks.py merged stream
# outputs; re-executing them with it empties this set (strict xfail: a listed
# notebook that complies fails until it is removed from the set).
SPLIT_STREAMS_PENDING: set[str] = set()


def _split_streams(notebook: dict) -> int:
    count = 0
    for cell in notebook["cells"]:
        outputs = cell.get("outputs", [])
        for first, second in itertools.pairwise(outputs):
            if first["output_type"] == second["output_type"] == "stream":
                count += first["name"] == second["name"]
    return count


def _pending(path, pending, reason):
    if path.name in pending:
        return pytest.param(path, marks=pytest.mark.xfail(strict=True, reason=reason))
    return path


@pytest.mark.parametrize(
    "path",
    [
        _pending(p, SPLIT_STREAMS_PENDING, "not re-executed since streams are merged")
        for p in NOTEBOOKS
    ],
    ids=lambda p: p.name,
)
def test_stream_outputs_are_merged(path):
    """One output per stream and run of prints: the bytes do not depend on timing."""
    splits = _split_streams(json.loads(path.read_text()))
    assert splits == 0, f"{path.name}: {splits} stream outputs split in two"


def test_pending_names_exist():
    assert {p.name for p in NOTEBOOKS} >= SPLIT_STREAMS_PENDING


def test_execute_tool_merges_split_streams():
    """The executor joins what a busy kernel split, and nothing else."""
    nbformat = pytest.importorskip("nbformat")
    sys.path.insert(0, str(ROOT / "tools"))
    from execute_notebooks import merge_streams

    def stream(name, text):
        return nbformat.v4.new_output("stream", name=name, text=text)

    cell = nbformat.v4.new_code_cell("print(1); print(2)")
    cell.outputs = [
        stream("stdout", "a\n"),
        stream("stdout", ["b\n", "c\n"]),
        stream("stderr", "warning\n"),
        stream("stdout", "d\n"),
        nbformat.v4.new_output("execute_result", data={"text/plain": "1"}),
        stream("stdout", "e\n"),
    ]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    assert merge_streams(notebook) == 1
    outputs = notebook.cells[0].outputs
    assert [(o.output_type, o.get("name")) for o in outputs] == [
        ("stream", "stdout"),
        ("stream", "stderr"),
        ("stream", "stdout"),
        ("execute_result", None),
        ("stream", "stdout"),
    ]
    assert outputs[0].text == "a\nb\nc\n"
    nbformat.validate(notebook)
