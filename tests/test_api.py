"""The public API is documented completely, and the API page shows all of it.

For every name in ``elbo_grad.__all__`` (and every public method and property
of a public class) the docstring is parsed with numpydoc's ``docscrape`` and
must have

* a one-line summary;
* a Parameters section that names exactly the arguments of the signature, in
  order, each with a type (shapes go there) and a description;
* a Returns section, each value described, if the code returns something;
* a Raises section if it takes arguments (bad input must fail loudly, and the
  reader must know how);
* an Examples section (``make test`` runs it as a doctest: pytest collects
  ``src/`` with ``--doctest-modules``);
* for the names in ``__all__`` themselves, a Notes section: the identity the
  code implements.

A property needs a summary only; a public data attribute of a class must be
listed in the class's Attributes section.  Finally the API page
(``chapters/api.md``) must document every name, through ``automodule`` with
``:members:``, which follows ``__all__``; after ``make book`` the built page
is checked too.
"""

from __future__ import annotations

import ast
import inspect
import pathlib
import re
import textwrap
import warnings

import pytest
from numpydoc.docscrape import NumpyDocString

import elbo_grad

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "elbo_grad"
API_SOURCE = ROOT / "chapters" / "api.md"
API_BUILT = ROOT / "_build" / "html" / "chapters" / "api.html"

PUBLIC_NAMES = [name for name in elbo_grad.__all__ if name != "__version__"]


def public_members(cls):
    """Yield ``(name, kind, object)`` for the public members of ``cls`` (inherited ones too)."""
    for name in sorted(dir(cls)):
        if name.startswith("_"):
            continue
        static = inspect.getattr_static(cls, name)
        if isinstance(static, property):
            yield name, "property", static
        elif isinstance(static, (classmethod, staticmethod)):
            yield name, "method", static.__func__
        elif inspect.isfunction(static):
            yield name, "method", static
        else:
            yield name, "attribute", static


def documented_objects():
    """Every callable of the public API, as ``(dotted name, kind, object)``."""
    for name in PUBLIC_NAMES:
        obj = getattr(elbo_grad, name)
        if inspect.isclass(obj):
            yield name, "class", obj
            for member, kind, member_obj in public_members(obj):
                yield f"{name}.{member}", kind, member_obj
        else:
            yield name, "function", obj


DOCUMENTED = list(documented_objects())
CALLABLES = [entry for entry in DOCUMENTED if entry[1] in ("class", "function", "method")]
PROPERTIES = [entry for entry in DOCUMENTED if entry[1] == "property"]
ATTRIBUTES = [entry for entry in DOCUMENTED if entry[1] == "attribute"]


def parse(obj) -> NumpyDocString:
    """The numpydoc sections of ``obj``'s docstring; an unknown or malformed section is an error."""
    text = obj.__doc__ if inspect.isclass(obj) else inspect.getdoc(obj)
    assert text and text.strip(), "no docstring"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return NumpyDocString(inspect.cleandoc(text))


def signature_parameters(obj) -> list[str]:
    """The argument names a caller passes (without ``self``/``cls``)."""
    names = []
    for parameter in inspect.signature(obj).parameters.values():
        if parameter.name in ("self", "cls") and not names:
            continue
        prefix = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}
        names.append(prefix.get(parameter.kind, "") + parameter.name)
    return names


def returns_something(function) -> bool:
    """True if ``function``'s own body has a ``return`` with a value (nested functions ignored)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function))).body[0]

    def returns(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                continue
            if isinstance(child, ast.Return) and child.value is not None:
                if not (isinstance(child.value, ast.Constant) and child.value.value is None):
                    yield child
            yield from returns(child)

    return any(returns(tree))


def test_all_names_exist_and_are_unique():
    assert len(set(elbo_grad.__all__)) == len(elbo_grad.__all__), "duplicate names in __all__"
    for name in elbo_grad.__all__:
        assert hasattr(elbo_grad, name), f"elbo_grad.__all__ lists {name!r}, which does not exist"
    assert isinstance(elbo_grad.__version__, str)


def test_public_api_is_not_empty():
    assert CALLABLES and PROPERTIES


@pytest.mark.parametrize(("name", "kind", "obj"), CALLABLES, ids=[entry[0] for entry in CALLABLES])
def test_callable_docstring_is_complete(name, kind, obj):
    doc = parse(obj)
    problems = []
    if not "".join(doc["Summary"]).strip():
        problems.append("no one-line summary")

    expected = signature_parameters(obj)
    documented = [
        part.strip() for parameter in doc["Parameters"] for part in parameter.name.split(",")
    ]
    if documented != expected:
        problems.append(f"Parameters section lists {documented}, the signature has {expected}")
    for parameter in doc["Parameters"]:
        if not parameter.type.strip():
            problems.append(f"parameter {parameter.name!r} has no type")
        if not "".join(parameter.desc).strip():
            problems.append(f"parameter {parameter.name!r} has no description")

    if kind != "class" and returns_something(obj):
        if not doc["Returns"]:
            problems.append("no Returns section, but the code returns a value")
        for value in doc["Returns"]:
            if not "".join(value.desc).strip():
                problems.append(f"return value {value.name!r} has no description")

    if expected and not doc["Raises"]:
        problems.append("no Raises section, but it takes arguments")
    for error in doc["Raises"]:
        if not "".join(error.desc).strip():
            problems.append(f"raised {error.name!r} has no description")

    if not "".join(doc["Examples"]).strip():
        problems.append("no Examples section")
    elif ">>>" not in "\n".join(doc["Examples"]):
        problems.append("the Examples section has no doctest (>>>)")

    if kind in ("class", "function") and not "".join(doc["Notes"]).strip():
        problems.append("no Notes section (the identity it implements)")

    assert not problems, f"elbo_grad.{name}: " + "; ".join(problems)


@pytest.mark.parametrize(("name", "kind", "obj"), PROPERTIES, ids=[entry[0] for entry in PROPERTIES])
def test_property_has_summary(name, kind, obj):
    doc = parse(obj.fget)
    assert "".join(doc["Summary"]).strip(), f"elbo_grad.{name}: no one-line summary"


@pytest.mark.parametrize(("name", "kind", "obj"), ATTRIBUTES, ids=[entry[0] for entry in ATTRIBUTES])
def test_class_attribute_is_listed_in_attributes_section(name, kind, obj):
    class_name, attribute = name.split(".")
    doc = parse(getattr(elbo_grad, class_name))
    listed = [part.strip() for entry in doc["Attributes"] for part in entry.name.split(",")]
    assert attribute in listed, f"elbo_grad.{name} is not in {class_name}'s Attributes section"


def test_api_page_source_documents_all_of_dunder_all():
    """``automodule`` with ``:members:`` and no explicit list documents exactly ``__all__``."""
    text = API_SOURCE.read_text()
    match = re.search(r"^\.\. automodule:: elbo_grad\s*$((?:\n +:[\w-]+:.*)*)", text, flags=re.MULTILINE)
    assert match, "chapters/api.md must contain `.. automodule:: elbo_grad`"
    options = dict(re.findall(r":([\w-]+):(.*)", match.group(1)))
    assert "members" in options and not options["members"].strip(), (
        ":members: must be given without a list, so that __all__ decides"
    )
    assert "ignore-module-all" not in options
    assert "__version__" in text


def test_built_api_page_lists_every_public_name():
    if not API_BUILT.exists():
        pytest.skip("the book is not built (make book); the source page was checked instead")
    sources = [API_SOURCE, *PACKAGE.glob("*.py")]
    if API_BUILT.stat().st_mtime < max(path.stat().st_mtime for path in sources):
        pytest.skip("the built API page is older than the package (make book rebuilds it)")
    anchors = set(re.findall(r'id="(elbo_grad\.[\w.]+)"', API_BUILT.read_text()))
    expected = {f"elbo_grad.{name}" for name, kind, _ in DOCUMENTED if kind != "attribute"}
    missing = sorted(expected - anchors)
    assert not missing, f"not on the built API page: {missing}"
