"""Write a notebook from a plain-text source in the "percent" format.

Authoring helper: cells are separated by lines ``# %%`` (code) and
``# %% [markdown]`` (Markdown; each line of the cell starts with ``# ``).
The notebook (``.ipynb``) is what is committed, executed and tested; this
script only saves typing JSON by hand::

    python tools/nb.py draft.py chapters/objective.ipynb
    python tools/execute_notebooks.py chapters/objective.ipynb
"""

from __future__ import annotations

import pathlib
import re
import sys

import nbformat


def parse(text: str) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    blocks = re.split(r"^# %%(.*)$", text, flags=re.MULTILINE)
    # blocks = [preamble, header1, body1, header2, body2, ...]
    for header, body in zip(blocks[1::2], blocks[2::2]):
        body = body.strip("\n")
        if "[markdown]" in header:
            lines = [line[2:] if line.startswith("# ") else line.lstrip("#") for line in body.splitlines()]
            notebook.cells.append(nbformat.v4.new_markdown_cell("\n".join(lines)))
        else:
            notebook.cells.append(nbformat.v4.new_code_cell(body))
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index:03d}"
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return notebook


def main() -> int:
    source, target = map(pathlib.Path, sys.argv[1:3])
    nbformat.write(parse(source.read_text()), target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
