"""Benchmark configuration: a TOML file naming data sets, regimes, variants and seeds.

The schema is documented in ``benchmarks/README.md``. :func:`load_config` reads and checks
a file completely before any work is done and reports every problem at once
(:class:`ConfigError`) and builds the grid (:mod:`autoal.bench.grid`);
:func:`autoal.bench.datacheck.check_data` then loads each data set once to check that the
protocol fits it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from autoal.bench.grid import CELL_KEYS, BenchConfig, DatasetSpec, Variant
from autoal.names import DEVICE_NAMES, MODEL_NAMES

__all__ = ["ConfigError", "DEFAULT_SEEDS", "load_config", "parse_config"]

_PROTOCOL_KEYS = {**CELL_KEYS, "seeds": "seeds"}
_DATASET_KEYS = {
    **CELL_KEYS, "regimes": "regimes", "path": "str", "label_column": "str", "features": "str",
}
_VARIANT_RESERVED = {"strategy", "datasets", "regimes", "optional", "mc_overlap"}
_TOP_KEYS = {"description", "protocol", "regimes", "datasets", "variants"}
_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]|_(?!_))*(?<!_)$")
DEFAULT_SEEDS = (0, 1, 2, 3, 4)


class ConfigError(ValueError):
    """A benchmark configuration is invalid; ``errors`` lists every problem found.

    Parameters
    ----------
    errors : list of str
        Every problem found, one line each (the message lists them all).
    source : str
        What was read (the config file's path), named at the start of the message.
    """

    def __init__(self, errors: list[str], source: str = "config") -> None:
        self.errors = list(errors)
        self.source = source
        lines = "\n".join(f"  - {e}" for e in self.errors)
        super().__init__(f"{source}: {len(self.errors)} problem(s):\n{lines}")


# ----------------------------------------------------------------------------- checking
def _type_ok(value: Any, kind: str) -> bool:
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    raise AssertionError(kind)


def _check_settings(where: str, table: Mapping[str, Any], errors: list[str]) -> dict[str, Any]:
    """Type- and range-check the cell settings in ``table``; return the valid ones."""
    out: dict[str, Any] = {}
    for key, kind in CELL_KEYS.items():
        if key not in table:
            continue
        value = table[key]
        if not _type_ok(value, kind):
            errors.append(f"{where}.{key} must be {_KIND_WORD[kind]}, got {value!r}")
            continue
        minimum = {"rounds": 0}.get(key, 1)
        if kind in ("int", "float") and (value < minimum if kind == "int" else value <= 0):
            bound = f"at least {minimum}" if kind == "int" else "positive"
            errors.append(f"{where}.{key} must be {bound}, got {value!r}")
            continue
        if key == "model" and value not in MODEL_NAMES:
            errors.append(f"{where}.model must be one of {', '.join(MODEL_NAMES)}, got {value!r}")
            continue
        if key == "device" and value not in DEVICE_NAMES and not value.startswith("cuda:"):
            errors.append(f"{where}.device must be one of {', '.join(DEVICE_NAMES)}, got {value!r}")
            continue
        out[key] = float(value) if kind == "float" else value
    return out


_KIND_WORD = {"int": "an integer", "float": "a number", "str": "a string", "bool": "true or false"}


def _unknown(where: str, table: Mapping[str, Any], allowed: set[str] | dict[str, Any],
             errors: list[str]) -> None:
    for key in table:
        if key not in allowed:
            full = f"{where}.{key}" if where else key
            errors.append(f"unknown key {full}; allowed: {', '.join(sorted(allowed))}")


def _check_name(what: str, name: str, errors: list[str]) -> bool:
    if not _NAME.match(name):
        errors.append(
            f"{what} name {name!r} must be letters, digits, '.', '-' or single '_' "
            "(it becomes part of file names, where '__' separates the parts)"
        )
        return False
    return True


def _str_list(where: str, value: Any, errors: list[str]) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or not value:
        errors.append(f"{where} must be a non-empty list of names, got {value!r}")
        return None
    return tuple(value)


def parse_config(
    data: Mapping[str, Any],
    source: str = "config",
    *,
    strategies: Callable[[], list[str]] | None = None,
    builtin_datasets: tuple[str, ...] | None = None,
) -> BenchConfig:
    """Check a parsed TOML document and build the :class:`BenchConfig`.

    Parameters
    ----------
    data:
        The document (as :func:`tomllib.load` returns it).
    source:
        Name of the document in messages (the file path).
    strategies:
        Returns the registered strategy names (default:
        :func:`autoal.strategies.available_strategies`).
    builtin_datasets:
        Built-in data set names (default: :data:`autoal.data.BUILTIN_DATASETS`).

    Raises
    ------
    ConfigError
        Listing every unknown key, unknown strategy or data set, bad type or value, and
        every strategy option its constructor rejects.
    """
    from autoal.strategies import get_strategy

    if strategies is None:
        from autoal.strategies import available_strategies

        strategies = available_strategies
    if builtin_datasets is None:
        from autoal.data import BUILTIN_DATASETS

        builtin_datasets = BUILTIN_DATASETS

    errors: list[str] = []
    _unknown("", data, _TOP_KEYS, errors)
    description = data.get("description", "")
    if not isinstance(description, str):
        errors.append(f"description must be a string, got {description!r}")
        description = ""

    def table(where: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            errors.append(f"{where} must be a table, got {value!r}")
            return {}
        return value

    # [protocol]
    protocol = table("protocol", data.get("protocol", {}))
    _unknown("protocol", protocol, _PROTOCOL_KEYS, errors)
    base = _check_settings("protocol", protocol, errors)
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    if "seeds" in protocol:
        raw = protocol["seeds"]
        if (
            not isinstance(raw, list)
            or not raw
            or not all(_type_ok(s, "int") and s >= 0 for s in raw)
        ):
            errors.append(f"protocol.seeds must be a non-empty list of integers >= 0, got {raw!r}")
        elif len(set(raw)) != len(raw):
            errors.append(f"protocol.seeds has duplicates: {raw!r}")
        else:
            seeds = tuple(raw)

    # [regimes.R]
    regimes_top = table("regimes", data.get("regimes", {}))
    regime_settings: dict[str, dict[str, Any]] = {}
    for name, value in regimes_top.items():
        where = f"regimes.{name}"
        _check_name("regime", name, errors)
        tab = table(where, value)
        _unknown(where, tab, CELL_KEYS, errors)
        regime_settings[name] = _check_settings(where, tab, errors)

    # [datasets.D]
    datasets_top = table("datasets", data.get("datasets", {}))
    if not datasets_top:
        errors.append("the config lists no data sets: add a [datasets.NAME] table")
    datasets: dict[str, DatasetSpec] = {}
    resolved: dict[str, dict[str, dict[str, Any]]] = {}
    for name, value in datasets_top.items():
        where = f"datasets.{name}"
        name_ok = _check_name("data set", name, errors)
        tab = table(where, value)
        _unknown(where, tab, _DATASET_KEYS, errors)
        level = _check_settings(where, tab, errors)
        path = tab.get("path")
        label_column = tab.get("label_column", "label")
        if not isinstance(label_column, str):
            errors.append(f"{where}.label_column must be a string, got {label_column!r}")
            label_column = "label"
        if path is not None:
            if not isinstance(path, str):
                errors.append(f"{where}.path must be a string, got {path!r}")
                continue
            if not Path(path).expanduser().exists():
                errors.append(f"{where}.path does not exist: {path}")
            ds_source = path
        else:
            key = name.strip().lower().replace("_", "-")
            if key not in builtin_datasets:
                errors.append(
                    f"unknown data set {name!r} (datasets.{name}); built-in data sets: "
                    f"{', '.join(builtin_datasets)}; for your own files add path = \"...\""
                )
                continue
            ds_source = key
        features = tab.get("features")
        if features is not None and not isinstance(features, str):
            errors.append(f"{where}.features must be a path to a .npy file, got {features!r}")
            features = None
        elif features is not None and not Path(features).expanduser().is_file():
            errors.append(f"{where}.features does not exist: {features}")
        if not name_ok:
            continue
        datasets[name] = DatasetSpec(name, ds_source, label_column, features)
        # which regimes, with per-dataset overrides
        raw_regimes = tab.get("regimes")
        overrides: dict[str, dict[str, Any]] = {}
        raw_overrides: dict[str, Any] = {}
        if raw_regimes is None:
            errors.append(f"{where}.regimes is missing: list the regimes to run, e.g. [\"low\"]")
            continue
        if isinstance(raw_regimes, list):
            names = _str_list(f"{where}.regimes", raw_regimes, errors) or ()
            overrides = {r: {} for r in names}
        elif isinstance(raw_regimes, dict):
            if not raw_regimes:
                errors.append(f"{where}.regimes is empty")
            raw_overrides = raw_regimes
            for r, sub in raw_regimes.items():
                sub_where = f"{where}.regimes.{r}"
                sub_tab = table(sub_where, sub)
                _unknown(sub_where, sub_tab, CELL_KEYS, errors)
                overrides[r] = _check_settings(sub_where, sub_tab, errors)
        else:
            errors.append(
                f"{where}.regimes must be a list of regime names or a table of regime "
                f"overrides, got {raw_regimes!r}"
            )
            continue
        resolved[name] = {}
        for r, over in overrides.items():
            if not _check_name("regime", r, errors):
                continue
            if r not in regime_settings and not over:
                errors.append(
                    f"{where}.regimes names {r!r}, which no [regimes.{r}] table defines"
                )
                continue
            merged = {"pool_size": None, "model": "auto", "device": "auto"}
            merged.update(_loop_defaults())
            merged.update(base)
            merged.update(regime_settings.get(r, {}))
            merged.update(level)
            merged.update(over)
            given = set(protocol) | set(tab)
            for raw in (regimes_top.get(r), raw_overrides.get(r)):
                given |= set(raw) if isinstance(raw, dict) else set()
            # keys given with a bad value were reported already
            missing = [k for k in ("init", "budget", "rounds") if k not in given]
            if any(k not in merged for k in ("init", "budget", "rounds")) and not missing:
                continue
            if missing:
                errors.append(
                    f"{where} regime {r!r} does not set {', '.join(missing)} (set them in "
                    f"[regimes.{r}] or [{where}.regimes.{r}])"
                )
                continue
            resolved[name][r] = {k: merged[k] for k in CELL_KEYS}

    all_regimes = set(regime_settings) | {r for v in resolved.values() for r in v}

    # [variants]
    variants_top = table("variants", data.get("variants", {}))
    if not variants_top:
        errors.append("the config lists no variants: add a [variants] table")
    known = None
    variants: dict[str, Variant] = {}
    dropped: list[str] = []
    for name, value in variants_top.items():
        where = f"variants.{name}"
        name_ok = _check_name("variant", name, errors)
        tab = table(where, value)
        if not tab:
            continue
        strategy = tab.get("strategy")
        if not isinstance(strategy, str):
            errors.append(f"{where}.strategy must be a strategy name, got {strategy!r}")
            continue
        optional = tab.get("optional", False)
        if not isinstance(optional, bool):
            errors.append(f"{where}.optional must be true or false, got {optional!r}")
        mc_overlap = tab.get("mc_overlap", False)
        if not isinstance(mc_overlap, bool):
            errors.append(f"{where}.mc_overlap must be true or false, got {mc_overlap!r}")
            mc_overlap = False
        restrict: dict[str, tuple[str, ...] | None] = {"datasets": None, "regimes": None}
        for key, valid in (("datasets", set(datasets_top)), ("regimes", all_regimes)):
            if key in tab:
                listed = _str_list(f"{where}.{key}", tab[key], errors)
                if listed is not None:
                    bad = [n for n in listed if n not in valid]
                    if bad:
                        word = "regime" if key == "regimes" else "data set"
                        errors.append(
                            f"{where}.{key} names unknown {word}(s) "
                            f"{', '.join(map(repr, bad))}; known: {', '.join(sorted(valid))}"
                        )
                    restrict[key] = listed
        options = {k: v for k, v in tab.items() if k not in _VARIANT_RESERVED}
        if "random_state" in options:
            errors.append(f"{where}.random_state is not allowed: each cell's seed sets it")
            continue
        if known is None:
            known = list(strategies())
        if strategy not in known:
            if optional is True:
                dropped.append(name)
                continue
            errors.append(
                f"unknown strategy {strategy!r} in {where}; registered: {', '.join(known)}"
            )
            continue
        try:
            get_strategy(strategy, random_state=0, **options)
        except (TypeError, ValueError) as err:
            errors.append(f"{where}: strategy {strategy!r} rejects options {options!r}: {err}")
            continue
        if name_ok:
            variants[name] = Variant(
                name, strategy, dict(options), restrict["datasets"], restrict["regimes"],
                bool(mc_overlap),
            )
    if errors:
        raise ConfigError(errors, source)
    config = BenchConfig(description, seeds, datasets, resolved, variants, dropped)
    if not config.cells():
        raise ConfigError(["the config defines no cells (check the variants' restrictions)"],
                          source)
    return config


def _loop_defaults() -> dict[str, Any]:
    from autoal.loop import LoopConfig

    d = LoopConfig()
    return {k: getattr(d, k) for k in ("epochs", "batch_size", "lr", "mc_samples")}


def load_config(path: str | Path, **kwargs: Any) -> BenchConfig:
    """Read and check a benchmark TOML file; see :func:`parse_config`.

    Raises
    ------
    ConfigError
        When the file is missing, is not valid TOML, or fails any check.
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError([f"file not found: {path}"], str(path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError([f"not valid TOML: {err}"], str(path)) from None
    return parse_config(data, str(path), **kwargs)
