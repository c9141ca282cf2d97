"""Reading GPIO (type 3) and IMU (type 7) sets: channel names, signal types, timing and each channel's values.

The packets are read lazily (:attr:`GpioSetFile.packets`) or in chunks of
about 64 MiB, so a large file is never loaded at once. Each channel's values
come back as the official reader returns them: sorted by offset, a repeated
offset keeping the last packet in the file.

As for event sets, offsets are returned exactly as stored; the official
reader passes them through doubles and returns
``uint64(double(offset) / 1e6 * 1e6)``, 1 us low for some values.
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from ..layout import DataSetType, IsxdFormatError
from ..layout.event_set import EVENT_PACKET_NBYTES, decode_packets, packet_layout, sample_offsets_usecs
from ..layout.gpio import GpioSetHeader, SignalType, parse_gpio_footer
from ..metadata import Time, Timing
from ._file import IsxdFile, describe_period
from .event_set import _sorted_last_wins, index_of_name, name_index

__all__ = ["GpioSetFile"]

_READ_CHUNK_PACKETS = (64 * 2**20) // EVENT_PACKET_NBYTES


class GpioSetFile(IsxdFile):
    """A committed GPIO or IMU set file.

    Attributes
    ----------
    header : GpioSetHeader
        The parsed footer.
    num_packets : int
        Packets stored in the data section (repeated offsets included).

    Examples
    --------
    >>> f = GpioSetFile("gpio.isxd")  # doctest: +SKIP
    >>> offsets, values = f.get_channel_data(f.get_channel_index("GPIO-1"))  # doctest: +SKIP
    """

    def _check(self) -> None:
        self.header: GpioSetHeader = parse_gpio_footer(self.metadata)
        if self.data_size % EVENT_PACKET_NBYTES:
            msg = (
                f"{self.path!r} has a data section of {self.data_size} bytes, not a whole number of "
                f"{EVENT_PACKET_NBYTES}-byte packets"
            )
            raise IsxdFormatError(msg)
        self.num_packets = self.data_size // EVENT_PACKET_NBYTES
        self._timing = self.header.timing
        self._names_index: dict[str, int] | None = None

    # -- metadata ------------------------------------------------------------------------
    @property
    def kind(self) -> DataSetType:
        """``DataSetType.GPIO`` or ``DataSetType.IMU``."""
        return self.header.kind

    @property
    def timing(self) -> Timing:
        """Timing as the official reader rebuilds it: start, smallest signal step, ``ceil((end - start) / period)`` samples."""
        return self.header.timing

    @property
    def end(self) -> Time:
        """End of the recording as stored in the footer."""
        return self.header.end

    @property
    def num_channels(self) -> int:
        """Number of channels."""
        return self.header.num_channels

    @property
    def channel_names(self) -> tuple[str, ...]:
        """Channel names in index order."""
        return self.header.channel_names

    @property
    def signal_types(self) -> tuple[SignalType, ...]:
        """Per channel: ``SignalType.SPARSE`` or ``SignalType.DENSE``."""
        return self.header.signal_types

    def get_channel_name(self, index: int) -> str:
        """Name of channel ``index``."""
        return self.channel_names[self._check_index(index)]

    def get_channel_index(self, name: str) -> int:
        """Index of the channel called ``name`` (the first, if names repeat).

        Raises
        ------
        KeyError
            If no channel has that name.
        """
        if self._names_index is None:
            self._names_index = name_index(self.channel_names)
        return index_of_name(self._names_index, name, kind="Channel")

    def _check_index(self, index: int) -> int:
        n = self.num_channels
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            msg = f"channel index must be an integer, got {index!r}"
            raise TypeError(msg)
        if not -n <= index < n:
            msg = f"channel index {index} is out of range; the set has num_channels={n}"
            raise IndexError(msg)
        return int(index) % n

    # -- packets -------------------------------------------------------------------------
    @property
    def packets(self) -> Any:
        """All stored packets as a lazy ``(num_packets, 20)`` uint8 Dask array (decode blocks with
        :func:`isx_dask.layout.event_set.decode_packets`)."""
        return self._lazy(packet_layout(0, self.num_packets), "gpio-packets")

    def iter_packets(self, chunk_packets: int = _READ_CHUNK_PACKETS) -> Iterator[np.ndarray]:
        """The stored packets in file order, as structured arrays of at most ``chunk_packets`` packets.

        Fields: ``offset`` (uint64, us from the start), ``cell`` (uint64, the
        channel index), ``amplitude`` (float32, the value).

        Raises
        ------
        IsxdFormatError
            If a packet names a channel index out of range (the official reader crashes on those).
        """
        layout = packet_layout(0, self.num_packets)
        step = max(1, int(chunk_packets))
        for first in range(0, self.num_packets, step):
            raw = self._read(layout, (slice(first, first + step), slice(None)))
            packets = decode_packets(raw)
            if packets.size and int(packets["cell"].max()) >= self.num_channels:
                bad = int(packets["cell"].max())
                msg = f"{self.path!r}: a packet names channel {bad}, but the set has {self.num_channels} channels"
                raise IsxdFormatError(msg)
            yield packets

    def get_channel_data(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Values of channel ``index``, as the official ``get_channel_data`` returns them.

        Returns
        -------
        offsets : numpy.ndarray of uint64
            Microseconds from the start, ascending, unique.
        values : numpy.ndarray of float32
            The value at each offset (of the last packet stored for it).
        """
        return self.get_all_channel_data([self._check_index(index)])[0]

    def get_all_channel_data(self, indices: list[int] | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(offsets, values)`` of every channel (or of ``indices``), in one pass over the file."""
        wanted = list(range(self.num_channels)) if indices is None else [self._check_index(i) for i in indices]
        offsets: dict[int, list[np.ndarray]] = {c: [] for c in wanted}
        values: dict[int, list[np.ndarray]] = {c: [] for c in wanted}
        for packets in self.iter_packets():
            if len(wanted) == 1:
                mine = packets[packets["cell"] == wanted[0]]
                offsets[wanted[0]].append(mine["offset"])
                values[wanted[0]].append(mine["amplitude"])
                continue
            grouped = packets[np.argsort(packets["cell"], kind="stable")]
            cells, starts = np.unique(grouped["cell"], return_index=True)
            bounds = [*starts.tolist(), len(grouped)]
            for k, c in enumerate(cells.tolist()):
                if c in offsets:
                    part = grouped[bounds[k] : bounds[k + 1]]
                    offsets[c].append(part["offset"])
                    values[c].append(part["amplitude"])
        out = []
        for c in wanted:
            if offsets[c]:
                out.append(_sorted_last_wins(np.concatenate(offsets[c]), np.concatenate(values[c])))
            else:
                out.append((np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.float32)))
        return out

    def get_channel_samples(self, index: int) -> np.ndarray:
        """Channel ``index`` on the sample grid of :attr:`timing`: ``num_samples`` float32 values.

        Sample ``i`` holds the value stored at offset ``round(i * period)`` us
        (the offsets a dense channel is written with), NaN where none is stored.
        Values at other offsets are not included; use :meth:`get_channel_data`
        for sparse channels.
        """
        offsets, values = self.get_channel_data(index)
        timing = self.timing
        grid = sample_offsets_usecs(timing.period, np.arange(timing.num_samples))
        out = np.full(timing.num_samples, np.nan, dtype=np.float32)
        pos = np.searchsorted(grid, offsets)
        hit = pos < len(grid)
        hit[hit] = grid[pos[hit]] == offsets[hit]
        out[pos[hit]] = values[hit]
        return out

    def _repr_fields(self) -> list[str]:
        return [
            f"kind={self.kind.name}",
            f"num_channels={self.num_channels}",
            f"num_packets={self.num_packets}",
            f"num_samples={self.timing.num_samples}",
            f"period={describe_period(self.timing)}",
        ]
