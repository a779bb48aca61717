"""Label Studio: the pending batch as import tasks, and labels from a Label Studio JSON export.

Tasks follow Label Studio's "Basic Label Studio JSON format" (a JSON list; each task a
``data`` object and, for pre-annotations, a ``predictions`` list whose ``result`` items are
``{"type": "choices", "from_name", "to_name", "value": {"choices": [name]}}``). Each task's
``data.id`` is the campaign's item id; ``data.image`` is the image (image folders) or
``data.features`` the feature values (vector data, with ``data.text`` showing them). The
labeling config to paste into the project (``<Choices name="label" ...>``) is written next to
the tasks.

The export that comes back is Label Studio's JSON export: the same tasks with
``annotations``, each with a ``result`` list. The label of a task is the single choice of its
``choices`` results in annotations that were not cancelled; tasks without one are ignored
(not labeled yet); conflicting annotations are reported like any other teach problem.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from autoal.campaign.errors import DataError

__all__ = ["FROM_NAME", "label_config", "make_tasks", "read_export", "write_tasks"]

#: ``name`` of the ``<Choices>`` control in the labeling config (results' ``from_name``).
FROM_NAME = "label"
#: How many feature values ``data.text`` shows.
TEXT_VALUES = 16


def label_config(classes: tuple[str, ...], kind: str) -> str:
    """The Label Studio labeling config (XML) for the tasks of :func:`make_tasks`."""
    to_name = "image" if kind == "image" else "text"
    obj = ('  <Image name="image" value="$image"/>' if kind == "image"
           else '  <Text name="text" value="$text"/>')
    choices = "\n".join(f"    <Choice value={quoteattr(c)}/>" for c in classes)
    return (f'<View>\n{obj}\n  <Choices name="{FROM_NAME}" toName="{to_name}" '
            f'choice="single" showInLine="true">\n{choices}\n  </Choices>\n</View>\n')


def make_tasks(items: list[dict[str, Any]], kind: str, model_version: str) -> list[dict[str, Any]]:
    """Label Studio import tasks.

    Parameters
    ----------
    items : list of dict
        ``id``, ``guess``, ``confidence`` and either ``image`` (a URL or path Label Studio
        can open) or ``features`` (a list of floats).
    kind : {"image", "features"}
        What the tasks show.
    model_version : str
        Recorded with each prediction (e.g. ``autoal round 3``).
    """
    to_name = "image" if kind == "image" else "text"
    tasks = []
    for item in items:
        data: dict[str, Any] = {"id": item["id"]}
        if kind == "image":
            data["image"] = item["image"]
        else:
            values = item["features"]
            data["features"] = values
            shown = ", ".join(f"{v:.4g}" for v in values[:TEXT_VALUES])
            more = len(values) - TEXT_VALUES
            data["text"] = f"{item['id']}: {shown}" + (f", … ({more} more)" if more > 0 else "")
        task: dict[str, Any] = {"data": data}
        if item.get("guess"):
            prediction: dict[str, Any] = {
                "model_version": model_version,
                "result": [{"id": "guess", "type": "choices", "from_name": FROM_NAME,
                            "to_name": to_name, "value": {"choices": [item["guess"]]}}],
            }
            if item.get("confidence") is not None:
                prediction["score"] = float(item["confidence"])
            task["predictions"] = [prediction]
        tasks.append(task)
    return tasks


def _list(value: Any, what: str) -> list[Any]:
    """``value`` when it is a list, ``[]`` when absent; a list is the only other legal shape."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{what} is not a list")
    return value


def _choices(annotation: dict[str, Any]) -> list[str]:
    """The choices of an annotation's results; ValueError names a part of the wrong shape."""
    found: list[str] = []
    for result in _list(annotation.get("result"), "an annotation's result"):
        if isinstance(result, dict) and result.get("type") == "choices":
            value = result.get("value")
            if value is not None and not isinstance(value, dict):
                raise ValueError("a result's value is not an object")
            found += [str(c) for c in _list((value or {}).get("choices"), "value.choices")]
    return found


def read_export(path: Path) -> tuple[list[tuple[str, str, str]], int, list[str]]:
    """Labels from a Label Studio JSON export: rows ``(task k, id, label)``, the count of
    tasks without a label, and the problems found (each naming its task).

    Raises
    ------
    DataError
        The file is missing, not JSON, or not a list of tasks.
    """
    try:
        raw = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise DataError(f"labels file not found: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DataError(f"cannot read {path} as JSON: {err}") from None
    except RecursionError:
        raise DataError(f"cannot read {path} as JSON: nested too deeply") from None
    if isinstance(raw, dict):
        raw = [raw]  # a single task
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise DataError(f"{path} is not a Label Studio JSON export (a list of tasks)")
    rows: list[tuple[str, str, str]] = []
    problems: list[str] = []
    unlabeled = 0
    for k, task in enumerate(raw, 1):
        loc = f"task {k}" + (f" (Label Studio id {task['id']})" if "id" in task else "")
        data = task.get("data")
        item_id = data.get("id") if isinstance(data, dict) else None
        if item_id is None or str(item_id).strip() == "":
            problems.append(f"{loc}: no data.id (the campaign's item id)")
            continue
        labels = []
        try:
            annotations = _list(task.get("annotations"), "annotations")
            chosen_per_annotation = [_choices(a) for a in annotations
                                     if isinstance(a, dict) and not a.get("was_cancelled")]
        except ValueError as err:
            problems.append(f"{loc}: {err}")
            continue
        for chosen in chosen_per_annotation:
            if len(chosen) > 1:
                problems.append(f"{loc}: an annotation chose {len(chosen)} classes "
                                f"({', '.join(chosen)}); one per item")
            labels += chosen[:1]
        distinct = sorted(set(labels))
        if not distinct:
            unlabeled += 1
        elif len(distinct) > 1:
            problems.append(f"{loc}: the annotations disagree ({', '.join(distinct)})")
        else:
            rows.append((loc, str(item_id).strip(), distinct[0]))
    return rows, unlabeled, problems


def write_tasks(out: Path, tasks: list[dict[str, Any]], config: str) -> Path:
    """Write the tasks (JSON) and, next to them, the labeling config; return the config's
    path. Both atomically."""
    from autoal.io import write_text_atomic

    config_path = out.with_suffix(".label-config.xml")
    write_text_atomic(config_path, config)
    write_text_atomic(out, json.dumps(tasks, indent=1, ensure_ascii=False) + "\n")
    return config_path
