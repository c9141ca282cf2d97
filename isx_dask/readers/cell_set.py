"""Reading cell sets lazily: footprints and traces as Dask arrays, names and statuses."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..layout.cell_set import CellSetLayout, parse_cell_set_footer
from ._file import IsxdFile, describe_period, describe_pixel_size, item_index

__all__ = ["CellSetFile"]



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
        self._timing = self.layout.timing

    @property
    def num_cells(self) -> int:
        """Number of cells."""
        return self.layout.num_cells

    def footprints_to_dask(self, chunks: Any = None) -> Any:
        """The footprints as a Dask array; ``chunks`` defaults to about 64 MiB along cells."""
        return self._lazy(self.layout.footprints(), "footprints", chunks)

    def traces_to_dask(self, chunks: Any = None) -> Any:
        """The traces as a Dask array; ``chunks`` defaults to about 64 MiB along cells."""
        return self._lazy(self.layout.traces(), "traces", chunks)

    @property
    def footprints(self) -> Any:
        """All footprints as a lazy Dask array (see :meth:`footprints_to_dask`)."""
        return self.footprints_to_dask()

    @property
    def traces(self) -> Any:
        """All traces as a lazy Dask array (see :meth:`traces_to_dask`)."""
        return self.traces_to_dask()

    def _index(self, index: int) -> int:
        return item_index(index, self.num_cells, "index", "cell set has num_cells")

    def get_footprint(self, index: int) -> np.ndarray[Any, Any]:
        """Footprint of cell ``index`` as a ``(rows, cols)`` float32 array."""
        i = self._index(index)
        footprint: np.ndarray[Any, Any] = self._read(self.layout.footprints(), (slice(i, i + 1), slice(None), slice(None)))[0]
        return footprint

    def get_trace(self, index: int) -> np.ndarray[Any, Any]:
        """Trace of cell ``index`` as a ``(num_samples,)`` float32 array."""
        i = self._index(index)
        trace: np.ndarray[Any, Any] = self._read(self.layout.traces(), (slice(i, i + 1), slice(None)))[0]
        return trace

    def _repr_fields(self) -> list[str]:
        return [
            f"num_cells={self.num_cells}",
            f"footprint_shape={self.layout.footprint_shape}",
            f"num_samples={self.layout.num_samples}",
            f"period={describe_period(self.timing)}",
            f"pixel_size={describe_pixel_size(self.layout.spacing)}",
        ]

    def to_xarray(self, *, chunks: Any = None) -> Any:
        """The cell set as an ``xarray.Dataset``: lazy ``footprints(cell, y, x)``, ``traces(cell, time)``, ``status(cell)``.

        See :mod:`isx_dask.xarray_backend`.
        """
        from ..xarray_backend import cell_set_to_xarray

        return cell_set_to_xarray(self, chunks=chunks)
