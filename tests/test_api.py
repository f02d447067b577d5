"""The public API: every name exists, and its docstring passes numpydoc's own validation.

The checks are pyproject.toml's ``[tool.numpydoc_validation]``, the same that
``numpydoc lint`` applies (``make lint``): public functions and classes need a
one-line summary, Parameters, Returns (functions) and an Example. Public
methods are exempt from ``METHOD_EXEMPT`` (no Example: the class's example
shows them); a property needs a one-line summary. ``numpydoc lint`` reads the
source without importing it and cannot tell a method from a function, so it
leaves methods and properties to this test. The examples run as doctests
(pytest collects ``src/`` with ``--doctest-modules``). The API
reference (``chapters/api/*.md``, one page per topic) documents exactly
``__all__``, and its landing page (``chapters/api.md``) indexes exactly ``__all__``.
"""

from __future__ import annotations

import inspect
import pathlib
import re

import pytest
import tomllib
from numpydoc.validate import get_validation_checks, validate

import elbo_grad

ROOT = pathlib.Path(__file__).resolve().parent.parent
API_INDEX = ROOT / "chapters" / "api.md"
API_PAGES = ROOT / "chapters" / "api"
API_BUILT = ROOT / "_build" / "html" / "chapters" / "api"
# Submodules imported on their own, documented with ``automodule``, not in ``__all__``.
OWN_MODULES = {"symbolic"}

#: numpydoc's error codes a public function or class must not produce: the
#: ``checks`` of pyproject.toml, expanded as ``numpydoc lint`` expands them.
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"][
    "numpydoc_validation"
]
CHECKS = frozenset(get_validation_checks(set(CONFIG["checks"])))
#: What a public method need not have: an Examples section.
METHOD_EXEMPT = frozenset({"EX01"})
#: A Protocol has no constructor of its own: numpydoc sees typing's placeholder
#: ``__init__(*args, **kwargs)``, which has nothing to document.
PROTOCOL_EXEMPT = frozenset({"PR01"})

PUBLIC_NAMES = [name for name in elbo_grad.__all__ if name != "__version__"]


def owner(cls, member):
    """The class whose docstring ``cls.member`` shows: its own, or the one it inherits (as Sphinx does)."""
    for base in cls.__mro__:
        static = vars(base).get(member)
        doc = getattr(
            static.fget if isinstance(static, property) else static, "__doc__", None
        )
        if doc:
            return base
    return cls


def documented():
    """Every public function, class and method as ``(path, checks)``, and every property as ``(path, None)``."""
    for name in PUBLIC_NAMES:
        obj = getattr(elbo_grad, name)
        if not callable(obj):
            continue
        protocol = inspect.isclass(obj) and getattr(obj, "_is_protocol", False)
        yield f"elbo_grad.{name}", CHECKS - PROTOCOL_EXEMPT if protocol else CHECKS
        if not inspect.isclass(obj):
            continue
        for member in sorted(dir(obj)):
            static = inspect.getattr_static(obj, member)
            if member.startswith("_") or not (
                isinstance(static, property) or inspect.isfunction(static)
            ):
                continue
            base = owner(obj, member)
            path = f"{base.__module__.split('.')[0]}.{base.__name__}.{member}"
            yield path, None if isinstance(static, property) else CHECKS - METHOD_EXEMPT


DOCUMENTED = sorted(dict(documented()).items())


def test_all_names_exist_and_are_unique():
    assert len(set(elbo_grad.__all__)) == len(elbo_grad.__all__)
    for name in elbo_grad.__all__:
        assert hasattr(elbo_grad, name), name
    assert isinstance(elbo_grad.__version__, str)


def test_the_core_names_are_public():
    for name in [
        "Family",
        "DiagonalGaussian",
        "Bernoulli",
        "Categorical",
        "Estimate",
        "elbo_gradient",
        "expectation_gradient",
        "Baseline",
        "LeaveOneOutOptimalBaseline",
        "SameBatchOptimalBaseline",
    ]:
        assert name in elbo_grad.__all__


@pytest.mark.parametrize(
    ("path", "checks"), DOCUMENTED, ids=[entry[0] for entry in DOCUMENTED]
)
def test_docstring_passes_numpydoc_validation(path, checks):
    if checks is None:  # a property: a one-line summary is enough
        cls = getattr(elbo_grad, path.split(".")[1])
        doc = inspect.getattr_static(cls, path.split(".")[2]).fget.__doc__
        assert doc and doc.strip() and "\n" not in doc.strip().split("\n\n")[0], (
            f"{path}: no one-line summary"
        )
        return
    errors = [
        f"{code}: {message}"
        for code, message in validate(path)["errors"]
        if code in checks
    ]
    assert not errors, f"{path}: " + "; ".join(errors)


def test_a_bad_docstring_fails_the_validation():
    """The validation can fail: a function documenting a wrong parameter and no Returns."""

    def f(x):
        """Do something.

        Parameters
        ----------
        y : int
            Not the argument.
        """
        return x

    elbo_grad._probe = f
    try:
        codes = {code for code, _ in validate("elbo_grad._probe")["errors"]}
    finally:
        del elbo_grad._probe
    assert {"PR01", "PR02", "RT01", "EX01"} <= codes & CHECKS
    assert {"PR01", "PR02", "RT01"} <= codes & (CHECKS - METHOD_EXEMPT)


def test_the_policy_comes_from_pyproject():
    """The test's checks are pyproject.toml's: a check removed there is not enforced here."""
    assert {"SS06", "PR01", "RT01", "EX01"} <= CHECKS
    assert not {"ES01", "SA01", "SS05"} & CHECKS
    assert METHOD_EXEMPT < CHECKS


def documented_on_pages(texts):
    """The names ``autoclass``/``autofunction`` document under ``.. currentmodule:: elbo_grad``, page by page."""
    names = []
    for text in texts:
        module = None
        for directive, argument in re.findall(
            r"^\.\. (currentmodule|py:module|automodule|autoclass|autofunction):: (\S+)",
            text,
            flags=re.MULTILINE,
        ):
            if directive in ("currentmodule", "automodule", "py:module"):
                module = argument
            elif module == "elbo_grad":
                names.append(argument)
    return names


def indexed_on_landing_page(text):
    """The names the landing page's ``autosummary`` tables list under ``.. currentmodule:: elbo_grad``."""
    names, module = [], None
    for block in re.split(r"^(?=\.\. )", text, flags=re.MULTILINE):
        if block.startswith(".. currentmodule::"):
            module = block.split("::")[1].split()[0]
        if module == "elbo_grad" and ".. autosummary::" in block:
            body = block.split(".. autosummary::", 1)[1]
            names += [
                line.strip()
                for line in body.splitlines()
                if re.fullmatch(r"   \w+", line)
            ]
    return names


def test_api_pages_document_all_of_dunder_all_once():
    """Every public name has exactly one entry, on the page of its topic."""
    pages = sorted(
        path for path in API_PAGES.glob("*.md") if path.stem not in OWN_MODULES
    )
    names = documented_on_pages(page.read_text() for page in pages)
    assert sorted(names) == sorted(set(names)), "a name is documented twice"
    assert set(names) == set(PUBLIC_NAMES)


def test_api_landing_page_indexes_all_of_dunder_all():
    names = indexed_on_landing_page(API_INDEX.read_text())
    assert sorted(names) == sorted(PUBLIC_NAMES)


def test_the_page_checks_can_fail():
    """A page that leaves a name out, and an index that lists one twice, are caught."""
    page = API_PAGES / "estimators.md"
    text = page.read_text().replace(".. autofunction:: elbo_gradient\n", "")
    assert "elbo_gradient" in documented_on_pages([page.read_text()])
    assert "elbo_gradient" not in documented_on_pages([text])
    index = API_INDEX.read_text().replace(
        "   elbo_gradient\n", "   elbo_gradient\n   elbo_gradient\n", 1
    )
    assert sorted(indexed_on_landing_page(index)) != sorted(PUBLIC_NAMES)


def test_built_api_pages_list_every_public_name():
    if not API_BUILT.is_dir():
        pytest.skip(
            "the book is not built (make book); the source pages were checked instead"
        )
    anchors = set()
    for page in API_BUILT.glob("*.html"):
        anchors |= set(re.findall(r'id="(elbo_grad\.[\w.]+)"', page.read_text()))
    missing = sorted({path for path, _ in DOCUMENTED if path.count(".") == 1} - anchors)
    assert not missing, f"not on the built API pages: {missing}"
