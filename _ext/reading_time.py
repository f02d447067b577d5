"""Sphinx extension: each page shows its reading time under its title.

The time is computed, not typed: the words of the page's prose (its text
outside code cells, code blocks, outputs and math) divided by a reading speed
(``reading_time_words_per_minute``, 200 by default), rounded up to whole
minutes, plus ``reading_time_seconds_per_equation`` (10 s by default) for each
display equation.  The line is written under the page's first title as
``<p class="reading-time">``.  Pages listed in ``reading_time_exclude``
(docnames) get none, nor do reference pages (those that document Python
objects with autodoc): they are looked up, not read.
"""

from __future__ import annotations

import math
import re
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx

WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
# Nodes whose text a reader does not read as prose.
SKIPPED = (
    nodes.literal_block,
    nodes.math,
    nodes.math_block,
    nodes.raw,
    nodes.comment,
    nodes.system_message,
    nodes.title,
)
# Classes of the containers myst-nb puts code cells' sources and outputs in.
CODE_CLASSES = {"cell_input", "cell_output", "output"}


def _is_code(node: nodes.Node) -> bool:
    while node is not None:
        if isinstance(node, SKIPPED):
            return True
        if isinstance(node, nodes.Element) and CODE_CLASSES & set(
            node.get("classes", [])
        ):
            return True
        node = node.parent
    return False


def count_words(doctree: nodes.Node) -> int:
    """Count the words of the prose in ``doctree`` (code, outputs, math excluded)."""
    total = 0
    for text in doctree.findall(nodes.Text):
        if not _is_code(text.parent):
            total += len(WORD.findall(text.astext()))
    return total


def count_display_math(doctree: nodes.Node) -> int:
    """Count the display equations in ``doctree``."""
    return sum(1 for _ in doctree.findall(nodes.math_block))


def reading_minutes(
    words: int, equations: int, words_per_minute: int, seconds_per_equation: int
) -> int:
    """Return the reading time in whole minutes, at least one."""
    minutes = words / words_per_minute + equations * seconds_per_equation / 60
    return max(1, math.ceil(minutes))


def add_reading_time(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    if app.builder.format != "html" or docname in app.config.reading_time_exclude:
        return
    if next(iter(doctree.findall(addnodes.desc)), None) is not None:
        return  # an API reference page
    section = next(iter(doctree.findall(nodes.section)), None)
    if (
        section is None
        or not section.children
        or not isinstance(section[0], nodes.title)
    ):
        return
    words = count_words(doctree)
    equations = count_display_math(doctree)
    minutes = reading_minutes(
        words,
        equations,
        app.config.reading_time_words_per_minute,
        app.config.reading_time_seconds_per_equation,
    )
    line = nodes.paragraph(
        "",
        f"{minutes} min read · {words:,} words",
        classes=["reading-time"],
    )
    line["reading-time-minutes"] = minutes
    section.insert(1, line)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("reading_time_words_per_minute", 200, "html", int)
    app.add_config_value("reading_time_seconds_per_equation", 10, "html", int)
    app.add_config_value("reading_time_exclude", [], "html", list)
    app.connect("doctree-resolved", add_reading_time)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
