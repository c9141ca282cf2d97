"""Cell sets: ``write_cell_set`` from NumPy or Dask, and the incremental ``CellSet``."""

from __future__ import annotations

import numbers
import os
from typing import TYPE_CHECKING, Any, Literal, Sequence, overload

import numpy as np

from ..layout.cell_set import CellSetLayout, cell_set_footer, default_cell_name
from ..metadata import Spacing, Timing
from ..target import IsxdTarget, WriteMethod, check_output_path, commit, preallocate, store_then_commit
from ._incremental import IncrementalWriter
from ._validate import (
    as_dask_array,
    cast_array,
    check_name,
    check_spacing,
    check_status,
    check_timing,
    require_spacing,
    require_timing,
    resolve_metadata_from,
)

if TYPE_CHECKING:
    from dask.delayed import Delayed

    from ..readers.cell_set import CellSetFile

__all__ = ["CellSet", "write_cell_set"]

PathLike = str | os.PathLike[str]

_FLOAT32 = np.dtype("<f4")


# -- input checks ---------------------------------------------------------------------------
def _check_name(name: Any, index: int, num_cells: int | None) -> str | None:
    """A checked cell name, or None when the default name applies (None or '')."""
    if name is None or (isinstance(name, str) and name == ""):
        return None if num_cells is None else default_cell_name(index, num_cells)
    if not isinstance(name, str):
        msg = f"names[{index}] must be a str (or None for the default name), got {type(name).__name__} {name!r}"
        raise TypeError(msg)
    return check_name(name, f"names[{index}]")


def _check_names(names: Sequence[Any] | None, num_cells: int) -> list[str]:
    if names is None:
        return [default_cell_name(k, num_cells) for k in range(num_cells)]
    if isinstance(names, (str, bytes)) or not hasattr(names, "__len__"):
        msg = f"names must be a sequence of str, one per cell, got {type(names).__name__} {names!r}"
        raise TypeError(msg)
    if len(names) != num_cells:
        msg = f"names has {len(names)} entries but there are {num_cells} cells (footprints and traces); expected one name per cell"
        raise ValueError(msg)
    return [_check_name(name, k, num_cells) for k, name in enumerate(names)]  # type: ignore[misc]


def _check_statuses(statuses: Any, num_cells: int) -> list[str]:
    if statuses is None:
        return ["undecided"] * num_cells
    if isinstance(statuses, (str, bool, np.bool_)):
        return [check_status(statuses, "statuses", allow_bool=True)] * num_cells
    if not hasattr(statuses, "__len__"):
        msg = f"statuses must be a sequence of statuses or booleans, one per cell, got {type(statuses).__name__} {statuses!r}"
        raise TypeError(msg)
    if len(statuses) != num_cells:
        msg = f"statuses has {len(statuses)} entries but there are {num_cells} cells (footprints and traces); expected one status per cell"
        raise ValueError(msg)
    return [check_status(s, f"statuses[{k}]", allow_bool=True) for k, s in enumerate(statuses)]


def _check_cell_counts(footprints: Any, traces: Any) -> int:
    n_foot, n_trace = footprints.shape[0], traces.shape[0]
    if n_foot != n_trace:
        msg = f"footprints hold {n_foot} cells but traces hold {n_trace}; expected one footprint and one trace per cell"
        raise ValueError(msg)
    return int(n_foot)


def _check_geometry(timing: Timing, spacing: Spacing) -> None:
    if spacing.num_pixels[0] * spacing.num_pixels[1] == 0:
        msg = f"spacing.num_pixels is {spacing.num_pixels}; footprints must have at least one pixel"
        raise ValueError(msg)
    if timing.num_samples == 0:
        msg = "timing.num_samples is 0; traces must have at least one sample (the official reader fails on empty traces)"
        raise ValueError(msg)


def _nan_at_invalid(traces: Any, timing: Timing) -> Any:
    """Traces with NaN at dropped, cropped and blank samples, lazily, as the official writer stores them."""
    import dask.array as da

    valid = timing.get_valid_samples_mask()
    if valid.all():
        return traces
    return da.where(valid[None, :], traces, np.float32(np.nan))


# -- bulk writer ----------------------------------------------------------------------------
@overload
def write_cell_set(
    footprints: Any, traces: Any, path: PathLike, *, timing: Timing | None = ..., spacing: Spacing | None = ...,
    names: Sequence[str | None] | None = ..., statuses: Any = ..., casting: str = ..., extra_properties: Any = ...,
    metadata_from: PathLike | None = ..., overwrite: bool = ..., compute: Literal[True] = ..., fsync: bool = ...,
    write_method: WriteMethod = ..., **compute_kwargs: Any,
) -> None: ...
@overload
def write_cell_set(
    footprints: Any, traces: Any, path: PathLike, *, timing: Timing | None = ..., spacing: Spacing | None = ...,
    names: Sequence[str | None] | None = ..., statuses: Any = ..., casting: str = ..., extra_properties: Any = ...,
    metadata_from: PathLike | None = ..., overwrite: bool = ..., compute: Literal[False], fsync: bool = ...,
    write_method: WriteMethod = ..., **compute_kwargs: Any,
) -> Delayed: ...


def write_cell_set(
    footprints: Any,
    traces: Any,
    path: PathLike,
    *,
    timing: Timing | None = None,
    spacing: Spacing | None = None,
    names: Sequence[str | None] | None = None,
    statuses: Any = None,
    casting: str = "same_kind",
    extra_properties: Any = None,
    metadata_from: PathLike | None = None,
    overwrite: bool = False,
    compute: bool = True,
    fsync: bool = True,
    write_method: WriteMethod = "auto",
    **compute_kwargs: Any,
) -> Delayed | None:
    """Write a cell set to an ``.isxd`` file, chunk by chunk, out of core.

    Each cell is stored as one record, its footprint then its trace, both
    float32. Every chunk of ``footprints`` and ``traces`` is written straight
    into its place in a preallocated temporary file; the footer is appended
    only after all chunks have finished, and the file is then renamed to
    ``path``. If anything fails, no file appears at ``path``.

    Parameters
    ----------
    footprints : dask.array.Array or numpy.ndarray, shape (num_cells, rows, cols)
        Spatial footprint (image) of each cell.
    traces : dask.array.Array or numpy.ndarray, shape (num_cells, num_samples)
        Activity trace of each cell, one value per time index. Samples at
        dropped, cropped and blank indices are stored as NaN whatever their
        value, as the official writer does.
    path : str or os.PathLike
        Output file; must end with ``.isxd``.
    timing : Timing, optional
        Defaults to ``num_samples`` samples of 50 ms starting at the epoch.
    spacing : Spacing, optional
        Defaults to the footprint shape, with 3-micron pixels.
    names : sequence of str or None, optional
        One name per cell, at most 255 UTF-8 bytes each. ``None`` (or ``''``)
        gives the official default name: ``'C'`` and the index zero-padded to
        the digits of the largest index (``C00`` ... ``C11`` for 12 cells).
    statuses : sequence, str or bool, optional
        One status per cell: ``'accepted'``, ``'undecided'`` or ``'rejected'``,
        or booleans (True accepted, False rejected), e.g. an acceptance mask.
        A single value applies to every cell. Defaults to ``'undecided'`` for
        every cell, as the official writer and IDPS mark new cells.
    casting : {'no', 'equiv', 'safe', 'same_kind'}, default 'same_kind'
        Which conversions to float32 are allowed, as in :func:`numpy.can_cast`.
        Integers and float64 convert; complex and other kinds do not.
    extra_properties : JSON-serialisable, optional
        Stored as the footer's ``extraProperties`` (acquisition metadata).
    metadata_from : str or os.PathLike, optional
        An existing ``.isxd`` file (typically the movie the cells come from)
        whose timing, spacing and extra properties are used where the
        arguments above are not given.
    overwrite : bool, default False
        Replace an existing file at ``path`` (only once the new one is complete).
    compute : bool, default True
        If False, return a :class:`dask.delayed.Delayed`; the file is committed
        when it has been computed.
    fsync : bool, default True
        Flush data and footer to disk before the file is renamed into place.
    write_method : {'auto', 'pwrite', 'mmap'}, default 'auto'
        How chunk bytes reach the file (see :class:`isx_dask.target.IsxdTarget`).
    **compute_kwargs
        Passed to ``dask.compute`` (for example ``scheduler='processes'``).

    Returns
    -------
    None or dask.delayed.Delayed
        ``None`` if ``compute`` is True.

    Raises
    ------
    ValueError
        Wrong number of dimensions; footprint shape not ``spacing.num_pixels``;
        trace length not ``timing.num_samples``; cell counts of footprints,
        traces, names and statuses that disagree; names too long; unknown
        statuses; unknown chunk sizes; a path not ending in ``.isxd``; extra
        properties that are not strict JSON; zero pixels or zero samples.
    TypeError
        Data that cannot be converted to float32 under ``casting``; names that
        are not strings.
    FileExistsError
        ``path`` exists and ``overwrite`` is False.
    FileNotFoundError
        The parent directory of ``path`` does not exist.

    See Also
    --------
    CellSet : the cell-by-cell API of the official ``isx`` package.
    open_isxd : read the file back lazily.

    Examples
    --------
    >>> import dask.array as da, numpy as np
    >>> footprints = da.zeros((500, 400, 640), dtype=np.float32, chunks=(16, 400, 640))
    >>> traces = da.zeros((500, 36000), dtype=np.float32, chunks=(100, 36000))
    >>> write_cell_set(footprints, traces, "cells.isxd", statuses="accepted")  # doctest: +SKIP
    """
    timing, spacing, extra_properties = resolve_metadata_from(metadata_from, timing, spacing, extra_properties)
    footprints = as_dask_array(footprints, "footprints", 3, "(num_cells, rows, cols)")
    traces = as_dask_array(traces, "traces", 2, "(num_cells, num_samples)")
    footprints = cast_array(footprints, "footprints", _FLOAT32, casting)
    traces = cast_array(traces, "traces", _FLOAT32, casting)
    num_cells = _check_cell_counts(footprints, traces)
    timing = check_timing(timing, traces.shape[1], "traces")
    spacing = check_spacing(spacing, footprints.shape[1:], "footprints")
    _check_geometry(timing, spacing)
    cell_names = _check_names(names, num_cells)
    cell_statuses = _check_statuses(statuses, num_cells)
    path = check_output_path(path, overwrite)

    layout = CellSetLayout(timing, spacing, num_cells)
    metadata = cell_set_footer(timing, spacing, cell_names, cell_statuses, extra_properties)
    arrays = [(footprints, layout.footprints()), (_nan_at_invalid(traces, timing), layout.traces())]
    return store_then_commit(
        arrays, path, layout.data_size, metadata,
        overwrite=overwrite, compute=compute, fsync=fsync, write_method=write_method, **compute_kwargs,
    )


# -- incremental writer ---------------------------------------------------------------------
def _cell_array(value: Any, name: str, shape: tuple[int, ...], expected: str) -> np.ndarray:
    """One cell's footprint or trace as float32, converted without changing kind."""
    if not isinstance(value, np.ndarray):
        msg = f"{name} must be a numpy.ndarray, got {type(value).__name__}"
        raise TypeError(msg)
    if value.dtype != _FLOAT32:
        if not np.can_cast(value.dtype, _FLOAT32, casting="same_kind"):
            msg = f"{name} has dtype {value.dtype}, which cannot be converted to float32; convert it explicitly"
            raise TypeError(msg)
        value = value.astype(_FLOAT32)
    if value.shape != shape:
        msg = f"{name} has shape {value.shape}, expected {expected} {shape}"
        raise ValueError(msg)
    return value  # type: ignore[no-any-return]


class CellSet(IncrementalWriter):
    """A cell set file, opened for writing cell by cell or for reading, as ``isx.CellSet``.

    Use :meth:`write` and :meth:`read` to create one. Unlike the official
    writer, :meth:`set_cell_data` puts each cell at the place of its
    ``index`` (cells may come in any order), refuses an index written twice,
    checks the footprint shape and trace length, and :meth:`flush` refuses to
    commit while an index below the largest one written is missing. Statuses
    start as ``'undecided'``, as in the official package, and
    :meth:`set_cell_status` only records the status: the file appears at its
    path, with every status, when :meth:`flush` succeeds. As a context manager,
    a block that raises commits nothing.

    For bulk writing from Dask, see :func:`write_cell_set`.

    Examples
    --------
    >>> timing, spacing = Timing(num_samples=100), Spacing(num_pixels=(4, 5))
    >>> with CellSet.write("cells.isxd", timing, spacing) as cell_set:  # doctest: +SKIP
    ...     for i in (2, 0, 1):
    ...         cell_set.set_cell_data(i, numpy.ones((4, 5), numpy.float32), numpy.zeros(100, numpy.float32), None)
    """

    kind = "cell set"

    def __init__(self) -> None:
        self.file_path: str = ""
        self.mode: str = ""
        self._reader: CellSetFile | None = None
        # Set by write():
        self._partial: str | None = None
        self._timing: Timing
        self._spacing: Spacing
        self._extra_properties: Any = None
        self._overwrite: bool = False
        self._valid: np.ndarray
        self._names: dict[int, str | None] = {}
        self._statuses: dict[int, str] = {}

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def read(cls, file_path: PathLike) -> CellSet:
        """Open a cell set for reading.

        Raises
        ------
        FileNotFoundError
            If the file does not exist.
        IsxdFormatError
            If it is not a committed cell set.
        """
        from ..readers.cell_set import CellSetFile

        self = cls()
        self._reader = CellSetFile(file_path)
        self.file_path = os.fspath(file_path)
        self.mode = "r"
        return self

    @classmethod
    def write(
        cls,
        file_path: PathLike,
        timing: Timing,
        spacing: Spacing,
        *,
        extra_properties: Any = None,
        overwrite: bool = False,
    ) -> CellSet:
        """Open a new cell set for writing cell by cell.

        Parameters
        ----------
        file_path : str or os.PathLike
            Output path, ending in ``.isxd``; it must not exist unless ``overwrite``.
        timing : Timing
            Timing of the traces (usually that of the source movie).
        spacing : Spacing
            Footprint shape and pixel size (usually that of the source movie).
        extra_properties : JSON-serialisable, optional
            Stored as ``extraProperties``.
        overwrite : bool, default False
            Replace an existing file when the cell set is flushed.

        Raises
        ------
        TypeError, ValueError, FileExistsError, FileNotFoundError
            For a bad argument, before anything is created.
        """
        require_timing(timing)
        require_spacing(spacing)
        _check_geometry(timing, spacing)
        resolve_metadata_from(None, timing, spacing, extra_properties)
        path = check_output_path(file_path, overwrite)
        self = cls()
        self.file_path, self.mode = path, "w"
        self._timing, self._spacing = timing, spacing
        self._extra_properties = extra_properties
        self._overwrite = overwrite
        self._valid = timing.get_valid_samples_mask()
        # Records are written at their offsets as they arrive; the file grows as needed.
        self._partial = preallocate(path, 0)
        return self

    # -- properties ----------------------------------------------------------------------
    @property
    def timing(self) -> Timing:
        """Timing of the traces."""
        return self._reader.timing if self._reader is not None else self._timing

    @property
    def spacing(self) -> Spacing:
        """Spacing of the footprints."""
        return self._reader.spacing if self._reader is not None else self._spacing

    @property
    def num_cells(self) -> int:
        """Number of cells (while writing: one more than the largest index written)."""
        if self._reader is not None:
            return self._reader.num_cells
        return max(self._names, default=-1) + 1

    # -- reading -------------------------------------------------------------------------
    def get_cell_name(self, index: int) -> str:
        """Name of cell ``index``."""
        reader = self._require_reader()
        return reader.names[reader._index(index)]

    def get_cell_status(self, index: int) -> str:
        """Status of cell ``index``: ``'accepted'``, ``'undecided'`` or ``'rejected'``."""
        reader = self._require_reader()
        return reader.statuses[reader._index(index)]

    def get_cell_image_data(self, index: int) -> np.ndarray:
        """Footprint of cell ``index`` as a ``(rows, cols)`` float32 array."""
        return self._require_reader().get_footprint(index)

    def get_cell_trace_data(self, index: int) -> np.ndarray:
        """Trace of cell ``index`` as a ``(num_samples,)`` float32 array (NaN at invalid samples)."""
        return self._require_reader().get_trace(index)

    def get_acquisition_info(self) -> Any:
        """The footer's ``extraProperties`` (acquisition metadata), or None."""
        return self._require_reader().extra_properties

    def _require_reader(self) -> CellSetFile:
        if self._reader is None:
            msg = "this cell set was opened for writing; flush it, or open it with CellSet.read, to read cells"
            raise RuntimeError(msg)
        return self._reader

    # -- writing -------------------------------------------------------------------------
    def set_cell_data(self, index: int, image: np.ndarray, trace: np.ndarray, name: str | None) -> None:
        """Write the footprint, trace and name of cell ``index``.

        Trace samples at dropped, cropped and blank indices are stored as NaN.

        Parameters
        ----------
        index : int >= 0
            Cell index; cells may be written in any order, each once.
        image : numpy.ndarray, shape spacing.num_pixels
            Footprint.
        trace : numpy.ndarray, shape (timing.num_samples,)
            Trace.
        name : str or None
            Name (at most 255 UTF-8 bytes); None or ``''`` gives the default
            ``C<index>`` name, padded as the official core pads it.

        Raises
        ------
        ValueError
            A negative index, an index written already, a wrong shape, or a bad name.
        TypeError
            Non-integer index, non-array data that cannot be float32, or a name that is not a str.
        RuntimeError
            If the cell set is not open for writing.
        """
        partial = self._require_open()
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, numbers.Integral):
            msg = f"index must be an integer, got {index!r}"
            raise TypeError(msg)
        index = int(index)
        if index < 0:
            msg = f"index must be >= 0, got {index}"
            raise ValueError(msg)
        if index in self._names:
            msg = f"cell {index} was already written; each cell may be written once"
            raise ValueError(msg)
        image = _cell_array(image, "image", self._spacing.num_pixels, "spacing.num_pixels")
        trace = _cell_array(trace, "trace", (self._timing.num_samples,), "(timing.num_samples,)")
        checked = _check_name(name, index, None)
        trace = np.where(self._valid, trace, np.float32(np.nan))
        layout = CellSetLayout(self._timing, self._spacing, index + 1)
        # pwrite (never a mapped window): the record may lie past the current end of the file.
        IsxdTarget(partial, layout.footprints(), "pwrite")[index : index + 1] = image[None]
        IsxdTarget(partial, layout.traces(), "pwrite")[index : index + 1] = trace[None]
        self._names[index] = checked

    def set_cell_status(self, index: int, status: str | bool) -> None:
        """Set the status of a cell written already: ``'accepted'``, ``'undecided'`` or ``'rejected'`` (or a bool).

        The status is stored when the cell set is flushed.

        Raises
        ------
        IndexError
            If cell ``index`` has not been written.
        ValueError
            For an unknown status.
        """
        self._require_open()
        if index not in self._names:
            msg = f"cell {index} has not been written yet; write it with set_cell_data before setting its status"
            raise IndexError(msg)
        self._statuses[int(index)] = check_status(status, "status", allow_bool=True)

    def _is_complete(self) -> bool:
        return self.missing_cells().size == 0

    def missing_cells(self) -> np.ndarray:
        """Indices below the largest written index that have not been written."""
        written = np.zeros(self.num_cells, dtype=bool)
        written[list(self._names)] = True
        return np.flatnonzero(~written)

    def flush(self) -> None:
        """Commit the file: write the footer and move it to its path.

        A second call does nothing.

        Raises
        ------
        ValueError
            If an index between 0 and the largest written one is missing
            (nothing is committed; write it and call again).
        """
        if self.mode != "w" or self._partial is None:
            return
        missing = self.missing_cells()
        if missing.size:
            shown = ", ".join(str(i) for i in missing[:10]) + (", ..." if missing.size > 10 else "")
            msg = f"cannot flush: {missing.size} cell(s) below index {self.num_cells - 1} not written yet (indices {shown})"
            raise ValueError(msg)
        n = self.num_cells
        names = [self._names[k] or default_cell_name(k, n) for k in range(n)]
        statuses = [self._statuses.get(k, "undecided") for k in range(n)]
        layout = CellSetLayout(self._timing, self._spacing, n)
        metadata = cell_set_footer(self._timing, self._spacing, names, statuses, self._extra_properties)
        commit(self._partial, self.file_path, metadata, layout.data_size, overwrite=self._overwrite)
        self._partial = None
        self.mode = "r"
        from ..readers.cell_set import CellSetFile

        self._reader = CellSetFile(self.file_path)

    def __repr__(self) -> str:
        return f"CellSet({self.file_path!r}, mode={self.mode!r}, num_cells={self.num_cells}, timing={self.timing!r}, spacing={self.spacing!r})"
