"""Reports from run files alone: loading, aggregation, markdown, csv, figures and statistics.

:func:`write_report` rebuilds a benchmark folder's ``summary.md``, ``summary.csv`` and plots;
the pieces are :func:`load_runs` (:mod:`.load`), :func:`summarise` (:mod:`.aggregate`),
:func:`to_markdown` (:mod:`.markdown`), :func:`to_csv` (:mod:`.csv_table`), the figures
(:mod:`.plots`), the bootstrap and ranks (:mod:`.stats`) and the candidate-weight statistics
(:mod:`.weight_stats`).
"""

from autoal.report.aggregate import (
    Ablation,
    GroupSummary,
    VariantRow,
    overall_ranks,
    summarise,
)
from autoal.report.csv_table import CSV_COLUMNS, to_csv
from autoal.report.load import load_runs, round_seconds
from autoal.report.markdown import to_markdown
from autoal.report.summary import write_report

__all__ = [
    "Ablation",
    "CSV_COLUMNS",
    "GroupSummary",
    "VariantRow",
    "load_runs",
    "overall_ranks",
    "round_seconds",
    "summarise",
    "to_csv",
    "to_markdown",
    "write_report",
]
