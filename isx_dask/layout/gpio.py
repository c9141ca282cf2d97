"""Layout of GPIO (type 3) and IMU (type 7) sets: event-set packets with per-channel signal types.

The data section is the event-set packet run of :mod:`isx_dask.layout.event_set`
(20-byte packets: offset in microseconds, channel index, float32 value), and
the footer has the event-set keys with two differences:

* ``type`` is 3 (GPIO) or 7 (IMU);
* ``signalTypes`` holds one code per channel: 0 sparse (a value at each
  change, as TTL lines are stored), 1 dense (a value at every sample, as
  analog inputs and the IMU's accelerometer are stored).

The official reader (``isx.GpioSet.read``) rebuilds the timing as it does for
event sets: the start of ``global times``, the smallest non-zero
``signalSteps`` entry as period and ``ceil((end - start) / period)`` samples
(:func:`isx_dask.layout.event_set.reconstruct_timing`). It returns each
channel's packets sorted by offset, a repeated offset keeping the last packet.
Its CSV export (``isx.export_gpio_set_to_csv``) writes one row per packet,
channel after channel; for an IMU set it instead expects the nine channels of
:data:`IMU_CHANNEL_NAMES`, in that order, and puts the first six side by side
on the rows of channel 0 and the last three on the rows of channel 6.

The writers of this package store every channel with the timing's period as
its signal step (the official reader warns and divides by zero on a zero
step), each channel's packets together and sorted (:class:`EventSetLayout`),
and, for dense input, channel ``c``'s sample ``i`` as packet ``c * T + i``
(:func:`dense_packets_layout`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from typing import Any, Mapping, Sequence

from ..metadata import Timing
from . import ArrayLayout, DataSetType, IsxdFormatError
from .event_set import EVENT_PACKET_NBYTES, EndTime, EventSetHeader, event_set_footer, parse_event_set_footer

__all__ = [
    "GPIO_TYPES",
    "IMU_ACC_ORI_CHANNELS",
    "IMU_CHANNEL_NAMES",
    "IMU_MAG_CHANNELS",
    "GpioSetHeader",
    "SignalType",
    "dense_packets_layout",
    "gpio_footer",
    "parse_gpio_footer",
]


class SignalType(enum.IntEnum):
    """The footer's ``signalTypes`` code of a channel."""

    SPARSE = 0
    DENSE = 1


#: The data set types stored in this layout.
GPIO_TYPES = (DataSetType.GPIO, DataSetType.IMU)

#: Channels of an IMU set as the official importer names and orders them.
IMU_CHANNEL_NAMES = ("Acc x", "Acc y", "Acc z", "Ori yaw", "Ori pitch", "Ori roll", "Mag x", "Mag y", "Mag z")
#: Channels the official CSV export writes side by side on the rows of channel 0 (accelerometer, orientation).
IMU_ACC_ORI_CHANNELS = range(0, 6)
#: Channels the official CSV export writes side by side on the rows of channel 6 (magnetometer).
IMU_MAG_CHANNELS = range(6, 9)


def _check_kind(kind: Any) -> DataSetType:
    if kind not in GPIO_TYPES:
        msg = f"kind must be DataSetType.GPIO (3) or DataSetType.IMU (7), got {kind!r}"
        raise ValueError(msg)
    return DataSetType(int(kind))


def gpio_footer(
    kind: DataSetType,
    timing: Timing,
    channel_names: Sequence[str],
    signal_types: Sequence[SignalType | int],
    num_samples: Sequence[int],
    start_offsets: Sequence[int],
    extra_properties: Any = None,
    end_time: EndTime = "exact",
) -> dict[str, Any]:
    """The footer of a GPIO or IMU set.

    Parameters
    ----------
    kind : DataSetType
        ``DataSetType.GPIO`` or ``DataSetType.IMU``.
    timing : Timing
        Start, period and number of samples. Every channel gets the period as
        its signal step.
    channel_names : sequence of str
        Names in channel index order.
    signal_types : sequence of SignalType or int
        One code per channel: 0 sparse, 1 dense.
    num_samples : sequence of int
        Packets stored per channel (the footer's ``numSamples``).
    start_offsets : sequence of int
        Offset in microseconds of the first packet stored for each channel, 0
        for a channel without packets.
    extra_properties : JSON-serialisable, optional
        The footer's ``extraProperties``.
    end_time : {'exact', 'official'}, default 'exact'
        See :func:`isx_dask.layout.event_set.event_set_end`.

    Raises
    ------
    ValueError
        If ``kind`` is not GPIO or IMU, or a per-channel list has another length
        than ``channel_names``, or a signal type is not 0 or 1.
    """
    kind = _check_kind(kind)
    if len(signal_types) != len(channel_names):
        msg = f"signal_types has {len(signal_types)} entries but there are {len(channel_names)} channels"
        raise ValueError(msg)
    codes = []
    for code in signal_types:
        if code not in (SignalType.SPARSE, SignalType.DENSE):
            msg = f"signal types must be 0 (sparse) or 1 (dense), got {code!r}"
            raise ValueError(msg)
        codes.append(int(code))
    footer = event_set_footer(timing, channel_names, num_samples, start_offsets, extra_properties, end_time)
    footer["type"] = int(kind)
    if codes:
        footer["signalTypes"] = codes
    return footer


@dataclass(frozen=True)
class GpioSetHeader(EventSetHeader):
    """What a GPIO or IMU footer says, as the official reader takes it: an event set footer plus its type and signal types.

    The footer keys are those of an event set (:class:`EventSetHeader`), whose
    cells are this set's channels.

    Attributes
    ----------
    kind : DataSetType
        ``GPIO`` or ``IMU``.
    signal_types : tuple of SignalType
        Per channel: sparse or dense.
    """

    kind: DataSetType
    signal_types: tuple[SignalType, ...]

    @property
    def channel_names(self) -> tuple[str, ...]:
        """Names in channel index order."""
        return self.cell_names

    @property
    def num_samples(self) -> tuple[int, ...]:
        """The footer's ``numSamples`` (packets per channel as written)."""
        return self.num_events

    @property
    def num_channels(self) -> int:
        return self.num_cells


def parse_gpio_footer(metadata: Mapping[str, Any]) -> GpioSetHeader:
    """Read a GPIO or IMU footer as the official reader does.

    Raises
    ------
    IsxdFormatError
        If it is not a GPIO (3) or IMU (7) footer of the event-set layout
        (fileType 1, fileVersion >= 1), a required key is missing or
        malformed, or a signal type is not 0 or 1.
    """
    kind = metadata.get("type")
    if kind not in GPIO_TYPES or isinstance(kind, bool):
        msg = f"expected a GPIO (type 3) or IMU (type 7) set, got type {kind!r}"
        raise IsxdFormatError(msg)
    # The footer keys are those of an event set; only the type code differs.
    header = parse_event_set_footer({**metadata, "type": int(DataSetType.EVENT_SET)})
    codes = metadata["signalTypes"]  # present: parse_event_set_footer checked it
    types = []
    for code in codes[: header.num_cells]:
        if isinstance(code, bool) or code not in (0, 1):
            msg = f"GPIO footer signalTypes must hold 0 (sparse) or 1 (dense) per channel, got {code!r}"
            raise IsxdFormatError(msg)
        types.append(SignalType(code))
    shared = {f.name: getattr(header, f.name) for f in fields(header)}
    return GpioSetHeader(**shared, kind=DataSetType(int(kind)), signal_types=tuple(types))


def dense_packets_layout(num_channels: int, num_samples: int) -> ArrayLayout:
    """The packets of a set written from dense input, as a ``(num_channels, num_samples, 20)`` byte array.

    Sample ``i`` of channel ``c`` is packet ``c * num_samples + i``.
    """
    return ArrayLayout.contiguous(0, (int(num_channels), int(num_samples), EVENT_PACKET_NBYTES), "|u1")
