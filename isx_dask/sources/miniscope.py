"""UCLA Miniscope (V4 acquisition software) recording folders to ``.isxd`` movies.

A device folder holds ``0.avi, 1.avi, ...`` (FFV1 or raw grey video),
``timeStamps.csv`` (``Frame Number,Time Stamp (ms),Buffer Index``: one row per
saved frame, the time counted from the recording start) and ``metaData.json``
(the device settings). The recording's start time is the ``recordingStartTime``
object (``year``, ``month``, ``day``, ``hour``, ``minute``, ``second``,
``msec``, ``msecSinceEpoch``) of the ``metaData.json`` in the folder or in its
parent (the recording folder); older software wrote those keys at the top level.

Frames are decoded with PyAV (FFmpeg bundled) inside Dask tasks, a run of
frames of one AVI file per task, and stay uint8. The period is the exact median
step of the time stamps; a step longer than 1.5 periods leaves the slots in
between as dropped frames, and every saved frame keeps its own slot.
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
import os
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np

from ..layout import IsxdFormatError
from ..metadata import Duration, Spacing, Time
from ..writers._options import fill_doc
from ._recording import (
    Reserve,
    WriteMethod,
    PathLike,
    Recording,
    as_duration,
    as_pixel_size,
    exact,
    frames_per_chunk,
    import_optional,
    make_timing,
    place_frames,
    write_recording,
)

if TYPE_CHECKING:
    from dask.delayed import Delayed
    from typing_extensions import Unpack

    from ..writers._options import StoreOptions

    class _MiniscopeOptions(StoreOptions, total=False):
        period: Any
        start: Time | None
        utc_offset: int | None
        extra_properties: Any

__all__ = ["miniscope_to_isxd", "read_miniscope"]

_TIME_COLUMN = "Time Stamp (ms)"
_RGB_FORMATS = frozenset({"rgb24", "bgr24", "rgb0", "bgr0", "0rgb", "0bgr", "rgba", "bgra", "argb", "abgr", "gbrp"})
_GREY_FORMATS = frozenset({"gray", "gray8"})


def _av() -> Any:
    return import_optional("av", "miniscope", "Reading Miniscope AVI files")


def natural_key(name: str) -> tuple[Any, ...]:
    """Sort key that puts ``2.avi`` before ``10.avi``."""
    return tuple(int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name))


def _grey(frame: Any, where: str) -> np.ndarray[Any, Any]:
    """One decoded frame as a uint8 grey image, exactly; colour only if its three channels are equal."""
    fmt = frame.format.name
    if fmt in _GREY_FORMATS:
        return np.asarray(frame.to_ndarray(), dtype=np.uint8)
    if fmt in _RGB_FORMATS:
        rgb = frame.to_ndarray(format="rgb24")
        if not (np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 0], rgb[..., 2])):
            msg = f"{where} is a colour frame ({fmt}) whose channels differ; an .isxd movie holds grey frames, and this one cannot be made grey without changing values"
            raise ValueError(msg)
        return np.ascontiguousarray(rgb[..., 0])
    msg = f"{where} has pixel format {fmt!r}; only grey (gray) and RGB frames with equal channels can be read exactly"
    raise ValueError(msg)


class _SeekMissed(Exception):
    pass


def _decode_run(path: str, first: int, stop: int, rows: int, cols: int) -> np.ndarray[Any, Any]:
    """Frames ``first:stop`` of one AVI file, decoded in this task."""
    av = _av()
    out = np.empty((stop - first, rows, cols), dtype=np.uint8)
    try:
        try:
            n = _decode_into(av, path, first, out, seek=first > 0)
        except _SeekMissed:
            n = _decode_into(av, path, first, out, seek=False)
    except av.error.FFmpegError as err:
        msg = f"AVI file {path!r} cannot be decoded at frames {first}:{stop}: {err}"
        raise IsxdFormatError(msg) from None
    if n != len(out):
        msg = f"AVI file {path!r} ended after {first + n} frames; frames {first}:{stop} were expected"
        raise IsxdFormatError(msg)
    return out


def _decode_into(av: Any, path: str, first: int, out: np.ndarray[Any, Any], *, seek: bool) -> int:
    with av.open(path) as container:
        stream = container.streams.video[0]
        origin = stream.start_time or 0
        if seek:
            container.seek(first + origin, stream=stream, backward=True, any_frame=False)
        position = None  # index of the next decoded frame, known once a frame is seen
        n = 0
        for count, frame in enumerate(container.decode(stream)):
            if seek:
                if frame.pts is None:
                    raise _SeekMissed
                index = frame.pts - origin
                if position is not None and index != position:
                    raise _SeekMissed
                if position is None and index > first:
                    raise _SeekMissed
                position = index + 1
            else:
                index = count
            if index < first:
                continue
            if frame.width != out.shape[2] or frame.height != out.shape[1]:
                msg = f"frame {index} of {path!r} is {frame.height}x{frame.width}; the recording's frames are {out.shape[1]}x{out.shape[2]}"
                raise IsxdFormatError(msg)
            out[n] = _grey(frame, f"frame {index} of {path!r}")
            n += 1
            if n == len(out):
                break
        return n


def _count_frames(av: Any, path: str, *, header: bool = True) -> tuple[int, int, int]:
    """``(frames, rows, cols)`` of one AVI file: the header's count, or (``header=False`` or none) its packets counted."""
    try:
        container = av.open(path)
    except av.error.FFmpegError as err:
        msg = f"AVI file {path!r} cannot be opened: {err}"
        raise IsxdFormatError(msg) from None
    with container:
        if not container.streams.video:
            msg = f"AVI file {path!r} has no video stream"
            raise IsxdFormatError(msg)
        stream = container.streams.video[0]
        rows, cols = stream.codec_context.height, stream.codec_context.width
        frames = int(stream.frames or 0) if header else 0
        if frames <= 0:
            try:
                frames = sum(1 for packet in container.demux(stream) if packet.size)
            except av.error.FFmpegError as err:
                msg = f"AVI file {path!r} cannot be read: {err}"
                raise IsxdFormatError(msg) from None
    return frames, rows, cols


def _read_time_stamps(path: str) -> list[Fraction]:
    if not os.path.isfile(path):
        msg = f"folder has no timeStamps.csv ({path!r}); the frame times come from it"
        raise FileNotFoundError(msg)
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = [h.strip() for h in next(reader, [])]
        if _TIME_COLUMN not in header:
            msg = f"{path!r} has columns {header}; expected a {_TIME_COLUMN!r} column (Miniscope V4 timeStamps.csv)"
            raise IsxdFormatError(msg)
        col = header.index(_TIME_COLUMN)
        times = []
        for line, row in enumerate(reader, start=2):
            if not row or not "".join(row).strip():
                continue
            try:
                times.append(exact(row[col], f"{path!r} line {line}"))
            except (ValueError, IndexError):
                msg = f"{path!r} line {line} has no number in column {_TIME_COLUMN!r}: {row!r}"
                raise IsxdFormatError(msg) from None
    return times


def _median_step(times: list[Fraction]) -> Fraction:
    steps = sorted(b - a for a, b in zip(times, times[1:]))
    mid = len(steps) // 2
    return steps[mid] if len(steps) % 2 else (steps[mid - 1] + steps[mid]) / 2


def _slots(times: list[Fraction], period_ms: Fraction, where: str) -> list[int]:
    """The time slot of each saved frame: a step over 1.5 periods skips the slots of the frames dropped in it."""
    slots = [0]
    for k, (a, b) in enumerate(zip(times, times[1:]), start=1):
        step = b - a
        if step <= 0:
            msg = f"{where}: the time stamp of frame {k} ({b} ms) is not after that of frame {k - 1} ({a} ms)"
            raise IsxdFormatError(msg)
        slots.append(slots[-1] + (1 if step <= period_ms * 3 / 2 else max(2, round(step / period_ms))))
    return slots


def _load_json(path: str) -> dict[str, Any] | None:
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            value = json.load(fh)
    except (OSError, ValueError) as err:
        msg = f"{path!r} is not valid JSON: {err}"
        raise IsxdFormatError(msg) from None
    return value if isinstance(value, dict) else None


def _wall_clock(fields: dict[str, Any]) -> _dt.datetime:
    return _dt.datetime(
        int(fields["year"]), int(fields["month"]), int(fields["day"]), int(fields["hour"]),
        int(fields["minute"]), int(fields["second"]), int(fields["msec"]) * 1000,
    )


def _start_of(meta: dict[str, Any], where: str, utc_offset: int | None) -> Time | None:
    """The recording start from a metaData.json object, or None if it has none."""
    fields = meta.get("recordingStartTime", meta)
    if not isinstance(fields, dict):
        return None
    keys = ("year", "month", "day", "hour", "minute", "second", "msec")
    has_wall = all(k in fields for k in keys)
    if "msecSinceEpoch" in fields:
        epoch_ms = exact(fields["msecSinceEpoch"], f"{where} msecSinceEpoch")
        if utc_offset is None and has_wall:
            try:
                wall = _wall_clock(fields)
            except (TypeError, ValueError) as err:
                msg = f"{where} recordingStartTime has an invalid date or time: {err}"
                raise IsxdFormatError(msg) from None
            utc = _dt.datetime(1970, 1, 1) + _dt.timedelta(milliseconds=int(epoch_ms))
            utc_offset = round((wall - utc).total_seconds())
        return Time(Duration(epoch_ms.numerator, epoch_ms.denominator * 1000), utc_offset or 0)
    if has_wall:
        if utc_offset is None:
            msg = (
                f"{where} gives the recording start as local wall-clock time without msecSinceEpoch, so its time zone "
                f"is unknown; pass utc_offset= (seconds east of UTC) or start="
            )
            raise ValueError(msg)
        try:
            wall = _wall_clock(fields)
        except (TypeError, ValueError) as err:
            msg = f"{where} recordingStartTime has an invalid date or time: {err}"
            raise IsxdFormatError(msg) from None
        return Time.from_datetime(wall.replace(tzinfo=_dt.timezone(_dt.timedelta(seconds=utc_offset))))
    return None


@dataclass(frozen=True)
class _Avi:
    path: str
    frames: int


def read_miniscope(
    folder: PathLike,
    *,
    pixel_size: Any,
    period: Any = None,
    start: Time | None = None,
    utc_offset: int | None = None,
) -> Recording:
    """Read a Miniscope device folder lazily as a Recording; see :func:`miniscope_to_isxd`."""
    import dask.array as da
    from dask.delayed import delayed

    av = _av()
    if pixel_size is None:
        msg = "pixel_size is required: a Miniscope recording does not store it; pass pixel_size= in microns"
        raise ValueError(msg)
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        msg = f"folder {folder!r} does not exist or is not a directory"
        raise FileNotFoundError(msg)
    names = sorted((n for n in os.listdir(folder) if n.lower().endswith(".avi")), key=natural_key)
    if not names:
        devices = sorted(
            d for d in os.listdir(folder)
            if os.path.isfile(os.path.join(folder, d, "timeStamps.csv"))
        )
        hint = f"; its device folders are {devices}: pass one of them" if devices else ""
        msg = f"folder {folder!r} has no .avi files{hint}"
        raise FileNotFoundError(msg)
    times = _read_time_stamps(os.path.join(folder, "timeStamps.csv"))

    avis = []
    shape: tuple[int, int] | None = None
    for name in names:
        path = os.path.join(folder, name)
        count, rows, cols = _count_frames(av, path)
        if shape is not None and (rows, cols) != shape:
            msg = f"{path!r} has {rows}x{cols} frames; {names[0]!r} has {shape[0]}x{shape[1]}"
            raise IsxdFormatError(msg)
        shape = (rows, cols)
        avis.append(_Avi(path, count))
    rows, cols = shape if shape is not None else (0, 0)
    num_saved = sum(a.frames for a in avis)
    if num_saved != len(times):  # a header may be wrong: count the packets themselves
        avis = [_Avi(a.path, _count_frames(av, a.path, header=False)[0]) for a in avis]
        num_saved = sum(a.frames for a in avis)
    if num_saved != len(times):
        msg = f"folder {folder!r}: the AVI files hold {num_saved} frames but timeStamps.csv lists {len(times)}; they must match"
        raise IsxdFormatError(msg)
    # Refuse an unreadable pixel format (or a colour first frame) before anything is written.
    _decode_run(avis[0].path, 0, 1, rows, cols)

    if period is not None:
        period_d = as_duration(period)
    elif len(times) >= 2:
        step = _median_step(times) / 1000
        if step <= 0:
            msg = f"folder {folder!r}: the median time stamp step is {step * 1000} ms; pass period="
            raise IsxdFormatError(msg)
        period_d = Duration(step.numerator, step.denominator)
    else:
        msg = f"folder {folder!r} has a single frame, so no frame interval; pass period="
        raise ValueError(msg)
    period_ms = period_d.to_fraction() * 1000
    slots = _slots(times, period_ms, os.path.join(folder, "timeStamps.csv"))
    num_samples = slots[-1] + 1
    saved = set(slots)
    dropped = [i for i in range(num_samples) if i not in saved]

    device = _load_json(os.path.join(folder, "metaData.json"))
    parent = _load_json(os.path.join(os.path.dirname(os.path.abspath(folder)), "metaData.json"))
    if start is None:
        for meta, where in ((device, os.path.join(folder, "metaData.json")), (parent, os.path.join(os.path.dirname(os.path.abspath(folder)), "metaData.json"))):
            if meta is not None:
                found = _start_of(meta, where, utc_offset)
                if found is not None:
                    first_ms = found.secs_since_epoch.to_fraction() + times[0] / 1000
                    start = Time(Duration(first_ms.numerator, first_ms.denominator), found.utc_offset)
                    break
        else:
            msg = (
                f"no recordingStartTime in {folder!r}/metaData.json or in its parent folder's metaData.json; "
                f"pass start= (an isx_dask.Time) for the time of the first frame"
            )
            raise ValueError(msg)

    per_task = frames_per_chunk((num_saved, rows, cols), np.uint8)
    pieces = []
    for avi in avis:
        for first in range(0, avi.frames, per_task):
            stop = min(first + per_task, avi.frames)
            task = delayed(_decode_run, pure=True)(avi.path, first, stop, rows, cols)
            pieces.append(da.from_delayed(task, shape=(stop - first, rows, cols), dtype=np.uint8))  # type: ignore[no-untyped-call]
    saved_frames = da.concatenate(pieces, axis=0) if len(pieces) > 1 else pieces[0]  # type: ignore[no-untyped-call]
    frames = place_frames(saved_frames, slots, num_samples)

    extra: dict[str, Any] = {"source": {"format": "UCLA Miniscope", "files": names, "dropped_from": "timeStamps.csv gaps > 1.5 periods"}}
    if device is not None:
        extra["miniscope"] = device
    if parent is not None:
        extra["recording"] = parent
    return Recording(
        frames=frames,
        timing=make_timing(num_samples, period_d, start, dropped),
        spacing=Spacing(num_pixels=(rows, cols), pixel_size=as_pixel_size(pixel_size)),
        extra_properties=extra,
        name=folder,
    )


@overload
def miniscope_to_isxd(
    folder: PathLike, path: PathLike, *, pixel_size: Any, compute: Literal[False], **options: Unpack[_MiniscopeOptions],
) -> Delayed: ...
@overload
def miniscope_to_isxd(
    folder: PathLike, path: PathLike, *, pixel_size: Any, compute: Literal[True] = ..., **options: Unpack[_MiniscopeOptions],
) -> None: ...


@fill_doc
def miniscope_to_isxd(
    folder: PathLike,
    path: PathLike,
    *,
    pixel_size: Any,
    period: Any = None,
    start: Time | None = None,
    utc_offset: int | None = None,
    extra_properties: Any = None,
    overwrite: bool = False,
    compute: bool = True,
    fsync: bool = True,
    resume: bool = False,
    reserve: Reserve = "auto",
    write_method: WriteMethod = "auto",
    compute_kwargs: dict[str, Any] | None = None,
) -> Delayed | None:
    """Convert a UCLA Miniscope V4 recording folder to a uint8 ``.isxd`` movie, out of core.

    Parameters
    ----------
    folder : str or os.PathLike
        The device folder (for example ``.../15_03_28/Miniscope``) with the
        ``*.avi`` files (naturally sorted: ``2.avi`` before ``10.avi``),
        ``timeStamps.csv`` and ``metaData.json``.
    path : str or os.PathLike
        Output ``.isxd`` file.
    pixel_size : number or (number, number)
        Pixel (height, width) in microns; the folder does not record it.
    period : float, fractions.Fraction or Duration, optional
        Time between frames in seconds. Defaults to the exact median step of
        ``timeStamps.csv`` (the AVI header's frame rate is not used).
    start : Time, optional
        Time of the first frame. Defaults to ``recordingStartTime`` of
        ``metaData.json`` (in the folder or its parent) plus the first time stamp.
    utc_offset : int, optional
        Seconds east of UTC of the acquisition computer. Only needed when
        ``recordingStartTime`` lacks ``msecSinceEpoch`` (the offset is otherwise
        the difference between its wall-clock fields and ``msecSinceEpoch``).
    extra_properties : JSON-serialisable, optional
        The footer's ``extraProperties``; defaults to both ``metaData.json`` files.
    {options}

    Returns
    -------
    None or dask.delayed.Delayed
        ``None`` if ``compute`` is True.

    Raises
    ------
    ImportError
        PyAV is not installed (``pip install "isx_dask[miniscope]"``).
    FileNotFoundError
        No such folder, no ``*.avi`` files or no ``timeStamps.csv``.
    IsxdFormatError
        Frame counts of the AVI files and ``timeStamps.csv`` differ, time stamps
        that do not increase, frames of different sizes, unreadable files.
    ValueError
        Colour frames whose channels differ, a pixel format other than grey or
        RGB, no start time to be found and none given, and everything
        :func:`isx_dask.write_movie` refuses.

    See Also
    --------
    isx_dask.write_movie : the writer every conversion goes through.

    Examples
    --------
    >>> miniscope_to_isxd("2024_05_01/15_03_28/Miniscope", "session.isxd", pixel_size=1.0)  # doctest: +SKIP
    """
    recording = read_miniscope(folder, pixel_size=pixel_size, period=period, start=start, utc_offset=utc_offset)
    if extra_properties is not None:
        recording = Recording(recording.frames, recording.timing, recording.spacing, extra_properties, recording.name)
    return write_recording(
        recording, path, dtype=None, casting="no", overwrite=overwrite, compute=compute, fsync=fsync,
        resume=resume, reserve=reserve, write_method=write_method, compute_kwargs=compute_kwargs,
    )
