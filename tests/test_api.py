"""The public API: every name exists, and its docstring passes numpydoc's own validation.

Functions, classes and methods must pass the checks in ``CHECKS`` (a summary,
every parameter documented with a type and a description and in signature
order, a Returns section, an Examples section, known sections in the right
order); properties need a docstring with a summary. The examples themselves
run as doctests (pytest collects ``src/`` with ``--doctest-modules``). The API
page (``chapters/api.md``) documents exactly ``__all__``.
"""

from __future__ import annotations

import inspect
import pathlib
import re

import pytest
from numpydoc.validate import validate

import elbo_grad

ROOT = pathlib.Path(__file__).resolve().parent.parent
API_SOURCE = ROOT / "chapters" / "api.md"
API_BUILT = ROOT / "_build" / "html" / "chapters" / "api.html"

#: numpydoc's error codes that a public callable must not produce.
CHECKS = {
    "GL06",  # unknown section
    "GL07",  # sections in the wrong order
    "GL08",  # no docstring
    "SS01",  # no summary
    "SS06",  # summary longer than one line
    "PR01",  # a parameter not documented
    "PR02",  # a documented parameter that does not exist
    "PR03",  # parameters out of order
    "PR04",  # a parameter without a type
    "PR07",  # a parameter without a description
    "RT01",  # no Returns section
    "EX01",  # no Examples section
}

PUBLIC_NAMES = [name for name in elbo_grad.__all__ if name != "__version__"]


def owner(cls, member):
    """The class whose docstring ``cls.member`` shows: its own, or the one it inherits (as Sphinx does)."""
    for base in cls.__mro__:
        static = vars(base).get(member)
        doc = getattr(static.fget if isinstance(static, property) else static, "__doc__", None)
        if doc:
            return base
    return cls


def documented():
    """Every public function, class and method as ``(path, checks)``, and every property as ``(path, None)``."""
    for name in PUBLIC_NAMES:
        obj = getattr(elbo_grad, name)
        if not callable(obj):
            continue
        if not inspect.isclass(obj):
            yield f"elbo_grad.{name}", CHECKS
            continue
        protocol = getattr(obj, "_is_protocol", False)
        yield f"elbo_grad.{name}", CHECKS - {"RT01"} - ({"PR01"} if protocol else set())
        for member in sorted(dir(obj)):
            static = inspect.getattr_static(obj, member)
            if member.startswith("_") or not (isinstance(static, property) or inspect.isfunction(static)):
                continue
            base = owner(obj, member)
            path = f"{base.__module__.split('.')[0]}.{base.__name__}.{member}"
            if isinstance(static, property):
                yield path, None
            else:
                returns = inspect.signature(static).return_annotation not in ("None", None)
                yield path, frozenset(CHECKS if returns else CHECKS - {"RT01"})


DOCUMENTED = sorted(dict(documented()).items())


def test_all_names_exist_and_are_unique():
    assert len(set(elbo_grad.__all__)) == len(elbo_grad.__all__)
    for name in elbo_grad.__all__:
        assert hasattr(elbo_grad, name), name
    assert isinstance(elbo_grad.__version__, str)


def test_the_core_names_are_public():
    for name in ["Family", "DiagonalGaussian", "Bernoulli", "Categorical", "Estimate", "elbo_gradient",
                 "expectation_gradient", "Baseline", "LeaveOneOutOptimalBaseline", "SameBatchOptimalBaseline"]:
        assert name in elbo_grad.__all__


@pytest.mark.parametrize(("path", "checks"), DOCUMENTED, ids=[entry[0] for entry in DOCUMENTED])
def test_docstring_passes_numpydoc_validation(path, checks):
    if checks is None:  # a property: a one-line summary is enough
        cls = getattr(elbo_grad, path.split(".")[1])
        doc = inspect.getattr_static(cls, path.split(".")[2]).fget.__doc__
        assert doc and doc.strip() and "\n" not in doc.strip().split("\n\n")[0], f"{path}: no one-line summary"
        return
    errors = [f"{code}: {message}" for code, message in validate(path)["errors"] if code in checks]
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


def test_api_page_source_documents_all_of_dunder_all():
    """``automodule`` with ``:members:`` and no explicit list documents exactly ``__all__``."""
    text = API_SOURCE.read_text()
    match = re.search(r"^\.\. automodule:: elbo_grad\s*$((?:\n +:[\w-]+:.*)*)", text, flags=re.MULTILINE)
    assert match, "chapters/api.md must contain `.. automodule:: elbo_grad`"
    options = dict(re.findall(r":([\w-]+):(.*)", match.group(1)))
    assert "members" in options and not options["members"].strip()
    assert "ignore-module-all" not in options


def test_built_api_page_lists_every_public_name():
    if not API_BUILT.exists():
        pytest.skip("the book is not built (make book); the source page was checked instead")
    anchors = set(re.findall(r'id="(elbo_grad\.[\w.]+)"', API_BUILT.read_text()))
    missing = sorted({path for path, _ in DOCUMENTED if path.count(".") == 1} - anchors)
    assert not missing, f"not on the built API page: {missing}"
