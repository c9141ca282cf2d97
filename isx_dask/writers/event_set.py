"""Event sets: ``write_event_set`` from per-cell events, ``write_event_set_dense`` from a dense
(cells x samples) amplitude array in NumPy or Dask, and the incremental ``EventSet``.

What is stored is what the official reader returns: each cell's events sorted
by offset with unique offsets, unique cell names of at most 255 UTF-8 bytes,
and an end time from which the reader gets ``num_samples`` back exactly, at
any period (see :func:`isx_dask.layout.event_set.event_set_end`).
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal, Sequence, overload
import warnings

import numpy as np

from ..layout.event_set import (
    EVENT_PACKET_NBYTES,
    EndTime,
    EventSetLayout,
    duration_usecs,
    encode_packets,
    event_set_end,
    event_set_footer,
    packet_layout,
    sample_offsets_usecs,
)
from ..metadata import Duration, Timing
from ..target import IsxdTarget, Reserve, WriteMethod, check_output_path, finish_write, preallocate, remove_partial
from ._incremental import IncrementalWriter, PathLike, check_item_index
from ._options import check_write_options, fill_doc, store
from ._validate import (
    DEFAULT_CASTING,
    as_dask_array,
    check_float32_casting,
    check_names,
    check_not_masked,
    check_timing,
    float32_values,
    inherit_metadata,
    require_timing,
    warn_defaults,
)

if TYPE_CHECKING:
    from dask.delayed import Delayed
    from typing_extensions import Unpack

    from ..readers.event_set import EventSetFile
    from ._options import StoreOptions

    class _EventSetOptions(StoreOptions, total=False):
        timing: Timing | None
        extra_properties: Any
        metadata_from: PathLike | None
        cell_names: Sequence[str] | None
        end_time: EndTime
        casting: str

__all__ = [
    "EventSet",
    "check_cell_events",
    "check_offsets",
    "default_cell_names",
    "packets_by_cell",
    "to_float32",
    "write_event_set",
    "write_event_set_dense",
]

_PACK_CHUNK_PACKETS = (64 * 2**20) // EVENT_PACKET_NBYTES
_FLOAT32_MAX = float(np.finfo(np.float32).max)


# -- validation (all of it runs before a byte is written) ---------------------------------------
def default_cell_names(num_cells: int) -> tuple[str, ...]:
    """Default cell names: the names a cell set of ``num_cells`` cells gets (``C0``...``C9`` for 10 cells).

    The official event-set writer has no defaults; these match :func:`write_cell_set`'s, so that
    events pair with their cells by name.
    """
    return tuple(check_names(None, num_cells, prefix="C", label="cell_names"))


def _check_cell_names(cell_names: Any, num_cells: int | None) -> tuple[str, ...]:
    """Unique checked names; ``None`` gives the defaults of ``num_cells`` cells (a name list is required when None)."""
    if cell_names is None and num_cells is None:
        msg = "cell_names must be a list of str"
        raise TypeError(msg)
    if cell_names is not None and (isinstance(cell_names, (str, bytes)) or not isinstance(cell_names, Sequence)):
        msg = f"cell_names must be a list or tuple of str, got {type(cell_names).__name__}"
        raise TypeError(msg)
    count = len(cell_names) if num_cells is None and cell_names is not None else int(num_cells or 0)
    if cell_names is not None and any(not isinstance(n, str) for n in cell_names):
        bad = next(k for k, n in enumerate(cell_names) if not isinstance(n, str))
        msg = f"cell_names[{bad}] must be a str, got {type(cell_names[bad]).__name__} {cell_names[bad]!r}"
        raise TypeError(msg)
    return tuple(check_names(cell_names, count, prefix="C", label="cell_names", unique=True))


def _check_end_time(end_time: Any, timing: Timing) -> EndTime:
    if end_time not in ("exact", "official"):
        msg = f"end_time must be 'exact' or 'official', got {end_time!r}"
        raise ValueError(msg)
    event_set_end(timing, end_time)  # raises for an exact end that does not fit the footer
    return end_time  # type: ignore[no-any-return]


def _as_1d(values: Any, label: str) -> np.ndarray[Any, Any]:
    """``values`` as a 1-D array; a column or row (``np.argwhere`` gives ``(k, 1)``) is flattened, as the official writer does."""
    check_not_masked(values, label)
    arr = np.asarray(values)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        msg = f"{label} must be one-dimensional (or a single column), got shape {arr.shape}"
        raise ValueError(msg)
    return arr


def check_offsets(values: Any, label: str, limit_usecs: Fraction) -> np.ndarray[Any, Any]:
    """Offsets as uint64 microseconds, checked to be whole, >= 0 and before the end of the recording."""
    arr = _as_1d(values, label)
    if arr.size == 0:
        return np.zeros(0, dtype=np.uint64)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.floor(arr)):
            msg = f"{label} must be whole microseconds from the start; round them first (e.g. numpy.round(...).astype(numpy.uint64))"
            raise TypeError(msg)
    elif arr.dtype.kind not in "iu":
        msg = f"{label} must be integer microseconds from the start, got dtype {arr.dtype}"
        raise TypeError(msg)
    low, high = arr.min(), arr.max()
    if low < 0:
        msg = f"{label} holds a negative offset ({low}); expected microseconds >= 0 from the start time"
        raise ValueError(msg)
    if Fraction(int(high)) >= limit_usecs:
        msg = (
            f"{label} holds offset {int(high)} us, past the end of the recording "
            f"(timing lasts {float(limit_usecs):.0f} us); expected 0 <= offset < num_samples * period"
        )
        raise ValueError(msg)
    return arr.astype(np.uint64)


def _check_amplitudes(values: Any, label: str, casting: str) -> np.ndarray[Any, Any]:
    arr = _as_1d(values, label)
    return to_float32(arr, label, casting)


def to_float32(arr: np.ndarray[Any, Any], label: str, casting: str = DEFAULT_CASTING) -> np.ndarray[Any, Any]:
    """``arr`` (real numbers) as float32 under ``casting``, checked before anything is written.

    Under ``'same_value'`` (the default) an integer that float32 would round
    (beyond 2**24) or a float beyond float32's range is refused with a
    ``ValueError`` naming ``label``; numpy's rules decide by dtype alone
    (``TypeError``), and ``'unsafe'`` is numpy's ``astype``.
    """
    if arr.dtype.kind not in "biuf":
        msg = f"{label} has dtype {arr.dtype}, which cannot be stored as float32 amplitudes; expected real numbers"
        raise TypeError(msg)
    casting = check_float32_casting(arr.dtype, label, casting)
    out = float32_values(arr, label, casting)
    if casting == "same_value" and arr.dtype.kind == "f" and arr.dtype.itemsize > 4 and np.any(np.isinf(out) & np.isfinite(arr)):
        msg = f"{label} holds values beyond the float32 range (+/-{_FLOAT32_MAX:.4g}); they would be stored as infinity"
        raise ValueError(msg)
    return out


def check_cell_events(
    offsets: Any, amplitudes: Any, label: str, limit_usecs: Fraction, casting: str = DEFAULT_CASTING
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """One cell's events, converted and checked (not sorted)."""
    offs = check_offsets(offsets, f"offsets{label}", limit_usecs)
    amps = _check_amplitudes(amplitudes, f"amplitudes{label}", casting)
    if len(offs) != len(amps):
        msg = f"offsets{label} has {len(offs)} events but amplitudes{label} has {len(amps)}; they must be equal"
        raise ValueError(msg)
    return offs, amps


def _check_unique(sorted_offsets: np.ndarray[Any, Any], label: str, cell_name: str) -> None:
    same = np.flatnonzero(sorted_offsets[1:] == sorted_offsets[:-1])
    if same.size:
        msg = (
            f"offsets{label} repeats offset {int(sorted_offsets[same[0]])} us for cell {cell_name!r}; "
            f"a cell has at most one event per offset (the official reader keeps only one)"
        )
        raise ValueError(msg)


# -- bulk writing from per-cell events ------------------------------------------------------------
def _pack_cells(parts: list[tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], int]]) -> np.ndarray[Any, Any]:
    """Packets of consecutive (parts of) cells, in order."""
    return np.concatenate([encode_packets(o, cell, a) for o, a, cell in parts]) if parts else np.zeros((0, 20), np.uint8)


def packets_by_cell(offsets: list[np.ndarray[Any, Any]], amplitudes: list[np.ndarray[Any, Any]], layout: EventSetLayout) -> Any:
    """A lazy ``(num_packets, 20)`` byte array of all packets, cell after cell, in ~64 MiB chunks."""
    import dask.array as da
    from dask.delayed import delayed

    chunks = []
    for first in range(0, layout.num_packets, _PACK_CHUNK_PACKETS):
        last = min(first + _PACK_CHUNK_PACKETS, layout.num_packets)
        parts = []
        cell = int(np.searchsorted(layout.cell_starts, first, side="right")) - 1
        while cell < len(offsets) and layout.cell_starts[cell] < last:
            a = max(first, int(layout.cell_starts[cell])) - int(layout.cell_starts[cell])
            b = min(last, int(layout.cell_starts[cell] + layout.num_events[cell])) - int(layout.cell_starts[cell])
            if b > a:
                parts.append((offsets[cell][a:b], amplitudes[cell][a:b], cell))
            cell += 1
        packed = delayed(_pack_cells, pure=False)(parts)
        chunks.append(da.from_delayed(packed, shape=(last - first, EVENT_PACKET_NBYTES), dtype=np.uint8))  # type: ignore[no-untyped-call]
    return da.concatenate(chunks) if chunks else None  # type: ignore[no-untyped-call]


@overload
def write_event_set(
    offsets: Sequence[Any], amplitudes: Sequence[Any], path: PathLike, *, compute: Literal[False],
    **options: Unpack[_EventSetOptions],
) -> Delayed: ...
@overload
def write_event_set(
    offsets: Sequence[Any], amplitudes: Sequence[Any], path: PathLike, *, compute: Literal[True] = ...,
    **options: Unpack[_EventSetOptions],
) -> None: ...
@overload
def write_event_set(
    offsets: Sequence[Any], amplitudes: Sequence[Any], path: PathLike, *, compute: bool,
    **options: Unpack[_EventSetOptions],
) -> Delayed | None: ...


@fill_doc
def write_event_set(
    offsets: Sequence[Any],
    amplitudes: Sequence[Any],
    path: PathLike,
    *,
    timing: Timing | None = None,
    extra_properties: Any = None,
    metadata_from: PathLike | None = None,
    cell_names: Sequence[str] | None = None,
    end_time: EndTime = "exact",
    casting: str = DEFAULT_CASTING,
    overwrite: bool = False,
    compute: bool = True,
    fsync: bool = True,
    resume: bool = False,
    reserve: Reserve = "auto",
    write_method: WriteMethod = "auto",
    compute_kwargs: dict[str, Any] | None = None,
) -> Delayed | None:
    """Write an event set from each cell's event offsets and amplitudes.

    Each cell's events are sorted by offset and stored together, cell after
    cell; the file is written into a temporary sibling in chunks of about
    64 MiB of packets and renamed to ``path`` once its footer is written.

    Parameters
    ----------
    offsets : sequence of 1-D array-like of int, one per cell
        Event times of each cell in whole microseconds from ``timing.start``,
        in any order but unique within a cell, ``0 <= offset < num_samples * period``.
        Unsigned, signed or whole-valued float arrays are accepted.
    amplitudes : sequence of 1-D array-like of float, one per cell
        Amplitude of each event, stored as float32 (NaN is stored as is).
        Integers are accepted where float32 holds them exactly (see ``casting``).
    path : str or os.PathLike
        Output file; must end with ``.isxd``.
    timing : Timing, optional
        Start, period and number of samples of the recording the events come
        from (usually the cell set's); required unless ``metadata_from`` gives it.
        Dropped, cropped and blank indices have no place in an event set and
        are not stored, as with the official writer.
    extra_properties : JSON-serialisable, optional
        Stored as the footer's ``extraProperties``.
    metadata_from : str or os.PathLike, optional
        An existing ``.isxd`` file (typically the cell set the events were
        detected in, or its movie) whose timing, extra properties and, for a
        cell set, cell names are used where the arguments above are not given.
    cell_names : sequence of str, optional
        One unique name per cell, at most 255 UTF-8 bytes each. Defaults to the
        names of the cell set given as ``metadata_from``, else to the names
        :func:`write_cell_set` gives (``C0`` ... ``C9`` for 10 cells).
    end_time : {'exact', 'official'}, default 'exact'
        ``'exact'`` stores the exact end of the recording, from which the
        official reader gets ``num_samples`` back at any period. ``'official'``
        truncates it to whole milliseconds as the official writer does (byte
        identity with its files, but periods under about 1 ms then read back
        with fewer samples).
    casting : {'same_value', 'no', 'equiv', 'safe', 'same_kind', 'unsafe'}, default 'same_value'
        Which conversions of the amplitudes to float32 are allowed.
        ``'same_value'`` refuses any value that would change: an integer
        float32 cannot hold (beyond 2**24, such as 16777217) or a float beyond
        float32's range (floats are rounded to float32's precision). numpy's
        rules decide by dtype alone; ``'unsafe'`` is numpy's ``astype``, which
        rounds such integers and turns such floats into infinity.
    {options}

    Returns
    -------
    None or dask.delayed.Delayed
        ``None`` if ``compute`` is True.

    Raises
    ------
    TypeError
        ``timing`` not a Timing, names not str, offsets not whole numbers,
        amplitudes not real numbers.
    ValueError
        Different numbers of cells in ``offsets``, ``amplitudes`` and
        ``cell_names``; repeated or too long names; offsets and amplitudes of
        different lengths; a negative offset, one at or past the end of the
        recording, or one repeated within a cell; amplitudes that float32
        cannot hold (under ``casting='same_value'``); a path not ending in ``.isxd``.
    FileExistsError
        ``path`` exists and ``overwrite`` is False.
    FileNotFoundError
        The parent directory of ``path`` does not exist.

    Notes
    -----
    The official reader returns offsets through doubles, as
    ``uint64(double(offset) / 1e6 * 1e6)``: about 2% of values come back 1 us
    low (249 as 248). The file holds the exact values, as the official writer
    stores them, and :func:`open_isxd` reads them back exactly.

    See Also
    --------
    write_event_set_dense : from a dense (cells x samples) array, e.g. deconvolved spikes.
    EventSet : the cell-by-cell API of the official ``isx`` package.

    Examples
    --------
    >>> timing = Timing(num_samples=100, period=Duration.from_msecs(50))
    >>> write_event_set([[0, 150000], [50000]], [[1.0, 2.5], [0.5]], "events.isxd", timing=timing)  # doctest: +SKIP
    """
    options = check_write_options(overwrite, compute, fsync, resume, reserve, write_method, compute_kwargs)
    timing, _, extra_properties, inherited = inherit_metadata(metadata_from, timing, None, extra_properties, cell_names)
    cell_names = inherited  # type: ignore[assignment]
    if timing is None:
        msg = "timing is required (or metadata_from, a cell set or movie to take it from)"
        raise TypeError(msg)
    timing = require_timing(timing)
    casting = check_float32_casting(np.float32, "amplitudes", casting)
    if isinstance(offsets, (str, bytes)) or not isinstance(offsets, (Sequence, np.ndarray)):
        msg = f"offsets must be a sequence with one array of offsets per cell, got {type(offsets).__name__}"
        raise TypeError(msg)
    if isinstance(amplitudes, (str, bytes)) or not isinstance(amplitudes, (Sequence, np.ndarray)):
        msg = f"amplitudes must be a sequence with one array of amplitudes per cell, got {type(amplitudes).__name__}"
        raise TypeError(msg)
    if len(offsets) != len(amplitudes):
        msg = f"offsets has {len(offsets)} cells but amplitudes has {len(amplitudes)}; give one array per cell in each"
        raise ValueError(msg)
    names = _check_cell_names(cell_names, len(offsets))
    end_time = _check_end_time(end_time, timing)
    limit = duration_usecs(timing)
    sorted_offsets, sorted_amplitudes = [], []
    for k, name in enumerate(names):
        offs, amps = check_cell_events(offsets[k], amplitudes[k], f"[{k}]", limit, casting)
        order = np.argsort(offs, kind="stable")
        offs, amps = offs[order], amps[order]
        _check_unique(offs, f"[{k}]", name)
        sorted_offsets.append(offs)
        sorted_amplitudes.append(amps)
    path = check_output_path(path, overwrite)

    layout = EventSetLayout([len(o) for o in sorted_offsets])
    start_offsets = [int(o[0]) if len(o) else 0 for o in sorted_offsets]
    metadata = event_set_footer(timing, names, layout.num_events.tolist(), start_offsets, extra_properties, end_time)
    packets = packets_by_cell(sorted_offsets, sorted_amplitudes, layout)
    arrays = [(packets, layout.packets())] if packets is not None else []
    return store(arrays, path, layout.data_size, metadata, options)


# -- bulk writing from a dense amplitude array ----------------------------------------------------
def _block_offset(block_info: Any) -> tuple[int, int]:
    """Where a block starts in ``amplitudes`` (row, column); (0, 0) when Dask gives no ``block_info``."""
    if not block_info:
        return (0, 0)
    (r0, _), (c0, _) = block_info[0]["array-location"]
    return (int(r0), int(c0))


def _summarize_block(block: np.ndarray[Any, Any], casting: str = DEFAULT_CASTING, block_info: Any = None) -> np.ndarray[Any, Any]:
    """Per row of a block: events (non-zero float32 values), global index of the first, and overflow to infinity.

    Under ``casting='same_value'`` an integer that float32 would round raises
    the ``ValueError`` naming ``amplitudes`` and its index.
    """
    offset = _block_offset(block_info)
    col0 = offset[1]
    values = _block_float32(block, casting, offset)
    nonzero = values != 0
    counts = np.count_nonzero(nonzero, axis=1)
    first = np.where(counts > 0, np.argmax(nonzero, axis=1) + col0, -1) if values.shape[1] else np.full(len(values), -1)
    overflow = np.any(np.isinf(values) & np.isfinite(block), axis=1) if block.dtype.kind == "f" else np.zeros(len(block), bool)
    return np.stack([counts, first, overflow.astype(np.int64)], axis=1).astype(np.int64)


def _block_float32(block: np.ndarray[Any, Any], casting: str, offset: tuple[int, int]) -> np.ndarray[Any, Any]:
    return float32_values(np.asarray(block), "amplitudes", casting, offset)


def _write_dense_block(
    block: np.ndarray[Any, Any],
    target: IsxdTarget,
    first_packets: np.ndarray[Any, Any],
    expected_counts: np.ndarray[Any, Any],
    row0: int,
    col0: int,
    period: Duration,
    casting: str = DEFAULT_CASTING,
) -> int:
    """Pack the events of one block and write each row's run at its place among that cell's packets."""
    # Checked again: a value of non-deterministic input may differ from the first pass.
    values = _block_float32(block, casting, (row0, col0))
    rows, cols = np.nonzero(values)  # row-major: by cell, then by time
    counts = np.bincount(rows, minlength=len(values))
    if not np.array_equal(counts, expected_counts):
        msg = (
            "amplitudes gave different non-zero values on the second pass than on the first; "
            "make the input deterministic (e.g. persist() it) before writing"
        )
        raise RuntimeError(msg)
    offsets = sample_offsets_usecs(period, cols.astype(np.int64) + col0)
    packed = encode_packets(offsets, rows.astype(np.uint64) + np.uint64(row0), values[rows, cols])
    pos = 0
    for r in np.flatnonzero(counts).tolist():
        n = int(counts[r])
        first = int(first_packets[r])
        target[first : first + n] = packed[pos : pos + n]
        pos += n
    return pos


@overload
def write_event_set_dense(
    amplitudes: Any, path: PathLike, *, compute: Literal[False], **options: Unpack[_EventSetOptions]
) -> Delayed: ...
@overload
def write_event_set_dense(
    amplitudes: Any, path: PathLike, *, compute: Literal[True] = ..., **options: Unpack[_EventSetOptions]
) -> None: ...
@overload
def write_event_set_dense(
    amplitudes: Any, path: PathLike, *, compute: bool, **options: Unpack[_EventSetOptions]
) -> Delayed | None: ...


@fill_doc
def write_event_set_dense(
    amplitudes: Any,
    path: PathLike,
    *,
    timing: Timing | None = None,
    extra_properties: Any = None,
    metadata_from: PathLike | None = None,
    cell_names: Sequence[str] | None = None,
    end_time: EndTime = "exact",
    casting: str = DEFAULT_CASTING,
    overwrite: bool = False,
    compute: bool = True,
    fsync: bool = True,
    resume: bool = False,
    reserve: Reserve = "auto",
    write_method: WriteMethod = "auto",
    compute_kwargs: dict[str, Any] | None = None,
) -> Delayed | None:
    """Write an event set from a dense ``(num_cells, num_samples)`` amplitude array; non-zero samples are events.

    This is the shape of deconvolved activity (CaImAn ``estimates.S``,
    suite2p ``spks.npy``). The event of cell ``c`` at sample ``i`` gets offset
    ``round(i * period)`` in microseconds (rounded half to even, exactly) and
    amplitude ``amplitudes[c, i]`` as float32. A value is an event when it is
    non-zero as float32 (NaN is an event; values below float32's smallest
    subnormal are not). By default an amplitude float32 cannot hold (an
    integer beyond 2**24, a float beyond float32's range) is refused, before
    the file is created (see ``casting``).

    The array is read twice, chunk by chunk, and never held in memory: a
    first pass counts the events of each cell in each chunk (this pass runs
    when the function is called, even with ``compute=False``, and checks the
    values before any file is created); the second pass packs each chunk's
    events and writes them straight to their place, every cell's events
    together and in time order, so the file's bytes do not depend on the
    chunking. A chunk needs up to 5 times its float32 size while it is packed.

    Parameters
    ----------
    amplitudes : numpy.ndarray or dask.array.Array, shape (num_cells, num_samples)
        Real numbers (bool, integer or float).
    path : str or os.PathLike
        Output file; must end with ``.isxd``.
    timing : Timing, optional
        Defaults to ``num_samples`` samples of 50 ms from the epoch (with a
        :class:`DefaultMetadataWarning`). Its period must be at least 1
        microsecond (sample offsets are whole microseconds).
    extra_properties, metadata_from, cell_names, end_time, casting
        As in :func:`write_event_set`.
    {options}
        Here ``compute_kwargs`` applies to both passes, and ``resume=True`` is
        refused (the second pass depends on the first).

    Returns
    -------
    None or dask.delayed.Delayed
        ``None`` if ``compute`` is True.

    Raises
    ------
    ValueError
        ``amplitudes`` not 2-D, or its shape not ``(len(cell_names), timing.num_samples)``;
        values float32 cannot hold (under ``casting='same_value'``; the message
        gives the index of one); a period under 1 us; unknown chunk sizes;
        bad names or path (as in :func:`write_event_set`).
    TypeError
        ``amplitudes`` not of a real dtype, or of one ``casting`` does not
        allow; ``timing`` not a Timing.
    FileExistsError, FileNotFoundError
        As in :func:`write_event_set`.
    RuntimeError
        When computed: the input gave other non-zero values on the second pass
        (non-deterministic input); nothing is committed.

    See Also
    --------
    write_event_set : from each cell's offsets and amplitudes.

    Examples
    --------
    >>> import dask.array as da
    >>> spikes = da.random.default_rng(0).random((20, 1000), chunks=(20, 250))
    >>> spikes = da.where(spikes > 0.99, spikes, 0)
    >>> write_event_set_dense(spikes, "events.isxd", timing=Timing(num_samples=1000))  # doctest: +SKIP
    """
    from dask.delayed import delayed

    options = check_write_options(overwrite, compute, fsync, resume, reserve, write_method, compute_kwargs)
    if resume:
        msg = "resume=True is not supported by write_event_set_dense (its second pass depends on the first); use write_event_set, or write without resume"
        raise ValueError(msg)
    timing_given = timing is not None or metadata_from is not None
    timing, _, extra_properties, inherited = inherit_metadata(metadata_from, timing, None, extra_properties, cell_names)
    cell_names = inherited  # type: ignore[assignment]
    amps = as_dask_array(amplitudes, "amplitudes", 2, "(num_cells, num_samples)")
    if amps.dtype.kind not in "biuf":
        msg = f"amplitudes has dtype {amps.dtype}, which cannot be stored as float32 amplitudes; expected real numbers"
        raise TypeError(msg)
    casting = check_float32_casting(amps.dtype, "amplitudes", casting)
    num_cells, num_samples = (int(n) for n in amps.shape)
    timing = check_timing(timing, num_samples, "amplitudes")
    if timing.period.to_fraction() * 1_000_000 < 1:
        msg = f"timing.period is {timing.period.num}/{timing.period.den} s, under 1 us: samples would share microsecond offsets"
        raise ValueError(msg)
    names = _check_cell_names(cell_names, num_cells)
    end_time = _check_end_time(end_time, timing)
    path = check_output_path(path, overwrite)

    # Pass 1: per row and column chunk, the number of events, the first one, and overflow.
    col_starts = np.concatenate([[0], np.cumsum(amps.chunks[1])]).astype(np.int64)
    num_col_chunks = len(amps.chunks[1])
    summary_blocks = amps.map_blocks(
        _summarize_block, casting, chunks=(amps.chunks[0], (3,) * num_col_chunks), dtype=np.int64,
    )
    warn_defaults(timing_given=timing_given, spacing_given=True)
    summary = np.asarray(summary_blocks.compute(**(compute_kwargs or {}))).reshape(num_cells, num_col_chunks, 3)
    if casting == "same_value" and summary[:, :, 2].any():
        cell = int(np.flatnonzero(summary[:, :, 2].any(axis=1))[0])
        msg = f"amplitudes holds values beyond the float32 range (+/-{_FLOAT32_MAX:.4g}) for cell {cell}; they would be stored as infinity"
        raise ValueError(msg)
    counts = summary[:, :, 0]
    layout = EventSetLayout(counts.sum(axis=1))
    # First packet of each cell's run in each column chunk: cell start plus the events of earlier chunks.
    first_packets = layout.cell_starts[:, None] + np.cumsum(counts, axis=1) - counts
    firsts = summary[:, :, 1]
    has = firsts >= 0
    first_index = np.where(has.any(axis=1), np.where(has, firsts, np.iinfo(np.int64).max).min(axis=1), -1)
    start_offsets = np.where(first_index >= 0, sample_offsets_usecs(timing.period, np.maximum(first_index, 0)), 0)
    metadata = event_set_footer(timing, names, layout.num_events.tolist(), start_offsets.tolist(), extra_properties, end_time)

    # Pass 2: pack and write every block where its rows' events go, then the one commit path.
    partial = preallocate(path, layout.data_size, reserve=options.reserve)
    try:
        target = IsxdTarget(partial, layout.packets(), options.write_method)
        blocks = amps.to_delayed()
        row_starts = np.concatenate([[0], np.cumsum(amps.chunks[0])]).astype(np.int64)
        writes = []
        for i in range(len(amps.chunks[0])):
            r0, r1 = int(row_starts[i]), int(row_starts[i + 1])
            for j in range(num_col_chunks):
                if not counts[r0:r1, j].any():
                    continue
                writes.append(
                    delayed(_write_dense_block, pure=False)(
                        blocks[i, j], target, first_packets[r0:r1, j].copy(), counts[r0:r1, j].copy(), r0, int(col_starts[j]),
                        timing.period, casting,
                    )
                )
    except BaseException:
        remove_partial(partial)
        raise
    return finish_write(
        partial, path, metadata, layout.data_size, writes,
        overwrite=overwrite, fsync=fsync, compute=compute, compute_kwargs=compute_kwargs,
    )


# -- incremental ----------------------------------------------------------------------------------
class EventSet(IncrementalWriter["EventSetFile"]):
    """An event set file, opened for writing cell by cell or for reading, as ``isx.EventSet``.

    Use :meth:`write` and :meth:`read` to create one. What differs from the
    official class:

    * ``cell_names`` may be a list or a tuple, and may be empty (the file
      then reads with zero cells and the right timing).
    * :meth:`set_cell_data` may be called in any cell order and several times
      for one cell, as in the official writer: packets are appended in call
      order, exactly as given (the reader sorts them). Unlike the official
      writer, every argument is checked first: an offset repeated within a cell
      (in one call or across calls), a negative offset or one past the end of
      the recording, or a cell index out of range raises and writes nothing.
    * The file appears at its path only when :meth:`flush` succeeds; as a
      context manager, a block that raises commits nothing. After
      :meth:`flush`, :meth:`set_cell_data` raises instead of being ignored.

    For bulk writing, see :func:`write_event_set` and :func:`write_event_set_dense`.

    Examples
    --------
    >>> timing = Timing(num_samples=200, period=Duration.from_msecs(10))
    >>> with EventSet.write("events.isxd", timing, ["C0", "C1"]) as events:  # doctest: +SKIP
    ...     events.set_cell_data(1, numpy.array([20000, 50000]), numpy.array([1.5, 0.5]))
    """

    kind = "event set"
    str_fields = ("timing", "num_cells")

    def __init__(self) -> None:
        super().__init__()
        # State of a set being written.
        self._names: tuple[str, ...] = ()
        self._end_time: EndTime = "exact"
        self._extra_properties: Any = None
        self._limit = Fraction(0)
        self._num_events: list[int] = []
        self._start_offsets: list[int] = []
        self._seen: list[np.ndarray[Any, Any]] = []  # offsets given so far per cell, sorted
        self._num_packets = 0

    @classmethod
    def _open_reader(cls, path: str) -> EventSetFile:
        from ..readers.event_set import EventSetFile

        return EventSetFile(path)

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def write(
        cls,
        file_path: PathLike,
        timing: Timing,
        cell_names: Sequence[str],
        *,
        extra_properties: Any = None,
        end_time: EndTime = "exact",
        overwrite: bool = False,
    ) -> EventSet:
        """Open a new event set for writing cell by cell.

        Parameters
        ----------
        file_path : str or os.PathLike
            Output path, ending in ``.isxd``; it must not exist unless ``overwrite``.
        timing : Timing
            Start, period and number of samples (see :func:`write_event_set`).
        cell_names : list or tuple of str
            Unique names, at most 255 UTF-8 bytes each; may be empty.
        extra_properties, end_time
            As in :func:`write_event_set`.
        overwrite : bool, default False
            Replace an existing file when the set is flushed.

        Raises
        ------
        TypeError, ValueError, FileExistsError, FileNotFoundError
            For a bad argument, before anything is created.
        """
        timing = require_timing(timing)
        names = _check_cell_names(cell_names, None)
        end_time = _check_end_time(end_time, timing)
        inherit_metadata(None, timing, None, extra_properties)
        self = cls()
        self._timing = timing
        self._names = names
        self._end_time = end_time
        self._extra_properties = extra_properties
        self._limit = duration_usecs(timing)
        self._num_events = [0] * len(names)
        self._start_offsets = [0] * len(names)
        self._seen = [np.zeros(0, dtype=np.uint64) for _ in names]
        self._start(file_path, overwrite)
        return self

    # -- properties ----------------------------------------------------------------------
    @property
    def num_cells(self) -> int:
        """Number of cells."""
        return self._reader.num_cells if self._reader is not None else len(self._names)

    @property
    def cell_names(self) -> tuple[str, ...]:
        """Cell names in index order."""
        return self._reader.cell_names if self._reader is not None else self._names

    @property
    def cell_dict(self) -> dict[str, int]:
        """Name to index."""
        from ..readers.event_set import name_index

        return name_index(self.cell_names)

    def get_cell_name(self, index: int) -> str:
        """Name of cell ``index``."""
        return self.cell_names[check_item_index(index, self.num_cells, "cell")]

    def get_cell_index(self, name: str) -> int:
        """Index of the cell called ``name``.

        Raises
        ------
        KeyError
            If no cell has that name (the official message).
        """
        from ..readers.event_set import index_of_name

        return index_of_name(self.cell_names, name)

    # -- reading -------------------------------------------------------------------------
    def get_cell_data(self, index: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """Events of cell ``index`` as ``(offsets, amplitudes)``: uint64 us from the start (ascending), float32."""
        self.get_cell_name(index)
        offsets, amplitudes = self._require_reader().get_cell_data(index)
        return np.asarray(offsets), np.asarray(amplitudes)

    # -- writing -------------------------------------------------------------------------
    def set_cell_data(self, index: int, offsets: Any, amplitudes: Any) -> None:
        """Append events to cell ``index``.

        Parameters
        ----------
        index : int
            Cell index, ``0 <= index < num_cells``.
        offsets : 1-D array-like of int
            Microseconds from the start, ``0 <= offset < num_samples * period``,
            none already given for this cell; any order.
        amplitudes : 1-D array-like of float
            One per offset, stored as float32.

        Raises
        ------
        IndexError
            If ``index`` is out of range.
        TypeError, ValueError
            For bad offsets or amplitudes (see :func:`write_event_set`).
        RuntimeError
            If the set is not open for writing.
        """
        partial = self._require_open()
        index = check_item_index(index, len(self._names), "cell")
        offs, amps = check_cell_events(offsets, amplitudes, "", self._limit)
        # The official conversion warnings, in its order (amplitudes, then offsets), for the same inputs.
        for given, stored in ((amplitudes, np.dtype(np.float32)), (offsets, np.dtype(np.uint64))):
            if isinstance(given, np.ndarray) and given.dtype != stored:
                warnings.warn(f"Converting from {given.dtype} to {stored}.", UserWarning, stacklevel=2)
        merged = np.sort(np.concatenate([self._seen[index], offs]), kind="stable")
        _check_unique(merged, "", self._names[index])
        if len(offs):
            target = IsxdTarget(partial, packet_layout(self._num_packets * EVENT_PACKET_NBYTES, len(offs)))
            target[:] = encode_packets(offs, index, amps)
            if self._num_events[index] == 0:
                self._start_offsets[index] = int(offs[0])
            self._num_events[index] += len(offs)
            self._num_packets += len(offs)
        self._seen[index] = merged

    def _footer(self) -> tuple[dict[str, Any], int]:
        metadata = event_set_footer(
            self._timing, self._names, self._num_events, self._start_offsets, self._extra_properties, self._end_time
        )
        return metadata, self._num_packets * EVENT_PACKET_NBYTES

    def __repr__(self) -> str:
        if not self.file_path:
            return "EventSet()"
        return f"EventSet({self.file_path!r}, mode={self.mode!r}, num_cells={self.num_cells}, timing={self.timing!r})"
