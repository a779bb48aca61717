"""``autoal campaign``: thin click wrappers around :class:`autoal.campaign.Campaign`.

Every :class:`~autoal.campaign.CampaignError` becomes ``error: ...`` on standard error with
exit code 2. Torch is imported only by the commands that train (query, status, export
--model), so teach and undo start fast.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from autoal.campaign.config import DEFAULT_STRATEGY
from autoal.campaign.errors import CampaignError
from autoal.campaign.results import QueryResult
from autoal.campaign.web import serve
from autoal.campaign.workflow import Campaign

__all__ = ["campaign"]

_DIR = click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
_ACCEPT = click.option(
    "--accept-changed-data", is_flag=True,
    help="Continue although the data changed since the campaign last used it.",
)


@contextmanager
def _errors() -> Iterator[None]:
    from autoal.errors import InputError

    try:
        yield
    except CampaignError as err:
        raise InputError(str(err)) from None


@contextmanager
def _opened(directory: Path, accept: bool = False) -> Iterator[Campaign]:
    with _errors():
        c = Campaign.open(directory, accept_changed_data=accept)
        try:
            yield c
        finally:
            c.close()


class _Group(click.Group):
    """Ctrl-C in any command: one line and exit 130 (every write is one transaction or an
    atomic file replace, so an interrupted command leaves the previous state); too little
    scratch space for a large pool's MC draws: one line and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        from autoal.data.draws_file import ScratchSpaceError
        from autoal.errors import WriteError

        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("interrupted; nothing was written", err=True)
            ctx.exit(130)
        except ScratchSpaceError as err:  # checked before the query's work: nothing changed
            raise WriteError(f"{err.strerror}; the campaign was not changed") from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
def campaign() -> None:
    """Label your own data: the model says what to label next; labels are never lost.

    \b
      autoal campaign init DIR --data photos/ --classes cat,dog
      autoal campaign query DIR -n 20 --format csv > batch.csv
      (fill in the label column of batch.csv)
      autoal campaign teach DIR batch.csv
      autoal campaign status DIR
    """


@campaign.command()
@_DIR
@click.option("--data", required=True, type=click.Path(path_type=Path),
              help="A CSV, an .npz, a folder of images (class sub-folders = labeled), or "
                   "a .npy of vectors / a folder of .npy shards (memory-mapped; item id = "
                   "row number).")
@click.option("--classes", required=True, help="Class names, comma-separated: a,b,c.")
@click.option("--strategy", default=DEFAULT_STRATEGY, show_default=True,
              help="Query strategy (see `autoal strategies`); margin is the default because "
                   "AutoAL is not at least as good in the benchmark (docs/RESULTS.md 6c); "
                   "tcm is better with few labels.")
@click.option("--model", default="auto", show_default=True,
              help="auto (cnn for images, mlp for vectors), mlp, cnn, sklearn:ClassName "
                   "(e.g. sklearn:LogisticRegression) or a pickled estimator (.pkl).")
@click.option("--features", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Your own feature vectors for the model: a .npy (one row per item, "
                   "in data order; images: their relative paths sorted) or a CSV with an "
                   "id column.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--epochs", type=int, default=20, show_default=True, help="Training epochs.")
@click.option("--label-column", default="label", show_default=True,
              help="CSV column with labels already known.")
@click.option("--id-column", default="id", show_default=True, help="CSV column of item ids.")
@click.option("--audit", type=float, default=0.1, show_default=True,
              help="Share of each batch drawn at random to estimate accuracy (0: none).")
def init(directory: Path, data: Path, classes: str, strategy: str, model: str,
         features: Path | None, seed: int, epochs: int, label_column: str, id_column: str,
         audit: float) -> None:
    """Start a campaign in DIRECTORY on the data at --data."""
    with _errors():
        if not data.exists():
            raise CampaignError(f"--data {data}: no such file or folder")
        c = Campaign.init(directory, data, classes, strategy=strategy, model=model, seed=seed,
                          epochs=epochs, label_column=label_column, id_column=id_column,
                          audit=audit, features=features)
        try:
            for note in c.notes:
                click.echo(f"note: {note}", err=True)
            st = c.status()
        finally:
            c.close()
    click.echo(
        f"started a campaign in {directory}: {st.items} items ({st.labeled} labeled), "
        f"classes {', '.join(c.config.classes)}; strategy {c.config.strategy}, "
        f"model {c.config.model}"
    )
    click.echo(f"next: autoal campaign query {directory} -n 20")


def _format_query(result: QueryResult, fmt: str) -> str:
    rows = [
        (i.id, i.source, i.guess or "", "" if i.confidence is None else f"{i.confidence:.4f}")
        for i in result.items
    ]
    audit = sum(1 for i in result.items if i.audit)
    if fmt == "json":
        return json.dumps(result.to_dict(), indent=1)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["id", "source", "guess", "confidence", "label"])
        writer.writerows((*r, "") for r in rows)
        return buf.getvalue().rstrip("\n")
    header = ("id", "source", "guess", "confidence")
    widths = [max([len(h)] + [len(r[k]) for r in rows]) for k, h in enumerate(header)]
    lines = [
        f"round {result.round}{' (pending batch, unchanged)' if result.reused else ''}: "
        f"{len(rows)} items by {result.method}, model trained on {result.n_labeled} labels"
    ]
    for r in (header, *rows):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    if audit:
        lines.append(f"{audit} of these items were drawn at random for the accuracy estimate "
                     "(no guess shown); label them like the others")
    return "\n".join(lines)


@campaign.command()
@_DIR
@click.option("-n", "--n", "n", type=int, required=True, help="How many items to label next.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True, help="csv: with a header and an empty label column to fill.")
@click.option("--refresh", is_flag=True, help="Pick a new batch although nothing was taught.")
@_ACCEPT
def query(directory: Path, n: int, fmt: str, refresh: bool, accept_changed_data: bool) -> None:
    """Train on the labels so far and list the next items to label."""
    with _opened(directory, accept_changed_data) as c:
        if n < 1:
            raise CampaignError(f"-n must be at least 1, got {n}")
        result = c.query(n, refresh=refresh)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(_format_query(result, fmt))


@campaign.command()
@_DIR
@click.argument("labels", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--relabel", is_flag=True, help="Allow changing labels given before.")
@_ACCEPT
def teach(directory: Path, labels: Path, relabel: bool, accept_changed_data: bool) -> None:
    """Add the labels in LABELS: a CSV with columns id,label (label `skip` excludes an item)
    or a Label Studio JSON export (.json) of the tasks `export --format label-studio` wrote.

    Every row is checked first; on any problem all are listed and nothing is written.
    """
    with _opened(directory, accept_changed_data) as c:
        r = c.teach(labels, relabel=relabel)
        st = c.status()
    parts = [f"{r.added} new"]
    if r.relabeled:
        parts.append(f"{r.relabeled} relabeled")
    if r.skipped:
        parts.append(f"{r.skipped} skipped")
    if r.unchanged:
        parts.append(f"{r.unchanged} unchanged")
    if r.ignored_blank:
        parts.append(f"{r.ignored_blank} rows without a label ignored")
    click.echo(f"taught {labels}: {', '.join(parts)}; now {st.labeled} labeled, "
               f"{st.skipped} skipped, {st.pending} pending")


@campaign.command()
@_DIR
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.option("--no-estimate", is_flag=True, hidden=True,
              help="Ignored (the estimate reads the database only).")
@_ACCEPT
def status(directory: Path, as_json: bool, no_estimate: bool, accept_changed_data: bool) -> None:
    """Counts per class, the accuracy estimate per round, and whether to stop labeling."""
    with _opened(directory, accept_changed_data) as c:
        st = c.status()
    if as_json:
        click.echo(json.dumps(st.to_dict(), indent=1))
        return
    click.echo(f"campaign {directory}: {st.items} items, data {st.data_path}")
    click.echo(f"  labeled {st.labeled}, pending {st.pending}, skipped {st.skipped}, "
               f"unlabeled {st.unlabeled}")
    width = max(len(k) for k in st.per_class)
    for name, count in st.per_class.items():
        click.echo(f"    {name.ljust(width)}  {count}")
    click.echo(f"  rounds {st.rounds}, teaches {st.teaches}; strategy {st.strategy}, "
               f"model {st.model}")
    est = st.accuracy_estimate
    if est is None:
        click.echo(f"  accuracy: {st.accuracy_note}")
    else:
        click.echo(f"  estimated accuracy on the unlabeled items {est['value']:.3f} (95% "
                   f"interval {est['low']:.3f}-{est['high']:.3f}; random audit of "
                   f"{est['labels']} labels, model of round {est['round']})")
    for line in _history_lines(st.history):
        click.echo(line)
    click.echo(f"  stopping rule ({st.stopping['rule']}): {st.stopping['reason']}")
    if st.last_round and st.last_round.get("weights"):
        weights: dict[str, Any] = st.last_round["weights"]
        ranked = sorted(weights.items(), key=lambda kv: -float(kv[1] or 0))
        click.echo(f"  round {st.last_round['round']} candidate weights: " + ", ".join(
            f"{k} {float(v):.3f}" for k, v in ranked))


def _history_lines(history: list[dict[str, Any]]) -> list[str]:
    """The estimate and the round-to-round agreement per model round, as a small table."""
    rows = [h for h in history if h["value"] is not None or h["kappa"] is not None]
    if not rows:
        return []
    lines = ["  round  trained on  estimate (95% interval)  audit labels  kappa  changed"]
    for h in rows:
        est = ("-" if h["value"] is None
               else f"{h['value']:.3f} ({h['low']:.3f}-{h['high']:.3f})")
        kappa = "-" if h["kappa"] is None else f"{h['kappa']:.3f}"
        changed = "-" if h["changed"] is None else f"{100 * h['changed']:.1f}%"
        lines.append(f"  {h['round']:>5}  {h['n_labeled']:>10}  {est:<23}  {h['labels']:>12}"
                     f"  {kappa:>5}  {changed:>7}")
    return lines


@campaign.command()
@_DIR
def undo(directory: Path) -> None:
    """Revert the last teach."""
    with _opened(directory) as c:
        r = c.undo()
    click.echo(f"undid the teach of {r.created_at} ({r.source or 'labels'}): {r.reverted} "
               "labels reverted")


@campaign.command()
@_DIR
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="csv: the labels (id,label,source); label-studio: the tasks (JSON).")
@click.option("--format", "fmt", type=click.Choice(["csv", "label-studio"]), default="csv",
              show_default=True,
              help="label-studio: the pending batch as Label Studio import tasks, with the "
                   "model's guesses as predictions and the labeling config next to them.")
@click.option("--model", "model_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Also train a model on all labels and save it here (torch; "
                                 "a pickle for scikit-learn models).")
@click.option("--include-skipped", is_flag=True, help="Also write the rows labeled skip.")
@click.option("--image-url-prefix", default=None,
              help="label-studio: image URL = this prefix + the path relative to the data "
                   "folder (default: Label Studio's /data/local-files/?d= URL of the file).")
@_ACCEPT
def export(directory: Path, out: Path, fmt: str, model_path: Path | None,
           include_skipped: bool, image_url_prefix: str | None,
           accept_changed_data: bool) -> None:
    """Write all labels (and optionally a trained model), or the batch for Label Studio."""
    with _opened(directory, accept_changed_data) as c:
        if fmt == "label-studio":
            if model_path is not None or include_skipped:
                raise CampaignError("--model and --include-skipped go with --format csv")
            r = c.export_label_studio(out, image_url_prefix=image_url_prefix)
        else:
            try:
                r = c.export(out, model=model_path, include_skipped=include_skipped)
            except OSError as err:  # a full disk, a read-only folder: the old file is intact
                raise CampaignError(f"{err.strerror or err}; the previous file is kept") from None
    if fmt == "label-studio":
        click.echo(f"wrote {r.n_labels} Label Studio tasks to {r.labels_path} and the "
                   f"labeling config to {r.config_path}; after labeling, export JSON from "
                   f"Label Studio and run: autoal campaign teach {directory} EXPORT.json")
        return
    click.echo(f"wrote {r.n_labels} labels to {r.labels_path}"
               + (f" and the model to {r.model_path}" if r.model_path else ""))


if __name__ == "__main__":  # pragma: no cover  (python -m autoal.campaign.cli)
    sys.exit(campaign())


campaign.add_command(serve)
