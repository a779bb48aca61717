"""CSV tables: numeric feature columns, an optional label column and an optional id column."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import NamedTuple

import numpy as np

from autoal.data.dataset import DatasetError
from autoal.data.formats.checks import check_file, check_finite

__all__ = ["Table", "parse_table", "read_table"]

class Table(NamedTuple):
    """A parsed CSV table; see :func:`parse_table`."""

    X: np.ndarray
    labels: list[str | None]
    ids: list[str]
    feature_names: list[str]
    columns: list[str]
    has_labels: bool


def parse_table(
    path: str | Path,
    *,
    label_column: str = "label",
    id_column: str = "id",
    require_label_column: bool = False,
) -> Table:
    """Parse a CSV (``.tsv``: tab-separated) table; like :func:`read_table` with more detail.

    ``columns`` is the header and ``has_labels`` whether the label column exists; with
    ``require_label_column`` a missing label column is an error that lists the columns.
    """
    path = check_file(path)
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            rows = [row for row in csv.reader(fh, delimiter=delimiter) if row]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from exc
    if not rows:
        raise DatasetError(f"{path} is empty (no header, no rows)")
    header, body = [h.strip() for h in rows[0]], rows[1:]
    if not body:
        raise DatasetError(f"{path} has a header but no rows")
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise DatasetError(f"{path}: column {dup!r} appears more than once in the header")
    lengths = np.array([len(r) for r in body])
    ragged = np.flatnonzero(lengths != len(header))
    if ragged.size:
        i = ragged[0]
        raise DatasetError(
            f"{path}: row {i} has {lengths[i]} fields but the header has {len(header)}"
        )
    cells = np.char.strip(np.array(body, dtype=str))
    feature_names = [h for h in header if h not in (label_column, id_column)]
    if not feature_names:
        raise DatasetError(f"{path}: no feature columns (columns: {', '.join(header)})")
    has_labels = label_column in header
    if require_label_column and not has_labels:
        raise DatasetError(f"{path}: no label column {label_column!r}; columns are: "
                           f"{', '.join(header)} (choose one with --label-column)")
    labels: list[str | None] = [None] * len(body)
    if has_labels:
        labels = [c or None for c in cells[:, header.index(label_column)].tolist()]
    if id_column in header:
        ids = cells[:, header.index(id_column)].tolist()
        _check_ids(ids, path)
    else:
        ids = np.arange(len(body)).astype(str).tolist()
    X = _numeric_features(cells[:, [header.index(f) for f in feature_names]], feature_names,
                          path)
    return Table(X, labels, ids, feature_names, header, has_labels)


def _check_ids(ids: list[str], path: Path) -> None:
    values, counts = np.unique(np.array(ids, dtype=str), return_counts=True)
    if "" in values:
        raise DatasetError(f"{path}: empty id in row {ids.index('')}")
    if (counts > 1).any():
        duplicate = str(values[counts > 1][0])
        raise DatasetError(f"{path}: ids must be unique; duplicate id {duplicate!r}")


def _numeric_features(cells: np.ndarray, names: list[str], path: Path) -> np.ndarray:
    cells = np.where(cells == "", "nan", cells)
    try:
        X = cells.astype(np.float64)
    except ValueError:
        bad = []
        for j, name in enumerate(names):
            try:
                cells[:, j].astype(np.float64)
            except ValueError:
                bad.append(repr(name))
        raise DatasetError(
            f"{path}: non-numeric feature columns: {', '.join(bad)} (feature columns must hold "
            "numbers; name the label column with label_column)"
        ) from None
    try:
        check_finite(X)
    except DatasetError as exc:
        row = np.flatnonzero(~np.isfinite(X).all(axis=1))[0]
        col = names[int(np.flatnonzero(~np.isfinite(X[row]))[0])]
        raise DatasetError(f"{path}: {exc}; column {col!r} is empty or not finite") from None
    return X.astype(np.float32)


def read_table(
    path: str | Path, *, label_column: str = "label", id_column: str = "id"
) -> tuple[np.ndarray, list[str | None], list[str], list[str]]:
    """Read a CSV table of numeric features with optional labels and ids.

    Parameters
    ----------
    path : str or Path
        CSV file with a header row (``.tsv``: tab-separated).
    label_column : str
        Column holding labels; it may be absent or have empty cells (unlabelled rows).
    id_column : str
        Column holding unique row ids; absent means row numbers.

    Returns
    -------
    X : numpy.ndarray
        ``float32 (N, D)``, raw (not standardised).
    labels : list of str or None
        Label text per row; ``None`` where empty or the column is missing.
    ids : list of str
        Row ids (``"0"``, ``"1"``, ... when there is no id column).
    feature_names : list of str
        Names of the ``D`` feature columns, in file order.

    Raises
    ------
    DatasetError
        Missing, empty or unreadable file, ragged rows, non-numeric feature columns (named),
        NaN/inf or empty feature cells, duplicate ids.
    """
    table = parse_table(path, label_column=label_column, id_column=id_column)
    return table.X, table.labels, table.ids, table.feature_names
