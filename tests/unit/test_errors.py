"""The one exception tree: every error personae defines lives in ``errors.py`` and is drawn there.

Why a test: an exception class defined beside the code that raises it (as ``AuthError``,
``RateLimited``, ``JournalBusy`` and ``Overloaded`` once were) escapes ``except PersonaeError``
and the CLI's and API's handling of it, and a tree drawn by hand goes stale silently.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import personae
from personae import errors
from personae.errors import PersonaeError


def _all_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(personae.__path__, "personae."):
        importlib.import_module(info.name)
        names.append(info.name)
    return names


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def _personae_exceptions() -> set[type[Exception]]:
    """Every ``Exception`` subclass personae's modules define (nested ones too), warnings aside."""
    _all_modules()
    return {
        cls
        for cls in _subclasses(Exception)
        if (cls.__module__ == "personae" or cls.__module__.startswith("personae."))
        and not issubclass(cls, Warning)
    }


def _defined_in_errors() -> dict[str, type[Exception]]:
    return {
        name: obj
        for name, obj in vars(errors).items()
        if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == errors.__name__
    }


def _drawn_tree() -> dict[str, tuple[str | None, list[str]]]:
    """The docstring's tree: name → (drawn parent, drawn extra bases such as ``ValueError``)."""
    doc = errors.__doc__ or ""
    block = doc.split("::", 1)[1].split("\n\n", 2)[1]
    tree: dict[str, tuple[str | None, list[str]]] = {}
    stack: list[str] = []
    for line in block.splitlines():
        m = re.match(r"^ {4}((?:[│ ] {3})*)([├└]── )?(\w+)(?:\(([\w, ]+)\))?", line)
        assert m, f"cannot read the tree line {line!r}"
        depth = len(m.group(1)) // 4 + (1 if m.group(2) else 0)
        name, extra = m.group(3), m.group(4)
        del stack[depth:]
        tree[name] = (stack[-1] if stack else None, [b.strip() for b in extra.split(",")] if extra else [])
        stack.append(name)
    return tree


def test_every_exception_is_a_personae_error_defined_in_errors() -> None:
    found = _personae_exceptions()
    assert PersonaeError in found  # the walk saw the package
    outside = sorted(f"{c.__module__}.{c.__qualname__}" for c in found if not issubclass(c, PersonaeError))
    assert not outside, f"not under PersonaeError: {outside}"
    elsewhere = sorted(f"{c.__module__}.{c.__qualname__}" for c in found if c.__module__ != errors.__name__)
    assert not elsewhere, f"define these in personae/errors.py: {elsewhere}"


def test_the_docstring_draws_every_class_under_its_parent() -> None:
    tree = _drawn_tree()
    classes = _defined_in_errors()
    assert sorted(tree) == sorted(classes), "errors.py's docstring tree and its classes differ"
    for name, cls in classes.items():
        parent, extra = tree[name]
        tree_bases = [b for b in cls.__bases__ if issubclass(b, PersonaeError)]
        assert [b.__name__ for b in tree_bases] == ([parent] if parent else []), name
        assert [b.__name__ for b in cls.__bases__ if b not in tree_bases and b is not Exception] == extra, (
            name
        )


def test_every_error_has_an_exit_code_for_the_cli() -> None:
    for cls in _defined_in_errors().values():
        assert isinstance(cls.exit_code, int) and cls.exit_code > 0, cls.__name__
