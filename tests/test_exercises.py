"""Every chapter ends with exercises, and every exercise has a solution.

A chapter (every notebook in ``chapters/``, and every Markdown page that is
not on the allow-list below) must have a section headed "Exercises" holding
at least two ``{exercise}`` directives from sphinx-exercise. Every exercise,
there or elsewhere in the chapter, has a label and exactly one solution that
names it: either gated (``{solution-start} label`` ... ``{solution-end}``, so
the solution may hold code cells, which nbval then executes and checks like
any other cell) or a plain ``{solution} label``, hidden in a dropdown in both
cases (``:class: dropdown``) so that the reader tries first.
"""

from __future__ import annotations

import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"

# Pages that are not chapters and so have no exercises: the landing page, the
# preface, the bibliography and the API reference. Nothing else may be added
# here; a notebook is always a chapter.
NOT_CHAPTERS = {"index.md", "preface.md", "bibliography.md", "api.md"}

PAGES = sorted(
    path
    for path in CHAPTERS.rglob("*")
    if path.suffix in (".ipynb", ".md")
    and ".ipynb_checkpoints" not in path.parts
    # chapters/api/: the API reference's pages, one per topic; not chapters either.
    and path.relative_to(CHAPTERS).parts[0] != "api"
)
CHAPTER_PAGES = [path for path in PAGES if path.name not in NOT_CHAPTERS]

DIRECTIVE = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{(?P<name>exercise|solution|solution-start|solution-end)\}[ \t]*(?P<argument>[^\n]*)\n"
    r"(?P<options>(?:[ \t]*:[\w-]+:[^\n]*\n)*)",
    flags=re.MULTILINE,
)
EXERCISES_HEADING = re.compile(r"^#{1,3} Exercises[ \t]*$", flags=re.MULTILINE)
ANY_HEADING = re.compile(r"^#{1,3} ", flags=re.MULTILINE)


def page_text(path: pathlib.Path) -> str:
    """The page's Markdown; for a notebook, its Markdown cells in order, code cells as a marker line."""
    if path.suffix == ".md":
        return path.read_text()
    notebook = json.loads(path.read_text())
    parts = []
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        parts.append(source if cell["cell_type"] == "markdown" else "<code cell>")
    return "\n\n".join(parts) + "\n"


def directives(text: str) -> list[dict]:
    found = []
    for match in DIRECTIVE.finditer(text):
        options = dict(re.findall(r":([\w-]+):[ \t]*([^\n]*)", match.group("options")))
        found.append(
            {
                "name": match.group("name"),
                "argument": match.group("argument").strip(),
                "options": options,
                "position": match.start(),
            }
        )
    return found


def exercises_section(text: str) -> tuple[int, int] | None:
    """Start and end offsets of the "Exercises" section, or None."""
    heading = EXERCISES_HEADING.search(text)
    if heading is None:
        return None
    level = len(heading.group(0)) - len(heading.group(0).lstrip("#"))
    end = len(text)
    for match in ANY_HEADING.finditer(text, heading.end()):
        other_level = len(match.group(0).strip())
        if other_level <= level:
            end = match.start()
            break
    return heading.start(), end


def test_allow_list_holds_only_the_front_and_back_matter():
    assert NOT_CHAPTERS == {"index.md", "preface.md", "bibliography.md", "api.md"}
    assert all(name.endswith(".md") for name in NOT_CHAPTERS)


def test_every_notebook_is_checked():
    notebooks = [path for path in PAGES if path.suffix == ".ipynb"]
    assert notebooks and all(path in CHAPTER_PAGES for path in notebooks)


def problems(text: str) -> list[str]:
    """What is wrong with the exercises of a chapter's Markdown (empty if nothing)."""
    section = exercises_section(text)
    if section is None:
        return ["no section headed 'Exercises'"]
    found = directives(text)
    issues = []

    exercises = [d for d in found if d["name"] == "exercise"]
    labels = [d["options"].get("label", "").strip() for d in exercises]
    if not all(labels):
        issues.append("every {exercise} needs a :label:")
    if len(set(labels)) != len(labels):
        issues.append("duplicate exercise labels")
    in_section = [d for d in exercises if section[0] <= d["position"] < section[1]]
    if len(in_section) < 2:
        issues.append(
            f"the Exercises section has {len(in_section)} {{exercise}} directive(s), needs at least 2"
        )

    solutions = [d for d in found if d["name"] in ("solution", "solution-start")]
    for solution in solutions:
        if solution["argument"] not in labels:
            issues.append(
                f"a solution names {solution['argument']!r}, which is not an exercise label here"
            )
        if solution["options"].get("class", "").strip() != "dropdown":
            issues.append(
                f"the solution to {solution['argument']!r} must be hidden (:class: dropdown)"
            )
    solved = [solution["argument"] for solution in solutions]
    for exercise, label in zip(exercises, labels, strict=True):
        if solved.count(label) != 1:
            issues.append(
                f"exercise {label!r} has {solved.count(label)} solutions, needs exactly 1"
            )
        elif (
            next(s for s in solutions if s["argument"] == label)["position"]
            < exercise["position"]
        ):
            issues.append(f"the solution to {label!r} comes before the exercise")

    # Gated solutions come in pairs: start, (cells), end, with no nesting.
    gates = [
        d["name"] for d in found if d["name"] in ("solution-start", "solution-end")
    ]
    if gates != ["solution-start", "solution-end"] * (len(gates) // 2):
        issues.append(
            "every {solution-start} must be closed by a {solution-end} before the next one"
        )
    return issues


@pytest.mark.parametrize("path", CHAPTER_PAGES, ids=lambda p: p.name)
def test_chapter_has_exercises_with_solutions(path):
    assert not problems(page_text(path)), f"{path.name}: " + "; ".join(
        problems(page_text(path))
    )


GOOD_PAGE = """# A chapter

## Exercises

````{exercise}
:label: demo-one

Do one thing.
````

````{solution-start} demo-one
:class: dropdown
````

<code cell>

````{solution-end}
````

```{exercise}
:label: demo-two

Do another.
```

```{solution} demo-two
:class: dropdown

It is done.
```
"""


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda page: page.replace("## Exercises", "## Problems"), "no section headed"),
        (
            lambda page: page.replace(":label: demo-two", ":label: demo-one"),
            "duplicate exercise labels",
        ),
        (
            lambda page: page.replace(
                "```{solution} demo-two", "```{solution} demo-three"
            ),
            "'demo-two' has 0",
        ),
        (
            lambda page: page.replace(
                "```{solution} demo-two\n:class: dropdown", "```{solution} demo-two"
            ),
            "dropdown",
        ),
        (
            lambda page: page.replace("````{solution-end}\n````\n", ""),
            "closed by a {solution-end}",
        ),
        (
            lambda page: page.replace("## Exercises\n", "") + "\n## Exercises\n",
            "has 0 {exercise}",
        ),
    ],
)
def test_the_checker_can_fail(change, complaint):
    assert problems(GOOD_PAGE) == []
    found = problems(change(GOOD_PAGE))
    assert any(complaint in issue for issue in found), found


def test_exercise_labels_are_unique_across_the_book():
    seen: dict[str, str] = {}
    for path in CHAPTER_PAGES:
        for directive in directives(page_text(path)):
            label = directive["options"].get("label", "").strip()
            if directive["name"] == "exercise" and label:
                assert label not in seen, (
                    f"exercise label {label!r} is used in {seen[label]} and {path.name}"
                )
                seen[label] = path.name
