"""Layout of cell sets (type 1): one record per cell, footprint then trace, both float32.

::

    record size   S = 4 * (P + T)        P = rows * cols, T = num_samples
    cell k image  at k*S                 P float32, row-major
    cell k trace  at k*S + 4*P           T float32, every sample (NaN where invalid)
    D = num_cells * S

The official reader takes the number of cells to be ``floor(D / S)`` and
requires it to equal the lengths of ``CellNames``, ``CellStatuses`` and
``CellColors``.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..metadata import Spacing, Timing
from . import PRODUCER, ArrayLayout, DataSetType, IsxdFormatError

__all__ = [
    "CELL_STATUS_CODES",
    "CellSetLayout",
    "cell_set_footer",
    "default_cell_name",
    "default_name",
    "parse_cell_set_footer",
]

#: Footer ``CellStatuses`` code of each status name.
CELL_STATUS_CODES: dict[str, int] = {"accepted": 0, "undecided": 1, "rejected": 2}
_CODE_TO_STATUS = {code: name for name, code in CELL_STATUS_CODES.items()}

#: ``CellColors`` entry the official writer emits for every cell (opaque white, ARGB).
_WHITE_ARGB = 0xFFFFFFFF
_FLOAT32 = "<f4"
_ITEMSIZE = 4


def default_name(prefix: str, index: int, count: int) -> str:
    """The name the official core gives an item (cell ``'C'``, vessel ``'V'``) stored without one.

    ``prefix`` followed by ``index`` zero-padded to the number of digits of the
    largest index (10 cells are ``C0`` to ``C9``; 12 cells are ``C00`` to ``C11``).
    """
    width = len(str(max(count - 1, 0)))
    return f"{prefix}{index:0{width}d}"


def default_cell_name(index: int, num_cells: int) -> str:
    """The core's default name of cell ``index`` of ``num_cells`` (see :func:`default_name`)."""
    return default_name("C", index, num_cells)


class CellSetLayout:
    """Byte positions of footprints and traces in a cell set's data section.

    Parameters
    ----------
    timing : Timing
        Number of samples ``T`` of every trace.
    spacing : Spacing
        Footprint shape ``(rows, cols)``.
    num_cells : int
        Number of cell records.
    """

    def __init__(self, timing: Timing, spacing: Spacing, num_cells: int) -> None:
        if num_cells < 0:
            msg = f"num_cells must be >= 0, got {num_cells}"
            raise ValueError(msg)
        self.timing = timing
        self.spacing = spacing
        self.num_cells = int(num_cells)
        rows, cols = spacing.num_pixels
        self.footprint_shape = (rows, cols)
        self.num_pixels = rows * cols
        self.num_samples = timing.num_samples
        self.footprint_nbytes = _ITEMSIZE * self.num_pixels
        self.record_nbytes = _ITEMSIZE * (self.num_pixels + self.num_samples)

    @property
    def data_size(self) -> int:
        """``D``: bytes of the data section."""
        return self.num_cells * self.record_nbytes

    def footprints(self) -> ArrayLayout:
        """The footprints as a ``(num_cells, rows, cols)`` float32 array, one per record."""
        rows, cols = self.footprint_shape
        return ArrayLayout(0, (self.num_cells, rows, cols), _FLOAT32, (self.record_nbytes, cols * _ITEMSIZE, _ITEMSIZE))

    def traces(self) -> ArrayLayout:
        """The traces as a ``(num_cells, num_samples)`` float32 array, one per record."""
        return ArrayLayout(self.footprint_nbytes, (self.num_cells, self.num_samples), _FLOAT32, (self.record_nbytes, _ITEMSIZE))

    def records(self) -> ArrayLayout:
        """The whole records as one ``(num_cells, num_pixels + num_samples)`` float32 array, contiguous from byte 0.

        Row ``k`` is cell ``k``'s footprint, flattened row-major, then its trace.
        """
        return ArrayLayout.contiguous(0, (self.num_cells, self.num_pixels + self.num_samples), _FLOAT32)

    def __repr__(self) -> str:
        return f"CellSetLayout(num_cells={self.num_cells}, footprint_shape={self.footprint_shape}, num_samples={self.num_samples})"


def cell_set_footer(
    timing: Timing,
    spacing: Spacing,
    names: Sequence[str],
    statuses: Sequence[str],
    extra_properties: Any = None,
) -> dict[str, Any]:
    """The footer of a cell set, with the keys and values the official writer emits.

    Parameters
    ----------
    timing, spacing : Timing, Spacing
        Stored as ``timingInfo`` and ``spacingInfo``.
    names : sequence of str
        One name per cell (already defaulted and checked).
    statuses : sequence of {'accepted', 'undecided', 'rejected'}
        One status per cell.
    extra_properties : JSON-serialisable, optional
        Stored as ``extraProperties``.
    """
    if len(names) != len(statuses):
        msg = f"names has {len(names)} entries but statuses has {len(statuses)}; expected one of each per cell"
        raise ValueError(msg)
    try:
        codes = [CELL_STATUS_CODES[s] for s in statuses]
    except KeyError as err:
        msg = f"unknown cell status {err.args[0]!r}; expected one of {', '.join(CELL_STATUS_CODES)}"
        raise ValueError(msg) from None
    n = len(names)
    return {
        "CellActivity": [True] * n,
        "CellColors": [_WHITE_ARGB] * n,
        "CellNames": [str(name) for name in names],
        "CellStatuses": codes,
        "CentroidDistances": [],
        "Matches": [],
        "PairScores": [],
        "SizeGlobalCS": 0,
        "cellMetrics": None,
        "dataType": "float",
        "efocusValues": [0],
        "extraProperties": extra_properties,
        "fileVersion": 5,
        "isRoiSet": False,
        "producer": PRODUCER,
        "spacingInfo": spacing.to_dict(),
        "timingInfo": timing.to_dict(),
        "type": int(DataSetType.CELL_SET),
    }


def parse_cell_set_footer(metadata: Mapping[str, Any], data_size: int) -> tuple[CellSetLayout, list[str], list[str]]:
    """Read a cell set footer as the official reader does.

    The number of cells is ``floor(data_size / record size)``, which must equal
    the lengths of ``CellNames``, ``CellStatuses`` and (when present) ``CellColors``.

    Returns
    -------
    layout : CellSetLayout
    names : list of str
    statuses : list of {'accepted', 'undecided', 'rejected'}

    Raises
    ------
    IsxdFormatError
        If it is not a cell set footer, a required key is missing or malformed,
        or the cell counts disagree.
    """
    kind = metadata.get("type")
    if kind != DataSetType.CELL_SET:
        msg = f"expected a cell set (type 1), got type {kind!r}"
        raise IsxdFormatError(msg)
    from .fields import footer_timing_spacing

    timing, spacing = footer_timing_spacing(metadata, ("CellNames", "CellStatuses"), "cell set footer")
    names = metadata["CellNames"]
    codes = metadata["CellStatuses"]
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        msg = f"cell set footer CellNames must be a list of strings, got {names!r:.80}"
        raise IsxdFormatError(msg)
    if not isinstance(codes, list) or not all(type(c) is int and c in _CODE_TO_STATUS for c in codes):
        msg = f"cell set footer CellStatuses must be a list of 0 (accepted), 1 (undecided) or 2 (rejected), got {codes!r:.80}"
        raise IsxdFormatError(msg)
    probe = CellSetLayout(timing, spacing, 0)
    if probe.record_nbytes == 0:
        num_cells = len(names)
    else:
        num_cells = data_size // probe.record_nbytes
    colors = metadata.get("CellColors")
    counts = {"records in the data section": num_cells, "CellNames": len(names), "CellStatuses": len(codes)}
    if isinstance(colors, list):
        counts["CellColors"] = len(colors)
    if len(set(counts.values())) != 1:
        shown = ", ".join(f"{k}: {v}" for k, v in counts.items())
        msg = f"number of cells in the footer does not match the number of cells in the file ({shown})"
        raise IsxdFormatError(msg)
    return CellSetLayout(timing, spacing, num_cells), list(names), [_CODE_TO_STATUS[c] for c in codes]
