"""Checks of an output path before anything is written: one home for their wording.

The NWB export and the Zarr export refuse, with these, a missing parent
directory, a directory where a file is expected, and an existing file without
``overwrite`` (:func:`isx_dask.target.check_output_path` applies the same rules
to ``.isxd`` files).
"""

from __future__ import annotations

import os

__all__ = ["check_new_file", "check_parent", "refuse_existing"]


def check_parent(path: str, name: str) -> None:
    """``FileNotFoundError`` naming the argument ``name`` if the directory ``path`` would be made in does not exist."""
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        msg = f"{name} {path!r}: parent directory {parent!r} does not exist; create it first"
        raise FileNotFoundError(msg)


def refuse_existing(path: str, name: str, overwrite: bool, exists: bool, hint: str = "") -> None:
    """``FileExistsError`` naming the argument ``name`` if ``exists`` and not ``overwrite`` (``hint`` follows ``overwrite=True``)."""
    if exists and not overwrite:
        msg = f"{name} {path!r} already exists; pass overwrite=True{hint} to replace it"
        raise FileExistsError(msg)


def check_new_file(path: str, name: str, overwrite: bool, expected: str) -> str:
    """``path`` if a file can be made there: its parent exists, it is no directory, and it exists only with ``overwrite``.

    ``expected`` says what the file name should be (for the message about a directory).
    """
    check_parent(path, name)
    if os.path.isdir(path):
        msg = f"{name} {path!r} is a directory; expected {expected}"
        raise IsADirectoryError(msg)
    refuse_existing(path, name, overwrite, os.path.lexists(path))
    return path
