"""TIFF stacks (plain, OME-TIFF, ImageJ hyperstacks; one file or several) to ``.isxd`` movies.

Pixels are read through :mod:`tifffile`'s Zarr view (``aszarr``) inside Dask
tasks, so compressed and tiled files work and no stack is ever read whole. The
frame interval comes from OME ``TimeIncrement`` (or the ``DeltaT`` of the
planes) or ImageJ ``finterval``; the pixel size from OME ``PhysicalSizeX/Y`` or
the resolution tags and their unit. A file that does not say its frame interval
needs ``period=``; one that does not say its pixel size needs ``pixel_size=``.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
import dataclasses
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal, Sequence, overload

import numpy as np

from .. import _io
from ..layout import ArrayLayout, IsxdFormatError
from ..metadata import Duration, Spacing, Time
from ..writers._options import fill_doc
from ._recording import (
    DEFAULT_CASTING,
    PathLike,
    Recording,
    Reserve,
    WriteMethod,
    apply_metadata_from,
    as_duration,
    as_pixel_size,
    exact,
    frames_per_chunk,
    import_optional,
    length_to_microns,
    make_timing,
    read_metadata_from,
    time_to_seconds,
    write_recording,
)

if TYPE_CHECKING:
    from dask.delayed import Delayed
    from typing_extensions import Unpack

    from ..writers._options import StoreOptions

    class _TiffOptions(StoreOptions, total=False):
        period: Any
        pixel_size: Any
        start: Time | None
        series: int
        dtype: Any
        casting: str
        extra_properties: Any
        metadata_from: PathLike | None

__all__ = ["read_tiff", "tiff_to_isxd"]

#: Axes tifffile uses for a sequence of frames: time, generic images, generic (unknown) stack.
_FRAME_AXES = "TIQ"


def _tifffile() -> Any:
    return import_optional("tifffile", "tiff", "Reading TIFF files")


@dataclass(frozen=True)
class _TiffFrames:
    """A picklable recipe for the frames of one TIFF series; each read opens the file.

    ``index`` maps the series' axes to the frame axis (``"t"``), the image axes
    (``"y"``, ``"x"``) or a fixed position (axes of length 1).
    """

    path: str
    series: int
    index: tuple[str | int, ...]
    shape: tuple[int, int, int]
    dtype: np.dtype[Any]
    one_page_per_frame: bool
    #: Byte offset of frame 0 when the frames are stored uncompressed, one after another; else None.
    contiguous_offset: int | None = None
    byteorder: Literal["<", ">"] = "<"
    #: Index of the file's page holding frame 0 when frame i is page ``first_page + i``; else None.
    first_page: int | None = None
    #: Where the frames of the whole recording (several files are one recording) lie in the ``.isxd``
    #: data section, and the index of this series' frame 0 among them: frames are read into memory
    #: aligned as they will lie there.
    recording: ArrayLayout | None = None
    first_frame: int = 0

    @property
    def ndim(self) -> int:
        return 3

    def __getitem__(self, key: tuple[slice, slice, slice]) -> np.ndarray[Any, Any]:
        out_shape = tuple(len(range(*s.indices(n))) for s, n in zip(key, self.shape))
        if self.contiguous_offset is not None and key[0].step in (None, 1):
            # Uncompressed frames one after another: one read of the run, no TIFF parsing in the task.
            first, stop, _ = key[0].indices(self.shape[0])
            stored = self.dtype.newbyteorder(self.byteorder)
            frame_nbytes = self.shape[1] * self.shape[2] * stored.itemsize
            phase = 0
            if self.recording is not None:
                frame = self.first_frame + first
                phase = self.recording.byte_span((slice(frame, frame + 1), slice(None), slice(None)))[0] % _io.DIRECT_ALIGN
            run = _io.aligned_empty((stop - first, *self.shape[1:]), stored, phase=phase)
            if _io.read_into(self.path, self.contiguous_offset + first * frame_nbytes, run) != run.nbytes:
                msg = f"TIFF file {self.path!r} ends inside frames {first}:{stop}"
                raise IsxdFormatError(msg)
            return np.ascontiguousarray(run[:, key[1], key[2]], dtype=self.dtype)
        tifffile = _tifffile()
        with tifffile.TiffFile(self.path) as tif:
            if self.one_page_per_frame and key[0].step in (None, 1):
                # Each frame is one whole page: tifffile decodes the run of pages itself (faster than per-chunk
                # Zarr reads); consecutive pages are read without building the series (no OME-XML parsing per task).
                first, stop, _ = key[0].indices(self.shape[0])
                if self.first_page is not None:
                    pages = range(self.first_page + first, self.first_page + stop)
                    block = tif.asarray(key=pages)
                else:
                    block = tif.series[self.series].asarray(key=range(first, stop))
                block = block.reshape(stop - first, *self.shape[1:])
                return np.ascontiguousarray(block[:, key[1], key[2]])
            series = tif.series[self.series]
            import zarr

            spans = dict(zip("tyx", key))
            full = tuple(spans[k] if isinstance(k, str) else k for k in self.index)
            store = series.aszarr(level=0)
            try:
                block = np.asarray(zarr.open_array(store, mode="r")[full])
            finally:
                store.close()
        if "t" not in self.index:
            block = block[None][key[0]]
        return block.reshape(out_shape)


@dataclass(frozen=True)
class _TiffInfo:
    frames: _TiffFrames
    period: Fraction | None
    period_from: str
    pixel_size: tuple[Fraction, Fraction] | None
    pixel_size_from: str


def _frame_index(axes: str, shape: tuple[int, ...], name: str) -> tuple[tuple[str | int, ...], tuple[int, int, int]]:
    """Map the series' axes to (frames, rows, cols); refuse axes that are not a plain frame sequence."""
    index: list[str | int] = []
    frames = 1
    for axis, size in zip(axes, shape):
        if axis in "YX":
            index.append(axis.lower())
        elif size == 1:
            index.append(0)
        elif axis in _FRAME_AXES and "t" not in index and "y" not in index:
            index.append("t")
            frames = size
        else:
            kinds = {"Z": "z-planes", "C": "channels", "S": "colour samples"}.get(axis, f"{axis!r} positions")
            msg = (
                f"{name} has axes {axes!r} with shape {shape}: {size} {kinds} besides the frames. "
                f"An .isxd movie holds one sequence of grey frames; split the {kinds} first "
                f"(for planes interleaved in time, see isx_dask.sources.series.deinterleave_movie)"
            )
            raise ValueError(msg)
    if [k for k in index if isinstance(k, str) and k in "yx"] != ["y", "x"]:
        msg = f"{name} has axes {axes!r}; expected images with rows (Y) before columns (X)"
        raise ValueError(msg)
    rows, cols = shape[axes.index("Y")], shape[axes.index("X")]
    return tuple(index), (frames, rows, cols)


def _ome_pixels(ome_xml: str, series: int, name: str) -> ET.Element | None:
    try:
        root = ET.fromstring(ome_xml)
    except ET.ParseError as err:
        msg = f"{name} has OME-XML that does not parse ({err}); pass period= and pixel_size= and open it without OME metadata"
        raise IsxdFormatError(msg) from None
    images = [el for el in root if el.tag.endswith("}Image") or el.tag == "Image"]
    if series >= len(images):
        return None
    for el in images[series]:
        if el.tag.endswith("}Pixels") or el.tag == "Pixels":
            return el
    return None


def _ome_period(pixels: ET.Element, name: str) -> tuple[Fraction | None, str]:
    increment = pixels.get("TimeIncrement")
    if increment is not None:
        unit = pixels.get("TimeIncrementUnit", "s")
        return time_to_seconds(increment, unit, f"{name} OME TimeIncrement"), "OME TimeIncrement"
    times: dict[int, Fraction] = {}
    for plane in pixels:
        if not plane.tag.endswith("Plane") or plane.get("DeltaT") is None:
            continue
        if int(plane.get("TheZ", 0)) or int(plane.get("TheC", 0)):
            continue
        unit = plane.get("DeltaTUnit", "s")
        times[int(plane.get("TheT", 0))] = time_to_seconds(plane.get("DeltaT"), unit, f"{name} OME DeltaT")
    if len(times) < 2:
        return None, ""
    order = sorted(times)
    if order != list(range(order[0], order[0] + len(order))):
        return None, ""
    values = [times[t] for t in order]
    steps = sorted(b - a for a, b in zip(values, values[1:]))
    median = steps[len(steps) // 2]
    if median <= 0 or steps[-1] - steps[0] > median / 100:
        msg = (
            f"{name} has OME DeltaT steps from {float(steps[0])} s to {float(steps[-1])} s, not one frame interval; "
            f"pass period= (seconds or an isx_dask.Duration)"
        )
        raise ValueError(msg)
    return (values[-1] - values[0]) / (len(values) - 1), "OME DeltaT"


def _ome_pixel_size(pixels: ET.Element, name: str) -> tuple[Fraction, Fraction] | None:
    sizes = []
    for axis in "YX":
        value = pixels.get(f"PhysicalSize{axis}")
        if value is None:
            return None
        unit = pixels.get(f"PhysicalSize{axis}Unit", "µm")
        sizes.append(length_to_microns(value, unit, f"{name} OME PhysicalSize{axis}"))
    return sizes[0], sizes[1]


def _imagej_period(meta: dict[str, Any], name: str) -> tuple[Fraction | None, str]:
    unit = str(meta.get("tunit", "s")).replace("sec", "s")
    if meta.get("finterval"):
        return time_to_seconds(exact(meta["finterval"], f"{name} ImageJ finterval"), unit, f"{name} ImageJ tunit"), "ImageJ finterval"
    if meta.get("fps"):
        return 1 / exact(meta["fps"], f"{name} ImageJ fps"), "ImageJ fps"
    return None, ""


def _resolution_pixel_size(page: Any, imagej_unit: str | None, name: str) -> tuple[Fraction, Fraction] | None:
    tags = page.tags
    if "XResolution" not in tags or "YResolution" not in tags:
        return None
    unit_code = int(tags["ResolutionUnit"].value) if "ResolutionUnit" in tags else 2
    per_unit = []
    for tag in ("YResolution", "XResolution"):
        num, den = tags[tag].value
        if num <= 0 or den <= 0:
            return None
        per_unit.append(Fraction(den, num))  # unit lengths per pixel
    if unit_code == 1:  # no absolute unit: ImageJ says it in its description
        if imagej_unit is None or imagej_unit.strip() in ("", "pixel", "pixels"):
            return None
        unit = imagej_unit.replace("\\u00B5", "µ")
    elif unit_code == 2:
        unit = "in"
    elif unit_code == 3:
        unit = "cm"
    else:
        return None
    return (
        length_to_microns(per_unit[0], unit, f"{name} YResolution"),
        length_to_microns(per_unit[1], unit, f"{name} XResolution"),
    )


def _first_page(pages: Any, count: int) -> int | None:
    """The file's page index of frame 0 if frame i is page ``first + i`` of this file, else None."""
    try:
        indices = [page.index for page in pages]
    except AttributeError:  # a page missing from a multi-file dataset
        return None
    if len(indices) != count or not indices or indices != list(range(indices[0], indices[0] + count)):
        return None
    return int(indices[0])


def _inspect(path: str, series: int) -> _TiffInfo:
    tifffile = _tifffile()
    name = f"TIFF file {path!r}"
    if not os.path.isfile(path):
        msg = f"source {path!r} does not exist or is not a file"
        raise FileNotFoundError(msg)
    try:
        tif = tifffile.TiffFile(path)
    except (tifffile.TiffFileError, ValueError) as err:
        msg = f"{name} is not a readable TIFF file: {err}"
        raise IsxdFormatError(msg) from None
    with tif:
        if not 0 <= series < len(tif.series):
            msg = f"series={series} is out of range; {name} has {len(tif.series)} series"
            raise ValueError(msg)
        s = tif.series[series]
        index, shape = _frame_index(s.axes, tuple(s.shape), name)
        one_page = len(s.pages) == shape[0] and tuple(s.keyframe.shape) == shape[1:]
        in_this_file = len(tif.pages) >= shape[0]  # an OME dataset split over several files is not one byte run
        offset = s.dataoffset if one_page and in_this_file and s.dataoffset is not None else None
        byteorder: Literal["<", ">"] = ">" if tif.byteorder == ">" else "<"
        first_page = _first_page(s.pages, shape[0]) if one_page else None
        frames = _TiffFrames(path, series, index, shape, np.dtype(s.dtype).newbyteorder("="), one_page,
                             None if offset is None else int(offset), byteorder, first_page)
        period: Fraction | None = None
        period_from = pixel_from = ""
        pixel_size = None
        pixels = _ome_pixels(tif.ome_metadata, series, name) if tif.is_ome and tif.ome_metadata else None
        if pixels is not None:
            period, period_from = _ome_period(pixels, name)
            pixel_size = _ome_pixel_size(pixels, name)
            pixel_from = "OME PhysicalSizeX/Y" if pixel_size else ""
        imagej = tif.imagej_metadata if tif.is_imagej else None
        if period is None and imagej:
            period, period_from = _imagej_period(imagej, name)
        if pixel_size is None:
            unit = str(imagej["unit"]) if imagej and "unit" in imagej else None
            pixel_size = _resolution_pixel_size(s.pages[0] if s.pages else tif.pages[0], unit, name)
            pixel_from = "resolution tags" if pixel_size else ""
    return _TiffInfo(frames, period, period_from, pixel_size, pixel_from)


def _agree(values: list[tuple[Any, str, str]], what: str, keyword: str, missing: str, unit: str) -> Any:
    """The one value several files state; ValueError naming the files where they differ, or where none states it.

    ``missing`` says which tags were looked for, ``unit`` how to pass ``keyword``.
    """
    stated = [(v, src, path) for v, src, path in values if v is not None]
    if not stated:
        msg = f"{values[0][2]!r} does not state its {what} ({missing}); pass {keyword}= {unit}"
        raise ValueError(msg)
    first = stated[0]
    for other in stated[1:]:
        if other[0] != first[0]:
            msg = (
                f"the files disagree on the {what}: {first[2]!r} has {first[0]} ({first[1]}), "
                f"{other[2]!r} has {other[0]} ({other[1]}); pass {keyword}= to choose"
            )
            raise ValueError(msg)
    return first[0]


def read_tiff(
    source: PathLike | Sequence[PathLike],
    *,
    period: Any = None,
    pixel_size: Any = None,
    start: Time | None = None,
    series: int = 0,
) -> Recording:
    """Read one TIFF stack, or several files in order, lazily as a :class:`~isx_dask.sources._recording.Recording`.

    See :func:`tiff_to_isxd` for the parameters. Only metadata is read here.
    """
    import dask.array as da

    paths = [os.fspath(source)] if isinstance(source, (str, os.PathLike)) else [os.fspath(p) for p in source]
    if not paths:
        msg = "source must be a TIFF path or a non-empty sequence of paths, got an empty sequence"
        raise ValueError(msg)
    if isinstance(series, bool) or not isinstance(series, int):
        msg = f"series must be an int (the index of a tifffile series), got {series!r}"
        raise TypeError(msg)
    user_period = None if period is None else as_duration(period)
    user_pixel_size = None if pixel_size is None else as_pixel_size(pixel_size)
    infos = [_inspect(p, series) for p in paths]
    first = infos[0].frames
    for info in infos[1:]:
        f = info.frames
        if f.shape[1:] != first.shape[1:] or f.dtype != first.dtype:
            msg = (
                f"TIFF files of one source must have the same frame shape and dtype: {first.path!r} has "
                f"{first.shape[1:]} {first.dtype}, {f.path!r} has {f.shape[1:]} {f.dtype}"
            )
            raise ValueError(msg)

    if user_period is None:
        file_period = _agree(
            [(i.period, i.period_from, i.frames.path) for i in infos], "frame interval", "period",
            "no OME TimeIncrement or DeltaT, no ImageJ finterval", "(seconds, a fractions.Fraction, or an isx_dask.Duration)",
        )
        if file_period <= 0:
            msg = f"{paths[0]!r} states a frame interval of {file_period} s; pass period= (> 0 seconds)"
            raise ValueError(msg)
        user_period = Duration(file_period.numerator, file_period.denominator)
    if user_pixel_size is None:
        user_pixel_size = _agree(
            [(i.pixel_size, i.pixel_size_from, i.frames.path) for i in infos], "pixel size", "pixel_size",
            "no OME PhysicalSizeX/Y, no resolution tags with a unit", "in microns (one number, or a (height, width) pair)",
        )

    parts = []
    recording = ArrayLayout.contiguous(0, (sum(i.frames.shape[0] for i in infos), *infos[0].frames.shape[1:]), infos[0].frames.dtype)
    first_frame = 0
    for info in infos:
        f = dataclasses.replace(info.frames, recording=recording, first_frame=first_frame)
        first_frame += f.shape[0]
        step = frames_per_chunk(f.shape, f.dtype)
        parts.append(
            da.from_array(  # type: ignore[no-untyped-call]
                f, chunks=(step, f.shape[1], f.shape[2]), asarray=True, fancy=False,
                meta=np.empty((0, 0, 0), dtype=f.dtype), name=f"tiff-{f.path}-{f.series}-{f.shape}-{os.stat(f.path).st_mtime_ns}",
            )
        )
    frames = parts[0] if len(parts) == 1 else da.concatenate(parts, axis=0)  # type: ignore[no-untyped-call]
    num_samples = int(frames.shape[0])
    extra = {"source": {"format": "TIFF", "files": [os.path.basename(p) for p in paths],
                        "period_from": infos[0].period_from if period is None else "period argument",
                        "pixel_size_from": infos[0].pixel_size_from if pixel_size is None else "pixel_size argument"}}
    return Recording(
        frames=frames,
        timing=make_timing(num_samples, user_period, start),
        spacing=Spacing(num_pixels=first.shape[1:], pixel_size=user_pixel_size),
        extra_properties=extra,
        name=paths[0],
    )


@overload
def tiff_to_isxd(
    source: PathLike | Sequence[PathLike], path: PathLike, *, compute: Literal[False], **options: Unpack[_TiffOptions],
) -> Delayed: ...
@overload
def tiff_to_isxd(
    source: PathLike | Sequence[PathLike], path: PathLike, *, compute: Literal[True] = ..., **options: Unpack[_TiffOptions],
) -> None: ...


@fill_doc
def tiff_to_isxd(
    source: PathLike | Sequence[PathLike],
    path: PathLike,
    *,
    period: Any = None,
    pixel_size: Any = None,
    start: Time | None = None,
    series: int = 0,
    dtype: Any = None,
    casting: str = DEFAULT_CASTING,
    extra_properties: Any = None,
    metadata_from: PathLike | None = None,
    overwrite: bool = False,
    compute: bool = True,
    fsync: bool = True,
    resume: bool = False,
    reserve: Reserve = "auto",
    write_method: WriteMethod = "auto",
    compute_kwargs: dict[str, Any] | None = None,
) -> Delayed | None:
    """Convert a TIFF stack (or several TIFF files, in order) to an ``.isxd`` movie, out of core.

    Parameters
    ----------
    source : str, os.PathLike or sequence of them
        A TIFF, OME-TIFF or ImageJ hyperstack file, or several files whose
        frames follow each other (same frame shape, dtype and metadata).
    path : str or os.PathLike
        Output ``.isxd`` file.
    period : float, fractions.Fraction or Duration, optional
        Time between frames, in seconds. Required when the file does not state
        it (OME ``TimeIncrement`` or plane ``DeltaT``, ImageJ ``finterval``);
        given, it replaces the file's value.
    pixel_size : number or (number, number), optional
        Pixel (height, width) in microns. Required when the file states neither
        OME ``PhysicalSizeX/Y`` nor resolution tags with a unit; given, it
        replaces the file's value.
    start : Time, optional
        Time of the first frame; the epoch if not given (TIFF stacks carry no
        reliable start time).
    series : int, default 0
        Which ``tifffile`` series of the file to convert.
    dtype : {numpy.uint16, numpy.float32, numpy.uint8}, optional
        Store as this type; needed when the TIFF's own type cannot be stored.
    casting : str, default 'same_value'
        As in :func:`isx_dask.write_movie`: by default a conversion to
        ``dtype`` happens only if every value survives.
    extra_properties : JSON-serialisable, optional
        The footer's ``extraProperties``; defaults to those of ``metadata_from``,
        else to where the metadata came from.
    metadata_from : str or os.PathLike, optional
        An ``.isxd`` movie (for example the one the TIFF was exported from)
        whose period, pixel size and start are used where the arguments above
        are not given, in preference to the TIFF's own, and whose dropped,
        cropped and blank frames the output keeps: the TIFF holds either all
        of its samples or only its valid ones.
    {options}

    Returns
    -------
    None or dask.delayed.Delayed
        ``None`` if ``compute`` is True.

    Raises
    ------
    ImportError
        ``tifffile`` is not installed (``pip install "isx_dask[tiff]"``).
    FileNotFoundError
        A source file does not exist.
    ValueError
        No frame interval or pixel size in the file and none given; axes other
        than frames of grey images (z-planes, channels, colour); files that
        disagree; and everything :func:`isx_dask.write_movie` refuses.
    TypeError
        A pixel type an ``.isxd`` movie cannot store, without ``dtype=``.
    IsxdFormatError
        A file that is not a readable TIFF, or a ``metadata_from`` that is not
        a committed ``.isxd`` file.

    See Also
    --------
    isx_dask.write_movie : the writer every conversion goes through.

    Examples
    --------
    >>> tiff_to_isxd("stack.ome.tif", "movie.isxd")  # doctest: +SKIP
    >>> tiff_to_isxd(["part1.tif", "part2.tif"], "movie.isxd", period=Fraction(1, 20), pixel_size=2.5)  # doctest: +SKIP
    """
    origin = read_metadata_from(metadata_from)
    if origin is not None:
        period = origin.timing.period if period is None else period
        pixel_size = origin.spacing.pixel_size if pixel_size is None else pixel_size
        start = origin.timing.start if start is None else start
    recording = read_tiff(source, period=period, pixel_size=pixel_size, start=start, series=series)
    recording = apply_metadata_from(recording, origin, extra_properties)
    return write_recording(
        recording, path, dtype=dtype, casting=casting, overwrite=overwrite, compute=compute, fsync=fsync,
        resume=resume, reserve=reserve, write_method=write_method, compute_kwargs=compute_kwargs,
    )
