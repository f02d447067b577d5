"""Execute notebooks in place, reproducibly, so that they can be committed.

Usage::

    python tools/execute_notebooks.py                    # every notebook in chapters/
    python tools/execute_notebooks.py chapters/foo.ipynb # just these

Each notebook runs top to bottom in a fresh kernel from its own folder, with
no timing metadata written, so re-running an unchanged notebook leaves the
file byte-for-byte the same (``git diff`` stays empty).  ``make test`` then
checks, with nbval in strict mode, that the stored outputs are reproduced.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import nbformat
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parent.parent


def merge_streams(notebook: nbformat.NotebookNode) -> int:
    """Merge consecutive stream outputs of the same name, in place.

    How a kernel splits what a cell prints into ``stream`` messages depends on
    timing: on a busy machine one ``print`` loop may arrive as two stdout
    outputs instead of one, which changes the file although the text is the
    same.  Joining them makes the written notebook independent of that.
    Returns the number of outputs merged away.
    """
    merged = 0
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        outputs: list[nbformat.NotebookNode] = []
        for output in cell.outputs:
            previous = outputs[-1] if outputs else None
            if (
                previous is not None
                and output.output_type == "stream"
                and previous.output_type == "stream"
                and output.name == previous.name
            ):
                previous.text = _text(previous.text) + _text(output.text)
                merged += 1
            else:
                outputs.append(output)
        cell.outputs = outputs
    return merged


def _text(text: str | list[str]) -> str:
    return text if isinstance(text, str) else "".join(text)


def execute(path: pathlib.Path, timeout: int = 600) -> None:
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    # Keep the metadata small and free of anything machine-specific.
    notebook.metadata = {
        "kernelspec": {
            "display_name": "Python 3",
            "language": "python",
            "name": "python3",
        },
        "language_info": {"name": "python"},
    }
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    merge_streams(notebook)
    nbformat.validate(notebook)
    nbformat.write(notebook, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path)
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "chapters").rglob("*.ipynb"))
    paths = [p for p in paths if ".ipynb_checkpoints" not in p.parts]
    for path in paths:
        print(f"executing {path}", flush=True)
        execute(path.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
