"""Move a bench folder's finished runs of renamed variants to their new names (checked).

    python benchmarks/rename_variants.py benchmarks/paper-cpu-v2.toml results/paper-cpu-v2 \\
        autoal=autoal-v1 autoal-global=autoal-v1-global

Each ``OLD=NEW``: every run file of variant OLD becomes the run of the config's variant NEW
(same data set, regime and seed; ``A=A`` keeps the name where only the config's preset name
changed), once checked to be exactly what NEW runs (see
:mod:`autoal.bench.rename`): for a preset renamed without changing what it does, e.g. wave
1's ``autoal`` preset, now ``autoal-v1``. Nothing is written unless every file passes. Exit
status 2 on a bad argument, config or check. ``--unverified`` also moves run files that record
no strategy parameters (written before the bench recorded them), on their options and
fingerprint alone, and marks them so.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autoal.bench.config import ConfigError, load_config
from autoal.bench.rename import RenameError, rename_runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config", type=Path, help="the bench config naming the new variants")
    parser.add_argument("out", type=Path, help="the bench output folder (with runs/)")
    parser.add_argument("renames", nargs="+", metavar="OLD=NEW")
    parser.add_argument("--unverified", action="store_true",
                        help="also move files without recorded strategy parameters "
                             "(checked by fingerprint only)")
    args = parser.parse_args(argv)
    renames: dict[str, str] = {}
    for item in args.renames:
        old, sep, new = item.partition("=")
        if not sep or not old or not new:
            print(f"error: {item!r} is not OLD=NEW", file=sys.stderr)
            return 2
        renames[old] = new
    if not (args.out / "runs").is_dir():
        print(f"error: {args.out} has no runs/ folder", file=sys.stderr)
        return 2
    try:
        moved = rename_runs(load_config(args.config), args.out, renames,
                            unverified=args.unverified)
    except (ConfigError, RenameError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for old, n in moved.items():
        print(f"{old} -> {renames[old]}: {n} run(s) moved")
    return 0


if __name__ == "__main__":
    sys.exit(main())
