"""Vessel sets: ``write_vessel_set`` from NumPy or Dask, and the incremental ``VesselSet``.

A vessel set holds one projection image, then per vessel its line points, a
trace (diameter or red-blood-cell velocity), a second trace (centre for
diameter sets, direction for rbc sets) and, for rbc sets, optional correlation
heatmaps. Samples of the traces at dropped, cropped or blank indices are
stored as NaN, as the official writer does; heatmaps are stored as given.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import TYPE_CHECKING, Any, Literal, Sequence, overload

import numpy as np

from ..layout import ArrayLayout
from ..layout.vessel_set import (
    VesselSetLayout,
    check_line_points,
    check_vessel_type,
    vessel_set_extra_properties,
    vessel_set_footer,
)
from ..layout.cell_set import default_name
from ..layout.vessel_set import VESSEL_STATUS_CODES
from ..metadata import Spacing, Timing
from ..target import IsxdTarget, Reserve, WriteMethod, check_output_path
from ._incremental import IncrementalWriter, PathLike, check_item_index
from ._options import check_write_options, fill_doc, store
from ._validate import (
    DEFAULT_CASTING,
    as_dask_array,
    cast_array,
    cast_exact,
    check_name,
    check_names,
    check_not_masked,
    check_spacing,
    check_status,
    check_statuses,
    check_timing,
    convert_in_memory,
    inherit_metadata,
    nan_at_invalid,
    prepare_array,
    require_spacing,
    require_timing,
    warn_defaults,
)

if TYPE_CHECKING:
    from dask.delayed import Delayed
    from typing_extensions import Unpack

    from ..readers.vessel_set import VesselSetFile
    from ._options import StoreOptions

    class _VesselSetOptions(StoreOptions, total=False):
        timing: Timing | None
        spacing: Spacing | None
        extra_properties: Any
        metadata_from: PathLike | None
        direction_traces: Any
        center_traces: Any
        correlations: Any
        vessel_names: Sequence[str | None] | None
        statuses: Any
        casting: str

__all__ = ["VesselSet", "write_vessel_set"]
_F32 = np.dtype("<f4")
_I8 = np.dtype("<i8")


def _second_trace_name(vessel_type: str) -> str:
    return "center_traces" if vessel_type == "vessel diameter" else "direction_traces"


def _check_geometry(num_samples: int, num_pixels: tuple[int, int]) -> None:
    """Refuse what the official reader cannot read: traces without samples, an image without pixels."""
    if num_samples == 0:
        msg = "traces have 0 samples (timing.num_samples is 0); expected at least one sample"
        raise ValueError(msg)
    if 0 in num_pixels:
        msg = f"image has shape {tuple(num_pixels)} (spacing.num_pixels); expected at least one row and one column"
        raise ValueError(msg)


def _lines_array(lines: Any, num_points: int, vessel_type: str) -> np.ndarray[Any, Any]:
    if hasattr(lines, "compute") and not isinstance(lines, np.ndarray):
        lines = lines.compute()
    lines = np.asarray(lines)
    if lines.ndim != 3 or lines.shape[1:] != (num_points, 2):
        msg = (
            f"lines must have shape (num_vessels, {num_points}, 2): {num_points} (x, y) points per vessel "
            f"in a {vessel_type!r} set, got shape {lines.shape}"
        )
        raise ValueError(msg)
    if lines.dtype.kind not in "iu":
        msg = f"lines must hold integer pixel coordinates, got dtype {lines.dtype}"
        raise TypeError(msg)
    if lines.dtype.kind == "u" and lines.size and int(lines.max()) > np.iinfo(np.int64).max:
        msg = "lines has values too large for int64"
        raise ValueError(msg)
    return np.asarray(lines, dtype=_I8)


def _heatmap_inputs(
    correlations: Any, num_vessels: int, num_samples: int, casting: str
) -> tuple[Any, list[Any] | None, list[tuple[int, int]] | None]:
    """``(stacked, per_vessel, shapes)``: one 5-D Dask array, or one 4-D array per vessel."""
    if correlations is None:
        return None, None, None
    expected = f"(num_samples={num_samples}, 3, rows, cols)"
    if hasattr(correlations, "shape") and hasattr(correlations, "dtype"):
        stacked = as_dask_array(correlations, "correlations", 5, "(num_vessels, num_samples, 3, rows, cols)")
        n, t, three, h, w = stacked.shape
        if n != num_vessels or t != num_samples or three != 3:
            msg = (
                f"correlations must have shape (num_vessels={num_vessels}, num_samples={num_samples}, 3, rows, cols), "
                f"got {stacked.shape}"
            )
            raise ValueError(msg)
        stacked = cast_array(stacked, "correlations", _F32, casting)
        return stacked, None, [(h, w)] * num_vessels
    if isinstance(correlations, (str, bytes)) or not isinstance(correlations, Sequence):
        msg = f"correlations must be one 5-D array or a sequence of 4-D arrays, got {type(correlations).__name__}"
        raise TypeError(msg)
    if len(correlations) != num_vessels:
        msg = (
            f"correlations has heatmaps for {len(correlations)} vessels but there are {num_vessels}; "
            "give heatmaps for every vessel or for none"
        )
        raise ValueError(msg)
    per_vessel, shapes = [], []
    for k, item in enumerate(correlations):
        label = f"correlations[{k}]"
        if item is None:
            msg = f"{label} is None; give heatmaps for every vessel or for none"
            raise ValueError(msg)
        arr = as_dask_array(item, label, 4, expected)
        if arr.shape[0] != num_samples or arr.shape[1] != 3:
            msg = f"{label} must have shape {expected}, got {arr.shape}"
            raise ValueError(msg)
        per_vessel.append(cast_array(arr, label, _F32, casting))
        shapes.append((int(arr.shape[2]), int(arr.shape[3])))
    return None, per_vessel, shapes


@overload
def write_vessel_set(
    image: Any, lines: Any, traces: Any, path: PathLike, *, vessel_type: str, compute: Literal[False],
    **options: Unpack[_VesselSetOptions],
) -> Delayed: ...
@overload
def write_vessel_set(
    image: Any, lines: Any, traces: Any, path: PathLike, *, vessel_type: str, compute: Literal[True] = ...,
    **options: Unpack[_VesselSetOptions],
) -> None: ...
@overload
def write_vessel_set(
    image: Any, lines: Any, traces: Any, path: PathLike, *, vessel_type: str, compute: bool,
    **options: Unpack[_VesselSetOptions],
) -> Delayed | None: ...


@fill_doc
def write_vessel_set(
    image: Any,
    lines: Any,
    traces: Any,
    path: PathLike,
    *,
    vessel_type: str,
    timing: Timing | None = None,
    spacing: Spacing | None = None,
    extra_properties: Any = None,
    metadata_from: PathLike | None = None,
    direction_traces: Any = None,
    center_traces: Any = None,
    correlations: Any = None,
    vessel_names: Sequence[str | None] | None = None,
    statuses: Any = None,
    casting: str = DEFAULT_CASTING,
    overwrite: bool = False,
    compute: bool = True,
    fsync: bool = True,
    resume: bool = False,
    reserve: Reserve = "auto",
    write_method: WriteMethod = "auto",
    compute_kwargs: dict[str, Any] | None = None,
) -> Delayed | None:
    """Write a vessel set to an ``.isxd`` file, chunk by chunk, out of core.

    Every chunk (of traces, or of heatmaps along time and rows) is written
    straight into its place in each vessel record of a preallocated
    temporary file; the footer is appended last and the file renamed to
    ``path``. Nothing appears at ``path`` if anything fails.

    Parameters
    ----------
    image : numpy.ndarray or dask.array.Array, shape (rows, cols)
        The projection image, stored once for all vessels (float32).
    lines : array of int, shape (num_vessels, 2, 2) or (num_vessels, 4, 2)
        Line points as rows of (x, y): 2 per vessel in diameter sets, 4 in rbc sets.
        Each point is a pixel of the projection image: ``0 <= x < cols`` (x is
        the column) and ``0 <= y < rows``; the official writer stores any value.
    traces : numpy.ndarray or dask.array.Array, shape (num_vessels, num_samples)
        Diameter or velocity traces (float32).
    path : str or os.PathLike
        Output file; must end with ``.isxd``.
    vessel_type : {'vessel diameter', 'rbc velocity'}
        Kind of set. Unlike the official writer, any other value is an error.
    timing : Timing, optional
        Defaults to ``num_samples`` samples of 50 ms (with a :class:`DefaultMetadataWarning`).
    spacing : Spacing, optional
        Defaults to the image shape with 3-micron pixels (with a :class:`DefaultMetadataWarning`).
    {metadata}
    direction_traces : array, shape (num_vessels, num_samples)
        Direction traces in degrees from +x; required for (and only for) rbc sets.
    center_traces : array, shape (num_vessels, num_samples)
        Centre traces; required for (and only for) diameter sets.
    correlations : array or sequence of arrays, optional
        rbc sets only: one ``(num_vessels, num_samples, 3, rows, cols)`` array when
        all heatmaps share a size, or one ``(num_samples, 3, rows_k, cols_k)`` array
        per vessel. Axis 1 (or 0) holds the time offsets -1, 0, +1.
    vessel_names : sequence of str or None, optional
        Defaults to the official core's names (``'V'`` and the index zero-padded
        to the digits of the largest index); ``None`` or ``''`` entries too. At
        most 255 UTF-8 bytes each.
    statuses : sequence, str or bool, optional
        One status per vessel (``'accepted'``, ``'undecided'``, ``'rejected'``, or
        booleans); defaults to undecided.
    casting : {'same_value', 'no', 'equiv', 'safe', 'same_kind', 'unsafe'}, default 'same_value'
        Which conversions to float32 are allowed (see :func:`write_movie`).
    {options}

    Returns
    -------
    None or dask.delayed.Delayed
        ``None`` if ``compute`` is True.

    Raises
    ------
    ValueError
        Unknown vessel type or status, wrong shapes (lines, traces, heatmaps,
        image against spacing), a line point outside the projection image, heatmaps for some vessels only or on a diameter
        set, a second trace of the wrong kind, names over 255 bytes.
    TypeError
        Lines that are not integers, or values that do not convert to float32.
    FileExistsError, FileNotFoundError
        As in :func:`isx_dask.write_movie`.

    Examples
    --------
    >>> write_vessel_set(proj, lines, diameters, "v.isxd", vessel_type="vessel diameter",
    ...                  center_traces=centres)  # doctest: +SKIP
    """
    import dask.array as da

    options = check_write_options(overwrite, compute, fsync, resume, reserve, write_method, compute_kwargs)
    given = (timing is not None or metadata_from is not None, spacing is not None or metadata_from is not None)
    timing, spacing, extra_properties, _ = inherit_metadata(metadata_from, timing, spacing, extra_properties)
    vessel_type = check_vessel_type(vessel_type)
    is_rbc = vessel_type == "rbc velocity"
    wrong, second = (center_traces, direction_traces) if is_rbc else (direction_traces, center_traces)
    second_name = _second_trace_name(vessel_type)
    if wrong is not None:
        msg = f"{_second_trace_name('vessel diameter' if is_rbc else 'rbc velocity')} cannot be stored in a {vessel_type!r} set; pass {second_name}"
        raise ValueError(msg)
    if second is None:
        msg = f"{second_name} is required for a {vessel_type!r} set"
        raise ValueError(msg)
    if correlations is not None and not is_rbc:
        msg = "correlations (heatmaps) can be stored only in 'rbc velocity' sets, not in 'vessel diameter' sets"
        raise ValueError(msg)
    vessel_set_extra_properties(vessel_type, extra_properties)

    image = prepare_array(image, "image", 2, "(rows, cols)", _F32, casting)
    traces = prepare_array(traces, "traces", 2, "(num_vessels, num_samples)", _F32, casting)
    second = prepare_array(second, second_name, 2, "(num_vessels, num_samples)", _F32, casting)
    n, num_samples = traces.shape
    if second.shape != traces.shape:
        msg = f"{second_name} has shape {second.shape}; expected the shape of traces {traces.shape}"
        raise ValueError(msg)
    layout_points = 4 if is_rbc else 2
    lines_np = _lines_array(lines, layout_points, vessel_type)
    if lines_np.shape[0] != n:
        msg = f"lines has {lines_np.shape[0]} vessels but traces has {n}; they must be equal"
        raise ValueError(msg)
    timing = check_timing(timing, num_samples, "traces")
    spacing = check_spacing(spacing, image.shape, "image")
    _check_geometry(timing.num_samples, spacing.num_pixels)
    check_line_points(lines_np, spacing.num_pixels, "lines")
    stacked, per_vessel, shapes = _heatmap_inputs(correlations, n, num_samples, casting)
    names = check_names(vessel_names, n, prefix="V", label="vessel_names")
    vessel_statuses = check_statuses(statuses, n, item="vessel")
    warn_defaults(timing_given=given[0], spacing_given=given[1])
    path = check_output_path(path, overwrite)

    layout = VesselSetLayout(timing, spacing, vessel_type, n, shapes)
    metadata = vessel_set_footer(timing, spacing, vessel_type, names, vessel_statuses, shapes, extra_properties)
    traces = nan_at_invalid(traces, timing)
    second = nan_at_invalid(second, timing)
    arrays: list[tuple[Any, ArrayLayout]] = []
    if n:
        arrays.append((image, layout.projection()))
        if layout.uniform:
            arrays += [
                (da.from_array(lines_np, chunks=lines_np.shape), layout.lines()),  # type: ignore[no-untyped-call]
                (traces, layout.traces()),
                (second, layout.second_traces()),
            ]
        else:
            for k in range(n):
                arrays += [
                    (da.from_array(lines_np[k], chunks=lines_np[k].shape), layout.line(k)),  # type: ignore[no-untyped-call]
                    (traces[k], layout.trace(k)),
                    (second[k], layout.second_trace(k)),
                ]
        if stacked is not None:
            arrays.append((stacked, layout.stacked_heatmaps()))
        elif per_vessel is not None:
            arrays += [(arr, layout.heatmaps(k)) for k, arr in enumerate(per_vessel)]
    return store(arrays, path, layout.data_size, metadata, options)


def _small_array(value: Any, label: str, dtype: np.dtype[Any], shape: tuple[int, ...]) -> np.ndarray[Any, Any]:
    """One in-memory array of one vessel, converted to ``dtype`` without loss of kind, with ``shape``."""
    check_not_masked(value, label)
    arr = np.asarray(value)
    if dtype.kind == "i":
        if arr.dtype.kind not in "iu":
            msg = f"{label} must hold integer pixel coordinates, got dtype {arr.dtype}"
            raise TypeError(msg)
    elif arr.dtype.kind not in "biuf":
        msg = f"{label} has dtype {arr.dtype}, which cannot be stored as float32"
        raise TypeError(msg)
    if arr.shape != shape:
        msg = f"{label} must have shape {shape}, got {arr.shape}"
        raise ValueError(msg)
    return np.ascontiguousarray(cast_exact(arr, dtype, label))


class VesselSet(IncrementalWriter["VesselSetFile"]):
    """A vessel set file, opened for writing vessel by vessel or for reading, as ``isx.VesselSet``.

    Use :meth:`write` and :meth:`read` to create one. Vessel records differ in
    size when heatmaps do, so, as in the official writer, vessels are appended
    in index order: ``index`` must equal the number written so far (a clear
    ``ValueError`` otherwise, before any byte is written). Unlike the official
    writer, the vessel type is checked, calls of the wrong kind are refused,
    heatmaps must be given for every vessel or none, and the file appears at
    its path only when :meth:`flush` succeeds. Statuses can be set while
    writing (they are stored at flush); a committed file is read-only.

    For bulk writing from Dask, see :func:`write_vessel_set`.

    Examples
    --------
    >>> with VesselSet.write("v.isxd", timing, spacing, "vessel diameter") as vs:  # doctest: +SKIP
    ...     vs.set_vessel_diameter_data(0, image, numpy.array([[0, 1], [3, 4]]), trace, centre)
    """

    class VesselSetType(enum.Enum):
        """Kind of vessel set, with the official enum values."""

        VESSEL_DIAMETER = 0
        RBC_VELOCITY = 1

    kind = "vessel set"
    status_key = "VesselStatuses"
    str_fields = ("timing", "spacing", "num_vessels")

    def __init__(self) -> None:
        super().__init__()
        # State of a set being written (see write()).
        self._vessel_type = "vessel diameter"
        self._extra_properties: Any = None
        self._names: list[str] = []
        self._statuses: list[str] = []
        self._heatmap_shapes: list[tuple[int, int]] | None = None
        self._end = 0

    @classmethod
    def _open_reader(cls, path: str) -> VesselSetFile:
        from ..readers.vessel_set import VesselSetFile

        return VesselSetFile(path)

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def write(
        cls,
        file_path: PathLike,
        timing: Timing,
        spacing: Spacing,
        vessel_type: str,
        *,
        extra_properties: Any = None,
        overwrite: bool = False,
    ) -> VesselSet:
        """Open a new vessel set for writing vessel by vessel.

        Parameters
        ----------
        file_path : str or os.PathLike
            Output path, ending in ``.isxd``.
        timing : Timing
            Trace length and sample timing.
        spacing : Spacing
            Shape of the projection image.
        vessel_type : {'vessel diameter', 'rbc velocity'}
            Kind of set (any other value is an error).
        extra_properties : dict, optional
            Stored in ``extraProperties`` with ``idps.vesselset.type``.
        overwrite : bool, default False
            Replace an existing file when the set is flushed.

        Raises
        ------
        TypeError, ValueError, FileExistsError, FileNotFoundError
            For a bad argument, before anything is created.
        """
        require_timing(timing)
        require_spacing(spacing)
        _check_geometry(timing.num_samples, spacing.num_pixels)
        vessel_type = check_vessel_type(vessel_type)
        inherit_metadata(None, timing, spacing, extra_properties)
        vessel_set_extra_properties(vessel_type, extra_properties)
        self = cls()
        self._timing, self._spacing, self._vessel_type = timing, spacing, vessel_type
        self._extra_properties = extra_properties
        self._end = VesselSetLayout(timing, spacing, vessel_type, 0).projection_nbytes
        self._start(file_path, overwrite)
        return self

    # -- properties ----------------------------------------------------------------------
    @property
    def num_vessels(self) -> int:
        """Number of vessels (written so far, while writing)."""
        return self._reader.num_vessels if self._reader is not None else len(self._names)

    @property
    def vessel_type(self) -> str:
        """``'vessel diameter'`` or ``'rbc velocity'``."""
        return self._reader.vessel_type if self._reader is not None else self._vessel_type

    def get_vessel_set_type(self) -> VesselSet.VesselSetType:
        """The kind of set, as the official ``VesselSet.VesselSetType`` enum values."""
        if self.vessel_type == "rbc velocity":
            return self.VesselSetType.RBC_VELOCITY
        return self.VesselSetType.VESSEL_DIAMETER

    # -- reading -------------------------------------------------------------------------
    def get_vessel_name(self, index: int) -> str:
        """Name of vessel ``index``."""
        reader = self._require_reader()
        return str(reader.names[reader.check_index(index)])

    def get_vessel_status(self, index: int) -> str:
        """Status of vessel ``index``: ``'accepted'``, ``'undecided'`` or ``'rejected'``."""
        reader = self._require_reader()
        return str(reader.statuses[reader.check_index(index)])

    def get_vessel_image_data(self, index: int) -> np.ndarray[Any, Any]:
        """The projection image (the same for every vessel), ``(rows, cols)`` float32."""
        reader = self._require_reader()
        reader.check_index(index)
        return np.asarray(reader.projection.compute())

    def get_vessel_line_data(self, index: int) -> np.ndarray[Any, Any]:
        """Line points of vessel ``index``, ``(2, 2)`` or ``(4, 2)`` int64 rows of (x, y)."""
        return self._require_reader().get_line(index)

    def get_vessel_trace_data(self, index: int) -> np.ndarray[Any, Any]:
        """Diameter or velocity trace of vessel ``index``, ``(num_samples,)`` float32."""
        return self._require_reader().get_trace(index)

    def get_vessel_center_trace_data(self, index: int) -> np.ndarray[Any, Any]:
        """Centre trace of vessel ``index`` (diameter sets only)."""
        reader = self._require_reader()
        if reader.vessel_type != "vessel diameter":
            msg = "Model center can only be read from vessel diameter set but this is a rbc velocity set"
            raise ValueError(msg)
        return reader.get_second_trace(index)

    def get_vessel_direction_trace_data(self, index: int) -> np.ndarray[Any, Any]:
        """Direction trace of vessel ``index`` in degrees from +x (rbc sets only)."""
        reader = self._require_reader()
        if reader.vessel_type != "rbc velocity":
            msg = "Reading direction for diameter vessel set: direction traces are stored only in 'rbc velocity' sets"
            raise ValueError(msg)
        return reader.get_second_trace(index)

    def has_correlation_heatmaps(self) -> bool:
        """Whether the set stores correlation heatmaps."""
        return self._require_reader().has_correlation_heatmaps

    def get_vessel_correlations_data(self, index: int, frame: int) -> np.ndarray[Any, Any]:
        """The three heatmaps (offsets -1, 0, +1) of vessel ``index`` at sample ``frame``, ``(3, rows, cols)``."""
        return self._require_reader().get_heatmaps(index, frame)

    # -- writing -------------------------------------------------------------------------
    def _require_kind(self, kind: str) -> None:
        self._require_open()
        if kind != self._vessel_type:
            call = "set_vessel_diameter_data" if kind == "vessel diameter" else "set_rbc_velocity_data"
            other = "set_rbc_velocity_data" if kind == "vessel diameter" else "set_vessel_diameter_data"
            msg = f"{call} cannot write into a {self._vessel_type!r} set; use {other}"
            raise ValueError(msg)

    def _check_index(self, index: int) -> None:
        if index != len(self._names):
            msg = (
                f"index {index}: vessels must be written in index order, each once; "
                f"the next vessel to write is index {len(self._names)}"
            )
            raise ValueError(msg)

    def set_vessel_diameter_data(
        self, index: int, image: np.ndarray[Any, Any], line: np.ndarray[Any, Any], trace: np.ndarray[Any, Any], center_trace: np.ndarray[Any, Any], name: str | None = None
    ) -> None:
        """Append vessel ``index`` of a diameter set.

        Parameters
        ----------
        index : int
            Must equal the number of vessels written so far.
        image : numpy.ndarray, shape spacing.num_pixels
            Projection image; stored from the first vessel only (as the official writer).
        line : numpy.ndarray of int, shape (2, 2)
            Two (x, y) points, pixels of the projection image (``0 <= x < cols``,
            ``0 <= y < rows``); unlike the official writer, a point outside is refused.
        trace, center_trace : numpy.ndarray, shape (num_samples,)
            Diameter and centre traces.
        name : str, optional
            Defaults to ``'V{index}'``; ``''`` gives a zero-padded name at flush.

        Raises
        ------
        ValueError, TypeError, RuntimeError
            For bad input (nothing is written), or a set not open for writing.
        """
        self._require_kind("vessel diameter")
        self._append(index, image, line, trace, center_trace, None, name)

    def set_rbc_velocity_data(
        self,
        index: int,
        image: np.ndarray[Any, Any],
        line: np.ndarray[Any, Any],
        trace: np.ndarray[Any, Any],
        direction_trace: np.ndarray[Any, Any],
        correlations_trace: np.ndarray[Any, Any] | None = None,
        name: str | None = None,
    ) -> None:
        """Append vessel ``index`` of an rbc velocity set.

        Parameters
        ----------
        index, image, name
            As in :meth:`set_vessel_diameter_data`.
        line : numpy.ndarray of int, shape (4, 2)
            Four (x, y) points, pixels of the projection image (as in
            :meth:`set_vessel_diameter_data`).
        trace, direction_trace : numpy.ndarray, shape (num_samples,)
            Velocity trace, and direction in degrees from +x.
        correlations_trace : numpy.ndarray, shape (num_samples, 3, rows, cols), optional
            Heatmaps at time offsets -1, 0, +1; every vessel must have them, or none.

        Raises
        ------
        ValueError, TypeError, RuntimeError
            For bad input (nothing is written), or a set not open for writing.
        """
        self._require_kind("rbc velocity")
        self._append(index, image, line, trace, direction_trace, correlations_trace, name)

    def _append(self, index: int, image: Any, line: Any, trace: Any, second: Any, heatmaps: Any, name: str | None) -> None:
        self._check_index(index)
        T = self._timing.num_samples
        layout0 = VesselSetLayout(self._timing, self._spacing, self._vessel_type, 0)
        image = _small_array(image, "image", _F32, self._spacing.num_pixels)
        line = _small_array(line, "line", _I8, (layout0.num_points, 2))
        check_line_points(line[None], self._spacing.num_pixels, "line", index)
        trace = _small_array(trace, "trace", _F32, (T,))
        label = "center_trace" if self._vessel_type == "vessel diameter" else "direction_trace"
        second = _small_array(second, label, _F32, (T,))
        shape = None
        if heatmaps is not None:
            heatmaps = np.asarray(heatmaps)
            if heatmaps.ndim != 4 or heatmaps.shape[:2] != (T, 3):
                msg = f"correlations_trace must have shape (num_samples={T}, 3, rows, cols), got {heatmaps.shape}"
                raise ValueError(msg)
            heatmaps = _small_array(heatmaps, "correlations_trace", _F32, heatmaps.shape)
            shape = (int(heatmaps.shape[2]), int(heatmaps.shape[3]))
        if index > 0 and (shape is None) != (self._heatmap_shapes is None):
            had = "with" if self._heatmap_shapes is not None else "without"
            msg = f"correlations_trace: vessel 0 was written {had} heatmaps; give heatmaps for every vessel or for none"
            raise ValueError(msg)
        if name is None:
            name = f"V{index}"
        elif not isinstance(name, str):
            msg = f"name must be a string, got {name!r}"
            raise TypeError(msg)
        check_name(name, "name")
        mask = self._timing.get_valid_samples_mask()
        trace = np.where(mask, trace, np.float32(np.nan)).astype(_F32)
        second = np.where(mask, second, np.float32(np.nan)).astype(_F32)
        # One-vessel layout, shifted to where this record starts.
        one = VesselSetLayout(self._timing, self._spacing, self._vessel_type, 1, None if shape is None else [shape])
        shift = self._end - one.record_offset(0)
        assert self._partial is not None
        pieces: list[tuple[np.ndarray[Any, Any], ArrayLayout]] = []
        if index == 0:
            pieces.append((image, one.projection()))
        parts = [(line, one.line(0)), (trace, one.trace(0)), (second, one.second_trace(0))]
        if heatmaps is not None:
            parts.append((heatmaps, one.heatmaps(0)))
        pieces += [(data, dataclasses.replace(lay, offset=lay.offset + shift)) for data, lay in parts]
        for data, lay in pieces:
            target = IsxdTarget(self._partial, lay, "pwrite")
            target[(slice(None),) * data.ndim] = data
        self._end += one.record_nbytes(0)
        if index == 0:
            self._heatmap_shapes = None if shape is None else []
        if self._heatmap_shapes is not None and shape is not None:
            self._heatmap_shapes.append(shape)
        self._names.append(name)
        self._statuses.append("undecided")

    def set_vessel_status(self, index: int, status: str | bool) -> None:
        """Set the status of vessel ``index``: ``'accepted'``, ``'undecided'`` or ``'rejected'`` (or a bool).

        As in the official package, on a set being written this first flushes
        the file (so call it only after every vessel is written); the status is
        then written through to the committed file at once, as on a set opened
        with ``read(path, read_only=False)``.

        Raises
        ------
        ValueError
            Unknown status.
        IndexError
            A vessel not written yet.
        RuntimeError
            The set was opened read-only.
        """
        status = check_status(status, "status", allow_bool=True)
        if self._partial is not None:
            if not 0 <= check_item_index(index, None, "vessel") < len(self._names):
                msg = f"Vessel index {index} is too large. There are only {len(self._names)} vessels."
                raise IndexError(msg)
            self.flush()
        self._write_status(index, VESSEL_STATUS_CODES[status])

    def _footer(self) -> tuple[dict[str, Any], int]:
        n = len(self._names)
        names = [default_name("V", k, n) if name == "" else name for k, name in enumerate(self._names)]
        layout = VesselSetLayout(self._timing, self._spacing, self._vessel_type, n, self._heatmap_shapes)
        assert layout.data_size == (self._end + layout.line_nbytes if n else 0)
        metadata = vessel_set_footer(
            self._timing, self._spacing, self._vessel_type, names, self._statuses, self._heatmap_shapes, self._extra_properties
        )
        return metadata, layout.data_size

    def __repr__(self) -> str:
        if not self.file_path:
            return "VesselSet()"
        return f"VesselSet({self.file_path!r}, mode={self.mode!r}, vessel_type={self.vessel_type!r}, num_vessels={self.num_vessels})"
