"""Series of recordings written as one movie (or one file each), and multiplane movies split by plane.

A source here is an ``.isxd`` movie, a TIFF file, a CaImAn ``.mmap``, a UCLA
Miniscope folder (told apart by the suffix, or a directory), or a
:class:`~isx_dask.sources._recording.Recording` read with one of the
``read_*`` functions of the source modules for options they need.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Literal, Sequence, overload

from ..convert import check_source_target
from ..metadata import Duration, Time, Timing
from ..writers._options import fill_doc
from ._recording import DEFAULT_CASTING, PathLike, Recording, Reserve, WriteMethod, as_duration, write_recording

if TYPE_CHECKING:
    from dask.delayed import Delayed
    from typing_extensions import Unpack

    from ..writers._options import StoreOptions

    class _SeriesOptions(StoreOptions, total=False):
        split: bool
        period: Any
        pixel_size: Any
        dtype: Any
        casting: str

    class _PlaneOptions(StoreOptions, total=False):
        period: Any
        pixel_size: Any

__all__ = ["deinterleave_movie", "read_source", "series_to_isxd"]

Source = PathLike | Recording


def read_source(source: Source, *, period: Any = None, pixel_size: Any = None, start: Time | None = None) -> Recording:
    """A Recording of one source: an ``.isxd`` movie, TIFF, CaImAn ``.mmap`` or Miniscope folder.

    ``period``, ``pixel_size`` and ``start``, where given, replace what the
    source states (and supply what it lacks).
    """
    if isinstance(source, Recording):
        return _override(source, period, pixel_size, start)
    if not isinstance(source, (str, os.PathLike)):
        msg = f"each source must be a path or a Recording, got {type(source).__name__}"
        raise TypeError(msg)
    path = os.fspath(source)
    lower = path.lower()
    if os.path.isdir(path):
        from .miniscope import read_miniscope

        return read_miniscope(path, pixel_size=pixel_size, period=period, start=start)
    if lower.endswith((".tif", ".tiff")):
        from .tiff import read_tiff

        return read_tiff(path, period=period, pixel_size=pixel_size, start=start)
    if lower.endswith(".mmap"):
        from .caiman_mmap import read_caiman_mmap

        return read_caiman_mmap(path, period=period, pixel_size=pixel_size, start=start)
    if lower.endswith(".isxd"):
        from ..readers import MovieFile, open_isxd

        movie = open_isxd(path)
        if not isinstance(movie, MovieFile):
            msg = f"source {path!r} is an .isxd {type(movie).__name__}, not a movie"
            raise ValueError(msg)
        recording = Recording(movie.frames, movie.timing, movie.spacing, movie.extra_properties, path)
        return _override(recording, period, pixel_size, start)
    msg = (
        f"source {path!r} is not a known recording: expected an .isxd, .tif/.tiff or CaImAn .mmap file, "
        f"or a Miniscope folder (or a Recording from a read_* function)"
    )
    raise ValueError(msg)


def _override(recording: Recording, period: Any, pixel_size: Any, start: Time | None) -> Recording:
    timing, spacing = recording.timing, recording.spacing
    if period is not None or start is not None:
        t = timing
        timing = Timing(t.num_samples, as_duration(period) if period is not None else t.period,
                        start if start is not None else t.start, t.dropped, t.cropped, t.blank)
    if pixel_size is not None:
        from ..metadata import Spacing

        spacing = Spacing(num_pixels=spacing.num_pixels, pixel_size=pixel_size, top_left=spacing.top_left)
    return Recording(recording.frames, timing, spacing, recording.extra_properties, recording.name)


def _concatenate(recordings: Sequence[Recording]) -> Recording:
    import dask.array as da

    first = recordings[0]
    dropped: list[int] = []
    cropped: list[tuple[int, int]] = []
    blank: list[int] = []
    offset = 0
    members = []
    for i, rec in enumerate(recordings):
        checks = (
            ("frame shape (rows, cols)", rec.spacing.num_pixels, first.spacing.num_pixels),
            ("pixel size", rec.spacing.pixel_size, first.spacing.pixel_size),
            ("period", rec.timing.period, first.timing.period),
            ("dtype", rec.frames.dtype, first.frames.dtype),
        )
        for what, got, want in checks:
            if got != want:
                msg = (
                    f"sources[{i}] ({rec.name!r}) has {what} {got}, sources[0] ({first.name!r}) has {want}; "
                    f"a series written as one movie needs the same {what} (or split=True for one file each)"
                )
                raise ValueError(msg)
        t = rec.timing
        dropped += [offset + d for d in t.dropped]
        cropped += [(offset + a, offset + b) for a, b in t.cropped]
        blank += [offset + b for b in t.blank]
        members.append({"source": os.path.basename(rec.name), "start": t.start.to_dict(), "numTimes": t.num_samples,
                        "extraProperties": rec.extra_properties})
        offset += t.num_samples
    frames = da.concatenate([r.frames for r in recordings], axis=0)  # type: ignore[no-untyped-call]
    timing = Timing(offset, first.timing.period, first.timing.start, tuple(dropped), tuple(cropped), tuple(blank))
    return Recording(frames, timing, first.spacing, {"series": members}, first.name)


def _all_written(*_: Any) -> None:
    return None


def _write_each(
    recordings: Sequence[Recording], paths: Sequence[PathLike], *, dtype: Any, casting: str, overwrite: bool,
    compute: bool, fsync: bool, resume: bool, reserve: Reserve,
    write_method: WriteMethod, compute_kwargs: dict[str, Any] | None,
) -> Delayed | None:
    """Write several recordings as one graph (each file still commits on its own)."""
    from dask.delayed import delayed

    writes = [
        write_recording(r, p, dtype=dtype, casting=casting, overwrite=overwrite, compute=False, fsync=fsync,
                        resume=resume, reserve=reserve, write_method=write_method, compute_kwargs=None)
        for r, p in zip(recordings, paths)
    ]
    done: Delayed = delayed(_all_written)(*writes)
    if not compute:
        return done
    done.compute(**(compute_kwargs or {}))  # type: ignore[no-untyped-call]
    return None


def _check_paths(paths: Any, count: int, name: str, what: str) -> list[PathLike]:
    if isinstance(paths, (str, os.PathLike)) or not isinstance(paths, Sequence):
        msg = f"{name} must be a sequence of {count} output paths ({what}), got {paths!r}"
        raise TypeError(msg)
    if len(paths) != count:
        msg = f"{name} must hold {count} output paths ({what}), got {len(paths)}"
        raise ValueError(msg)
    if len({os.path.abspath(os.fspath(p)) for p in paths}) != len(paths):
        msg = f"{name} must be {count} different paths, got {list(paths)!r}"
        raise ValueError(msg)
    return list(paths)


@overload
def series_to_isxd(
    sources: Sequence[Source], path: PathLike | Sequence[PathLike], *, compute: Literal[False], **options: Unpack[_SeriesOptions],
) -> Delayed: ...
@overload
def series_to_isxd(
    sources: Sequence[Source], path: PathLike | Sequence[PathLike], *, compute: Literal[True] = ..., **options: Unpack[_SeriesOptions],
) -> None: ...


@fill_doc
def series_to_isxd(
    sources: Sequence[Source],
    path: PathLike | Sequence[PathLike],
    *,
    split: bool = False,
    period: Any = None,
    pixel_size: Any = None,
    dtype: Any = None,
    casting: str = DEFAULT_CASTING,
    overwrite: bool = False,
    compute: bool = True,
    fsync: bool = True,
    resume: bool = False,
    reserve: Reserve = "auto",
    write_method: WriteMethod = "auto",
    compute_kwargs: dict[str, Any] | None = None,
) -> Delayed | None:
    """Write a series of recordings as one ``.isxd`` movie, or with ``split=True`` one movie per source.

    Parameters
    ----------
    sources : sequence of str, os.PathLike or Recording
        The recordings in order (see :func:`read_source`).
    path : str, os.PathLike or sequence of them
        One output file; with ``split=True``, one output file per source.
    split : bool, default False
        False: the frames of all sources follow each other in one movie, whose
        start is the first source's; each source's own start, length and extra
        properties are kept in the footer's ``extraProperties["series"]``; the
        time between sources is not represented (the frames are consecutive).
        All sources must share frame shape, pixel size, period and dtype.
        True: each source is written to its own file with its own start time.
    period, pixel_size
        Passed to every source that needs or overrides them (seconds; microns).
    dtype : {numpy.uint16, numpy.float32, numpy.uint8}, optional
        Store as this type (as in :func:`isx_dask.write_movie`).
    casting : str, default 'same_value'
        As in :func:`isx_dask.write_movie`.
    {options}

    Returns
    -------
    None or dask.delayed.Delayed
        ``None`` if ``compute`` is True; with ``split=True``, one Delayed that
        writes every file (each commits on its own).

    Raises
    ------
    ValueError
        No sources; sources that differ in frame shape, pixel size, period or
        dtype (without ``split``); a wrong number of paths; and every error of
        the source readers and :func:`isx_dask.write_movie`.
    TypeError
        ``path`` is not a sequence of paths with ``split=True``.

    Examples
    --------
    >>> series_to_isxd(["day1.isxd", "day2.isxd"], "both.isxd")  # doctest: +SKIP
    >>> series_to_isxd(["a.tif", "b.tif"], ["a.isxd", "b.isxd"], split=True, period=0.05, pixel_size=2)  # doctest: +SKIP
    """
    if isinstance(sources, (str, os.PathLike)) or not isinstance(sources, Sequence) or not sources:
        msg = f"sources must be a non-empty sequence of recordings, got {sources!r}"
        raise ValueError(msg)
    outputs = [path] if isinstance(path, (str, os.PathLike)) else list(path) if isinstance(path, Sequence) else []
    for k, source in enumerate(sources):
        if isinstance(source, (str, os.PathLike)):
            for target in outputs:
                check_source_target(source, target, source_arg=f"sources[{k}]", target_arg="path")
    recordings = [read_source(s, period=period, pixel_size=pixel_size) for s in sources]
    options: dict[str, Any] = {
        "dtype": dtype, "casting": casting, "overwrite": overwrite, "compute": compute, "fsync": fsync,
        "resume": resume, "reserve": reserve, "write_method": write_method, "compute_kwargs": compute_kwargs,
    }
    if split:
        paths = _check_paths(path, len(recordings), "path", "one per source, as split=True")
        return _write_each(recordings, paths, **options)
    if not isinstance(path, (str, os.PathLike)):
        msg = f"path must be one output path (or pass split=True for one file per source), got {path!r}"
        raise TypeError(msg)
    return write_recording(_concatenate(recordings), path, **options)


def _plane_indices(indices: Sequence[int], plane: int, num_planes: int) -> list[int]:
    return [i // num_planes for i in indices if i % num_planes == plane]


def _plane_timing(timing: Timing, plane: int, num_planes: int) -> Timing:
    """Timing of plane ``plane``: every ``num_planes``-th sample from ``plane`` on."""
    n = len(range(plane, timing.num_samples, num_planes))
    period = timing.period.to_fraction()
    start = timing.start.secs_since_epoch.to_fraction() + plane * period
    cropped_samples = [i for a, b in timing.cropped for i in range(a, b + 1)]
    plane_cropped = _plane_indices(cropped_samples, plane, num_planes)
    step = period * num_planes
    return Timing(
        num_samples=n,
        period=Duration(step.numerator, step.denominator),
        start=Time(Duration(start.numerator, start.denominator), timing.start.utc_offset),
        dropped=tuple(_plane_indices(timing.dropped, plane, num_planes)),
        cropped=tuple((i, i) for i in plane_cropped),
        blank=tuple(_plane_indices(timing.blank, plane, num_planes)),
    )


@overload
def deinterleave_movie(
    source: Source, paths: Sequence[PathLike], *, num_planes: int, compute: Literal[False], **options: Unpack[_PlaneOptions],
) -> Delayed: ...
@overload
def deinterleave_movie(
    source: Source, paths: Sequence[PathLike], *, num_planes: int, compute: Literal[True] = ..., **options: Unpack[_PlaneOptions],
) -> None: ...


@fill_doc
def deinterleave_movie(
    source: Source,
    paths: Sequence[PathLike],
    *,
    num_planes: int,
    period: Any = None,
    pixel_size: Any = None,
    overwrite: bool = False,
    compute: bool = True,
    fsync: bool = True,
    resume: bool = False,
    reserve: Reserve = "auto",
    write_method: WriteMethod = "auto",
    compute_kwargs: dict[str, Any] | None = None,
) -> Delayed | None:
    """Split a movie whose frames cycle through ``num_planes`` planes (or colours) into one movie per plane.

    Plane ``p`` gets frames ``p, p + n, p + 2n, ...`` (``n = num_planes``), a
    period of ``n`` times the source's and a start ``p`` periods after the
    source's. Dropped, cropped and blank frames go to the plane they belong
    to, at their index there. When the number of frames is not a multiple of
    ``n``, the first planes have one frame more.

    Parameters
    ----------
    source : str, os.PathLike or Recording
        The interleaved movie (see :func:`read_source`), usually an ``.isxd`` file.
    paths : sequence of str or os.PathLike
        ``num_planes`` output files, plane 0 first.
    num_planes : int
        Number of planes (>= 2).
    period, pixel_size
        Of the source, where it does not state them (seconds; microns).
    {options}

    Returns
    -------
    None or dask.delayed.Delayed
        ``None`` if ``compute`` is True; else one Delayed that writes every
        plane (each file commits on its own).

    Raises
    ------
    ValueError
        ``num_planes`` < 2 or more planes than frames, a wrong number of
        ``paths``, and every error of the source reader and the writer.
    TypeError
        ``num_planes`` is not an int, or ``paths`` is not a sequence.

    Examples
    --------
    >>> deinterleave_movie("two_colour.isxd", ["green.isxd", "red.isxd"], num_planes=2)  # doctest: +SKIP
    """
    if isinstance(num_planes, bool) or not isinstance(num_planes, int):
        msg = f"num_planes must be an int, got {num_planes!r}"
        raise TypeError(msg)
    if num_planes < 2:
        msg = f"num_planes must be >= 2, got {num_planes}"
        raise ValueError(msg)
    out = _check_paths(paths, num_planes, "paths", "one per plane")
    recording = read_source(source, period=period, pixel_size=pixel_size)
    if num_planes > recording.timing.num_samples:
        msg = f"num_planes={num_planes} is more than the {recording.timing.num_samples} frames of {recording.name!r}"
        raise ValueError(msg)
    planes = [
        Recording(recording.frames[p::num_planes], _plane_timing(recording.timing, p, num_planes), recording.spacing,
                  recording.extra_properties, f"{recording.name} plane {p}")
        for p in range(num_planes)
    ]
    return _write_each(
        planes, out, dtype=None, casting="no", overwrite=overwrite, compute=compute, fsync=fsync, resume=resume,
        reserve=reserve, write_method=write_method, compute_kwargs=compute_kwargs,
    )

