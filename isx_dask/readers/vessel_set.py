"""Reading vessel sets lazily: projection image, lines, traces and heatmaps as Dask arrays."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..layout import IsxdFormatError
from ..layout.vessel_set import VESSEL_STATUS_CODES, VesselSetLayout, parse_vessel_set_footer
from ._file import IsxdFile, describe_period

__all__ = ["VesselSetFile"]

_STATUS_NAMES = {code: name for name, code in VESSEL_STATUS_CODES.items()}


class VesselSetFile(IsxdFile):
    """A committed vessel set, read lazily.

    Attributes
    ----------
    layout : VesselSetLayout
        Byte positions of the projection and vessel records.
    """

    def _check(self) -> None:
        self.layout: VesselSetLayout = parse_vessel_set_footer(self.metadata, self.data_size)
        self._timing = self.layout.timing
        codes = self.metadata["VesselStatuses"][: self.num_vessels]
        bad = [c for c in codes if isinstance(c, bool) or not isinstance(c, int) or c not in _STATUS_NAMES]
        if bad:
            msg = f"{self.path!r}: VesselStatuses holds unknown codes {bad[:8]}; expected 0, 1 or 2"
            raise IsxdFormatError(msg)
        if not all(isinstance(name, str) for name in self.metadata["VesselNames"]):
            msg = f"{self.path!r}: VesselNames must hold only strings"
            raise IsxdFormatError(msg)

    # -- metadata -----------------------------------------------------------------------
    @property
    def vessel_type(self) -> str:
        """``'vessel diameter'`` or ``'rbc velocity'``."""
        return self.layout.vessel_type

    @property
    def num_vessels(self) -> int:
        """Number of vessels."""
        return self.layout.num_vessels

    @property
    def names(self) -> list[str]:
        """Vessel names."""
        return list(self.metadata["VesselNames"])

    @property
    def statuses(self) -> list[str]:
        """Vessel statuses: ``'accepted'``, ``'undecided'`` or ``'rejected'``."""
        return [_STATUS_NAMES[c] for c in self.metadata["VesselStatuses"][: self.num_vessels]]

    @property
    def has_correlation_heatmaps(self) -> bool:
        """Whether records hold correlation heatmaps."""
        return self.layout.has_heatmaps

    @property
    def heatmap_shapes(self) -> list[tuple[int, int]] | None:
        """``(rows, cols)`` of each vessel's heatmaps, or None."""
        shapes = self.layout.heatmap_shapes
        return None if shapes is None else list(shapes)

    def check_index(self, index: int) -> int:
        """``index`` if it names a vessel, else ``IndexError``."""
        if not 0 <= index < self.num_vessels:
            msg = f"vessel index {index} is out of range; the set has {self.num_vessels} vessels"
            raise IndexError(msg)
        return index

    # -- lazy arrays ----------------------------------------------------------------------
    @property
    def projection(self) -> Any:
        """The projection image, ``(rows, cols)`` float32 (zeros-free: raises without vessels)."""
        if self.num_vessels == 0:
            msg = f"{self.path!r} has no vessels, so no projection image is stored"
            raise IsxdFormatError(msg)
        return self._lazy(self.layout.projection(), "projection")

    def _stack(self, per_vessel: Any, stacked: Any, name: str) -> Any:
        import dask.array as da

        if self.layout.uniform:
            return self._lazy(stacked(), name)
        return da.stack([self._lazy(per_vessel(k), name) for k in range(self.num_vessels)])  # type: ignore[no-untyped-call]

    @property
    def lines(self) -> Any:
        """Line points, ``(num_vessels, 2 or 4, 2)`` int64 rows of (x, y)."""
        return self._stack(self.layout.line, self.layout.lines, "lines")

    @property
    def traces(self) -> Any:
        """Diameter or velocity traces, ``(num_vessels, num_samples)`` float32 (NaN at invalid samples)."""
        return self._stack(self.layout.trace, self.layout.traces, "traces")

    @property
    def second_traces(self) -> Any:
        """Centre (diameter sets) or direction (rbc sets) traces, ``(num_vessels, num_samples)`` float32."""
        return self._stack(self.layout.second_trace, self.layout.second_traces, "second-traces")

    @property
    def center_traces(self) -> Any:
        """Centre traces of a diameter set."""
        return self._second_traces_of("vessel diameter", "centre traces", "an 'rbc velocity' set")

    @property
    def direction_traces(self) -> Any:
        """Direction traces (degrees from +x) of an rbc set."""
        return self._second_traces_of("rbc velocity", "direction traces", "a 'vessel diameter' set")

    def _second_traces_of(self, vessel_type: str, what: str, other: str) -> Any:
        """:attr:`second_traces` if this is a ``vessel_type`` set, else ``IsxdFormatError`` (this is ``other``)."""
        if self.vessel_type != vessel_type:
            msg = f"{what} are stored only in {vessel_type!r} sets; this is {other}"
            raise IsxdFormatError(msg)
        return self.second_traces

    def heatmaps(self, index: int) -> Any:
        """Heatmaps of vessel ``index``, ``(num_samples, 3, rows, cols)`` float32, lazily."""
        return self._lazy(self.layout.heatmaps(self.check_index(index)), "heatmaps")

    def stacked_heatmaps(self) -> Any:
        """Heatmaps of all vessels, ``(num_vessels, num_samples, 3, rows, cols)``, when all share one size."""
        return self._lazy(self.layout.stacked_heatmaps(), "heatmaps")

    # -- eager reads of one vessel -----------------------------------------------------
    def get_line(self, index: int) -> np.ndarray[Any, Any]:
        """Line points of vessel ``index``."""
        return self._read(self.layout.line(self.check_index(index)))

    def get_trace(self, index: int) -> np.ndarray[Any, Any]:
        """Trace of vessel ``index``."""
        return self._read(self.layout.trace(self.check_index(index)))

    def get_second_trace(self, index: int) -> np.ndarray[Any, Any]:
        """Centre or direction trace of vessel ``index``."""
        return self._read(self.layout.second_trace(self.check_index(index)))

    def get_heatmaps(self, index: int, frame: int) -> np.ndarray[Any, Any]:
        """The three heatmaps of vessel ``index`` at sample ``frame``, ``(3, rows, cols)``."""
        if not self.has_correlation_heatmaps:
            msg = "No correlation heatmaps saved to vessel set file."
            raise IsxdFormatError(msg)
        layout = self.layout.heatmaps(self.check_index(index))
        if not 0 <= frame < layout.shape[0]:
            msg = f"frame {frame} is out of range; the set has num_samples={layout.shape[0]}"
            raise IndexError(msg)
        region = (slice(frame, frame + 1), slice(None), slice(None), slice(None))
        return np.asarray(self._read(layout, region)[0])

    def _repr_fields(self) -> list[str]:
        return [
            f"vessel_type={self.vessel_type!r}",
            f"num_vessels={self.num_vessels}",
            f"num_samples={self.layout.num_samples}",
            f"period={describe_period(self.timing)}",
            f"heatmaps={self.has_correlation_heatmaps}",
        ]
