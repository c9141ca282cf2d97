"""NWB export: movies, cell sets and event sets of one session into one NWB 2 file, chunk by chunk.

:func:`isxd_to_nwb` maps each ``.isxd`` type to the NWB core type made for it:

============  ==============================================================================
``.isxd``     NWB (pynwb core types only, no extension)
============  ==============================================================================
movie         ``acquisition/OnePhotonSeries``: the stored frames, streamed from Dask one
              block at a time (an hdmf ``AbstractDataChunkIterator``); ``rate`` +
              ``starting_time`` when every sample is valid, otherwise the ``timestamps`` of the stored frames (dropped,
              cropped and blank frames are absent, with their timestamps). An
              ``ImagingPlane`` carries the pixel size (``grid_spacing``) and the top-left
              corner (``origin_coords``), both in metres, as (x, y).
cell set      ``processing/ophys/ImageSegmentation/PlaneSegmentation``: one row per cell with
              its ``image_mask`` (the footprint), ``cell_name`` and ``status``
              (``'accepted'``, ``'undecided'`` or ``'rejected'``);
              ``processing/ophys/Fluorescence/RoiResponseSeries``: the traces, float32, with
              NaN kept at invalid samples, ``rate`` + ``starting_time``.
image         ``processing/ophys/Images/<file stem>``: a ``GrayscaleImage`` ``[x, y]`` with
              ``resolution`` in pixels per cm (square pixels only; the footer, with the
              top-left corner, in its description).
event set     ``events/events``: an ``EventsTable`` (NWB 2.10 core), one row per event with
              ``timestamp`` (s from the session start), ``amplitude`` (float32) and ``cell``
              (a ``DynamicTableRegion`` into the ``PlaneSegmentation`` of a cell set converted
              in the same call with the same cell names, otherwise into
              ``processing/ophys/events_cells``, a table of the event set's cell names).
============  ==============================================================================

Why an ``EventsTable`` for event sets: it is the core type NWB 2.10 introduced for
"each row anchored at a single timestamp" and recommends instead of ``TimeSeries``
or ``AnnotationSeries`` per source (the events of 1000 cells are one table, not 1000
objects), it lives in the ``/events`` group every NWB reader looks in, and its
``cell`` column refers to the ROI rows the traces also refer to. Events are sparse
and need not fall on samples, so a dense ``RoiResponseSeries`` would not hold them
exactly.

Array axes follow the NWB schema, which indexes images as ``[time, width, height]``,
i.e. ``[t, x, y]``: ``OnePhotonSeries.data[t, x, y] == frames[t, y, x]`` and
``image_mask[i, x, y] == footprints[i, y, x]``. Vessel sets (and images with
non-square pixels, and other types) have no lossless NWB core representation here
and are refused with ``NotImplementedError``.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import math
import os
import uuid
import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal, Sequence, Union

import numpy as np

from ._io import sync_directory, sync_file
from ._paths import check_new_file
from .layout import DataSetType
from .metadata import Spacing, Time, Timing
from .readers import CellSetFile, EventSetFile, IsxdFile, MovieFile, VesselSetFile, open_isxd

__all__ = ["isxd_to_nwb"]

PathLike = Union[str, "os.PathLike[str]"]

#: Largest HDF5 chunk, in bytes (whole frames, footprints or sample rows; NWB's recommended ~10 MB).
CHUNK_NBYTES = 10 * 2**20
#: Resolution of event times: the ``.isxd`` event set stores integer microseconds.
EVENT_RESOLUTION_S = 1e-6

_EXTRA = 'pip install "isx_dask[nwb]"'
_MICRONS_TO_METRES = Fraction(1, 1_000_000)


# -- optional dependency ------------------------------------------------------------------------
def _import_pynwb() -> Any:
    """The ``pynwb`` module, or an ImportError that names the extra."""
    try:
        import pynwb  # type: ignore[import-untyped,unused-ignore]
    except ImportError as err:
        msg = f"isxd_to_nwb needs the optional dependency pynwb, which is not installed ({err}); {_EXTRA}"
        raise ImportError(msg) from err
    return pynwb


def _require_events_table() -> None:
    try:
        from pynwb.event import EventsTable  # type: ignore[import-untyped,unused-ignore]  # noqa: F401
    except ImportError as err:
        import pynwb

        msg = (
            f"event sets are written as an NWB 2.10 EventsTable, which pynwb {pynwb.__version__} does not have; "
            f'pip install "pynwb>=4.0" (or {_EXTRA})'
        )
        raise ImportError(msg) from err


def _hdf5_chunk_shape(block_shape: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    """HDF5 chunk shape: a Dask block halved until it holds at most CHUNK_NBYTES.

    The first axis (frames, cells, samples) is halved first, so chunks hold
    whole frames; other axes only when one item alone is too large. Chunks so
    cut tile the blocks (when the halvings divide evenly), so each block
    written fills whole chunks and HDF5 never reads a chunk back to complete it.
    """
    shape = [max(1, n) for n in block_shape]
    while math.prod(shape) * itemsize > CHUNK_NBYTES and max(shape) > 1:
        axis = 0 if shape[0] > 1 else shape.index(max(shape))
        shape[axis] = -(-shape[axis] // 2)
    return tuple(shape)


@functools.lru_cache(maxsize=1)
def _dask_iterator_class() -> Any:
    """An hdmf ``AbstractDataChunkIterator`` over the blocks of a Dask array (defined once hdmf is importable)."""
    from hdmf.data_utils import AbstractDataChunkIterator, DataChunk  # type: ignore[import-untyped,unused-ignore]

    class DaskBlockIterator(AbstractDataChunkIterator):  # type: ignore[misc,unused-ignore]
        """Hands hdmf one Dask block at a time: every source byte is read once, one block is in memory.

        The blocks are those of the lazy reader (about 64 MiB each), so memory
        does not grow with the size of the data set.
        """

        def __init__(self, array: Any, compute_kwargs: dict[str, Any]) -> None:
            self._array = array
            self._compute_kwargs = compute_kwargs
            self._bounds = [np.cumsum((0, *c)) for c in array.chunks]
            self._blocks = iter(np.ndindex(*array.numblocks))
            first = tuple(int(c[0]) for c in array.chunks)
            self._chunk_shape = _hdf5_chunk_shape(first, np.dtype(array.dtype).itemsize)

        def __iter__(self) -> Any:
            return self

        def __next__(self) -> Any:
            index = next(self._blocks)  # StopIteration ends the write
            selection = tuple(slice(int(b[i]), int(b[i + 1])) for b, i in zip(self._bounds, index))
            block = self._array.blocks[index].compute(**self._compute_kwargs)
            return DataChunk(data=np.ascontiguousarray(block), selection=selection)

        next = __next__

        def recommended_chunk_shape(self) -> tuple[int, ...]:
            return self._chunk_shape

        def recommended_data_shape(self) -> tuple[int, ...]:
            return self.maxshape

        @property
        def dtype(self) -> np.dtype[Any]:
            dtype: np.dtype[Any] = np.dtype(self._array.dtype)
            return dtype

        @property
        def maxshape(self) -> tuple[int, ...]:
            return tuple(int(n) for n in self._array.shape)

        def __len__(self) -> int:  # DynamicTable columns ask for their length
            return int(self._array.shape[0])

    return DaskBlockIterator


def _streamed(array: Any, compute_kwargs: dict[str, Any], compression: str | None) -> Any:
    """What pynwb is given as ``data``: a chunk iterator over ``array`` (plain NumPy if it is empty)."""
    if 0 in array.shape:
        data: Any = np.zeros(array.shape, dtype=array.dtype)
    else:
        data = _dask_iterator_class()(array, compute_kwargs)
    if compression is None:
        return data
    from hdmf.backends.hdf5.h5_utils import H5DataIO  # type: ignore[import-untyped,unused-ignore]

    return H5DataIO(data=data, compression=compression)


# -- arguments --------------------------------------------------------------------------------
def _check_paths(path: PathLike | Sequence[PathLike], nwb_path: PathLike, overwrite: bool) -> tuple[list[str], str]:
    if isinstance(path, (str, os.PathLike)):
        paths = [os.fspath(path)]
    elif isinstance(path, Sequence) and not isinstance(path, (bytes, bytearray)):
        paths = []
        for p in path:
            if not isinstance(p, (str, os.PathLike)):
                msg = f"path must be a path or a sequence of paths to .isxd files, got an item {p!r}"
                raise TypeError(msg)
            paths.append(os.fspath(p))
    else:
        msg = f"path must be a path or a sequence of paths to .isxd files, got {path!r}"
        raise TypeError(msg)
    paths = [os.fsdecode(p) for p in paths]
    if not paths:
        msg = "path is an empty sequence; expected at least one .isxd file"
        raise ValueError(msg)
    real = [os.path.realpath(p) for p in paths]
    if len(set(real)) != len(real):
        dup = next(p for p, r in zip(paths, real) if real.count(r) > 1)
        msg = f"path names {dup!r} more than once; expected each input once"
        raise ValueError(msg)
    if not isinstance(nwb_path, (str, os.PathLike)):
        msg = f"nwb_path must be a path, got {nwb_path!r}"
        raise TypeError(msg)
    out = os.fsdecode(os.fspath(nwb_path))
    if os.path.realpath(out) in real:
        msg = f"nwb_path {out!r} is also an input; expected a new file name"
        raise ValueError(msg)
    if not out.lower().endswith(".nwb"):
        msg = (
            f"nwb_path {out!r} must end with '.nwb', the extension of NWB files (DANDI, for one, finds them "
            f"by it); expected a file name such as 'session.nwb'"
        )
        raise ValueError(msg)
    return paths, check_new_file(out, "nwb_path", overwrite, "a file name such as 'session.nwb'")


def _check_text(value: Any, name: str) -> None:
    if not isinstance(value, str) or not value:
        msg = f"{name} must be a non-empty str, got {value!r}"
        raise TypeError(msg) if not isinstance(value, str) else ValueError(msg)


# -- time -------------------------------------------------------------------------------------
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


def _epoch_secs(time: Time) -> Fraction:
    return time.secs_since_epoch.to_fraction()


def _to_datetime(secs: Fraction, utc_offset: int) -> _dt.datetime:
    """Exact (to the microsecond) timezone-aware datetime of ``secs`` since the epoch."""
    usecs = math.floor(secs * 1_000_000)
    utc = _EPOCH + _dt.timedelta(microseconds=usecs)
    return utc.astimezone(_dt.timezone(_dt.timedelta(seconds=utc_offset)))


def _datetime_secs(when: _dt.datetime) -> Fraction:
    delta = when - _EPOCH
    return Fraction((delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds, 1_000_000)


def _session_start(starts: list[Time], session_start_time: _dt.datetime | None) -> tuple[_dt.datetime, Fraction]:
    """The NWB ``session_start_time`` and its exact epoch seconds, the reference of every NWB time."""
    if session_start_time is not None:
        if not isinstance(session_start_time, _dt.datetime):
            msg = f"session_start_time must be a datetime.datetime, got {session_start_time!r}"
            raise TypeError(msg)
        if session_start_time.utcoffset() is None:
            msg = (
                f"session_start_time must be timezone-aware, got the naive {session_start_time!r}; "
                "pass e.g. datetime(..., tzinfo=datetime.timezone.utc)"
            )
            raise ValueError(msg)
        reference = _datetime_secs(session_start_time)
        earliest = min(starts, key=_epoch_secs)
        if _epoch_secs(earliest) < reference:
            msg = (
                f"session_start_time {session_start_time.isoformat()} is after the start of an input "
                f"({_to_datetime(_epoch_secs(earliest), earliest.utc_offset).isoformat()}); NWB times are "
                "seconds from the session start and must not be negative"
            )
            raise ValueError(msg)
        return session_start_time, reference
    earliest = min(starts, key=_epoch_secs)
    if _epoch_secs(earliest) == 0:
        msg = (
            "the inputs' start time is 1970-01-01 00:00:00 UTC, the default of files written without a start "
            "time, so session_start_time in the NWB file is that date; pass session_start_time= with the real one"
        )
        warnings.warn(msg, UserWarning, stacklevel=3)
    when = _to_datetime(_epoch_secs(earliest), earliest.utc_offset)
    return when, _datetime_secs(when)


def _sample_times(timing: Timing, offset: Fraction) -> np.ndarray[Any, Any]:
    """Seconds from the session start of every sample of ``timing`` (float64)."""
    period = timing.period.to_fraction()
    index = np.arange(timing.num_samples, dtype=np.float64)
    return float(offset) + index * period.numerator / period.denominator


def _timing_kwargs(timing: Timing, offset: Fraction, *, all_samples: bool) -> dict[str, Any]:
    """``rate`` + ``starting_time`` for regular samples, else ``timestamps`` of the valid ones."""
    period = timing.period.to_fraction()
    if all_samples or timing.num_valid_samples == timing.num_samples:
        return {"rate": float(1 / period), "starting_time": float(offset)}
    valid = timing.get_valid_samples_mask()
    return {"timestamps": _sample_times(timing, offset)[valid]}


# -- the file ---------------------------------------------------------------------------------
@dataclass
class _Builder:
    """State of one conversion: the NWBFile, its shared containers, and names already used."""

    nwbfile: Any
    reference: Fraction
    compute_kwargs: dict[str, Any]
    compression: str | None
    indicator: str
    location: str
    excitation_lambda: float
    device: Any = None
    planes: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)
    segmentations: list[tuple[tuple[str, ...], Any]] = field(default_factory=list)

    def unique(self, base: str) -> str:
        name, k = base, 2
        while name in self.names:
            name, k = f"{base}_{k}", k + 1
        self.names.add(name)
        return name

    def offset(self, start: Time) -> Fraction:
        return _epoch_secs(start) - self.reference

    def ophys(self) -> Any:
        if "ophys" not in self.nwbfile.processing:
            self.nwbfile.create_processing_module(name="ophys", description="Optical physiology processed from Inscopix .isxd files")
        return self.nwbfile.processing["ophys"]

    def imaging_plane(self, spacing: Spacing, rate: float | None) -> Any:
        """One ``ImagingPlane`` per distinct pixel grid, with grid spacing and origin in metres, (x, y)."""
        from pynwb.ophys import OpticalChannel  # type: ignore[import-untyped,unused-ignore]

        key = (spacing.num_pixels, spacing.pixel_size, spacing.top_left)
        if key in self.planes:
            return self.planes[key]
        if self.device is None:
            self.device = self.nwbfile.create_device(
                name="Microscope", description="Inscopix microscope that recorded the .isxd data"
            )
        (size_y, size_x), (top_y, top_x) = spacing.pixel_size, spacing.top_left
        rows, cols = spacing.num_pixels
        channel = OpticalChannel(name="OpticalChannel", description="Inscopix imaging channel", emission_lambda=float("nan"))
        kwargs: dict[str, Any] = {} if rate is None else {"imaging_rate": rate}
        plane = self.nwbfile.create_imaging_plane(
            name=self.unique("ImagingPlane"),
            optical_channel=channel,
            description=(
                f"{cols} x {rows} pixels (x, y) of {float(size_x)} x {float(size_y)} um, "
                f"top-left corner at ({float(top_x)}, {float(top_y)}) um"
            ),
            device=self.device,
            excitation_lambda=self.excitation_lambda,
            indicator=self.indicator,
            location=self.location,
            grid_spacing=[float(size_x * _MICRONS_TO_METRES), float(size_y * _MICRONS_TO_METRES)],
            grid_spacing_unit="meters",
            origin_coords=[float(top_x * _MICRONS_TO_METRES), float(top_y * _MICRONS_TO_METRES)],
            origin_coords_unit="meters",
            **kwargs,
        )
        self.planes[key] = plane
        return plane


def _text(values: Sequence[str]) -> Any:
    """A text column hdmf can type even when it is empty."""
    return list(values) if values else np.zeros(0, dtype=str)


def _footer_note(f: IsxdFile) -> str:
    footer = {k: v for k, v in f.metadata.items()}
    return f"Converted by isx_dask from {os.path.basename(f.path)}; its .isxd footer (JSON): {json.dumps(footer, sort_keys=True)}"


def _stored_frames(frames: Any, valid: np.ndarray[Any, Any]) -> Any:
    """The frames at ``valid`` samples, as slices of contiguous runs (a boolean index would make Dask gather)."""
    if valid.all():
        return frames
    import dask.array as da

    edges = np.flatnonzero(np.diff(np.concatenate([[0], valid.astype(np.int8), [0]])))
    runs = [frames[int(a) : int(b)] for a, b in zip(edges[::2], edges[1::2])]
    if not runs:
        return frames[:0]
    return runs[0] if len(runs) == 1 else da.concatenate(runs, axis=0)  # type: ignore[no-untyped-call]


def _add_movie(b: _Builder, f: MovieFile) -> None:
    from pynwb.ophys import OnePhotonSeries  # type: ignore[import-untyped,unused-ignore]

    timing, spacing = f.timing, f.spacing
    rate = float(1 / timing.period.to_fraction())
    valid = timing.get_valid_samples_mask()
    frames = _stored_frames(f.frames, valid)
    rows, cols = spacing.num_pixels
    series = OnePhotonSeries(
        name=b.unique("OnePhotonSeries"),
        description=(
            f"Inscopix movie {os.path.basename(f.path)}: {int(valid.sum())} stored frames of "
            f"{timing.num_samples} samples; data[t, x, y] is frame t at column x, row y"
        ),
        comments=_footer_note(f),
        data=_streamed(frames.transpose(0, 2, 1), b.compute_kwargs, b.compression),
        imaging_plane=b.imaging_plane(spacing, rate),
        dimension=[cols, rows],
        unit="n.a.",
        **_timing_kwargs(timing, b.offset(timing.start), all_samples=False),
    )
    b.nwbfile.add_acquisition(series)


def _add_image(b: _Builder, f: MovieFile) -> None:
    from pynwb.base import Images  # type: ignore[import-untyped,unused-ignore]
    from pynwb.image import GrayscaleImage  # type: ignore[import-untyped,unused-ignore]

    ophys = b.ophys()
    if "Images" not in ophys.data_interfaces:
        ophys.add(Images(name="Images", description="Images from Inscopix .isxd image files"))
    pixel_um = f.spacing.pixel_size[1]
    image = np.ascontiguousarray(f.frames[0].compute(**b.compute_kwargs).T)  # one frame: [x, y]
    stem = os.path.splitext(os.path.basename(f.path))[0] or "image"
    ophys["Images"].add_image(
        GrayscaleImage(
            name=b.unique(stem),
            data=image,
            resolution=float(10_000 / pixel_um),  # pixels per centimetre
            description=f"Inscopix image, indexed [x, y]; {_footer_note(f)}",
        )
    )


def _add_cell_set(b: _Builder, f: CellSetFile) -> None:
    from hdmf.common import VectorData  # type: ignore[import-untyped,unused-ignore]
    from pynwb.ophys import Fluorescence, ImageSegmentation, PlaneSegmentation  # type: ignore[import-untyped,unused-ignore]

    timing, spacing = f.timing, f.spacing
    names, statuses = list(f.names), list(f.statuses)
    rate = float(1 / timing.period.to_fraction())
    ophys = b.ophys()
    if "ImageSegmentation" not in ophys.data_interfaces:
        ophys.add(ImageSegmentation())
    if "Fluorescence" not in ophys.data_interfaces:
        ophys.add(Fluorescence())
    columns = [
        VectorData(
            name="image_mask",
            description="Footprint of each cell (float32), indexed [cell, x, y]",
            data=_streamed(f.footprints.transpose(0, 2, 1), b.compute_kwargs, b.compression),
        ),
        VectorData(name="cell_name", description="Cell name in the .isxd cell set", data=_text(names)),
        VectorData(name="status", description="Cell status: 'accepted', 'undecided' or 'rejected'", data=_text(statuses)),
    ]
    segmentation = PlaneSegmentation(
        name=b.unique("PlaneSegmentation"),
        description=f"Cells of the Inscopix cell set {os.path.basename(f.path)}",
        imaging_plane=b.imaging_plane(spacing, rate),
        id=list(range(len(names))),
        columns=columns,
    )
    ophys["ImageSegmentation"].add_plane_segmentation(segmentation)
    b.segmentations.append((tuple(names), segmentation))
    rois = segmentation.create_roi_table_region(description="Every cell of the cell set, in order", region=list(range(len(names))))
    ophys["Fluorescence"].create_roi_response_series(
        name=b.unique("RoiResponseSeries"),
        description=(
            f"Traces of the Inscopix cell set {os.path.basename(f.path)}, indexed [sample, cell]; "
            "NaN at dropped, cropped and blank samples"
        ),
        comments=_footer_note(f),
        data=_streamed(f.traces.T, b.compute_kwargs, b.compression),
        rois=rois,
        unit="n.a.",
        **_timing_kwargs(timing, b.offset(timing.start), all_samples=True),
    )


def _events_per_cell(f: EventSetFile, num_cells: int) -> Any:
    """``(offsets, amplitudes)`` of each cell: in one pass over the file where the reader offers it."""
    every = getattr(f, "get_all_cell_data", None)
    if callable(every):
        return every()
    return (f.get_cell_data(k) for k in range(num_cells))  # one pass per cell


def _add_event_set(b: _Builder, f: EventSetFile) -> None:
    from hdmf.common import DynamicTable, DynamicTableRegion, VectorData  # type: ignore[import-untyped,unused-ignore]
    from pynwb.event import EventsTable, TimestampVectorData  # type: ignore[import-untyped,unused-ignore]

    names = tuple(f.cell_names)
    offsets, amplitudes, cells = [], [], []
    for k, (offs, amps) in enumerate(_events_per_cell(f, len(names))):
        offsets.append(np.asarray(offs, dtype=np.uint64))
        amplitudes.append(np.asarray(amps, dtype=np.float32))
        cells.append(np.full(len(offs), k, dtype=np.int64))
    offs_all = np.concatenate(offsets) if offsets else np.zeros(0, np.uint64)
    amps_all = np.concatenate(amplitudes) if amplitudes else np.zeros(0, np.float32)
    cell_all = np.concatenate(cells) if cells else np.zeros(0, np.int64)
    order = np.lexsort((cell_all, offs_all))  # by time, then cell
    offset = b.offset(f.timing.start)
    times = float(offset) + offs_all[order].astype(np.float64) / 1e6

    table = next((seg for seg_names, seg in b.segmentations if seg_names == names), None)
    name = b.unique("events")
    if table is None:
        table = DynamicTable(
            name=f"{name}_cells",
            description=f"Cells of the Inscopix event set {os.path.basename(f.path)}, in index order",
            id=list(range(len(names))),
            columns=[VectorData(name="cell_name", description="Cell name in the .isxd event set", data=_text(names))],
        )
        b.ophys().add(table)
        where = f"processing/ophys/{name}_cells"
    else:
        where = f"the PlaneSegmentation {table.name!r} (same cell names)"
    timing = f.timing
    events = EventsTable(
        name=name,
        description=(
            f"Events of the Inscopix event set {os.path.basename(f.path)}: one row per event, sorted by time; "
            f"'cell' refers to the rows of {where}. Sample period {timing.period.secs_float} s, "
            f"{timing.num_samples} samples. {_footer_note(f)}"
        ),
        id=list(range(len(times))),
        columns=[
            TimestampVectorData(
                name="timestamp", description="Event time in seconds from the session start", data=times, resolution=EVENT_RESOLUTION_S
            ),
            VectorData(name="amplitude", description="Event amplitude (float32)", data=amps_all[order]),
            DynamicTableRegion(name="cell", description="The cell of each event", data=cell_all[order], table=table),
        ],
    )
    b.nwbfile.add_events_table(events)


# -- refusing what cannot be represented ------------------------------------------------------
def _classify(f: IsxdFile, frame_headers: str) -> str:
    """``'movie'``, ``'image'``, ``'cell set'`` or ``'event set'``; anything else raises NotImplementedError."""
    if isinstance(f, MovieFile) and f.type == DataSetType.MOVIE:
        if f.metadata.get("hasFrameHeaderFooter") and frame_headers != "drop":
            msg = (
                f"{f.path!r} carries sensor frame headers and footers, which have no NWB representation here; "
                "pass frame_headers='drop' to convert the frames without them"
            )
            raise ValueError(msg)
        return "movie"
    if isinstance(f, MovieFile) and f.type == DataSetType.IMAGE:
        height, width = f.spacing.pixel_size
        if height != width:
            msg = (
                f"{f.path!r} is an image with non-square pixels ({float(height)} x {float(width)} um); an NWB "
                "GrayscaleImage records one resolution, so it cannot hold them"
            )
            raise NotImplementedError(msg)
        return "image"
    if isinstance(f, CellSetFile):
        return "cell set"
    if isinstance(f, EventSetFile):
        return "event set"
    if isinstance(f, VesselSetFile):
        kind = "vessel set"
    else:
        kind = f.type.name.lower().replace("_", " ")
    msg = (
        f"{f.path!r} is an .isxd {kind} ({f.type.name}); isxd_to_nwb converts movies, images, cell sets and "
        f"event sets only, and NWB core has no type that holds a {kind} without losing data"
    )
    raise NotImplementedError(msg)


def _publish(partial: str, path: str, overwrite: bool, fsync: bool) -> None:
    """Give ``partial`` the name ``path`` (never replacing a file unless ``overwrite``), durably with ``fsync``."""
    if fsync:
        with open(partial, "rb+") as fh:
            sync_file(fh.fileno())
    _rename(partial, path, overwrite)
    if fsync:
        sync_directory(os.path.dirname(os.path.abspath(path)))


def _rename(partial: str, path: str, overwrite: bool) -> None:
    from .target import put_in_place  # the commit's own rule: exactly one writer wins a name

    if not put_in_place(partial, path, overwrite=overwrite):
        msg = f"nwb_path {path!r} was created by someone else while the NWB file was being written; nothing was replaced"
        raise FileExistsError(msg)


def isxd_to_nwb(
    path: PathLike | Sequence[PathLike],
    nwb_path: PathLike,
    *,
    session_description: str | None = None,
    identifier: str | None = None,
    session_start_time: _dt.datetime | None = None,
    indicator: str = "unknown",
    location: str = "unknown",
    excitation_lambda: float = float("nan"),
    frame_headers: Literal["refuse", "drop"] = "refuse",
    compression: Literal["gzip", "lzf"] | None = None,
    overwrite: bool = False,
    fsync: bool = True,
    compute_kwargs: dict[str, Any] | None = None,
) -> str:
    """Write ``.isxd`` movies, images, cell sets and event sets of one session into one NWB file.

    Movie frames, footprints and traces are streamed from the lazy Dask arrays
    of :func:`isx_dask.open_isxd` into the HDF5 file one Dask block (about
    64 MiB) at a time, each source byte read once, so no input is ever held in
    memory whole and memory does not grow with the file size. See the module docstring for the
    NWB type each ``.isxd`` type becomes. The file is written into a temporary
    sibling (``<name>.<uuid>.partial``) and renamed to ``nwb_path`` only once
    complete: a failure leaves no file at ``nwb_path`` and never replaces one.

    Parameters
    ----------
    path : path or sequence of paths
        One ``.isxd`` file, or several of the same session (e.g. a movie, its
        cell set and its event set), converted into one NWB file.
    nwb_path : path
        The NWB file to write; its name must end with ``.nwb``.
    session_description : str, optional
        NWB ``session_description``. Default: ``"Inscopix data from <file names>"``.
    identifier : str, optional
        NWB ``identifier``, which should be unique to this file. Default: a new
        random UUID4 (so converting twice gives two identifiers).
    session_start_time : datetime.datetime, optional
        Timezone-aware start of the session. Default: the earliest ``Timing``
        start of the inputs other than images, with that file's UTC offset, to
        the microsecond (a UserWarning says so if it is the 1970 epoch, the
        start of files written without one).
        Every NWB time (``starting_time``, ``timestamps``, event times) is in
        seconds from it, so inputs that start later get a positive offset.
    indicator, location : str, default "unknown"
        ``ImagingPlane`` indicator and location (the ``.isxd`` file does not record them).
    excitation_lambda : float, default NaN
        ``ImagingPlane`` excitation wavelength in nm (not recorded in ``.isxd``).
    frame_headers : {'refuse', 'drop'}, default 'refuse'
        What to do with a movie whose frames carry sensor headers and footers
        (raw nVista files): refuse it, or convert the frames without them. The
        timing written is the footer's; the official reader instead derives
        such a movie's period from the headers' TSC timestamps.
    compression : {'gzip', 'lzf'} or None, default None
        Lossless HDF5 compression of the streamed datasets.
    overwrite : bool, default False
        Replace an existing ``nwb_path``. Without it an existing file is
        refused before anything is read or written.
    fsync : bool, default True
        Flush the file to disk before it gets its name, and the directory
        entry after (a crash then never leaves a truncated file at ``nwb_path``).
    compute_kwargs : dict, optional
        Keyword arguments for ``dask`` ``compute`` of each buffer (e.g. ``{"scheduler": "threads"}``).

    Returns
    -------
    str
        ``nwb_path``.

    Raises
    ------
    ImportError
        If pynwb is not installed (the ``isx_dask[nwb]`` extra), or is too old
        for the ``EventsTable`` an event set needs (pynwb >= 4.0).
    TypeError
        If an argument has the wrong type.
    ValueError
        If ``path`` is empty or repeats a file, ``nwb_path`` is an input or
        does not end with ``.nwb``, a naive or too-late ``session_start_time``
        is given, or a movie has frame headers and ``frame_headers='refuse'``.
    NotImplementedError
        If an input is a vessel set, an image with non-square pixels or another
        type NWB core cannot hold here; nothing is written.
    FileExistsError
        If ``nwb_path`` exists and ``overwrite`` is False.
    FileNotFoundError
        If an input or the parent directory of ``nwb_path`` does not exist.
    IsxdFormatError
        If an input is not a committed ``.isxd`` file.

    Examples
    --------
    >>> isxd_to_nwb(["movie.isxd", "cellset.isxd", "events.isxd"], "session.nwb")  # doctest: +SKIP
    'session.nwb'
    >>> from pynwb import NWBHDF5IO  # doctest: +SKIP
    >>> with NWBHDF5IO("session.nwb", "r") as io:  # doctest: +SKIP
    ...     nwb = io.read()
    ...     first = nwb.acquisition["OnePhotonSeries"].data[0].T  # (rows, cols), as open_isxd(...).frames[0]

    See Also
    --------
    isx_dask.open_isxd : the lazy reader every input is read with.
    """
    for flag, flag_name in ((overwrite, "overwrite"), (fsync, "fsync")):
        if not isinstance(flag, bool):
            msg = f"{flag_name} must be True or False, got {flag!r}"
            raise TypeError(msg)
    if frame_headers not in ("refuse", "drop"):
        msg = f"frame_headers must be 'refuse' or 'drop', got {frame_headers!r}"
        raise ValueError(msg)
    if compression not in (None, "gzip", "lzf"):
        msg = f"compression must be None, 'gzip' or 'lzf', got {compression!r}"
        raise ValueError(msg)
    if compute_kwargs is not None and not isinstance(compute_kwargs, dict):
        msg = f"compute_kwargs must be a dict or None, got {compute_kwargs!r}"
        raise TypeError(msg)
    if isinstance(excitation_lambda, bool) or not isinstance(excitation_lambda, (int, float)):
        msg = f"excitation_lambda must be a number of nm (or NaN), got {excitation_lambda!r}"
        raise TypeError(msg)
    _check_text(indicator, "indicator")
    _check_text(location, "location")
    paths, out = _check_paths(path, nwb_path, overwrite)
    if session_description is None:
        session_description = "Inscopix data from " + ", ".join(os.path.basename(p) for p in paths)
    _check_text(session_description, "session_description")
    if identifier is None:
        identifier = str(uuid.uuid4())
    _check_text(identifier, "identifier")

    files = [open_isxd(p) for p in paths]
    kinds = [_classify(f, frame_headers) for f in files]
    pynwb = _import_pynwb()
    if "event set" in kinds:
        _require_events_table()
    # images carry no time in NWB, so their (usually default) start does not set the session's
    timed = [f for f, kind in zip(files, kinds) if kind != "image"] or files
    start_time, reference = _session_start([f.timing.start for f in timed], session_start_time)

    nwbfile = pynwb.NWBFile(
        session_description=session_description,
        identifier=identifier,
        session_start_time=start_time,
        source_script="isx_dask.isxd_to_nwb",
        source_script_file_name="isx_dask/nwb.py",
    )
    builder = _Builder(
        nwbfile=nwbfile,
        reference=reference,
        compute_kwargs=dict(compute_kwargs or {}),
        compression=compression,
        indicator=indicator,
        location=location,
        excitation_lambda=float(excitation_lambda),
    )
    # cell sets first, so that an event set can refer to the PlaneSegmentation of its cells
    rank = {"movie": 0, "image": 0, "cell set": 1, "event set": 2}
    for f, kind in sorted(zip(files, kinds), key=lambda fk: rank[fk[1]]):
        if kind == "movie":
            _add_movie(builder, f)  # type: ignore[arg-type]
        elif kind == "image":
            _add_image(builder, f)  # type: ignore[arg-type]
        elif kind == "cell set":
            _add_cell_set(builder, f)  # type: ignore[arg-type]
        else:
            _add_event_set(builder, f)  # type: ignore[arg-type]

    directory, name = os.path.split(os.path.abspath(out))
    partial = os.path.join(directory, f"{name}.{uuid.uuid4().hex}.partial")
    try:
        with warnings.catch_warnings():
            # the temporary name is deliberately not *.nwb, so that it never looks like a finished file
            warnings.filterwarnings("ignore", message=".*does not end in '.nwb'", category=UserWarning)
            with pynwb.NWBHDF5IO(partial, mode="w") as io:
                io.write(nwbfile)
        _publish(partial, out, overwrite, fsync)
    except BaseException:
        try:
            os.unlink(partial)
        except FileNotFoundError:
            pass
        raise
    return out
