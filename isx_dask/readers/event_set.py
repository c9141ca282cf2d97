"""Reading event sets: names, the timing the official reader rebuilds, and each cell's events.

Packets are read in chunks of about 64 MiB, so a multi-gigabyte event file is
never loaded at once; each cell's events come back as the official reader
returns them: sorted by offset, duplicate offsets collapsed (the last packet
in the file wins).

One deliberate difference: offsets are returned exactly as stored. The
official reader passes them through doubles and returns
``uint64(double(offset) / 1e6 * 1e6)``, which is 1 us low for about 2% of
values (249 reads as 248, 1000001 as 1000000).
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from ..layout import IsxdFormatError
from ..layout.event_set import (
    EVENT_PACKET_NBYTES,
    EventSetHeader,
    decode_packets,
    packet_layout,
    parse_event_set_footer,
)
from ..metadata import Time, Timing
from ._file import IsxdFile, describe_period, item_index

__all__ = ["EventSetFile", "PacketSetFile", "index_of_name", "name_index"]

_READ_CHUNK_PACKETS = (64 * 2**20) // EVENT_PACKET_NBYTES


def _sorted_last_wins(offsets: np.ndarray[Any, Any], amplitudes: np.ndarray[Any, Any]) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Sort events by offset; of equal offsets keep the one that came last, as the official reader does."""
    order = np.argsort(offsets, kind="stable")
    offsets, amplitudes = offsets[order], amplitudes[order]
    keep = np.ones(len(offsets), dtype=bool)
    keep[:-1] = offsets[1:] != offsets[:-1]
    return offsets[keep], amplitudes[keep]


def name_index(names: Sequence[str]) -> dict[str, int]:
    """Name to index, the first index where a name repeats."""
    index: dict[str, int] = {}
    for k, name in enumerate(names):
        index.setdefault(name, k)
    return index


def index_of_name(names: Sequence[str] | Mapping[str, int], name: str, kind: str = "Cell") -> int:
    """Index of ``name`` among ``names`` (the first, if names repeat), as the official ``get_cell_index``.

    ``names`` may also be a prebuilt :func:`name_index` mapping (for many look-ups).

    Raises
    ------
    KeyError
        ``'Cell with name "<name>" does not exist.'`` if no item has that name.
    """
    lookup = names if isinstance(names, Mapping) else name_index(names)
    try:
        return lookup[name]
    except (KeyError, TypeError):
        msg = f'{kind} with name "{name}" does not exist.'
        raise KeyError(msg) from None


class PacketSetFile(IsxdFile):
    """What event sets and GPIO/IMU sets share: a run of 20-byte packets and one name per channel.

    The footer is an event set's (:func:`~isx_dask.layout.event_set.parse_event_set_footer`);
    a subclass whose footer says more parses it in :meth:`_parse_header` (to a
    subclass of :class:`~isx_dask.layout.event_set.EventSetHeader`) and names its
    items (``'cell'``, ``'channel'``).

    Attributes
    ----------
    num_packets : int
        Packets stored in the data section (repeated offsets included).
    """

    #: What a packet's index names, in messages (``'cell'``, ``'channel'``).
    _item = "cell"
    #: What the file is, in messages.
    _what = "event set"

    header: EventSetHeader

    def _parse_header(self) -> EventSetHeader:
        return parse_event_set_footer(self.metadata)

    def _check(self) -> None:
        self.header = self._parse_header()
        if self.data_size % EVENT_PACKET_NBYTES:
            msg = (
                f"{self.path!r} has a data section of {self.data_size} bytes, not a whole number of "
                f"{EVENT_PACKET_NBYTES}-byte packets"
            )
            raise IsxdFormatError(msg)
        self.num_packets = self.data_size // EVENT_PACKET_NBYTES
        self._timing = self.header.timing
        self._names_index: dict[str, int] | None = None

    @property
    def _names(self) -> tuple[str, ...]:
        return self.header.cell_names

    # -- metadata ------------------------------------------------------------------------
    @property
    def timing(self) -> Timing:
        """Timing as the official reader rebuilds it: start, smallest signal step, ``ceil((end - start) / period)`` samples."""
        timing: Timing = self.header.timing
        return timing

    @property
    def end(self) -> Time:
        """End of the recording as stored in the footer."""
        end: Time = self.header.end
        return end

    def _index_of(self, name: str) -> int:
        if self._names_index is None:
            self._names_index = name_index(self._names)
        return index_of_name(self._names_index, name, kind=self._item.capitalize())

    def _check_index(self, index: int) -> int:
        return item_index(index, len(self._names), f"{self._item} index", f"{self._what} has num_{self._item}s")

    # -- packets -------------------------------------------------------------------------
    def iter_packets(self, chunk_packets: int = _READ_CHUNK_PACKETS) -> Iterator[np.ndarray[Any, Any]]:
        """The stored packets in file order, as structured arrays of at most ``chunk_packets`` packets.

        Fields: ``offset`` (uint64, us from the start), ``cell`` (uint64, the cell or
        channel index), ``amplitude`` (float32).

        Raises
        ------
        IsxdFormatError
            If a packet names an index out of range (the official reader crashes on those).
        """
        layout = packet_layout(0, self.num_packets)
        step = max(1, int(chunk_packets))
        n = len(self._names)
        for first in range(0, self.num_packets, step):
            packets = decode_packets(self._read(layout, (slice(first, first + step), slice(None))))
            if packets.size and int(packets["cell"].max()) >= n:
                bad = int(packets["cell"].max())
                msg = f"{self.path!r}: a packet names {self._item} {bad}, but the {self._what} has {n} {self._item}s"
                raise IsxdFormatError(msg)
            yield packets

    def _data(self, indices: Sequence[int] | None = None) -> list[tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]]:
        """``(offsets, amplitudes)`` of every item (or of ``indices``), in one pass over the file."""
        wanted = list(range(len(self._names))) if indices is None else [self._check_index(i) for i in indices]
        offsets: dict[int, list[np.ndarray[Any, Any]]] = {c: [] for c in wanted}
        values: dict[int, list[np.ndarray[Any, Any]]] = {c: [] for c in wanted}
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

    def _repr_fields(self) -> list[str]:
        return [
            f"num_{self._item}s={len(self._names)}",
            f"num_packets={self.num_packets}",
            f"num_samples={self.timing.num_samples}",
            f"period={describe_period(self.timing)}",
        ]


class EventSetFile(PacketSetFile):
    """A committed event set file.

    Attributes
    ----------
    header : EventSetHeader
        The parsed footer.
    num_packets : int
        Events stored in the data section (duplicates included).

    Examples
    --------
    >>> f = open_isxd("events.isxd")  # doctest: +SKIP
    >>> offsets, amplitudes = f.get_cell_data(0)  # doctest: +SKIP
    """

    @property
    def num_cells(self) -> int:
        """Number of cells."""
        return self.header.num_cells

    @property
    def cell_names(self) -> tuple[str, ...]:
        """Cell names in index order."""
        return self.header.cell_names

    def get_cell_name(self, index: int) -> str:
        """Name of cell ``index``."""
        return self.cell_names[self._check_index(index)]

    def get_cell_index(self, name: str) -> int:
        """Index of the cell called ``name`` (the first, if names repeat).

        Raises
        ------
        KeyError
            If no cell has that name (the official message: ``Cell with name "x" does not exist.``).
        """
        return self._index_of(name)

    def get_cell_data(self, index: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """Events of cell ``index``, as the official ``get_cell_data`` returns them.

        Returns
        -------
        offsets : numpy.ndarray of uint64
            Microseconds from the start, ascending, unique.
        amplitudes : numpy.ndarray of float32
            Amplitude of each event (of the last packet stored for an offset).
        """
        return self._data([index])[0]

    def get_all_cell_data(self) -> list[tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]]:
        """Events of every cell, in one pass over the file: a list of ``(offsets, amplitudes)`` per cell."""
        return self._data()
