"""Cell sets: ``write_cell_set`` from NumPy or Dask, and the incremental ``CellSet``."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal, Sequence, overload

import numpy as np

from .._io import MAX_FILE_NBYTES, check_file_size
from .. import _io
from ..layout import ArrayLayout
from ..layout.cell_set import CELL_STATUS_CODES, CellSetLayout, cell_set_footer, default_cell_name
from ..metadata import Spacing, Timing
from ..target import IsxdTarget, Reserve, WriteMethod, check_output_path
from ._incremental import IncrementalWriter, PathLike, check_item_index, missing_indices
from ._options import check_write_options, fill_doc, store
from ._validate import (
    DEFAULT_CASTING,
    check_name,
    check_names,
    check_spacing,
    check_status,
    check_statuses,
    check_timing,
    convert_in_memory,
    inherit_metadata,
    nan_at_invalid,
    prepare_array,
    require_spacing,
    require_timing,
    warn_defaults,
)

if TYPE_CHECKING:
    from dask.delayed import Delayed
    from typing_extensions import Unpack

    from ..readers.cell_set import CellSetFile
    from ._options import StoreOptions

    class _CellSetOptions(StoreOptions, total=False):
        timing: Timing | None
        spacing: Spacing | None
        extra_properties: Any
        metadata_from: PathLike | None
        cell_names: Sequence[str | None] | None
        statuses: Any
        casting: str

__all__ = ["CellSet", "write_cell_set"]

_FLOAT32 = np.dtype("<f4")


# -- input checks ---------------------------------------------------------------------------
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


def _join_records(footprints: np.ndarray[Any, Any], traces: np.ndarray[Any, Any], cells: slice, samples: slice, phase: int) -> np.ndarray[Any, Any]:
    """Records of ``footprints[cells]`` and ``traces[samples]`` (the same cells): each flattened footprint, then its trace.

    The records are made in memory aligned as they lie in the file (``phase``:
    their first byte modulo the block size), so they are written without a copy.
    """
    footprints, traces = footprints[cells], traces[samples]
    num_cells, num_pixels = len(footprints), math.prod(footprints.shape[1:])
    out = _io.aligned_empty((num_cells, num_pixels + traces.shape[1]), _FLOAT32, phase=phase)
    out[:, :num_pixels] = footprints.reshape(num_cells, num_pixels)
    out[:, num_pixels:] = traces
    return out


def _phase(layout: ArrayLayout, first: int) -> int:
    """Where record ``first`` of the records at ``layout`` starts in the file, modulo the block size."""
    return layout.byte_span((slice(first, first + 1), slice(0, 1)))[0] % _io.DIRECT_ALIGN


def _join_block(footprints: np.ndarray[Any, Any], traces: np.ndarray[Any, Any], layout: ArrayLayout,
                block_info: dict[Any, Any] | None = None) -> np.ndarray[Any, Any]:
    """:func:`_join_records` of a whole chunk of cells, placed by ``block_info`` (Dask's ``map_blocks``)."""
    first = block_info[None]["array-location"][0][0] if block_info else 0
    cells = slice(0, len(footprints))
    return _join_records(footprints, traces, cells, cells, _phase(layout, first))


def _records(footprints: Any, traces: Any, layout: ArrayLayout) -> Any:
    """Footprints and traces as one Dask array of whole records, ``(num_cells, num_pixels + num_samples)``.

    Records lie back to back in the file, so a chunk of them is one
    contiguous run: one large write per chunk instead of two short runs per
    cell. Where footprints and traces have the same chunks of cells, each
    chunk of records is one blockwise task. Otherwise a chunk of records ends
    wherever a chunk of footprints or of traces ends, and is made in one task
    from the one chunk of each that holds it, so no piece of a chunk is kept
    apart from the task that uses it (Dask may still compute input chunks
    somewhat ahead: peak memory then grows slowly with the number of chunks).
    ``layout`` is where the records lie in the file
    (:meth:`CellSetLayout.records`); each chunk is made in memory aligned as
    it lies there.
    """
    import dask
    import dask.array as da

    num_cells, rows, cols = footprints.shape
    width = rows * cols + traces.shape[1]
    if num_cells == 0:
        return da.zeros((0, width), dtype=_FLOAT32)
    footprints = footprints.rechunk({1: -1, 2: -1})
    traces = traces.rechunk({1: -1})
    if footprints.chunks[0] == traces.chunks[0]:
        # The same chunks of cells: one blockwise task per chunk, which Dask fuses with inputs
        # that are blockwise too; no input chunk is shared by two chunks of records.
        return da.map_blocks(  # type: ignore[no-untyped-call]
            _join_block, footprints.reshape(num_cells, rows * cols), traces, layout, dtype=_FLOAT32,
            chunks=(footprints.chunks[0], (width,)), meta=np.empty((0, 0), dtype=_FLOAT32),
        )
    footprint_blocks = footprints.to_delayed().ravel()
    trace_blocks = traces.to_delayed().ravel()
    footprint_starts = np.cumsum((0,) + footprints.chunks[0])
    trace_starts = np.cumsum((0,) + traces.chunks[0])
    bounds = np.union1d(footprint_starts, trace_starts).tolist()
    parts = []
    for first, stop in zip(bounds[:-1], bounds[1:]):
        f = int(np.searchsorted(footprint_starts, first, side="right")) - 1
        t = int(np.searchsorted(trace_starts, first, side="right")) - 1
        f0, t0 = int(footprint_starts[f]), int(trace_starts[t])
        joined = dask.delayed(_join_records, pure=True)(  # type: ignore[attr-defined]
            footprint_blocks[f], trace_blocks[t], slice(first - f0, stop - f0), slice(first - t0, stop - t0),
            _phase(layout, first),
        )
        parts.append(da.from_delayed(joined, shape=(stop - first, width), dtype=_FLOAT32))  # type: ignore[no-untyped-call]
    return da.concatenate(parts, axis=0)  # type: ignore[no-untyped-call]


# -- bulk writer ----------------------------------------------------------------------------
@overload
def write_cell_set(
    footprints: Any, traces: Any, path: PathLike, *, compute: Literal[False], **options: Unpack[_CellSetOptions]
) -> Delayed: ...
@overload
def write_cell_set(
    footprints: Any, traces: Any, path: PathLike, *, compute: Literal[True] = ..., **options: Unpack[_CellSetOptions]
) -> None: ...
@overload
def write_cell_set(
    footprints: Any, traces: Any, path: PathLike, *, compute: bool, **options: Unpack[_CellSetOptions]
) -> Delayed | None: ...


@fill_doc
def write_cell_set(
    footprints: Any,
    traces: Any,
    path: PathLike,
    *,
    timing: Timing | None = None,
    spacing: Spacing | None = None,
    extra_properties: Any = None,
    metadata_from: PathLike | None = None,
    cell_names: Sequence[str | None] | None = None,
    statuses: Any = None,
    casting: str = DEFAULT_CASTING,
    overwrite: bool = False,
    compute: bool = True,
    fsync: bool = True,
    resume: bool = False,
    reserve: Reserve = "auto",
    write_method: WriteMethod = "auto",
    compute_kwargs: dict[str, Any] | None = None,
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
        Timing of the traces (usually the movie's). Without it (and without
        ``metadata_from``) the official defaults are used, 50 ms from
        1970-01-01, with a :class:`DefaultMetadataWarning`.
    spacing : Spacing, optional
        Footprint shape and pixel size; defaults to the footprint shape with
        3-micron pixels, with a :class:`DefaultMetadataWarning`.
    {metadata}
    cell_names : sequence of str or None, optional
        One name per cell, at most 255 UTF-8 bytes each. ``None`` (or ``''``)
        gives the official core's default name: ``'C'`` and the index
        zero-padded to the digits of the largest index (``C00`` ... ``C11`` for
        12 cells). Defaults to the names of a cell set given as ``metadata_from``.
    statuses : sequence, str or bool, optional
        One status per cell: ``'accepted'``, ``'undecided'`` or ``'rejected'``,
        or booleans (True accepted, False rejected), e.g. an acceptance mask.
        A single value applies to every cell. Defaults to ``'undecided'`` for
        every cell, as the official writer and IDPS mark new cells.
    casting : {'same_value', 'no', 'equiv', 'safe', 'same_kind', 'unsafe'}, default 'same_value'
        Which conversions to float32 are allowed (see :func:`write_movie`):
        by default any real dtype whose values float32 holds (float64 rounds
        to float32's precision; values beyond its range are refused).
    {options}

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
        properties that are not strict JSON; zero pixels or zero samples;
        values beyond float32.
    TypeError
        Data that are not real numbers or not allowed by ``casting``; names
        that are not strings; an option of the wrong type or an unknown keyword.
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
    options = check_write_options(overwrite, compute, fsync, resume, reserve, write_method, compute_kwargs)
    given = metadata_from is not None
    warn = (timing is not None or given, spacing is not None or given)
    timing, spacing, extra_properties, cell_names = inherit_metadata(
        metadata_from, timing, spacing, extra_properties, cell_names
    )
    footprints = prepare_array(footprints, "footprints", 3, "(num_cells, rows, cols)", _FLOAT32, casting)
    traces = prepare_array(traces, "traces", 2, "(num_cells, num_samples)", _FLOAT32, casting)
    num_cells = _check_cell_counts(footprints, traces)
    timing = check_timing(timing, traces.shape[1], "traces")
    spacing = check_spacing(spacing, footprints.shape[1:], "footprints")
    _check_geometry(timing, spacing)
    names = check_names(cell_names, num_cells, prefix="C", label="cell_names")
    cell_statuses = check_statuses(statuses, num_cells)
    warn_defaults(timing_given=warn[0], spacing_given=warn[1])
    path = check_output_path(path, overwrite)

    layout = CellSetLayout(timing, spacing, num_cells)
    metadata = cell_set_footer(timing, spacing, names, cell_statuses, extra_properties)
    records = _records(footprints, nan_at_invalid(traces, timing), layout.records())
    return store([(records, layout.records())], path, layout.data_size, metadata, options)


# -- incremental writer ---------------------------------------------------------------------
class CellSet(IncrementalWriter["CellSetFile"]):
    """A cell set file, opened for writing cell by cell or for reading, as ``isx.CellSet``.

    Use :meth:`write` and :meth:`read` to create one. Unlike the official
    writer, :meth:`set_cell_data` puts each cell at the place of its
    ``index`` (cells may come in any order), refuses an index written twice,
    checks the footprint shape and trace length, and :meth:`flush` refuses to
    commit while an index below the largest one written is missing. As in the
    official package, statuses start as ``'undecided'``, and
    :meth:`set_cell_status` flushes a cell set being written (so call it only
    after every cell is written) and then writes the status through to the
    file, as it does on a set opened with ``read(path, read_only=False)``. As
    a context manager, a block that raises commits nothing.

    For bulk writing from Dask, see :func:`write_cell_set`.

    Examples
    --------
    >>> timing, spacing = Timing(num_samples=100), Spacing(num_pixels=(4, 5))
    >>> with CellSet.write("cells.isxd", timing, spacing) as cell_set:  # doctest: +SKIP
    ...     for i in (2, 0, 1):
    ...         cell_set.set_cell_data(i, numpy.ones((4, 5), numpy.float32), numpy.zeros(100, numpy.float32), None)
    """

    kind = "cell set"
    status_key = "CellStatuses"
    str_fields = ("timing", "spacing", "num_cells")

    def __init__(self) -> None:
        super().__init__()
        self._extra_properties: Any = None
        self._names: dict[int, str | None] = {}
        self._statuses: dict[int, str] = {}

    @classmethod
    def _open_reader(cls, path: str) -> CellSetFile:
        from ..readers.cell_set import CellSetFile

        return CellSetFile(path)

    # -- opening -------------------------------------------------------------------------
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
        inherit_metadata(None, timing, spacing, extra_properties)
        # Refuse a cell too large for any file before anything is created (or allocated).
        check_file_size(CellSetLayout(timing, spacing, 1).data_size)
        self = cls()
        self._timing, self._spacing = timing, spacing
        self._extra_properties = extra_properties
        self._start(file_path, overwrite)
        return self

    # -- properties ----------------------------------------------------------------------
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
        return str(reader.names[check_item_index(index, reader.num_cells, "cell")])

    def get_cell_status(self, index: int) -> str:
        """Status of cell ``index``: ``'accepted'``, ``'undecided'`` or ``'rejected'``."""
        reader = self._require_reader()
        return str(reader.statuses[check_item_index(index, reader.num_cells, "cell")])

    def get_cell_image_data(self, index: int) -> np.ndarray[Any, Any]:
        """Footprint of cell ``index`` as a ``(rows, cols)`` float32 array."""
        return np.asarray(self._require_reader().get_footprint(index))

    def get_cell_trace_data(self, index: int) -> np.ndarray[Any, Any]:
        """Trace of cell ``index`` as a ``(num_samples,)`` float32 array (NaN at invalid samples)."""
        return np.asarray(self._require_reader().get_trace(index))

    # -- writing -------------------------------------------------------------------------
    def set_cell_data(self, index: int, image: np.ndarray[Any, Any], trace: np.ndarray[Any, Any], name: str | None) -> None:
        """Write the footprint, trace and name of cell ``index``.

        Trace samples at dropped, cropped and blank indices are stored as NaN.

        Parameters
        ----------
        index : int >= 0
            Cell index; cells may be written in any order, each once.
        image : numpy.ndarray, shape spacing.num_pixels (or flat, rows * cols values)
            Footprint; a flat footprint (CaImAn's ``A[:, i]``) is reshaped in C
            order, as the official writer takes it.
        trace : numpy.ndarray, shape (timing.num_samples,)
            Trace.
        name : str or None
            Name (at most 255 UTF-8 bytes). None gives ``'C<index>'``, as the
            official ``set_cell_data``; ``''`` gives the official core's
            zero-padded default.

        Raises
        ------
        ValueError
            A negative index, an index written already, a wrong shape, a bad
            name, or a value that float32 cannot hold.
        TypeError
            Non-integer index, non-array data, or a name that is not a str.
        RuntimeError
            If the cell set is not open for writing.
        """
        partial = self._require_open()
        index = check_item_index(index, None, "cell")
        if index in self._names:
            msg = f"cell {index} was already written; each cell may be written once"
            raise ValueError(msg)
        image = convert_in_memory(image, _FLOAT32, "image", self._spacing.num_pixels)
        trace = convert_in_memory(trace, _FLOAT32, "trace", (self._timing.num_samples,))
        if name is None:
            name = f"C{index}"
        checked = None if name == "" else check_name(name, "name")
        layout = CellSetLayout(self._timing, self._spacing, index + 1)
        if layout.data_size > MAX_FILE_NBYTES:
            msg = (
                f"index {index} is too large: cells 0 to {index} would take {layout.data_size} bytes, "
                f"more than a file can hold ({MAX_FILE_NBYTES} bytes)"
            )
            raise ValueError(msg)
        trace = nan_at_invalid(trace, self._timing)
        # pwrite (never a mapped window): the record may lie past the current end of the file.
        IsxdTarget(partial, layout.footprints(), "pwrite")[index : index + 1] = image[None]
        IsxdTarget(partial, layout.traces(), "pwrite")[index : index + 1] = trace[None]
        self._names[index] = checked

    def set_cell_status(self, index: int, status: str | bool) -> None:
        """Set the status of cell ``index``: ``'accepted'``, ``'undecided'`` or ``'rejected'`` (or a bool).

        As in the official package, on a cell set being written this first
        flushes the file (so call it only after every cell is written); the
        status is then written through to the committed file at once, as on a
        set opened with ``read(path, read_only=False)``.

        Raises
        ------
        IndexError
            If there is no cell ``index``.
        ValueError
            For an unknown status, or if the flush fails (cells missing).
        RuntimeError
            If the cell set was opened read-only.
        """
        status = check_status(status, "status", allow_bool=True)
        if self._partial is not None:
            if check_item_index(index, None, "cell") not in self._names:
                msg = f"cell {index} has not been written yet; write it with set_cell_data before setting its status"
                raise IndexError(msg)
            self.flush()
        self._write_status(index, CELL_STATUS_CODES[status])

    def missing_cells(self) -> np.ndarray[Any, Any]:
        """Indices below the largest written index that have not been written."""
        written = np.zeros(self.num_cells, dtype=bool)
        written[list(self._names)] = True
        return np.flatnonzero(~written)

    def _missing(self) -> str:
        written = np.zeros(self.num_cells, dtype=bool)
        written[list(self._names)] = True
        return missing_indices(written, f"cell(s) below index {self.num_cells - 1}")

    def _footer(self) -> tuple[dict[str, Any], int]:
        n = self.num_cells
        names = [self._names[k] or default_cell_name(k, n) for k in range(n)]
        statuses = [self._statuses.get(k, "undecided") for k in range(n)]
        layout = CellSetLayout(self._timing, self._spacing, n)
        return cell_set_footer(self._timing, self._spacing, names, statuses, self._extra_properties), layout.data_size

    def __repr__(self) -> str:
        if not self.file_path:
            return "CellSet()"
        return f"CellSet({self.file_path!r}, mode={self.mode!r}, num_cells={self.num_cells}, timing={self.timing!r}, spacing={self.spacing!r})"
