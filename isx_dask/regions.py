"""Write one movie from many independent jobs: a template file, regions of frames, one commit.

The pattern of xarray's ``to_zarr(region=...)``: one call creates the file's
template (its footer and byte layout, kept on disk beside a preallocated
temporary file), any number of processes, jobs or hosts then fill disjoint
ranges of frames, and one last call commits the file once every frame is
there::

    create_movie("out.isxd", timing=timing, spacing=spacing, dtype=numpy.uint16)
    # in job k, for its frames [start, start + n):
    write_movie_region(frames_k, "out.isxd", start_frame=start)
    # once all jobs are done:
    commit_movie("out.isxd")

Everything is on disk, next to the output: ``.out.isxd.partial`` (the data
section) and ``.out.isxd.partial.d/`` (``state.json`` and one marker per
finished region, made only after the region's bytes are flushed). Nothing
appears at ``out.isxd`` before :func:`commit_movie`, which refuses to commit
while a frame is missing. Every job must see the same directory (a shared
file system); regions are written with positional writes that never touch
bytes of another region, so no lock is needed, and writing a region again
(a retried job) is harmless.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np

from ._resume import PartialState, create_partial, open_partial, partial_path, remove_partial, written_regions
from .layout.movie import MovieLayout, movie_dtype, movie_footer, parse_movie_footer, stored_frames_region
from .metadata import Spacing, Timing
from .target import (
    IsxdTarget,
    Reserve,
    WriteMethod,
    check_footer,
    check_output_path,
    check_reserve,
    check_write_method,
    commit_partial,
    store_region,
)
from .writers._options import check_compute_kwargs
from .writers._validate import (
    DEFAULT_CASTING,
    as_dask_array,
    cast_array,
    require_spacing,
    require_timing,
    resolve_metadata_from,
)

if TYPE_CHECKING:
    from dask.delayed import Delayed
    from typing_extensions import TypedDict, Unpack

    class _RegionOptions(TypedDict, total=False):
        casting: str
        fsync: bool
        write_method: WriteMethod
        compute_kwargs: dict[str, Any] | None

__all__ = ["commit_movie", "create_movie", "discard_movie", "missing_movie_frames", "write_movie_region"]

PathLike = str | os.PathLike[str]
_REGION_PREFIX = "frames_"


def create_movie(
    path: PathLike,
    *,
    timing: Timing,
    spacing: Spacing,
    dtype: Any,
    extra_properties: Any = None,
    overwrite: bool = False,
    reserve: Reserve = "auto",
) -> str:
    """Create the template of a movie whose frames will be written by :func:`write_movie_region`.

    Calling it again with the same arguments (from every job, say) finds the
    same template, with the regions already written.

    Parameters
    ----------
    path : str or os.PathLike
        Final path, ending in ``.isxd``.
    timing : Timing
        All time indices, including dropped, cropped and blank ones.
    spacing : Spacing
        Frame shape and pixel size.
    dtype : {numpy.uint16, numpy.float32, numpy.uint8}
        Pixel type.
    extra_properties : JSON-serialisable, optional
        Stored as the footer's ``extraProperties``.
    overwrite : bool, default False
        Whether :func:`commit_movie` may replace an existing file at ``path``.
    reserve : {'auto', 'always', 'never'}, default 'auto'
        Reserve the disk space now (see :func:`isx_dask.target.preallocate`).

    Returns
    -------
    str
        ``path``, to pass to :func:`write_movie_region` and :func:`commit_movie`.

    Raises
    ------
    TypeError, ValueError
        For a bad argument, before anything is created; ``ValueError`` also if a
        template for ``path`` exists with other metadata.
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    OSError
        ``ENOSPC`` if the space cannot be reserved.
    """
    require_timing(timing)
    require_spacing(spacing)
    if timing.num_valid_samples < 1:
        msg = (
            f"timing.num_samples is {timing.num_samples} with {timing.num_valid_samples} stored frames; expected at "
            "least one frame (the official reader cannot read a movie without frames)"
        )
        raise ValueError(msg)
    if min(spacing.num_pixels) < 1:
        msg = f"spacing.num_pixels is {tuple(spacing.num_pixels)}; expected at least one row and one column"
        raise ValueError(msg)
    reserve = check_reserve(reserve)
    try:
        out_dtype = movie_dtype(dtype)
    except (TypeError, ValueError):
        msg = f"dtype must be numpy.uint16, numpy.float32 or numpy.uint8, got {dtype!r}"
        raise ValueError(msg) from None
    resolve_metadata_from(None, timing, spacing, extra_properties)
    path = check_output_path(path, overwrite)
    layout = MovieLayout(timing, spacing, out_dtype)
    metadata = movie_footer(timing, spacing, out_dtype, extra_properties)
    check_footer(metadata)
    state = PartialState("regions", layout.data_size, metadata, (layout.frames(),), overwrite)
    create_partial(path, state, reserve=reserve)
    return path


def _open(path: PathLike) -> tuple[str, str, PartialState, MovieLayout]:
    path = os.fspath(path)
    partial, state = open_partial(path)
    if state.kind != "regions":
        msg = f"{partial!r} belongs to a resumable write of {path!r}, not to a template made by create_movie"
        raise ValueError(msg)
    return path, partial, state, parse_movie_footer(state.metadata)


@overload
def write_movie_region(
    frames: Any, path: PathLike, start_frame: int, *, compute: Literal[False], **options: Unpack[_RegionOptions],
) -> Delayed: ...
@overload
def write_movie_region(
    frames: Any, path: PathLike, start_frame: int, *, compute: Literal[True] = ..., **options: Unpack[_RegionOptions],
) -> None: ...
@overload
def write_movie_region(
    frames: Any, path: PathLike, start_frame: int, *, compute: bool, **options: Unpack[_RegionOptions],
) -> Delayed | None: ...


def write_movie_region(
    frames: Any,
    path: PathLike,
    start_frame: int,
    *,
    casting: str = DEFAULT_CASTING,
    compute: bool = True,
    fsync: bool = True,
    write_method: WriteMethod = "auto",
    compute_kwargs: dict[str, Any] | None = None,
) -> Delayed | None:
    """Write frames ``start_frame .. start_frame + len(frames) - 1`` of a movie created by :func:`create_movie`.

    Frames at dropped, cropped or blank indices are not stored and are
    ignored, as in :func:`isx_dask.write_movie`. The region is recorded as
    written only once all its bytes are written (and flushed, with ``fsync``).

    Parameters
    ----------
    frames : dask.array.Array or numpy.ndarray, shape (n, rows, cols)
        The frames of time indices ``start_frame`` to ``start_frame + n - 1``.
    path : str or os.PathLike
        The path given to :func:`create_movie`.
    start_frame : int
        Time index of ``frames[0]``.
    casting : {'same_value', 'no', 'equiv', 'safe', 'same_kind', 'unsafe'}, default 'same_value'
        Allowed conversion to the movie's pixel type: by default any, as long as
        no value changes (checked chunk by chunk; nothing is recorded otherwise);
        numpy's rules otherwise, as in :func:`numpy.can_cast`.
    compute : bool, default True
        If False, return a ``Delayed`` that writes the region when computed.
    fsync : bool, default True
        Flush the region's bytes before recording it.
    write_method : {'auto', 'direct', 'pwrite', 'mmap'}, default 'auto'
        How bytes reach the file (see :mod:`isx_dask.target`).
    compute_kwargs : dict, optional
        Passed to ``compute`` (``{"scheduler": "threads"}``...).

    Returns
    -------
    None or dask.delayed.Delayed
        ``None`` if ``compute`` is True.

    Raises
    ------
    FileNotFoundError
        If there is no template for ``path``.
    ValueError
        If the frames' shape does not match the movie, or the region does not fit in it.
    TypeError
        If ``frames`` is a path (the data comes first), ``start_frame`` is not an
        integer or the dtype cannot be cast.
    """
    if isinstance(frames, (str, bytes, os.PathLike)):
        msg = (
            f"frames must be an array of shape (n, rows, cols), got the path {frames!r}; "
            "the data comes first: write_movie_region(frames, path, start_frame)"
        )
        raise TypeError(msg)
    if isinstance(start_frame, (bool, np.bool_)) or not isinstance(start_frame, (int, np.integer)):
        msg = f"start_frame must be an integer, got {type(start_frame).__name__}"
        raise TypeError(msg)
    compute_kwargs = check_compute_kwargs(compute_kwargs)
    write_method = check_write_method(write_method)
    path, partial, _state, layout = _open(path)
    frames = as_dask_array(frames, "frames", 3, "(n, rows, cols)")
    frames = cast_array(frames, "frames", layout.dtype, casting)
    if tuple(frames.shape[1:]) != layout.frame_shape:
        msg = f"frames are {tuple(frames.shape[1:])} (rows, cols) but the movie's spacing.num_pixels is {layout.frame_shape}"
        raise ValueError(msg)
    kept, region, (first, stop) = stored_frames_region(layout, int(start_frame), int(frames.shape[0]))
    stored = frames if kept.size == frames.shape[0] else frames[kept]
    target = IsxdTarget(partial, region, write_method)
    name = f"{_REGION_PREFIX}{first}-{stop}"
    return store_region([(stored, target)], partial, name, compute=compute, fsync=fsync, compute_kwargs=compute_kwargs)


def _missing_stored(partial: str, num_stored: int) -> np.ndarray[Any, Any]:
    covered = np.zeros(num_stored, dtype=bool)
    for ((a, b),) in written_regions(partial, _REGION_PREFIX):
        covered[a:b] = True
    return np.flatnonzero(~covered)


def missing_movie_frames(path: PathLike) -> np.ndarray[Any, Any]:
    """Time indices of the stored frames of a template not written yet.

    Parameters
    ----------
    path : str or os.PathLike
        Final path given to :func:`create_movie`.

    Returns
    -------
    numpy.ndarray
        Ascending time indices of valid frames no region has covered yet.

    Raises
    ------
    FileNotFoundError
        If there is no template for ``path``.
    """
    _, partial, _, layout = _open(path)
    valid_indices = np.flatnonzero(layout.timing.get_valid_samples_mask())
    missing: np.ndarray[Any, Any] = valid_indices[_missing_stored(partial, layout.num_stored)]
    return missing


def commit_movie(path: PathLike, *, fsync: bool = True) -> str:
    """Commit a movie created by :func:`create_movie` once every region is written.

    Parameters
    ----------
    path : str or os.PathLike
        Final path given to :func:`create_movie`.
    fsync : bool, default True
        Flush data and footer to disk before the file is moved into place.

    Returns
    -------
    str
        ``path``.

    Raises
    ------
    ValueError
        If valid frames are still missing (nothing is committed; write them and call again).
    FileNotFoundError
        If there is no template for ``path`` (never created, or already committed).
    FileExistsError
        If ``path`` exists and the template was created without ``overwrite``.
    """
    path, partial, _, layout = _open(path)
    missing = missing_movie_frames(path)
    if missing.size:
        shown = ", ".join(str(i) for i in missing[:10]) + (", ..." if missing.size > 10 else "")
        msg = f"cannot commit {path!r}: {missing.size} valid frame(s) not written yet (time indices {shown})"
        raise ValueError(msg)
    return commit_partial(path, fsync=fsync)


def discard_movie(path: PathLike) -> None:
    """Remove the template of ``path`` and everything written into it; nothing is committed.

    Parameters
    ----------
    path : str or os.PathLike
        Final path given to :func:`create_movie`.
    """
    remove_partial(partial_path(path))
