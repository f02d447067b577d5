"""Sphinx extension: the book's own stylesheet (``_ext/static/book.css``).

A few rules on top of sphinx-book-theme: the logo beside the title at the
top of the sidebar, and the style of the reading-time line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

STATIC = Path(__file__).parent / "static"


def _add_static_path(app: Sphinx) -> None:
    app.config.html_static_path.append(str(STATIC))


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", _add_static_path)
    app.add_css_file("book.css")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
