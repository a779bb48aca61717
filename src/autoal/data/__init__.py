"""Data sets for active learning: built-in offline sets and user files.

>>> from autoal.data import load_dataset
>>> ds = load_dataset("digits")  # doctest: +SKIP
"""

from .dataset import Dataset, DatasetError
from .formats import open_rows, read_image_folder, read_npz, read_table
from .loaders import BUILTIN_DATASETS, load_dataset
from .pool_array import PoolArray, is_file_backed, take_rows

__all__ = [
    "BUILTIN_DATASETS",
    "Dataset",
    "DatasetError",
    "PoolArray",
    "is_file_backed",
    "load_dataset",
    "open_rows",
    "read_image_folder",
    "read_npz",
    "read_table",
    "take_rows",
]
