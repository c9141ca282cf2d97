"""Reading cell sets lazily: footprints and traces as Dask arrays, names and statuses."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..layout import ArrayLayout
from ..layout.cell_set import CellSetLayout, parse_cell_set_footer
from ._file import IsxdFile, read_array

__all__ = ["CellSetFile"]

_READ_CHUNK_NBYTES = 64 * 2**20


class _StoredArray:
    """Array-like view of one array of the data section, reading only what is asked for.

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


class CellSetFile(IsxdFile):
    """A committed cell set file, read lazily.

    Attributes
    ----------
    names : list of str
        Cell names.
    statuses : list of {'accepted', 'undecided', 'rejected'}
        Cell statuses.
    footprints : dask.array.Array
        ``(num_cells, rows, cols)`` float32.
    traces : dask.array.Array
        ``(num_cells, num_samples)`` float32, NaN at dropped, cropped and blank samples.
    """

    def _check(self) -> None:
        self.layout: CellSetLayout
        self.layout, self.names, self.statuses = parse_cell_set_footer(self.metadata, self.data_size)

    @property
    def num_cells(self) -> int:
        """Number of cells."""
        return self.layout.num_cells

    def _to_dask(self, layout: ArrayLayout, kind: str, chunks: Any) -> Any:
        import dask.array as da
        from dask.base import tokenize

        if chunks is None:
            per_cell = max(1, math.prod(layout.shape[1:]) * layout.itemsize)
            chunks = (max(1, _READ_CHUNK_NBYTES // per_cell), *layout.shape[1:])
        source = _StoredArray(self.path, layout)
        name = f"isxd-{kind}-" + tokenize(self.path, self.metadata, self.data_size, chunks)
        meta = np.empty((0,) * len(layout.shape), dtype=np.float32)
        return da.from_array(source, chunks=chunks, name=name, meta=meta, asarray=False, fancy=False)  # type: ignore[no-untyped-call]

    def footprints_to_dask(self, chunks: Any = None) -> Any:
        """The footprints as a Dask array; ``chunks`` defaults to about 64 MiB along cells."""
        return self._to_dask(self.layout.footprints(), "footprints", chunks)

    def traces_to_dask(self, chunks: Any = None) -> Any:
        """The traces as a Dask array; ``chunks`` defaults to about 64 MiB along cells."""
        return self._to_dask(self.layout.traces(), "traces", chunks)

    @property
    def footprints(self) -> Any:
        """All footprints as a lazy Dask array (see :meth:`footprints_to_dask`)."""
        return self.footprints_to_dask()

    @property
    def traces(self) -> Any:
        """All traces as a lazy Dask array (see :meth:`traces_to_dask`)."""
        return self.traces_to_dask()

    def _index(self, index: int) -> int:
        n = self.num_cells
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            msg = f"index must be an integer, got {index!r}"
            raise TypeError(msg)
        if not -n <= index < n:
            msg = f"index {index} is out of range; the cell set has num_cells={n}"
            raise IndexError(msg)
        return int(index) % n

    def get_footprint(self, index: int) -> np.ndarray:
        """Footprint of cell ``index`` as a ``(rows, cols)`` float32 array."""
        i = self._index(index)
        footprint: np.ndarray = read_array(self.path, self.layout.footprints(), (slice(i, i + 1), slice(None), slice(None)))[0]
        return footprint

    def get_trace(self, index: int) -> np.ndarray:
        """Trace of cell ``index`` as a ``(num_samples,)`` float32 array."""
        i = self._index(index)
        trace: np.ndarray = read_array(self.path, self.layout.traces(), (slice(i, i + 1), slice(None)))[0]
        return trace

    def __repr__(self) -> str:
        return (
            f"CellSetFile({self.path!r}, num_cells={self.num_cells}, "
            f"footprint_shape={self.layout.footprint_shape}, timing={self.timing!r})"
        )
