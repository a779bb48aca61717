"""The page's keyboard: which key labels which class."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["NUMBER_KEYS", "RESERVED_KEYS", "class_keys"]

#: Keys the page uses for itself: skip, next batch, move down and up.
RESERVED_KEYS = frozenset({"s", "n", "j", "k"})
#: Keys of the first ten classes when class names cannot be their own keys.
NUMBER_KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "0")


def class_keys(classes: Sequence[str]) -> tuple[dict[str, str], bool]:
    """The key of each class, and whether the keys are the class names themselves.

    When every class name is a single character that the page does not use for itself
    (``s``, ``n``, ``j``, ``k``), pressing the name labels the class (classes ``0``-``9``:
    key ``3`` labels ``"3"``). Otherwise the first ten classes get ``1``-``9``, ``0`` in order
    (the page then shows the mapping) and later classes have no key.

    Parameters
    ----------
    classes : sequence of str
        The campaign's class names, in order.

    Returns
    -------
    keys : dict
        Class name -> key.
    own : bool
        True when each key is its class's name.
    """
    if all(len(c) == 1 and c not in RESERVED_KEYS for c in classes):
        return {c: c for c in classes}, True
    return dict(zip(classes, NUMBER_KEYS, strict=False)), False
