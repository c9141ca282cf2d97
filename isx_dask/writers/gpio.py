"""GPIO and IMU sets: ``write_gpio_set`` and ``write_imu_set`` from sparse or dense channels, and the
reading class ``GpioSet`` of the official API.

A GPIO set (type 3) holds the TTL lines, analog inputs, LED power and
e-focus of a recording; an IMU set (type 7) the nine accelerometer,
orientation and magnetometer channels of a head-mounted sensor. Both store
one 20-byte packet per value (offset in microseconds from the start, channel
index, float32 value), as event sets do (:mod:`isx_dask.layout.gpio`).

Input comes in two forms:

* **sparse**: one ``(offsets, values)`` pair per channel, offsets in whole
  microseconds from ``timing.start``: the value of a line at each change.
  Channels are sparse unless ``signal_types`` says otherwise.
* **dense**: a NumPy or Dask array of shape ``(num_channels, num_samples)``:
  every sample of every channel, sample ``i`` at offset ``round(i * period)``
  us. Channels are dense unless ``signal_types`` says otherwise. A Dask array
  is read chunk by chunk, twice (a check, then the write), and never held in
  memory.

What is stored is exactly what the official reader returns: unique channel
names of at most 255 UTF-8 bytes, each channel's values sorted by offset with
no offset repeated, finite float32 values, and an end time from which the
reader gets ``num_samples`` back.
"""

from __future__ import annotations

import numbers
import os
import textwrap
from typing import TYPE_CHECKING, Any, Literal, Sequence, overload

import numpy as np

from ..layout import DataSetType
from ..layout.event_set import EVENT_PACKET_NBYTES, EventSetLayout, duration_usecs, encode_packets, event_set_end, sample_offsets_usecs
from ..layout.gpio import (
    GPIO_TYPES,
    IMU_ACC_ORI_CHANNELS,
    IMU_CHANNEL_NAMES,
    IMU_MAG_CHANNELS,
    SignalType,
    dense_packets_layout,
    gpio_footer,
)
from ..metadata import Timing
from ..target import check_output_path, store_then_commit
from ._options import check_compute_kwargs
from ._validate import (
    DEFAULT_CASTING,
    as_dask_array,
    check_float32_casting,
    check_name,
    check_not_masked,
    float32_values,
    inherit_metadata,
    require_timing,
)
from .event_set import check_offsets, packets_by_cell, to_float32

if TYPE_CHECKING:
    from dask.delayed import Delayed

    from ..readers.gpio import GpioSetFile

__all__ = ["GpioSet", "write_gpio_set", "write_imu_set"]

PathLike = str | os.PathLike[str]

#: Bytes of packed packets per written chunk (a dense chunk of C x T values packs into C x T x 20 bytes).
_PACK_CHUNK_NBYTES = 64 * 2**20
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_SIGNAL_TYPE_NAMES = {"sparse": SignalType.SPARSE, "dense": SignalType.DENSE}


# -- validation (all of it runs before a byte is written) ---------------------------------------
def _check_bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        msg = f"{name} must be True or False, got {type(value).__name__} {value!r}"
        raise TypeError(msg)
    return value


def _check_compute_kwargs(compute_kwargs: Any) -> dict[str, Any]:
    return dict(check_compute_kwargs(compute_kwargs) or {})


def _check_channel_names(channel_names: Any, num_channels: int, kind: DataSetType) -> tuple[str, ...]:
    if channel_names is None:
        if kind == DataSetType.IMU:
            return IMU_CHANNEL_NAMES
        msg = "channel_names is required: one unique name per channel (e.g. ['GPIO-1', 'GPIO-2', 'BNC Sync Output'])"
        raise TypeError(msg)
    if isinstance(channel_names, (str, bytes)) or not isinstance(channel_names, Sequence):
        msg = f"channel_names must be a list or tuple of str, got {type(channel_names).__name__}"
        raise TypeError(msg)
    names = tuple(check_name(name, f"channel_names[{k}]") for k, name in enumerate(channel_names))
    seen: set[str] = set()
    dupes = sorted({n for n in names if n in seen or seen.add(n)})  # type: ignore[func-returns-value]
    if dupes:
        msg = f"channel_names must be unique (the official reader looks channels up by name); repeated: {dupes!r}"
        raise ValueError(msg)
    if len(names) != num_channels:
        msg = f"channel_names has {len(names)} names but data has {num_channels} channels; they must be equal"
        raise ValueError(msg)
    return names


def _check_signal_types(signal_types: Any, num_channels: int, default: SignalType) -> tuple[SignalType, ...]:
    if signal_types is None:
        return (default,) * num_channels
    if isinstance(signal_types, (str, bytes)) or not isinstance(signal_types, Sequence):
        msg = f"signal_types must be a list or tuple with 'sparse' or 'dense' per channel, got {type(signal_types).__name__}"
        raise TypeError(msg)
    if len(signal_types) != num_channels:
        msg = f"signal_types has {len(signal_types)} entries but data has {num_channels} channels; they must be equal"
        raise ValueError(msg)
    out = []
    for k, value in enumerate(signal_types):
        if isinstance(value, str) and value in _SIGNAL_TYPE_NAMES:
            out.append(_SIGNAL_TYPE_NAMES[value])
        elif isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) and value in (0, 1):
            out.append(SignalType(int(value)))
        else:
            msg = f"signal_types[{k}] must be 'sparse' (0) or 'dense' (1), got {value!r}"
            raise ValueError(msg)
    return tuple(out)


def _check_timing(timing: Any) -> Timing:
    if timing is None:
        msg = "timing is required (or metadata_from, a file to take it from): the start, period and number of samples"
        raise TypeError(msg)
    checked = require_timing(timing)
    if checked.dropped or checked.cropped or checked.blank:
        msg = (
            "timing has dropped, cropped or blank samples, which a GPIO or IMU footer cannot store; "
            "pass a Timing with only num_samples, period and start (and leave out the values of missing samples)"
        )
        raise ValueError(msg)
    event_set_end(checked, "exact")  # raises for an end time that does not fit the footer
    return checked


def _from_source(
    metadata_from: PathLike | None, timing: Timing | None, channel_names: Any, extra_properties: Any
) -> tuple[Timing | None, Any, Any]:
    """Timing, channel names (from a GPIO or IMU set) and extra properties of ``metadata_from`` where not given."""
    if metadata_from is None:
        return timing, channel_names, extra_properties
    from ..readers import open_isxd
    from ..readers._file import read_footer
    from ..readers.gpio import GpioSetFile

    metadata, _ = read_footer(metadata_from)
    source: Any = GpioSetFile(metadata_from) if metadata.get("type") in GPIO_TYPES else open_isxd(metadata_from)
    if timing is None:
        timing = source.timing
    if channel_names is None and isinstance(source, GpioSetFile):
        channel_names = list(source.channel_names)
    if extra_properties is None:
        extra_properties = source.extra_properties
    return timing, channel_names, extra_properties


def _is_dense(data: Any) -> bool:
    """Dense input is an array (NumPy, Dask, anything with ``shape`` and ``dtype``); sparse is a list of pairs."""
    return hasattr(data, "shape") and hasattr(data, "dtype")


def _as_1d(values: Any, label: str) -> np.ndarray[Any, Any]:
    check_not_masked(values, label)
    arr = np.asarray(values)
    if arr.ndim == 2 and arr.shape[1] == 1:  # (k, 1) as np.argwhere gives
        arr = arr[:, 0]
    if arr.ndim != 1:
        msg = f"{label} must be one-dimensional, got shape {arr.shape}"
        raise ValueError(msg)
    return arr


def _check_values(values: Any, label: str, casting: str) -> np.ndarray[Any, Any]:
    arr = _as_1d(values, label)
    out = to_float32(arr, label, casting)
    bad = np.flatnonzero(~np.isfinite(out))
    if bad.size:
        msg = (
            f"{label}[{int(bad[0])}] is {arr[bad[0]]!r}; values must be finite float32 numbers "
            f"(leave a missing sample out instead of storing NaN)"
        )
        raise ValueError(msg)
    return out


def _check_sparse(data: Sequence[Any], timing: Timing, casting: str) -> tuple[list[np.ndarray[Any, Any]], list[np.ndarray[Any, Any]]]:
    """Each channel's offsets and values, checked, converted and sorted by offset."""
    limit = duration_usecs(timing)
    offsets, values = [], []
    for k, pair in enumerate(data):
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
            msg = f"data[{k}] must be an (offsets, values) pair for channel {k}, got {type(pair).__name__}"
            raise TypeError(msg)
        offs = check_offsets(_as_1d(pair[0], f"data[{k}] offsets"), f"data[{k}] offsets", limit)
        vals = _check_values(pair[1], f"data[{k}] values", casting)
        if len(offs) != len(vals):
            msg = f"data[{k}] has {len(offs)} offsets but {len(vals)} values; they must be equal"
            raise ValueError(msg)
        order = np.argsort(offs, kind="stable")
        offs, vals = offs[order], vals[order]
        same = np.flatnonzero(offs[1:] == offs[:-1])
        if same.size:
            msg = (
                f"data[{k}] offsets repeat {int(offs[same[0]])} us; a channel has at most one value per offset "
                f"(the official reader keeps only one)"
            )
            raise ValueError(msg)
        offsets.append(offs)
        values.append(vals)
    return offsets, values


def _check_dense_channels(offsets: list[np.ndarray[Any, Any]], types: Sequence[SignalType], timing: Timing) -> None:
    """A dense channel given as offsets must hold samples 0, 1, ..., n-1 of the timing, one value each."""
    for k, (offs, code) in enumerate(zip(offsets, types)):
        if code == SignalType.DENSE:
            expected = sample_offsets_usecs(timing.period, np.arange(len(offs)))
            if not np.array_equal(offs, expected):
                bad = int(np.flatnonzero(offs != expected)[0])
                msg = (
                    f"channel {k} is dense (signal_types) but data[{k}] offset {bad} is {int(offs[bad])} us, not the "
                    f"offset {int(expected[bad])} us of sample {bad}; a dense channel holds samples 0, 1, ..., n-1 "
                    f"at round(i * period) us (mark it 'sparse' otherwise)"
                )
                raise ValueError(msg)


def _check_imu(channels: Sequence[Any], offsets: list[np.ndarray[Any, Any]] | None) -> None:
    """An IMU set has the nine channels the official CSV export expects, grouped by shared sample times."""
    if len(channels) != len(IMU_CHANNEL_NAMES):
        msg = (
            f"an IMU set has {len(IMU_CHANNEL_NAMES)} channels {list(IMU_CHANNEL_NAMES)} (the official reader "
            f"and CSV export expect them in this order), got {len(channels)}; use write_gpio_set for other channels"
        )
        raise ValueError(msg)
    if offsets is None:
        return
    for group in (IMU_ACC_ORI_CHANNELS, IMU_MAG_CHANNELS):
        ref = offsets[group[0]]
        for k in group[1:]:
            if not np.array_equal(offsets[k], ref):
                msg = (
                    f"IMU channels {group[0]} to {group[-1]} ({', '.join(IMU_CHANNEL_NAMES[group[0] : group[-1] + 1])}) "
                    f"must have the same offsets (the official CSV export puts them side by side on one row per "
                    f"sample); data[{k}] offsets differ from data[{group[0]}] offsets"
                )
                raise ValueError(msg)


# -- dense input ------------------------------------------------------------------------------------
def _block_offset(block_info: Any) -> tuple[int, int]:
    """Where a block starts in ``data`` (row, column); (0, 0) when Dask gives no ``block_info``."""
    if not block_info:
        return (0, 0)
    (r0, _), (c0, _) = block_info[0]["array-location"]
    return (int(r0), int(c0))


def _block_flags(block: np.ndarray[Any, Any], casting: str = DEFAULT_CASTING, block_info: Any = None) -> np.ndarray[Any, Any]:
    """Per row of a block: [values that are not finite, finite values beyond the float32 range].

    Under ``casting='same_value'`` an integer that float32 would round raises
    the ``ValueError`` naming ``data`` and its index.
    """
    values = float32_values(np.asarray(block), "data", casting, _block_offset(block_info))
    with np.errstate(over="ignore", invalid="ignore"):
        finite = np.isfinite(block) if block.dtype.kind == "f" else np.ones(block.shape, bool)
        overflow = np.count_nonzero(np.isinf(values) & finite, axis=1)
        nonfinite = np.count_nonzero(~finite, axis=1)
    return np.stack([nonfinite, overflow], axis=1).astype(np.int64)[:, None, :]


def _pack_dense_block(block: np.ndarray[Any, Any], period: Any, casting: str = DEFAULT_CASTING, block_info: Any = None) -> np.ndarray[Any, Any]:
    """Pack a ``(rows, cols)`` block into its ``(rows, cols, 20)`` packet bytes."""
    (r0, r1), (c0, c1) = block_info[0]["array-location"]
    # Checked again: a value of non-deterministic input may differ from the check pass.
    values = float32_values(np.asarray(block), "data", casting, (int(r0), int(c0)))
    if not np.all(np.isfinite(values)):
        msg = (
            "data gave non-finite float32 values on the write pass that the check pass did not see; "
            "make the input deterministic (e.g. persist() it) before writing; nothing was committed"
        )
        raise RuntimeError(msg)
    rows, cols = r1 - r0, c1 - c0
    offsets = np.broadcast_to(sample_offsets_usecs(period, np.arange(c0, c1)), (rows, cols)).reshape(-1)
    channels = np.repeat(np.arange(r0, r1, dtype=np.uint64), cols)
    return encode_packets(offsets, channels, values.reshape(-1)).reshape(rows, cols, EVENT_PACKET_NBYTES)


def _dense_packets(amps: Any, timing: Timing, compute_kwargs: dict[str, Any], casting: str) -> Any:
    """Check every value (pass 1, computed now), and return the lazy packed packets (pass 2)."""
    import dask.array as da

    num_col_chunks = len(amps.chunks[1])
    flags_blocks = amps.map_blocks(_block_flags, casting, chunks=(amps.chunks[0], (1,) * num_col_chunks, (2,)), new_axis=2, dtype=np.int64)
    flags = np.asarray(flags_blocks.compute(**compute_kwargs)).sum(axis=1)
    for column, what in ((0, "non-finite values (NaN or infinity)"), (1, f"values beyond the float32 range (+/-{_FLOAT32_MAX:.4g})")):
        if flags[:, column].any():
            channel = int(np.flatnonzero(flags[:, column])[0])
            msg = f"data holds {what} in channel {channel}; values must be finite float32 numbers"
            raise ValueError(msg)
    # Chunks of at most ~64 MiB of packets: whole rows of a row chunk, as many columns as fit.
    rows = max(amps.chunks[0]) if amps.chunks[0] else 1
    cols = max(1, _PACK_CHUNK_NBYTES // (EVENT_PACKET_NBYTES * max(rows, 1)))
    if max(amps.chunks[1], default=0) > cols:
        amps = amps.rechunk({1: cols})
    packed = amps.map_blocks(
        _pack_dense_block, timing.period, casting, new_axis=2, chunks=(*amps.chunks, (EVENT_PACKET_NBYTES,)), dtype=np.uint8
    )
    assert isinstance(packed, da.Array)
    return packed


# -- the writers ------------------------------------------------------------------------------------
_DOC_DATA = """\
data : sequence of (offsets, values) pairs, or array of shape (num_channels, num_samples)
    Sparse input: one pair per channel; ``offsets`` whole microseconds from
    ``timing.start`` (int, or whole-valued float), ``0 <= offset <
    num_samples * period``, unique within a channel, in any order;
    ``values`` real numbers stored as float32. Dense input: a NumPy or Dask
    array with every sample of every channel, sample ``i`` stored at offset
    ``round(i * period)`` us. Values must be finite, and by default values
    float32 cannot hold are refused (see ``casting``)."""

_DOC_TIMING = """\
timing : Timing
    Start, period and number of samples of the recording; required unless
    ``metadata_from`` gives it. The official reader gets it back exactly.
    Dropped, cropped and blank samples cannot be stored (leave the values
    of missing samples out instead); the period of dense input must be at
    least 1 us."""

_DOC_COMMON = """\
signal_types : sequence of {'sparse', 'dense', 0, 1}, optional
    Per channel: ``'sparse'`` (a value at each change, as TTL lines) or
    ``'dense'`` (a value at every sample). Defaults to sparse for sparse
    input, dense for dense input. A dense channel given as sparse input
    must hold samples 0, 1, ..., n-1 at their offsets ``round(i * period)``.
extra_properties : JSON-serialisable, optional
    Stored as the footer's ``extraProperties`` (finite numbers only).
metadata_from : str or os.PathLike, optional
    An existing ``.isxd`` file (the movie, or another GPIO or IMU set) whose
    timing, extra properties and (of a GPIO or IMU set) channel names are
    used where the arguments above are not given.
casting : {'same_value', 'no', 'equiv', 'safe', 'same_kind', 'unsafe'}, default 'same_value'
    Which conversions of the values to float32 are allowed. ``'same_value'``
    refuses an integer float32 cannot hold (beyond 2**24, such as 16777217)
    and a float beyond float32's range (floats are rounded to float32's
    precision); it checks every value before the file is created. numpy's
    rules decide by dtype alone; ``'unsafe'`` is numpy's ``astype``, which
    rounds such integers (values beyond float32's range are refused whatever
    ``casting``: they would be infinite).
overwrite : bool, default False
    Replace an existing file at ``path`` (only once the new one is complete).
compute : bool, default True
    If False, return a :class:`dask.delayed.Delayed`; the file is committed
    when it has been computed. The check pass over dense input runs at the
    call either way.
fsync : bool, default True
    Flush data and footer to disk before the file is renamed into place.
compute_kwargs : dict, optional
    Passed to ``compute`` (``{"scheduler": "threads", "num_workers": 2}``)."""


def _write(
    kind: DataSetType,
    data: Any,
    path: PathLike,
    *,
    timing: Timing | None,
    channel_names: Sequence[str] | None,
    signal_types: Sequence[str | int] | None,
    extra_properties: Any,
    metadata_from: PathLike | None,
    casting: str,
    overwrite: bool,
    compute: bool,
    fsync: bool,
    compute_kwargs: dict[str, Any] | None,
) -> Delayed | None:
    _check_bool(overwrite, "overwrite")
    casting = check_float32_casting(np.float32, "data", casting)
    _check_bool(compute, "compute")
    _check_bool(fsync, "fsync")
    kwargs = _check_compute_kwargs(compute_kwargs)
    timing, channel_names, extra_properties = _from_source(metadata_from, timing, channel_names, extra_properties)
    timing = _check_timing(timing)
    inherit_metadata(None, timing, None, extra_properties)
    dense = _is_dense(data)
    if dense:
        amps = as_dask_array(data, "data", 2, "(num_channels, num_samples)")
        if amps.dtype.kind not in "biuf":
            msg = f"data has dtype {amps.dtype}, which cannot be stored as float32 values; expected real numbers"
            raise TypeError(msg)
        check_float32_casting(amps.dtype, "data", casting)
        num_channels, num_samples = (int(n) for n in amps.shape)
        if num_samples != timing.num_samples:
            msg = f"data holds {num_samples} samples per channel but timing.num_samples is {timing.num_samples}; they must be equal"
            raise ValueError(msg)
        if timing.period.to_fraction() * 1_000_000 < 1:
            msg = f"timing.period is {timing.period.num}/{timing.period.den} s, under 1 us: samples would share microsecond offsets"
            raise ValueError(msg)
    else:
        if isinstance(data, (str, bytes, dict)) or not isinstance(data, Sequence):
            msg = (
                f"data must be a list of (offsets, values) pairs, one per channel, or an array of shape "
                f"(num_channels, num_samples); got {type(data).__name__}"
            )
            raise TypeError(msg)
        num_channels = len(data)
    if num_channels == 0:
        msg = "data has no channels; a GPIO or IMU set needs at least one"
        raise ValueError(msg)
    if kind == DataSetType.IMU:
        _check_imu(range(num_channels), None)
    names = _check_channel_names(channel_names, num_channels, kind)
    types = _check_signal_types(signal_types, num_channels, SignalType.DENSE if dense else SignalType.SPARSE)
    if dense:
        path = check_output_path(path, overwrite)
        packed = _dense_packets(amps, timing, kwargs, casting)
        counts = [num_samples] * num_channels
        metadata = gpio_footer(kind, timing, names, types, counts, [0] * num_channels, extra_properties)
        layout = dense_packets_layout(num_channels, num_samples)
        arrays = [(packed, layout)] if num_samples else []
        data_size = num_channels * num_samples * EVENT_PACKET_NBYTES
    else:
        offsets, values = _check_sparse(data, timing, casting)
        _check_dense_channels(offsets, types, timing)
        if kind == DataSetType.IMU:
            _check_imu(names, offsets)
        path = check_output_path(path, overwrite)
        event_layout = EventSetLayout([len(o) for o in offsets])
        starts = [int(o[0]) if len(o) else 0 for o in offsets]
        metadata = gpio_footer(kind, timing, names, types, event_layout.num_events.tolist(), starts, extra_properties)
        packets = packets_by_cell(offsets, values, event_layout)
        arrays = [(packets, event_layout.packets())] if packets is not None else []
        data_size = event_layout.data_size
    return store_then_commit(
        arrays, path, data_size, metadata, overwrite=overwrite, compute=compute, fsync=fsync, compute_kwargs=kwargs or None
    )


@overload
def write_gpio_set(
    data: Any, path: PathLike, *, timing: Timing | None = ..., channel_names: Sequence[str] | None = ...,
    signal_types: Sequence[str | int] | None = ..., extra_properties: Any = ..., metadata_from: PathLike | None = ...,
    casting: str = ..., overwrite: bool = ..., compute: Literal[True] = ..., fsync: bool = ..., compute_kwargs: dict[str, Any] | None = ...,
) -> None: ...
@overload
def write_gpio_set(
    data: Any, path: PathLike, *, timing: Timing | None = ..., channel_names: Sequence[str] | None = ...,
    signal_types: Sequence[str | int] | None = ..., extra_properties: Any = ..., metadata_from: PathLike | None = ...,
    casting: str = ..., overwrite: bool = ..., compute: Literal[False], fsync: bool = ..., compute_kwargs: dict[str, Any] | None = ...,
) -> Delayed: ...


def write_gpio_set(
    data: Any,
    path: PathLike,
    *,
    timing: Timing | None = None,
    channel_names: Sequence[str] | None = None,
    signal_types: Sequence[str | int] | None = None,
    extra_properties: Any = None,
    metadata_from: PathLike | None = None,
    casting: str = DEFAULT_CASTING,
    overwrite: bool = False,
    compute: bool = True,
    fsync: bool = True,
    compute_kwargs: dict[str, Any] | None = None,
) -> Delayed | None:
    """Write a GPIO set (type 3) from sparse ``(offsets, values)`` channels or a dense channels x samples array.

    Parameters
    ----------
    {data}
    path : str or os.PathLike
        Output file; must end with ``.isxd``.
    {timing}
    channel_names : sequence of str
        One unique name per channel, at most 255 UTF-8 bytes, no NUL.
        Required unless ``metadata_from`` is a GPIO set.
    {common}

    Returns
    -------
    None or dask.delayed.Delayed
        ``None`` if ``compute`` is True.

    Raises
    ------
    TypeError
        ``timing`` missing or not a Timing; ``channel_names`` missing; data
        of another form; offsets not whole numbers; values not real numbers;
        an option of the wrong type.
    ValueError
        Channel counts that differ between ``data``, ``channel_names`` and
        ``signal_types``; repeated or too long names; a negative offset, one at
        or past the end of the recording, or one repeated within a channel;
        offsets and values of different lengths; a value that is not finite
        or beyond the float32 range; dense input whose sample count is not
        ``timing.num_samples``; a timing with dropped, cropped or blank
        samples; a path not ending in ``.isxd``.
    FileExistsError
        ``path`` exists and ``overwrite`` is False.
    FileNotFoundError
        The parent directory of ``path`` does not exist.

    Notes
    -----
    Every check runs before the file is created (for dense input, one pass
    over the data). The file is written into a temporary sibling and renamed
    to ``path`` once its footer is written; a failure leaves nothing at
    ``path``. Read it with :class:`GpioSet` or
    :class:`isx_dask.readers.gpio.GpioSetFile`, or with the official
    ``isx.GpioSet.read``.

    Examples
    --------
    >>> timing = Timing(num_samples=10_000, period=Duration.from_msecs(1))
    >>> ttl = ([0, 2_000_000, 2_500_000], [0.0, 1.0, 0.0])   # a 0.5 s pulse at 2 s
    >>> write_gpio_set([ttl], "gpio.isxd", timing=timing, channel_names=["GPIO-1"])  # doctest: +SKIP
    """
    return _write(
        DataSetType.GPIO, data, path, timing=timing, channel_names=channel_names, signal_types=signal_types,
        extra_properties=extra_properties, metadata_from=metadata_from, casting=casting, overwrite=overwrite, compute=compute,
        fsync=fsync, compute_kwargs=compute_kwargs,
    )


@overload
def write_imu_set(
    data: Any, path: PathLike, *, timing: Timing | None = ..., channel_names: Sequence[str] | None = ...,
    signal_types: Sequence[str | int] | None = ..., extra_properties: Any = ..., metadata_from: PathLike | None = ...,
    casting: str = ..., overwrite: bool = ..., compute: Literal[True] = ..., fsync: bool = ..., compute_kwargs: dict[str, Any] | None = ...,
) -> None: ...
@overload
def write_imu_set(
    data: Any, path: PathLike, *, timing: Timing | None = ..., channel_names: Sequence[str] | None = ...,
    signal_types: Sequence[str | int] | None = ..., extra_properties: Any = ..., metadata_from: PathLike | None = ...,
    casting: str = ..., overwrite: bool = ..., compute: Literal[False], fsync: bool = ..., compute_kwargs: dict[str, Any] | None = ...,
) -> Delayed: ...


def write_imu_set(
    data: Any,
    path: PathLike,
    *,
    timing: Timing | None = None,
    channel_names: Sequence[str] | None = None,
    signal_types: Sequence[str | int] | None = None,
    extra_properties: Any = None,
    metadata_from: PathLike | None = None,
    casting: str = DEFAULT_CASTING,
    overwrite: bool = False,
    compute: bool = True,
    fsync: bool = True,
    compute_kwargs: dict[str, Any] | None = None,
) -> Delayed | None:
    """Write an IMU set (type 7): accelerometer, orientation and magnetometer, nine channels.

    The channels are, in this order, ``Acc x, Acc y, Acc z, Ori yaw, Ori pitch,
    Ori roll, Mag x, Mag y, Mag z``, in the units the official importer stores:
    accelerometer in raw sensor units (16384 per g; the official CSV export
    divides them by 16384), orientation as the sensor's S4.11 fixed-point
    values over 2048 (radians), magnetometer raw. The first six channels
    share their sample offsets, and so do the last three (the official CSV
    export writes each group side by side on one row per sample); with dense
    input every channel has every sample.

    Parameters
    ----------
    {data}
    path : str or os.PathLike
        Output file; must end with ``.isxd``.
    {timing}
    channel_names : sequence of str, optional
        Nine unique names; defaults to the official names above.
    {common}

    Returns
    -------
    None or dask.delayed.Delayed
        ``None`` if ``compute`` is True.

    Raises
    ------
    TypeError, ValueError, FileExistsError, FileNotFoundError
        As in :func:`write_gpio_set`; also ``ValueError`` when there are not
        nine channels, or when channels of one group have different offsets.

    Examples
    --------
    >>> timing = Timing(num_samples=1000, period=Duration(1, 50))
    >>> imu = numpy.zeros((9, 1000), numpy.float32)
    >>> write_imu_set(imu, "imu.isxd", timing=timing)  # doctest: +SKIP
    """
    return _write(
        DataSetType.IMU, data, path, timing=timing, channel_names=channel_names, signal_types=signal_types,
        extra_properties=extra_properties, metadata_from=metadata_from, casting=casting, overwrite=overwrite, compute=compute,
        fsync=fsync, compute_kwargs=compute_kwargs,
    )


for _func in (write_gpio_set, write_imu_set):
    _func.__doc__ = (_func.__doc__ or "").format(
        data=textwrap.indent(_DOC_DATA, " " * 4).lstrip(),
        timing=textwrap.indent(_DOC_TIMING, " " * 4).lstrip(),
        common=textwrap.indent(_DOC_COMMON, " " * 4).lstrip()
    )


# -- the official reading class ----------------------------------------------------------------------
class GpioSet:
    """A GPIO or IMU set opened for reading, as ``isx.GpioSet``.

    Use :meth:`read`. To write one, see :func:`write_gpio_set` and
    :func:`write_imu_set` (the official package cannot write them). What
    differs from the official class:

    * offsets come back exactly as stored (the official reader passes them
      through doubles, which makes some 1 us low);
    * a channel index out of range raises ``IndexError`` (with the official
      message, ``Channel index N is too large...``), a non-integer index
      ``TypeError``;
    * :attr:`extra_properties` gives the footer's ``extraProperties``, which
      :meth:`get_acquisition_info` does not return (it returns None, as the
      official reader does for every ``.isxd`` GPIO and IMU set).

    Only ``.isxd`` files are read; the official reader also opens the raw
    ``.gpio`` and ``.imu`` files of the acquisition software.

    Examples
    --------
    >>> gpio_set = GpioSet.read("gpio.isxd")  # doctest: +SKIP
    >>> offsets, values = gpio_set.get_channel_data(gpio_set.get_channel_index("GPIO-1"))  # doctest: +SKIP
    """

    def __init__(self) -> None:
        self._reader: GpioSetFile | None = None

    @classmethod
    def read(cls, file_path: PathLike) -> GpioSet:
        """Open a GPIO or IMU set for reading; only the footer is read.

        Raises
        ------
        FileNotFoundError
            If the file does not exist.
        IsxdFormatError
            If it is not a committed GPIO or IMU set.
        """
        from ..readers.gpio import GpioSetFile

        self = cls()
        self._reader = GpioSetFile(file_path)
        return self

    def _require_reader(self) -> GpioSetFile:
        if self._reader is None:
            msg = "this GpioSet holds no file; open one with GpioSet.read(path)"
            raise RuntimeError(msg)
        return self._reader

    @property
    def file_path(self) -> str | None:
        """The file, or None."""
        return self._reader.path if self._reader is not None else None

    @property
    def mode(self) -> str | None:
        """``'r'``, or None."""
        return "r" if self._reader is not None else None

    @property
    def timing(self) -> Timing | None:
        """Timing as the official reader rebuilds it, or None."""
        return self._reader.timing if self._reader is not None else None

    @property
    def num_channels(self) -> int | None:
        """Number of channels, or None."""
        return self._reader.num_channels if self._reader is not None else None

    @property
    def channel_dict(self) -> dict[str, int]:
        """Channel name to index."""
        if self._reader is None:
            return {}
        return {name: k for k, name in enumerate(self._reader.channel_names)}

    @property
    def extra_properties(self) -> Any:
        """The footer's ``extraProperties`` (for an IMU set from the official importer, its session metadata)."""
        return self._require_reader().extra_properties

    def _check_index(self, index: Any) -> int:
        reader = self._require_reader()
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, numbers.Integral):
            msg = f"channel index must be an integer, got {type(index).__name__} {index!r}"
            raise TypeError(msg)
        value = int(index)
        if not 0 <= value < reader.num_channels:
            msg = f"Channel index {value} is too large. There are only {reader.num_channels} channels."
            raise IndexError(msg)
        return value

    def get_channel_name(self, index: int) -> str:
        """Name of channel ``index``."""
        return self._require_reader().channel_names[self._check_index(index)]

    def get_channel_index(self, name: str) -> int:
        """Index of the channel called ``name``.

        Raises
        ------
        KeyError
            If no channel has that name.
        """
        try:
            return self.channel_dict[name]
        except KeyError:
            msg = f'Channel with name "{name}" does not exist.'
            raise KeyError(msg) from None

    def get_channel_data(self, index: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """Values of channel ``index`` as ``(offsets, values)``: uint64 us from the start (ascending), float32."""
        return self._require_reader().get_channel_data(self._check_index(index))

    def get_acquisition_info(self) -> Any:
        """None, as the official reader returns for ``.isxd`` GPIO and IMU sets (see :attr:`extra_properties`)."""
        self._require_reader()
        return None

    def __str__(self) -> str:
        return textwrap.dedent(
            f"""\
            GPIO Set
                file_path: {self.file_path}
                mode: {self.mode}
                timing: {self.timing}
                num_channels: {self.num_channels}"""
        )

    def __repr__(self) -> str:
        return f"GpioSet({self.file_path!r}, num_channels={self.num_channels}, timing={self.timing!r})"
