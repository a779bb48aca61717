"""Data sets for active learning: built-in offline sets and user files.

>>> from autoal.data import load_dataset
>>> ds = load_dataset("digits")  # doctest: +SKIP
"""

from .dataset import Dataset, DatasetError
from .formats import read_image_folder, read_npz, read_table
from .loaders import BUILTIN_DATASETS, load_dataset

__all__ = [
    "BUILTIN_DATASETS",
    "Dataset",
    "DatasetError",
    "load_dataset",
    "read_image_folder",
    "read_npz",
    "read_table",
]
