"""What the analysis-result converters (suite2p, CaImAn, Minian, CNMF-E) share.

Each converter reads its tool's saved files into lazy Dask arrays (footprints
built per chunk of cells inside the tasks, traces read per chunk), works out
timing and spacing with :func:`resolve_metadata`, and hands everything to
:func:`write_results`: one :func:`isx_dask.write_cell_set` and, if asked, one
:func:`isx_dask.write_event_set_dense`. The rules that must be the same for
every tool live here once:

* the exact period from a frame rate (:func:`period_from_frame_rate`);
* what ``timing``, ``metadata_from`` and ``frame_rate`` give, and the errors
  when a source lacks what the format needs (:func:`resolve_metadata`);
* which samples of deconvolved activity are events (:func:`events_from_dense`).
"""

from __future__ import annotations

import numbers
import os
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from ..layout import IsxdFormatError
from ..metadata import Duration, Spacing, Timing
from ..target import check_output_path
from ..writers.cell_set import write_cell_set
from ..writers.event_set import default_cell_names, write_event_set_dense
from ._recording import PathLike

if TYPE_CHECKING:
    import dask.array as da
    from dask.delayed import Delayed
    from typing_extensions import TypedDict

    class ResultOptions(TypedDict, total=False):
        """The keyword options every results converter takes (for the ``compute`` overloads)."""

        timing: Timing | None
        spacing: Spacing | None
        extra_properties: Any
        metadata_from: PathLike | None
        frame_rate: Any
        cell_names: Sequence[str] | None
        statuses: Any
        overwrite: bool
        fsync: bool
        compute_kwargs: dict[str, Any] | None

    class EventResultOptions(ResultOptions, total=False):
        """:class:`ResultOptions` of a converter that also writes an event set."""

        event_threshold: float

__all__ = [
    "H5Array",
    "NpyArray",
    "cell_chunks",
    "check_outputs",
    "check_threshold",
    "events_from_dense",
    "lazy_cells",
    "lazy_traces",
    "period_from_frame_rate",
    "resolve_metadata",
    "sparse_block",
    "write_results",
]


_FLOAT32 = np.dtype("<f4")
_INT64_MAX = 2**63 - 1



# -- timing and spacing ------------------------------------------------------------------------
def _exact_rate(rate: Any, label: str) -> Fraction:
    """A frame rate as the exact rational its writer meant: a float by its shortest decimal text."""
    if isinstance(rate, (bool, np.bool_)):
        msg = f"{label} must be a number of frames per second, got {rate!r}"
        raise TypeError(msg)
    if isinstance(rate, np.ndarray) and rate.shape == ():
        rate = rate[()]
    if isinstance(rate, Fraction):
        value = rate
    elif isinstance(rate, numbers.Integral):
        value = Fraction(int(rate))
    elif isinstance(rate, np.floating):
        if not np.isfinite(rate):
            msg = f"{label} must be a finite number of frames per second, got {rate!r}"
            raise ValueError(msg)
        # Shortest text that round-trips in the value's own precision: float32 15.26 is 15.26, not 15.2600002.
        value = Fraction(np.format_float_positional(rate, unique=True, trim="0"))
    elif isinstance(rate, numbers.Real):
        flt = float(rate)
        if not np.isfinite(flt):
            msg = f"{label} must be a finite number of frames per second, got {rate!r}"
            raise ValueError(msg)
        value = Fraction(repr(flt))
    else:
        msg = f"{label} must be a number of frames per second (int, float or Fraction), got {type(rate).__name__} {rate!r}"
        raise TypeError(msg)
    if value <= 0:
        msg = f"{label} must be > 0 frames per second, got {rate!r}"
        raise ValueError(msg)
    return value


def period_from_frame_rate(rate: Any, label: str = "frame_rate") -> Duration:
    """The exact sampling period of a frame rate: ``1 / rate`` as a rational, never truncated.

    A float rate is taken by its shortest decimal text, the number its writer
    printed or typed: 30.0 Hz gives ``Duration(1, 30)``, 29.97 Hz gives
    ``Duration(100, 2997)``, 15.258789 Hz gives ``Duration(1000000, 15258789)``.

    Raises
    ------
    TypeError
        If ``rate`` is not a real number.
    ValueError
        If it is not finite and > 0, or its exact period does not fit the
        footer's 64-bit numerator and denominator (pass ``timing=`` instead).
    """
    value = _exact_rate(rate, label)
    period = 1 / value
    if period.numerator > _INT64_MAX or period.denominator > _INT64_MAX:
        msg = f"{label} {rate!r} has no exact period with 64-bit numerator and denominator; pass timing= with the period you want"
        raise ValueError(msg)
    return Duration(period.numerator, period.denominator)


def _shifted(spacing: Spacing, offset_pixels: tuple[int, int]) -> Spacing:
    """``spacing`` with its top-left corner moved by a whole number of pixels."""
    (py, px), (ty, tx) = spacing.pixel_size, spacing.top_left
    return Spacing(num_pixels=spacing.num_pixels, pixel_size=(py, px), top_left=(ty + offset_pixels[0] * py, tx + offset_pixels[1] * px))


def resolve_metadata(
    source: str,
    *,
    num_samples: int,
    frame_shape: tuple[int, int],
    timing: Timing | None,
    spacing: Spacing | None,
    extra_properties: Any,
    metadata_from: PathLike | None,
    frame_rate: Any,
    source_frame_rate: Any = None,
    source_rate_label: str = "",
    crop_offset: tuple[int, int] = (0, 0),
) -> tuple[Timing, Spacing, Any]:
    """Timing, spacing and extra properties of the cell set converted from ``source``.

    Timing, first that applies: ``timing``; the timing of ``metadata_from``
    (start time included); ``num_samples`` samples at ``frame_rate``; at the
    source's own frame rate ``source_frame_rate``. Spacing: ``spacing``; the
    pixel size and top-left corner of ``metadata_from``; the writer's default
    pixel size. In the last two, the top-left corner moves by ``crop_offset``
    (rows, cols) pixels when the source's footprints cover a crop of the frame.
    Extra properties: ``extra_properties``, else those of ``metadata_from``.

    Raises
    ------
    TypeError
        ``frame_rate`` together with ``timing`` or ``metadata_from``; ``timing``
        or ``spacing`` of the wrong type.
    ValueError
        No frame rate anywhere; a timing whose ``num_samples`` is not the
        number of samples of the source's traces; a ``metadata_from`` movie whose
        frame shape is not the footprints'.
    FileNotFoundError, IsxdFormatError
        ``metadata_from`` missing or not an ``.isxd`` file.
    """
    if frame_rate is not None and (timing is not None or metadata_from is not None):
        given = "timing" if timing is not None else "metadata_from"
        msg = f"pass frame_rate or {given}, not both: {given} gives the period already (pass timing= to set every field)"
        raise TypeError(msg)
    if timing is not None and not isinstance(timing, Timing):
        msg = f"timing must be an isx_dask.Timing, got {type(timing).__name__}"
        raise TypeError(msg)
    if spacing is not None and not isinstance(spacing, Spacing):
        msg = f"spacing must be an isx_dask.Spacing, got {type(spacing).__name__}"
        raise TypeError(msg)
    movie = None
    if metadata_from is not None:
        from ..readers import open_isxd

        movie = open_isxd(metadata_from)

    # Timing.
    given_by = "timing"
    if timing is None and movie is not None:
        timing, given_by = movie.timing, f"metadata_from {os.fspath(metadata_from)!r}"  # type: ignore[arg-type]
    if timing is None:
        if frame_rate is not None:
            period = period_from_frame_rate(frame_rate, "frame_rate")
        elif source_frame_rate is not None:
            period = period_from_frame_rate(source_frame_rate, f"{source} {source_rate_label}")
        else:
            msg = (
                f"{source} gives no frame rate; pass frame_rate= (frames per second), "
                f"metadata_from= (the .isxd movie the cells come from) or timing="
            )
            raise ValueError(msg)
        timing = Timing(num_samples=num_samples, period=period)
    elif timing.num_samples != num_samples:
        valid = f" ({timing.num_valid_samples} of them valid)" if timing.num_valid_samples != timing.num_samples else ""
        msg = (
            f"{source} has traces of {num_samples} samples but {given_by} has num_samples={timing.num_samples}{valid}; "
            f"pass timing= with num_samples={num_samples} (the frames the analysis saw)"
        )
        raise ValueError(msg)

    # Spacing.
    if spacing is None:
        if movie is not None:
            base = movie.spacing
            if _outside_movie(base, frame_shape, crop_offset):
                msg = (
                    f"{source} footprints are {frame_shape} (rows, cols)"
                    + (f" at offset {crop_offset}" if crop_offset != (0, 0) else "")
                    + f" but metadata_from {os.fspath(metadata_from)!r} has frames of {base.num_pixels}; "  # type: ignore[arg-type]
                    "pass spacing= for the footprints"
                )
                raise ValueError(msg)
            spacing = Spacing(num_pixels=frame_shape, pixel_size=base.pixel_size, top_left=base.top_left)
        else:
            spacing = Spacing(num_pixels=frame_shape)
        spacing = _shifted(spacing, crop_offset)
    if extra_properties is None and movie is not None:
        extra_properties = movie.extra_properties
    return timing, spacing, extra_properties


def _outside_movie(movie: Spacing, frame_shape: tuple[int, int], crop_offset: tuple[int, int]) -> bool:
    """True if footprints of ``frame_shape`` at ``crop_offset`` do not lie inside the movie's frames."""
    rows, cols = movie.num_pixels
    if crop_offset == (0, 0):
        return tuple(frame_shape) != (rows, cols)
    return crop_offset[0] + frame_shape[0] > rows or crop_offset[1] + frame_shape[1] > cols


# -- lazy arrays -------------------------------------------------------------------------------
#: Bytes of cell records (footprint and trace) per chunk of cells.
RECORDS_CHUNK_NBYTES = 32 * 2**20


def cell_chunks(num_cells: int, frame_shape: tuple[int, int], num_samples: int) -> tuple[int, ...]:
    """Chunks of cells holding about ``RECORDS_CHUNK_NBYTES`` of records each, for footprints and traces alike.

    With the same chunks along cells, each chunk of records is written from one
    chunk of footprints and one of traces, and no chunk waits in memory for a
    neighbour of the other array.
    """
    per_cell = _FLOAT32.itemsize * (frame_shape[0] * frame_shape[1] + num_samples)
    step = max(1, RECORDS_CHUNK_NBYTES // max(per_cell, 1))
    return tuple(min(step, num_cells - start) for start in range(0, num_cells, step))


def lazy_cells(
    build: Callable[..., np.ndarray[Any, Any]],
    block_args: Callable[[int, int], tuple[Any, ...]],
    num_cells: int,
    frame_shape: tuple[int, int],
    name: str,
    counts: tuple[int, ...] | None = None,
) -> da.Array:
    """A ``(num_cells, rows, cols)`` float32 Dask array whose chunks of cells are made inside their tasks.

    The task for cells ``start:stop`` calls ``build(*block_args(start, stop))``.
    ``build`` must be a module-level function and ``block_args`` must return
    small, picklable arguments that concern those cells only (file paths and
    offsets, or that chunk's sparse pixels), so no more than a chunk of dense
    footprints per running task is ever in memory. Chunks hold ``counts``
    cells (:func:`cell_chunks`), by default about ``array.chunk-size`` bytes
    (Dask's configuration).
    """
    import dask.array as da
    from dask.base import tokenize
    from dask.delayed import delayed

    rows, cols = frame_shape
    if num_cells == 0:
        return da.zeros((0, rows, cols), dtype=_FLOAT32)  # type: ignore[no-any-return]
    if counts is None:
        (counts, _, _) = da.core.normalize_chunks(("auto", -1, -1), (num_cells, rows, cols), dtype=_FLOAT32)  # type: ignore[no-untyped-call]
    blocks = []
    start = 0
    for count in counts:
        args = block_args(start, start + count)
        key = f"{name}-{tokenize(build, args)}"
        block = delayed(build, pure=True)(*args, dask_key_name=key)
        blocks.append(da.from_delayed(block, shape=(count, rows, cols), dtype=_FLOAT32))  # type: ignore[no-untyped-call]
        start += count
    return da.concatenate(blocks, axis=0)  # type: ignore[no-untyped-call, no-any-return]


def sparse_block(cell_starts: np.ndarray[Any, Any], flat_pixels: np.ndarray[Any, Any], values: np.ndarray[Any, Any], frame_shape: tuple[int, int]) -> np.ndarray[Any, Any]:
    """Dense float32 footprints ``(cells, rows, cols)`` of a chunk of cells given as sparse pixels.

    Cell ``k`` owns ``flat_pixels[cell_starts[k]:cell_starts[k + 1]]`` (row-major
    indices into the frame) with those ``values``; a pixel listed twice for one
    cell adds up, as in a sparse matrix.
    """
    num = len(cell_starts) - 1
    out = np.zeros((num, frame_shape[0] * frame_shape[1]), dtype=_FLOAT32)
    cells = np.repeat(np.arange(num), np.diff(cell_starts))
    np.add.at(out, (cells, flat_pixels), values.astype(_FLOAT32, copy=False))
    return out.reshape(num, *frame_shape)


class NpyArray:
    """A ``.npy`` file read lazily: each slice memory-maps the file, copies the slice out, and closes it.

    Picklable as its path (no data, no open map), so it can go into a Dask
    graph on any scheduler; ``dask.array.from_array(NpyArray(path), chunks=...)``.
    """

    def __init__(self, path: PathLike) -> None:
        self.path = os.fspath(path)
        header = np.load(self.path, mmap_mode="r")
        if not isinstance(header, np.memmap) or header.dtype.hasobject:
            msg = f"{self.path!r} is not a plain numeric .npy array (object arrays cannot be read lazily)"
            raise IsxdFormatError(msg)
        self.shape: tuple[int, ...] = tuple(int(n) for n in header.shape)
        self.dtype = header.dtype
        self.ndim = len(self.shape)
        del header

    def __getitem__(self, key: Any) -> np.ndarray[Any, Any]:
        mapped = np.load(self.path, mmap_mode="r")
        try:
            return np.array(mapped[key])
        finally:
            del mapped

    def __repr__(self) -> str:
        return f"NpyArray({self.path!r}, shape={self.shape}, dtype={self.dtype})"


class H5Array:
    """An HDF5 dataset read lazily: each slice opens the file, reads the slice and closes it.

    Picklable as its path and dataset name, for Dask graphs on any scheduler.
    """

    def __init__(self, path: PathLike, dataset: str, shape: tuple[int, ...], dtype: Any) -> None:
        self.path = os.fspath(path)
        self.dataset = dataset
        self.shape = tuple(int(n) for n in shape)
        self.dtype = np.dtype(dtype)
        self.ndim = len(self.shape)

    def __getitem__(self, key: Any) -> np.ndarray[Any, Any]:
        import h5py  # type: ignore[import-untyped]

        with h5py.File(self.path, "r") as f:
            return np.asarray(f[self.dataset][key])

    def __repr__(self) -> str:
        return f"H5Array({self.path!r}, {self.dataset!r}, shape={self.shape}, dtype={self.dtype})"


def lazy_traces(array: NpyArray | H5Array | Any, name: str, counts: tuple[int, ...] | None = None) -> da.Array:
    """A 2-D ``(cells, samples)`` lazy reader as a Dask array in chunks of whole traces (``counts`` cells each, or auto)."""
    import dask.array as da

    if counts is not None and array.shape[0]:
        chunks = (counts, (array.shape[1],))
    else:
        chunks = da.core.normalize_chunks(("auto", -1), array.shape, dtype=array.dtype)  # type: ignore[no-untyped-call]
    return da.from_array(array, chunks=chunks, name=f"{name}-" + _token(array), asarray=True, fancy=False)  # type: ignore[no-untyped-call, no-any-return]


def _token(array: Any) -> str:
    from dask.base import tokenize

    path = getattr(array, "path", "")
    mtime = os.path.getmtime(path) if path and os.path.exists(path) else None
    return str(tokenize(repr(array), mtime))


# -- events ------------------------------------------------------------------------------------
def check_threshold(threshold: Any) -> float:
    """``event_threshold`` as a float if it is a finite real number >= 0."""
    if isinstance(threshold, (bool, np.bool_)) or not isinstance(threshold, numbers.Real):
        msg = f"event_threshold must be a real number >= 0, got {type(threshold).__name__} {threshold!r}"
        raise TypeError(msg)
    value = float(threshold)
    if not np.isfinite(value) or value < 0:
        msg = f"event_threshold must be a finite number >= 0, got {threshold!r}"
        raise ValueError(msg)
    return value


def events_from_dense(activity: da.Array, threshold: float, timing: Timing) -> da.Array:
    """Event amplitudes from deconvolved activity: the value where it is > ``threshold``, else 0.

    Samples at dropped, cropped and blank indices of ``timing`` are never events.
    """
    import dask.array as da

    events = da.where(activity > threshold, activity, 0)
    valid = timing.get_valid_samples_mask()
    if not valid.all():
        events = da.where(valid[None, :], events, 0)
    return events  # type: ignore[no-any-return]


# -- writing -----------------------------------------------------------------------------------
def _both(*_written: Any) -> None:
    """Completes when every write it depends on has committed."""


def check_outputs(cell_set_path: PathLike, event_set_path: PathLike | None, overwrite: bool) -> None:
    """Both output paths are usable and distinct, checked before either file is written."""
    cell_path = check_output_path(cell_set_path, overwrite)
    if event_set_path is not None:
        event_path = check_output_path(event_set_path, overwrite)
        if os.path.abspath(cell_path) == os.path.abspath(event_path):
            msg = f"cell_set_path and event_set_path are the same file {cell_path!r}; give two paths"
            raise ValueError(msg)


def write_results(
    footprints: da.Array,
    traces: da.Array,
    cell_set_path: PathLike,
    event_set_path: PathLike | None,
    events: da.Array | None,
    *,
    timing: Timing,
    spacing: Spacing,
    extra_properties: Any,
    cell_names: Sequence[str] | None,
    statuses: Any,
    overwrite: bool,
    compute: bool,
    fsync: bool,
    compute_kwargs: dict[str, Any] | None,
) -> Delayed | None:
    """Write the cell set and, if ``event_set_path`` is given, the event set with the same names and timing.

    The cell set is written (and committed) first, then the event set; each
    file appears only when complete. With ``compute=False``, one Delayed that
    completes when both are committed.
    """
    from dask.delayed import delayed

    num_cells = int(footprints.shape[0])
    names = list(cell_names) if cell_names is not None else list(default_cell_names(num_cells))

    def write_cells(compute_now: bool) -> Any:
        return write_cell_set(
            footprints, traces, cell_set_path, timing=timing, spacing=spacing, extra_properties=extra_properties,
            cell_names=names, statuses=statuses, overwrite=overwrite, compute=compute_now, fsync=fsync,
            compute_kwargs=compute_kwargs,
        )

    def write_events(compute_now: bool) -> Any:
        return write_event_set_dense(
            events, event_set_path, timing=timing, extra_properties=extra_properties, cell_names=names,  # type: ignore[arg-type]
            overwrite=overwrite, compute=compute_now, fsync=fsync, compute_kwargs=compute_kwargs,
        )

    if compute:
        write_cells(True)
        if event_set_path is not None:
            write_events(True)
        return None
    written = [write_cells(False)]
    if event_set_path is not None:
        written.append(write_events(False))
    return delayed(_both, pure=False)(*written)  # type: ignore[no-any-return]

