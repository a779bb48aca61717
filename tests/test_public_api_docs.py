"""Every public module, class, function and method of autoal has a docstring (baal-style)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

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
