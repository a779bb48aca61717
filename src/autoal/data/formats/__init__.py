"""Low-level readers: IDX, CSV tables, ``.npz`` archives, folders of images, and ``.npy``
arrays (one file or a folder of shards, memory-mapped).

One module per format (:mod:`.idx`, :mod:`.table`, :mod:`.npz`, :mod:`.images`, :mod:`.npy`)
and the checks they share (:mod:`.checks`). Every reader validates what it returns and raises
:class:`~autoal.data.DatasetError` with a message that names the file and the problem.
Labels may be missing here (a labeling campaign reads unlabelled data);
:func:`autoal.data.load_dataset` is stricter.
"""

from autoal.data.formats.checks import check_file, check_finite, to_model_input
from autoal.data.formats.idx import read_idx
from autoal.data.formats.images import IMAGE_SUFFIXES, read_image_folder
from autoal.data.formats.npy import check_finite_rows, open_rows
from autoal.data.formats.npz import read_npz, read_npz_splits
from autoal.data.formats.table import Table, parse_table, read_table

__all__ = [
    "IMAGE_SUFFIXES",
    "Table",
    "check_file",
    "check_finite",
    "check_finite_rows",
    "parse_table",
    "open_rows",
    "read_idx",
    "read_image_folder",
    "read_npz",
    "read_npz_splits",
    "read_table",
    "to_model_input",
]
