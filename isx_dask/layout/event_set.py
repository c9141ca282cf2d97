"""Layout of event sets (type 5): a flat run of 20-byte event packets.

Each event is one packed little-endian record::

    +0   uint64   offset of the event in microseconds from the start time
    +8   uint64   cell index (position in the footer's "channel list")
    +16  float32  amplitude

The data section is ``20 * number_of_events`` bytes, with no header and no
grouping: the official reader scans every packet, gathers each cell's events in
a map keyed by offset, and so returns them sorted by offset, with duplicate
offsets collapsed (the last packet wins). The writers of this package store
each cell's packets together, in cell order (:class:`EventSetLayout`); the
incremental :class:`isx_dask.EventSet` stores them in call order, as the
official writer does. Either reads back the same.

The footer does not store the timing of a cell set: the official reader
rebuilds it from ``global times`` (start and end) and the smallest non-zero
``signalSteps`` entry, with ``num_samples = ceil((end - start) / period)``
(:func:`reconstruct_timing`). The end time is therefore what carries
``num_samples`` (:func:`event_set_end`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal, Mapping, Sequence

import numpy as np

from ..metadata import Duration, Time, Timing
from . import PRODUCER, ArrayLayout, DataSetType, IsxdFormatError

__all__ = [
    "EVENT_PACKET_DTYPE",
    "EVENT_PACKET_NBYTES",
    "EndTime",
    "EventSetHeader",
    "EventSetLayout",
    "decode_packets",
    "duration_usecs",
    "encode_packets",
    "event_set_end",
    "event_set_footer",
    "packet_layout",
    "parse_event_set_footer",
    "reconstruct_timing",
    "sample_offsets_usecs",
]

#: One event as stored: offset (us from the start), cell index, amplitude. Packed, 20 bytes.
EVENT_PACKET_DTYPE = np.dtype([("offset", "<u8"), ("cell", "<u8"), ("amplitude", "<f4")])
EVENT_PACKET_NBYTES = 20
assert EVENT_PACKET_DTYPE.itemsize == EVENT_PACKET_NBYTES


#: How the end time of the recording is stored: exactly, or truncated to whole
#: milliseconds as the official writer does (which loses samples at periods under 1 ms).
EndTime = Literal["exact", "official"]

_INT64_MAX = 2**63 - 1
_USECS_PER_SEC = 1_000_000
#: Period the official reader assumes when no signal step is stored.
_DEFAULT_READ_PERIOD = Duration(1, 1000)


def event_set_end(timing: Timing, end_time: EndTime = "exact") -> Time:
    """The end time to store in ``global times[1]``.

    Parameters
    ----------
    timing : Timing
        Start, period and number of samples of the recording.
    end_time : {'exact', 'official'}, default 'exact'
        ``'exact'`` stores ``start + period * num_samples`` exactly, so that the
        official reader gets ``num_samples`` back for every period. It is
        written as ``ms/1000`` when it is a whole number of milliseconds (as the
        official writer writes it), otherwise as the reduced fraction.
        ``'official'`` truncates to whole milliseconds as the official writer
        does (in double precision), for byte identity with its files.

    Raises
    ------
    ValueError
        If ``end_time`` is not one of the two choices, or the exact end does not
        fit the footer's 64-bit rational.
    """
    exact = timing.end.secs_since_epoch.to_fraction()
    offset = timing.start.utc_offset
    if end_time == "official":
        msecs = math.trunc(float(exact.numerator) / float(exact.denominator) * 1000)
        return Time(Duration(msecs, 1000), offset)
    if end_time != "exact":
        msg = f"end_time must be 'exact' or 'official', got {end_time!r}"
        raise ValueError(msg)
    exact_msecs = exact * 1000
    if exact_msecs.denominator == 1 and abs(exact_msecs.numerator) <= _INT64_MAX:
        return Time(Duration(exact_msecs.numerator, 1000), offset)
    if max(abs(exact.numerator), exact.denominator) > _INT64_MAX:
        msg = (
            f"the exact end time {exact} s of this recording does not fit a 64-bit rational; "
            f"use a start time and period with smaller denominators, or pass end_time='official'"
        )
        raise ValueError(msg)
    return Time(Duration(exact.numerator, exact.denominator), offset)


def reconstruct_timing(start: Time, end: Time, signal_steps: Sequence[Duration]) -> Timing:
    """The timing the official reader derives from an event set's footer.

    The period is the smallest non-zero signal step (1 ms when there is none)
    and ``num_samples = ceil((end - start) / period)``, computed exactly.
    """
    steps = [s for s in signal_steps if s.to_fraction() > 0]
    period = min(steps, key=Duration.to_fraction) if steps else _DEFAULT_READ_PERIOD
    span = end.secs_since_epoch.to_fraction() - start.secs_since_epoch.to_fraction()
    num_samples = max(0, math.ceil(span / period.to_fraction()))
    return Timing(num_samples=num_samples, period=period, start=start)


def event_set_footer(
    timing: Timing,
    cell_names: Sequence[str],
    num_events: Sequence[int],
    start_offsets: Sequence[int],
    extra_properties: Any = None,
    end_time: EndTime = "exact",
) -> dict[str, Any]:
    """The footer of an event set.

    Parameters
    ----------
    timing : Timing
        Start, period and number of samples. Dropped, cropped and blank
        indices have no place in an event set footer and are not stored.
    cell_names : sequence of str
        Names in cell index order.
    num_events : sequence of int
        Events stored per cell (the footer's ``numSamples``).
    start_offsets : sequence of int
        Offset in microseconds of the first packet stored for each cell, 0 for
        a cell without events (the footer's ``startOffsets``).
    extra_properties : JSON-serialisable, optional
        The footer's ``extraProperties``.
    end_time : {'exact', 'official'}, default 'exact'
        See :func:`event_set_end`.

    Notes
    -----
    The keys are those of the official writer. A set with zero cells gets
    one signal step anyway (the reader allows more steps than cells), so that
    its period, and so its timing, reads back instead of a default of 1 ms.
    """
    num_cells = len(cell_names)
    if len(num_events) != num_cells or len(start_offsets) != num_cells:
        msg = (
            f"num_events ({len(num_events)}) and start_offsets ({len(start_offsets)}) must have one "
            f"entry per cell ({num_cells} cell names)"
        )
        raise ValueError(msg)
    num_steps = max(num_cells, 1)
    return {
        "channel list": list(cell_names),
        "extraProperties": extra_properties,
        "fileType": 1,
        "fileVersion": 2,
        "global times": [timing.start.to_dict(), event_set_end(timing, end_time).to_dict()],
        "metrics": None,
        "numSamples": [int(n) for n in num_events],
        "producer": PRODUCER,
        "signalSteps": [timing.period.to_dict()] * num_steps,
        "signalTypes": [0] * num_steps,
        "startOffsets": [int(o) for o in start_offsets],
        "type": int(DataSetType.EVENT_SET),
    }


@dataclass(frozen=True)
class EventSetHeader:
    """What an event set footer says, as the official reader takes it.

    Attributes
    ----------
    cell_names : tuple of str
        Names in cell index order.
    timing : Timing
        Timing rebuilt as the official reader does (:func:`reconstruct_timing`).
    end : Time
        ``global times[1]`` as stored.
    num_events : tuple of int
        The footer's ``numSamples`` (not checked by the official reader).
    start_offsets : tuple of int
        The footer's ``startOffsets`` (not checked by the official reader).
    """

    cell_names: tuple[str, ...]
    timing: Timing
    end: Time
    num_events: tuple[int, ...]
    start_offsets: tuple[int, ...]

    @property
    def num_cells(self) -> int:
        return len(self.cell_names)


def parse_event_set_footer(metadata: Mapping[str, Any]) -> EventSetHeader:
    """Read an event set footer as the official reader does.

    Raises
    ------
    IsxdFormatError
        If it is not an event set footer (type 5, fileType 1, fileVersion >= 1)
        or a required key is missing or malformed.
    """
    kind = metadata.get("type")
    if kind != DataSetType.EVENT_SET:
        msg = f"expected an event set (type 5), got type {kind!r}"
        raise IsxdFormatError(msg)
    if metadata.get("fileType") != 1:
        msg = f"event set fileType must be 1 (events layout V2), got {metadata.get('fileType')!r}"
        raise IsxdFormatError(msg)
    from .fields import INT64_MAX, UINT64_MAX, footer_int, footer_keys, footer_ratio, parse_time

    version = metadata.get("fileVersion")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        msg = f"event set fileVersion must be an integer >= 1, got {version!r:.80}"
        raise IsxdFormatError(msg)
    footer_keys(metadata, ("global times", "channel list", "signalSteps", "signalTypes", "numSamples", "startOffsets"), "event set footer")
    times = metadata["global times"]
    if not isinstance(times, list) or len(times) != 2:
        msg = f"'global times' must hold [start, end], got {times!r:.80}"
        raise IsxdFormatError(msg)
    start, end = parse_time(times[0], "global times[0]"), parse_time(times[1], "global times[1]")
    channels = _list(metadata, "channel list")
    if not all(isinstance(n, str) for n in channels):
        msg = "event set footer key 'channel list' must hold only strings (the cell names)"
        raise IsxdFormatError(msg)
    names = tuple(channels)
    steps = [Duration(*footer_ratio(s, f"signalSteps[{k}]")) for k, s in enumerate(_list(metadata, "signalSteps"))]
    types = _list(metadata, "signalTypes")
    num_events = tuple(footer_int(n, f"numSamples[{k}]", maximum=UINT64_MAX) for k, n in enumerate(_list(metadata, "numSamples")))
    start_offsets = tuple(
        footer_int(n, f"startOffsets[{k}]", maximum=UINT64_MAX) for k, n in enumerate(_list(metadata, "startOffsets"))
    )
    if len(steps) < len(names) or len(types) < len(names):
        msg = (
            f"event set footer has {len(names)} channels but only {len(steps)} signalSteps and "
            f"{len(types)} signalTypes; expected at least one of each per channel"
        )
        raise IsxdFormatError(msg)
    try:
        timing = reconstruct_timing(start, end, steps)
    except (TypeError, ValueError) as err:
        msg = f"event set footer 'global times' and 'signalSteps' give no valid timing: {err}"
        raise IsxdFormatError(msg) from None
    if timing.num_samples > INT64_MAX:
        msg = f"event set footer implies {timing.num_samples} samples (from its start, end and signal steps): more than 64 bits hold"
        raise IsxdFormatError(msg)
    return EventSetHeader(names, timing, end, num_events, start_offsets)


def _list(metadata: Mapping[str, Any], key: str) -> list[Any]:
    value = metadata[key]
    if not isinstance(value, list):
        msg = f"event set footer key {key!r} must be an array, got {value!r}"
        raise IsxdFormatError(msg)
    return value


class EventSetLayout:
    """Byte positions of the packets of an event set whose cells are stored one after another.

    Cell ``k``'s events occupy packets ``cell_starts[k]`` to
    ``cell_starts[k] + num_events[k]``, sorted by offset.

    Parameters
    ----------
    num_events : sequence or array of int
        Events per cell, in cell index order.
    """

    def __init__(self, num_events: Sequence[int] | np.ndarray[Any, Any]) -> None:
        counts = np.asarray(num_events, dtype=np.int64).reshape(-1)
        if counts.size and counts.min() < 0:
            msg = f"num_events must be >= 0 per cell, got {counts.min()}"
            raise ValueError(msg)
        self.num_events = counts
        self.cell_starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64) if counts.size else counts
        self.num_packets = int(counts.sum())

    @property
    def data_size(self) -> int:
        """``D``: bytes of the data section."""
        return self.num_packets * EVENT_PACKET_NBYTES

    def packets(self) -> ArrayLayout:
        """All packets as a ``(num_packets, 20)`` byte array."""
        return packet_layout(0, self.num_packets)

    def cell_packets(self, index: int) -> ArrayLayout:
        """The packets of cell ``index`` as a ``(num_events, 20)`` byte array."""
        return packet_layout(int(self.cell_starts[index]) * EVENT_PACKET_NBYTES, int(self.num_events[index]))


def packet_layout(offset: int, num_packets: int) -> ArrayLayout:
    """``num_packets`` packets starting at byte ``offset``, as a ``(num_packets, 20)`` byte array."""
    return ArrayLayout.contiguous(offset, (num_packets, EVENT_PACKET_NBYTES), "|u1")


def encode_packets(offsets: np.ndarray[Any, Any], cells: np.ndarray[Any, Any] | int, amplitudes: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Pack events into their stored bytes, a ``(n, 20)`` uint8 array."""
    packets = np.empty(len(offsets), dtype=EVENT_PACKET_DTYPE)
    packets["offset"] = offsets
    packets["cell"] = cells
    packets["amplitude"] = amplitudes
    return packets.view(np.uint8).reshape(-1, EVENT_PACKET_NBYTES)


def decode_packets(raw: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Stored bytes (``(n, 20)`` uint8, C-contiguous) as a structured array of :data:`EVENT_PACKET_DTYPE`."""
    return np.ascontiguousarray(raw, dtype=np.uint8).reshape(-1).view(EVENT_PACKET_DTYPE)


def sample_offsets_usecs(period: Duration, indices: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Offsets from the start of samples ``indices``, in whole microseconds (rounded half to even), as uint64.

    Exact: computed in integers, never through floats.
    """
    idx = np.asarray(indices, dtype=np.int64)
    num = period.num * _USECS_PER_SEC
    den = period.den
    if idx.size == 0:
        return np.zeros(0, dtype=np.uint64)
    if max(int(idx.max()), 1) * num < _INT64_MAX // 2 and den < _INT64_MAX // 2:
        q, r = np.divmod(idx * num, den)
    else:  # exact big integers
        q, r = np.divmod(idx.astype(object) * num, den)
    twice = 2 * r
    up = (twice > den) | ((twice == den) & (q % 2 == 1))
    out: np.ndarray[Any, Any] = (q + up).astype(np.uint64)
    return out


def duration_usecs(timing: Timing) -> Fraction:
    """Length of the recording in microseconds, exactly: offsets must be below it."""
    return timing.period.to_fraction() * timing.num_samples * _USECS_PER_SEC
