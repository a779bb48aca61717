"""Every public module, class, function and method of autoal has a docstring (baal-style)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import autoal


def public_modules():
    for info in pkgutil.walk_packages(autoal.__path__, prefix="autoal."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        yield importlib.import_module(info.name)


def public_objects():
    seen = set()
    for module in [autoal, *public_modules()]:
        yield module.__name__, module
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)) or id(obj) in seen:
                continue
            if not getattr(obj, "__module__", "").startswith("autoal"):
                continue
            seen.add(id(obj))
            yield f"{module.__name__}.{name}", obj
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if attr.startswith("_"):
                        continue
                    if isinstance(member, property):
                        member = member.fget
                    if inspect.isfunction(member):
                        yield f"{module.__name__}.{name}.{attr}", member


OBJECTS = list(public_objects())


@pytest.mark.parametrize(("qualname", "obj"), OBJECTS, ids=[q for q, _ in OBJECTS])
def test_has_docstring(qualname, obj):
    assert inspect.getdoc(obj), f"{qualname} has no docstring"


def test_the_check_covers_the_api():
    names = {q for q, _ in OBJECTS}
    assert "autoal.strategies.get_strategy" in names
    assert "autoal.search.AutoAL.select" in names


def _documented_section(doc: str) -> str:
    """The text of a docstring's ``Parameters`` and ``Attributes`` sections (numpy style)."""
    lines = doc.splitlines()
    out: list[str] = []
    keep = False
    for i, line in enumerate(lines):
        underline = i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"}
        if underline:
            keep = line.strip() in ("Parameters", "Attributes")
            continue
        if keep and set(line.strip()) != {"-"}:
            out.append(line)
    return "\n".join(out)


def _init_arguments(cls: type) -> list[str]:
    init = cls.__dict__.get("__init__")
    if init is None:  # inherited: documented where it is defined (or not ours)
        return []
    params = inspect.signature(init).parameters.values()
    return [
        p.name for p in params
        if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


CLASSES = [(q, obj) for q, obj in OBJECTS if inspect.isclass(obj) and _init_arguments(obj)]

#: Classes (by name, so that a move between modules keeps the entry) whose docstrings do not
#: yet name every __init__ argument in a Parameters/Attributes section. Strict: a class
#: fixed while listed fails the suite, so the list only ever shrinks; keep it empty.
KNOWN_UNDOCUMENTED: frozenset[str] = frozenset()


def _mark(qualname: str, cls: type) -> object:
    if cls.__name__ in KNOWN_UNDOCUMENTED:
        return pytest.param(qualname, cls, id=qualname, marks=pytest.mark.xfail(
            strict=True, reason="known gap: see KNOWN_UNDOCUMENTED"))
    return pytest.param(qualname, cls, id=qualname)


@pytest.mark.parametrize(("qualname", "cls"), [_mark(q, c) for q, c in CLASSES])
def test_every_init_argument_is_documented(qualname, cls):
    """As baal's documentation test: each ``__init__`` argument is named in the class
    docstring's Parameters (or, for dataclasses, Attributes) section."""
    section = _documented_section(inspect.getdoc(cls) or "")
    missing = [
        name for name in _init_arguments(cls)
        if not re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", section)
    ]
    assert not missing, f"{qualname} does not document {', '.join(missing)}"


def test_the_init_check_sees_the_main_classes():
    names = {q for q, _ in CLASSES}
    assert {"autoal.ActiveLearner", "autoal.models.SklearnClassifier",
            "autoal.loop.LoopConfig"} <= names
    assert KNOWN_UNDOCUMENTED <= {c.__name__ for _, c in CLASSES}
    # the classes that were undocumented before are checked like every other
    assert {"autoal.campaign.Campaign", "autoal.search.SearchOptions",
            "autoal.report.GroupSummary", "autoal.bench.ConfigError"} <= names
