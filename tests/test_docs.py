"""Every public name is documented, and documented parameters match the signatures."""

from __future__ import annotations

import inspect
import re

import pytest

import isx_dask


def _documented_parameters(doc: str) -> list[str]:
    match = re.search(r"\n\s*Parameters\n\s*-+\n(.*?)(?:\n\s*\n\s*[A-Z][a-z ]+\n\s*-+\n|\Z)", doc, re.S)
    if not match:
        return []
    names = []
    for line in match.group(1).splitlines():
        if line and not line.startswith(" " * 8) and line.strip() and not line.strip().startswith(("-", ">>>")):
            head = line.strip().split(" : ")[0]
            if re.fullmatch(r"[*\w]+(, [*\w]+)*", head):
                names.extend(n.lstrip("*") for n in head.split(", "))
    return names


PUBLIC = [getattr(isx_dask, name) for name in isx_dask.__all__ if name != "__version__"]


@pytest.mark.parametrize("obj", PUBLIC, ids=lambda o: getattr(o, "__name__", repr(o)))
def test_public_objects_have_docstrings(obj):
    assert inspect.getdoc(obj), f"{obj!r} has no docstring"


FUNCTIONS = [obj for obj in PUBLIC if inspect.isfunction(obj)]


@pytest.mark.parametrize("func", FUNCTIONS, ids=lambda f: f.__name__)
def test_documented_parameters_match_signature(func):
    documented = _documented_parameters(inspect.getdoc(func) or "")
    actual = [p.name for p in inspect.signature(func).parameters.values()]
    assert documented, f"{func.__name__} documents no parameters"
    assert documented == actual, f"{func.__name__}: documented {documented}, signature {actual}"
