"""Data for the course: real MedMNIST images and clinical tables first, loud stand-ins otherwise.

The policy is the README's "Data" section. ``load_medmnist`` and ``load_table`` look for real files, download
them where a network allows, and only then fall back to procedural stand-ins that say
so in a warning, in the notebook banner and on every figure.
"""
from utils.data.errors import DataError, DataNotFoundError
from utils.data.images import ImageData, load_medmnist
from utils.data.subsets import (
    balanced_subset,
    class_counts,
    class_subset,
    fraction_subset,
    make_loader,
)
from utils.data.tables import TABLES, Table, TableSchema, load_table

__all__ = [
    "DataError",
    "DataNotFoundError",
    "ImageData",
    "load_medmnist",
    "balanced_subset",
    "class_counts",
    "class_subset",
    "fraction_subset",
    "make_loader",
    "TABLES",
    "Table",
    "TableSchema",
    "load_table",
]
