"""Opening an ``.isxd`` file: find and parse its footer, and read byte ranges of its data section."""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from ..layout import ArrayLayout, DataSetType, IsxdFormatError, decode_trailer, parse_footer_json
from ..metadata import Spacing, Timing

__all__ = ["IsxdFile", "LayoutArray", "lazy_array", "read_array", "read_footer"]

#: Default size of the chunks of lazy arrays, along their first axis.
READ_CHUNK_NBYTES = 64 * 2**20


def read_footer(path: str | os.PathLike[str]) -> tuple[dict[str, Any], int]:
    """The footer of a committed ``.isxd`` file and the size of its data section.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    IsxdFormatError
        If the file has no valid footer (not committed, truncated, not ``.isxd``).
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size < 8:
            msg = f"{path!r} is {size} bytes: too short to be a committed .isxd file"
            raise IsxdFormatError(msg)
        f.seek(size - 8)
        data_size, json_size = decode_trailer(size, f.read(8))
        f.seek(data_size)
        text = f.read(json_size + 1)
    try:
        metadata = parse_footer_json(text)
    except IsxdFormatError as err:
        msg = f"{path!r}: {err}"
        raise IsxdFormatError(msg) from None
    return metadata, data_size


def read_array(path: str, layout: ArrayLayout, region: tuple[slice, ...]) -> np.ndarray:
    """Read ``region`` of an array stored at ``layout`` in ``path`` (positional reads, no mapping)."""
    bounds = layout.normalize_region(region)
    counts = tuple(b - a for a, b in bounds)
    out = np.empty(counts, dtype=np.dtype(layout.dtype))
    num_runs, run_nbytes, offsets = layout.byte_runs(region)
    if num_runs == 0:
        return out
    buf = memoryview(out.reshape(-1)).cast("B")  # type: ignore[arg-type]
    fd = os.open(path, os.O_RDONLY)
    try:
        for k, offset in enumerate(offsets):
            part = buf[k * run_nbytes : (k + 1) * run_nbytes]
            got = os.preadv(fd, [part], offset)
            if got != run_nbytes:
                msg = f"{path!r} ends before byte {offset + run_nbytes}: the data section is truncated"
                raise IsxdFormatError(msg)
    finally:
        os.close(fd)
    return out


class LayoutArray:
    """Array-like view of one :class:`ArrayLayout` of a file, reading only what is asked for.

    Picklable (path and layout only), for ``dask.array.from_array``.
    """

    def __init__(self, path: str, layout: ArrayLayout) -> None:
        self.path = path
        self.layout = layout
        self.shape = layout.shape
        self.dtype = np.dtype(layout.dtype)
        self.ndim = len(layout.shape)

    def __getitem__(self, key: Any) -> np.ndarray:
        if not isinstance(key, tuple):
            key = (key,)
        key = key + (slice(None),) * (self.ndim - len(key))
        return read_array(self.path, self.layout, key)


def lazy_array(path: str, layout: ArrayLayout, name: str, chunks: Any = None) -> Any:
    """A Dask array reading ``layout`` from ``path`` on demand.

    ``chunks`` defaults to about 64 MiB along the first axis, whole along the others.
    """
    import dask.array as da
    from dask.base import tokenize

    if chunks is None:
        per_item = max(1, math.prod(layout.shape[1:]) * np.dtype(layout.dtype).itemsize)
        chunks = (max(1, READ_CHUNK_NBYTES // per_item), *layout.shape[1:]) if layout.shape else ()
    token = f"isxd-{name}-" + tokenize(path, os.path.getmtime(path), layout, chunks)
    meta = np.empty((0,) * len(layout.shape), dtype=np.dtype(layout.dtype))
    return da.from_array(  # type: ignore[no-untyped-call]
        LayoutArray(path, layout), chunks=chunks, name=token, meta=meta, asarray=False, fancy=False
    )


class IsxdFile:
    """A committed ``.isxd`` file of any type: its footer and generic metadata.

    Use :func:`isx_dask.open_isxd`, which returns the subclass for the file's type.

    Attributes
    ----------
    path : str
        The file.
    metadata : dict
        The footer JSON, as stored.
    data_size : int
        Bytes of the data section.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self.metadata, self.data_size = read_footer(self.path)
        self._check()

    def _check(self) -> None:
        """Subclasses check their footer here."""

    @property
    def type(self) -> DataSetType:
        """The data set type recorded in the footer."""
        return DataSetType(int(self.metadata["type"]))

    @property
    def timing(self) -> Timing:
        """Timing from the footer's ``timingInfo``."""
        try:
            return Timing.from_dict(self.metadata["timingInfo"])
        except KeyError:
            msg = f"{self.path!r} has no timingInfo"
            raise IsxdFormatError(msg) from None

    @property
    def spacing(self) -> Spacing:
        """Spacing from the footer's ``spacingInfo``."""
        try:
            return Spacing.from_dict(self.metadata["spacingInfo"])
        except KeyError:
            msg = f"{self.path!r} has no spacingInfo"
            raise IsxdFormatError(msg) from None

    @property
    def extra_properties(self) -> Any:
        """The footer's ``extraProperties`` (acquisition metadata), or None."""
        return self.metadata.get("extraProperties")

    @property
    def file_size(self) -> int:
        """Size of the whole file in bytes."""
        return os.path.getsize(self.path)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path!r}, type={self.type.name})"

