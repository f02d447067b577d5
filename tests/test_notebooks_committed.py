"""Every notebook is committed executed, clean and free of machine-specific text.

nbval in strict mode only compares cells that have stored outputs, so a
notebook committed without running would test nothing; this module makes
that a failure.
"""

import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p for p in (ROOT / "chapters").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
LOCAL_PATH = re.compile(r"/(?:work|tmp|root|home)/")


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found under chapters/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_executed_in_order_without_errors(path):
    notebook = json.loads(path.read_text())
    code_cells = [c for c in notebook["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    counts = [c["execution_count"] for c in code_cells]
    assert None not in counts, f"{path.name}: a code cell was never executed"
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: not executed top to bottom once"
    for cell in code_cells:
        for output in cell["outputs"]:
            assert output["output_type"] != "error", f"{path.name}: a cell stored an error"
            assert output.get("name") != "stderr", f"{path.name}: a cell wrote to stderr (a warning?)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_no_local_paths_or_timings(path):
    text = path.read_text()
    assert not LOCAL_PATH.search(text), f"{path.name}: contains a local machine path"
    assert '"execution": {' not in text, f"{path.name}: contains timing metadata"
