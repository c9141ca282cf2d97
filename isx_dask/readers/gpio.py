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

from typing import Any

import numpy as np

from ..layout import DataSetType
from ..layout.event_set import packet_layout, sample_offsets_usecs
from ..layout.gpio import GpioSetHeader, SignalType, parse_gpio_footer
from .event_set import PacketSetFile

__all__ = ["GpioSetFile"]


class GpioSetFile(PacketSetFile):
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

    header: GpioSetHeader
    _item = "channel"
    _what = "set"

    def _parse_header(self) -> GpioSetHeader:
        return parse_gpio_footer(self.metadata)

    # -- metadata ------------------------------------------------------------------------
    @property
    def kind(self) -> DataSetType:
        """``DataSetType.GPIO`` or ``DataSetType.IMU``."""
        return self.header.kind

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
        return self._index_of(name)

    # -- packets -------------------------------------------------------------------------
    @property
    def packets(self) -> Any:
        """All stored packets as a lazy ``(num_packets, 20)`` uint8 Dask array (decode blocks with
        :func:`isx_dask.layout.event_set.decode_packets`)."""
        return self._lazy(packet_layout(0, self.num_packets), "gpio-packets")

    def get_channel_data(self, index: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """Values of channel ``index``, as the official ``get_channel_data`` returns them.

        Returns
        -------
        offsets : numpy.ndarray of uint64
            Microseconds from the start, ascending, unique.
        values : numpy.ndarray of float32
            The value at each offset (of the last packet stored for it).
        """
        return self._data([index])[0]

    def get_all_channel_data(self, indices: list[int] | None = None) -> list[tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]]:
        """``(offsets, values)`` of every channel (or of ``indices``), in one pass over the file."""
        return self._data(indices)

    def get_channel_samples(self, index: int) -> np.ndarray[Any, Any]:
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
        return [f"kind={self.kind.name}", *super()._repr_fields()]
