"""Layout of vessel sets (type 8): a projection image, then one record per vessel, then a tail pad.

::

    offset 0      projection image, rows*cols float32          (only when there are vessels)
    then, per vessel k, a record of S_k bytes:
      +0          line points, L bytes of int64 (x, y) pairs   (L = 32 diameter, 64 rbc)
      +L          trace, T float32                             (diameter or velocity)
      +L+4T       second trace, T float32                      (centre, or direction in degrees)
      +L+8T       rbc sets with heatmaps: (T, 3, h_k, w_k) float32 correlation heatmaps
    then          L zero bytes, which the official reader requires
    D = 4*rows*cols + sum(S_k) + L, or 0 without vessels.

The vessel type is recorded only in ``extraProperties.idps.vesselset.type``.
"""

from __future__ import annotations

import copy
import math
from typing import Any, Mapping, Sequence

from ..metadata import Spacing, Timing
from . import PRODUCER, ArrayLayout, DataSetType, IsxdFormatError

__all__ = [
    "VESSEL_STATUS_CODES",
    "VESSEL_TYPES",
    "VesselSetLayout",
    "check_line_points",
    "parse_vessel_set_footer",
    "vessel_set_footer",
]

#: The API names of vessel set types and the text the footer records for each.
VESSEL_TYPES: dict[str, str] = {"vessel diameter": "vessel diameter", "rbc velocity": "red blood cell velocity"}
#: Footer codes of vessel statuses.
VESSEL_STATUS_CODES: dict[str, int] = {"accepted": 0, "undecided": 1, "rejected": 2}
_POINTS = {"vessel diameter": 2, "rbc velocity": 4}
_FOOTER_RBC = "red blood cell velocity"


def check_vessel_type(vessel_type: Any) -> str:
    """``vessel_type`` if it is ``'vessel diameter'`` or ``'rbc velocity'``, else ``ValueError``.

    The official writer silently takes any other string as a diameter set; this does not.
    """
    if not isinstance(vessel_type, str) or vessel_type not in VESSEL_TYPES:
        msg = f"vessel_type must be 'vessel diameter' or 'rbc velocity', got {vessel_type!r}"
        raise ValueError(msg)
    return vessel_type


def check_line_points(lines: Any, num_pixels: tuple[int, int], name: str, first_vessel: int = 0) -> None:
    """``ValueError`` unless every line point of ``lines`` is a pixel of the projection image.

    ``lines`` is an integer array of shape ``(num_vessels, num_points, 2)``,
    rows of ``(x, y)``: ``x`` is the column, ``0 <= x < cols``, and ``y`` the row,
    ``0 <= y < rows``, with ``(rows, cols) = num_pixels`` (the order the
    official reader returns and its own files hold). The official writer and
    reader store and return any int64, so a point off the image would be kept
    silently and read back as a measurement line the projection does not
    contain. ``name`` and ``first_vessel`` (the vessel index of ``lines[0]``)
    go into the message.
    """
    import numpy as np

    points = np.asarray(lines)
    if points.size == 0:
        return
    rows, cols = (int(n) for n in num_pixels)
    x, y = points[..., 0], points[..., 1]
    outside = (x < 0) | (x >= cols) | (y < 0) | (y >= rows)
    if outside.any():
        k, p = (int(i) for i in np.argwhere(outside)[0])
        count = int(np.count_nonzero(outside.any(axis=1)))
        where = f"{name}[{k}]" if name == "lines" else name
        msg = (
            f"{where} (vessel {first_vessel + k}) has point {p} at (x={int(x[k, p])}, y={int(y[k, p])}), outside the "
            f"projection image of spacing.num_pixels=({rows}, {cols}) (rows, cols); expected 0 <= x < {cols} (x is "
            f"the column) and 0 <= y < {rows} (y is the row)"
            + (f"; {count} vessels have points outside" if count > 1 else "")
        )
        raise ValueError(msg)


class VesselSetLayout:
    """Byte positions of the projection image and of every vessel record.

    Parameters
    ----------
    timing : Timing
        ``num_samples`` is the trace length ``T``.
    spacing : Spacing
        Shape of the projection image.
    vessel_type : {'vessel diameter', 'rbc velocity'}
        Diameter records hold 2 line points, rbc records 4.
    num_vessels : int
        Number of vessel records.
    heatmap_shapes : sequence of (int, int), optional
        ``(rows, cols)`` of the correlation heatmaps of each vessel (rbc sets only);
        None when the set stores no heatmaps.
    has_second_trace : bool, default True
        Whether records hold the centre or direction trace (the official writer
        always stores it; the reader accepts files without).
    """

    def __init__(
        self,
        timing: Timing,
        spacing: Spacing,
        vessel_type: str,
        num_vessels: int,
        heatmap_shapes: Sequence[tuple[int, int]] | None = None,
        *,
        has_second_trace: bool = True,
    ) -> None:
        self.timing = timing
        self.spacing = spacing
        self.vessel_type = check_vessel_type(vessel_type)
        if num_vessels < 0:
            msg = f"num_vessels must be >= 0, got {num_vessels}"
            raise ValueError(msg)
        self.num_vessels = int(num_vessels)
        if heatmap_shapes is not None:
            if self.vessel_type != "rbc velocity":
                msg = "correlation heatmaps are stored only in 'rbc velocity' sets, not in 'vessel diameter' sets"
                raise ValueError(msg)
            heatmap_shapes = tuple((int(h), int(w)) for h, w in heatmap_shapes)
            if len(heatmap_shapes) != self.num_vessels:
                msg = f"heatmap_shapes has {len(heatmap_shapes)} entries; expected one per vessel ({self.num_vessels})"
                raise ValueError(msg)
        self.heatmap_shapes: tuple[tuple[int, int], ...] | None = heatmap_shapes
        self.has_second_trace = bool(has_second_trace)
        self.num_points = _POINTS[self.vessel_type]
        self.line_nbytes = 16 * self.num_points
        self.num_samples = timing.num_samples
        self.projection_nbytes = 4 * math.prod(spacing.num_pixels)
        T = self.num_samples
        self._fixed_nbytes = self.line_nbytes + 4 * T * (2 if self.has_second_trace else 1)
        offsets = [self.projection_nbytes]
        for k in range(self.num_vessels):
            offsets.append(offsets[-1] + self.record_nbytes(k))
        self._record_offsets = offsets

    @property
    def has_heatmaps(self) -> bool:
        """Whether records hold correlation heatmaps."""
        return self.heatmap_shapes is not None

    def record_nbytes(self, k: int) -> int:
        """``S_k``: bytes of the record of vessel ``k``."""
        if self.heatmap_shapes is None:
            return self._fixed_nbytes
        h, w = self.heatmap_shapes[k]
        return self._fixed_nbytes + 12 * self.num_samples * h * w

    def record_offset(self, k: int) -> int:
        """File offset of the record of vessel ``k`` (``k == num_vessels`` gives the tail pad)."""
        if not 0 <= k <= self.num_vessels:
            msg = f"vessel index {k} is out of range; the set has {self.num_vessels} vessels"
            raise IndexError(msg)
        return self._record_offsets[k]

    @property
    def data_size(self) -> int:
        """``D``: bytes of the data section, tail pad included (0 without vessels)."""
        if self.num_vessels == 0:
            return 0
        return self._record_offsets[-1] + self.line_nbytes

    @property
    def uniform(self) -> bool:
        """Whether every record has the same size, so per-vessel arrays stack with one stride."""
        return self.heatmap_shapes is None or len(set(self.heatmap_shapes)) <= 1

    # -- per vessel -----------------------------------------------------------------------
    def projection(self) -> ArrayLayout:
        """The projection image, ``(rows, cols)`` float32, stored once for all vessels."""
        return ArrayLayout.contiguous(0, self.spacing.num_pixels, "<f4")

    def line(self, k: int) -> ArrayLayout:
        """Line points of vessel ``k``, ``(num_points, 2)`` int64 rows of (x, y)."""
        return ArrayLayout.contiguous(self.record_offset(k), (self.num_points, 2), "<i8")

    def trace(self, k: int) -> ArrayLayout:
        """Trace of vessel ``k`` (diameter or velocity), ``(T,)`` float32."""
        return ArrayLayout.contiguous(self.record_offset(k) + self.line_nbytes, (self.num_samples,), "<f4")

    def second_trace(self, k: int) -> ArrayLayout:
        """Centre (diameter sets) or direction (rbc sets) trace of vessel ``k``, ``(T,)`` float32."""
        self._require_second_trace()
        offset = self.record_offset(k) + self.line_nbytes + 4 * self.num_samples
        return ArrayLayout.contiguous(offset, (self.num_samples,), "<f4")

    def heatmaps(self, k: int) -> ArrayLayout:
        """Correlation heatmaps of vessel ``k``, ``(T, 3, rows, cols)`` float32."""
        self._require_heatmaps()
        assert self.heatmap_shapes is not None
        h, w = self.heatmap_shapes[k]
        offset = self.record_offset(k) + self._fixed_nbytes
        return ArrayLayout.contiguous(offset, (self.num_samples, 3, h, w), "<f4")

    def tail_pad(self) -> ArrayLayout:
        """The ``L`` zero bytes after the last record, as uint8 (empty without vessels)."""
        size = self.line_nbytes if self.num_vessels else 0
        return ArrayLayout.contiguous(self.record_offset(self.num_vessels), (size,), "|u1")

    # -- stacked over vessels (uniform records only) --------------------------------------
    def _stacked(self, one: ArrayLayout) -> ArrayLayout:
        if not self.uniform:
            msg = "vessel records differ in size (heatmap sizes differ); use the per-vessel layouts"
            raise IsxdFormatError(msg)
        stride = self.record_nbytes(0) if self.num_vessels else 0
        return ArrayLayout(one.offset, (self.num_vessels, *one.shape), one.dtype, (stride, *one.strides))

    def lines(self) -> ArrayLayout:
        """Line points of all vessels, ``(n, num_points, 2)`` int64."""
        return self._stacked(ArrayLayout.contiguous(self.projection_nbytes, (self.num_points, 2), "<i8"))

    def traces(self) -> ArrayLayout:
        """Traces of all vessels, ``(n, T)`` float32."""
        return self._stacked(ArrayLayout.contiguous(self.projection_nbytes + self.line_nbytes, (self.num_samples,), "<f4"))

    def second_traces(self) -> ArrayLayout:
        """Centre or direction traces of all vessels, ``(n, T)`` float32."""
        self._require_second_trace()
        offset = self.projection_nbytes + self.line_nbytes + 4 * self.num_samples
        return self._stacked(ArrayLayout.contiguous(offset, (self.num_samples,), "<f4"))

    def stacked_heatmaps(self) -> ArrayLayout:
        """Heatmaps of all vessels, ``(n, T, 3, rows, cols)`` float32, when all share one size."""
        self._require_heatmaps()
        assert self.heatmap_shapes is not None
        h, w = self.heatmap_shapes[0] if self.heatmap_shapes else (0, 0)
        offset = self.projection_nbytes + self._fixed_nbytes
        return self._stacked(ArrayLayout.contiguous(offset, (self.num_samples, 3, h, w), "<f4"))

    def _require_second_trace(self) -> None:
        if not self.has_second_trace:
            kind = "centre" if self.vessel_type == "vessel diameter" else "direction"
            msg = f"this vessel set stores no {kind} traces"
            raise IsxdFormatError(msg)

    def _require_heatmaps(self) -> None:
        if self.heatmap_shapes is None:
            msg = "this vessel set stores no correlation heatmaps"
            raise IsxdFormatError(msg)


def vessel_set_extra_properties(vessel_type: str, extra_properties: Any = None) -> dict[str, Any]:
    """``extra_properties`` with ``idps.vesselset.type`` set to the footer text of ``vessel_type``.

    Raises
    ------
    ValueError
        If ``extra_properties`` is not a dict (or None), or already names another vessel type.
    """
    text = VESSEL_TYPES[check_vessel_type(vessel_type)]
    if extra_properties is None:
        extra: dict[str, Any] = {}
    elif isinstance(extra_properties, Mapping):
        extra = copy.deepcopy(dict(extra_properties))
    else:
        msg = f"extra_properties of a vessel set must be a dict (it records the vessel type), got {type(extra_properties).__name__}"
        raise ValueError(msg)
    idps = extra.setdefault("idps", {})
    if not isinstance(idps, dict):
        msg = f"extra_properties['idps'] must be a dict, got {idps!r}"
        raise ValueError(msg)
    vesselset = idps.setdefault("vesselset", {})
    if not isinstance(vesselset, dict):
        msg = f"extra_properties['idps']['vesselset'] must be a dict, got {vesselset!r}"
        raise ValueError(msg)
    given = vesselset.get("type", text)
    if given != text:
        msg = f"extra_properties['idps']['vesselset']['type'] is {given!r} but vessel_type {vessel_type!r} is stored as {text!r}"
        raise ValueError(msg)
    vesselset["type"] = text
    return extra


def vessel_set_footer(
    timing: Timing,
    spacing: Spacing,
    vessel_type: str,
    names: Sequence[str],
    statuses: Sequence[str],
    heatmap_shapes: Sequence[tuple[int, int]] | None = None,
    extra_properties: Any = None,
) -> dict[str, Any]:
    """The footer of a vessel set, with the keys and values the official writer emits.

    Parameters
    ----------
    timing, spacing, vessel_type
        As in :class:`VesselSetLayout`.
    names : sequence of str
        One name per vessel (already resolved; see ``write_vessel_set``).
    statuses : sequence of {'accepted', 'undecided', 'rejected'}
        One status per vessel.
    heatmap_shapes : sequence of (rows, cols), optional
        Heatmap sizes per vessel (rbc sets with heatmaps); stored as ``[cols, rows]``.
    extra_properties : dict, optional
        Merged with ``{"idps": {"vesselset": {"type": ...}}}``.
    """
    n = len(names)
    if len(statuses) != n:
        msg = f"statuses has {len(statuses)} entries; expected one per vessel ({n})"
        raise ValueError(msg)
    metadata: dict[str, Any] = {
        "SizeGlobalVS": 0,
        "VesselActivity": [True] * n,
        "VesselColors": [0xFFFFFFFF] * n,
        "VesselNames": list(names),
        "VesselStatuses": [VESSEL_STATUS_CODES[s] for s in statuses],
        "dataType": "float",
        "efocusValues": [0],
        "extraProperties": vessel_set_extra_properties(vessel_type, extra_properties),
        "fileVersion": 5,
        "producer": PRODUCER,
        "spacingInfo": spacing.to_dict(),
        "timingInfo": timing.to_dict(),
        "type": int(DataSetType.VESSEL_SET),
    }
    if n:
        if vessel_type == "vessel diameter":
            metadata["VesselCenterSaved"] = True
        else:
            metadata["VesselDirectionSaved"] = True
            if heatmap_shapes is not None:
                metadata["VesselCorrelationSizes"] = [[int(w), int(h)] for h, w in heatmap_shapes]
    return metadata


def parse_vessel_set_footer(metadata: Mapping[str, Any], data_size: int) -> VesselSetLayout:
    """Read a vessel set footer as the official reader does, and return its layout.

    The type is rbc velocity when ``extraProperties.idps.vesselset.type`` is
    ``'red blood cell velocity'`` and diameter for any other string; the second
    trace and heatmaps are stored when their ``Vessel*Saved`` /
    ``VesselCorrelationSizes`` keys are present (an empty set reads as having
    both traces); the data section must be
    exactly projection + records + tail pad.

    Raises
    ------
    IsxdFormatError
        If it is not a vessel set footer, a required key is missing, or the data
        section does not have the size the footer implies.
    """
    if metadata.get("type") != DataSetType.VESSEL_SET:
        msg = f"expected a vessel set (type 8), got type {metadata.get('type')!r}"
        raise IsxdFormatError(msg)
    from .fields import footer_int, footer_timing_spacing

    timing, spacing = footer_timing_spacing(metadata, ("VesselNames", "VesselStatuses", "fileVersion"), "vessel set footer")
    names = metadata["VesselNames"]
    statuses = metadata["VesselStatuses"]
    version = metadata["fileVersion"]
    try:
        text = metadata["extraProperties"]["idps"]["vesselset"]["type"]
    except (KeyError, TypeError):
        text = None
    if isinstance(version, bool) or not isinstance(version, (int, float)) or version < 5 or not isinstance(text, str):
        msg = "vessel set footer needs fileVersion >= 5 and a string extraProperties.idps.vesselset.type"
        raise IsxdFormatError(msg)
    if not isinstance(names, list) or not isinstance(statuses, list) or len(statuses) < len(names):
        msg = "vessel set footer needs VesselNames and VesselStatuses lists with one entry per vessel"
        raise IsxdFormatError(msg)
    vessel_type = "rbc velocity" if text == _FOOTER_RBC else "vessel diameter"
    n = len(names)
    second_key = "VesselDirectionSaved" if vessel_type == "rbc velocity" else "VesselCenterSaved"
    sizes = metadata.get("VesselCorrelationSizes") if vessel_type == "rbc velocity" else None
    shapes = None
    if sizes is not None:
        if not isinstance(sizes, list) or not all(isinstance(p, list) and len(p) == 2 for p in sizes[:n]):
            msg = f"VesselCorrelationSizes must hold [cols, rows] pairs, got {sizes!r:.80}"
            raise IsxdFormatError(msg)
        shapes = [
            (footer_int(h, f"VesselCorrelationSizes[{k}] rows"), footer_int(w, f"VesselCorrelationSizes[{k}] cols"))
            for k, (w, h) in enumerate(sizes[:n])
        ]
        if len(shapes) != n:
            msg = f"VesselCorrelationSizes has {len(sizes)} entries for {n} vessels"
            raise IsxdFormatError(msg)
    # Each record needs at least its line points and trace: refuse a count the data cannot hold
    # before building per-vessel offsets.
    min_record = 16 * _POINTS[vessel_type] + 4 * timing.num_samples
    if n and n * min_record > data_size:
        msg = (
            f"Number of vessels in header does not match number of vessels in file: {n} vessels need at "
            f"least {n * min_record} data bytes, the file holds {data_size}"
        )
        raise IsxdFormatError(msg)
    layout = VesselSetLayout(timing, spacing, vessel_type, n, shapes, has_second_trace=second_key in metadata or n == 0)
    if layout.data_size != data_size:
        msg = (
            f"Number of vessels in header does not match number of vessels in file: the footer implies "
            f"{layout.data_size} data bytes for {n} vessels, the file holds {data_size}"
        )
        raise IsxdFormatError(msg)
    return layout
