"""Movies and images: ``write_movie`` / ``write_image`` from NumPy or Dask, and the incremental ``Movie`` / ``Image``."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np

from ..layout import IsxdFormatError
from ..layout.movie import MovieLayout, movie_dtype, movie_footer, stored_frame_indices
from ..metadata import Spacing, Timing
from ..target import IsxdTarget, WriteMethod, check_output_path, commit, preallocate, store_then_commit
from ._incremental import IncrementalWriter
from ._validate import (
    as_dask_array,
    cast_array,
    check_spacing,
    check_timing,
    require_spacing,
    require_timing,
    resolve_metadata_from,
)

if TYPE_CHECKING:
    from dask.delayed import Delayed

    from ..readers.movie import MovieFile

__all__ = ["Image", "Movie", "write_image", "write_movie"]

PathLike = str | os.PathLike[str]


def _resolve_dtype(data_dtype: np.dtype[Any], dtype: Any, name: str) -> np.dtype[Any]:
    if dtype is not None:
        return movie_dtype(dtype)
    try:
        return movie_dtype(data_dtype)
    except ValueError:
        msg = (
            f"{name} has dtype {data_dtype}, which .isxd movies cannot store (uint16, float32 or uint8); "
            f"pass dtype=numpy.float32 or dtype=numpy.uint16 to convert it"
        )
        raise TypeError(msg) from None


@overload
def write_movie(
    frames: Any, path: PathLike, *, timing: Timing | None = ..., spacing: Spacing | None = ...,
    dtype: Any = ..., casting: str = ..., extra_properties: Any = ..., metadata_from: PathLike | None = ...,
    overwrite: bool = ..., compute: Literal[True] = ..., fsync: bool = ..., write_method: WriteMethod = ...,
    resume: bool = ..., **compute_kwargs: Any,
) -> None: ...
@overload
def write_movie(
    frames: Any, path: PathLike, *, timing: Timing | None = ..., spacing: Spacing | None = ...,
    dtype: Any = ..., casting: str = ..., extra_properties: Any = ..., metadata_from: PathLike | None = ...,
    overwrite: bool = ..., compute: Literal[False], fsync: bool = ..., write_method: WriteMethod = ...,
    resume: bool = ..., **compute_kwargs: Any,
) -> Delayed: ...
@overload
def write_movie(
    frames: Any, path: PathLike, *, timing: Timing | None = ..., spacing: Spacing | None = ...,
    dtype: Any = ..., casting: str = ..., extra_properties: Any = ..., metadata_from: PathLike | None = ...,
    overwrite: bool = ..., compute: bool = ..., fsync: bool = ..., write_method: WriteMethod = ...,
    resume: bool = ..., **compute_kwargs: Any,
) -> Delayed | None: ...


def write_movie(
    frames: Any,
    path: PathLike,
    *,
    timing: Timing | None = None,
    spacing: Spacing | None = None,
    dtype: Any = None,
    casting: str = "same_kind",
    extra_properties: Any = None,
    metadata_from: PathLike | None = None,
    overwrite: bool = False,
    compute: bool = True,
    fsync: bool = True,
    write_method: WriteMethod = "auto",
    resume: bool = False,
    **compute_kwargs: Any,
) -> Delayed | None:
    """Write a movie to an ``.isxd`` file, chunk by chunk, out of core.

    Every chunk of ``frames`` is written straight into its place in a
    preallocated temporary file; the footer is appended only after all chunks
    have finished, and the file is then renamed to ``path``. If anything fails,
    no file appears at ``path`` (and a file already there is left as it was).

    Parameters
    ----------
    frames : dask.array.Array or numpy.ndarray, shape (num_samples, rows, cols)
        All frames, one per time index, including the dropped, cropped and
        blank ones, which are not stored (the format leaves them out).
    path : str or os.PathLike
        Output file; must end with ``.isxd``.
    timing : Timing, optional
        Defaults to ``num_samples`` frames of 50 ms starting at the epoch.
    spacing : Spacing, optional
        Defaults to the frame shape, with 3-micron pixels.
    dtype : {numpy.uint16, numpy.float32, numpy.uint8}, optional
        Pixel type to store. Defaults to the dtype of ``frames``, which must then
        be one of these.
    casting : {'no', 'equiv', 'safe', 'same_kind', 'unsafe'}, default 'same_kind'
        Which conversions to ``dtype`` are allowed, as in :func:`numpy.can_cast`.
        Float to integer needs ``'unsafe'``.
    extra_properties : JSON-serialisable, optional
        Stored as the footer's ``extraProperties`` (acquisition metadata).
    metadata_from : str or os.PathLike, optional
        An existing ``.isxd`` file whose timing, spacing and extra properties
        are used where the arguments above are not given.
    overwrite : bool, default False
        Replace an existing file at ``path`` (only once the new one is complete).
    compute : bool, default True
        If False, return a :class:`dask.delayed.Delayed`; the file is committed
        when it has been computed. The temporary file (``.<name>.<id>.partial``
        beside ``path``, with its space reserved) exists from this call on; if
        the graph is never computed, or fails, it stays until removed (or, with
        ``resume=True``, until the write is resumed).
    fsync : bool, default True
        Flush data and footer to disk before the file is renamed into place.
    write_method : {'auto', 'pwrite', 'mmap'}, default 'auto'
        How chunk bytes reach the file (see :class:`isx_dask.target.IsxdTarget`).
    resume : bool, default False
        Make the write resumable: an interrupted write run again with the same
        arguments writes only the chunks that had not finished, and gives the
        same bytes as an uninterrupted one (see :func:`isx_dask.target.store_then_commit`).
    **compute_kwargs
        Passed to ``dask.compute`` (for example ``scheduler='processes'``);
        ``reserve='never'`` turns off the up-front reservation of disk space.

    Returns
    -------
    None or dask.delayed.Delayed
        ``None`` if ``compute`` is True.

    Raises
    ------
    ValueError
        Wrong number of dimensions, shape not matching ``timing``/``spacing``,
        unknown chunk sizes, a path not ending in ``.isxd``, or extra
        properties that are not strict JSON.
    TypeError
        A dtype that cannot be stored, or a lossy cast not allowed by ``casting``.
    FileExistsError
        ``path`` exists and ``overwrite`` is False.
    FileNotFoundError
        The parent directory of ``path`` does not exist.

    See Also
    --------
    Movie : the frame-by-frame API of the official ``isx`` package.
    open_isxd : read the file back lazily.

    Examples
    --------
    >>> import dask.array as da, numpy as np
    >>> frames = da.zeros((100, 64, 80), dtype=np.uint16, chunks=(25, 64, 80))
    >>> write_movie(frames, "movie.isxd", timing=Timing(num_samples=100, period=Duration.from_msecs(50)))  # doctest: +SKIP
    """
    timing, spacing, extra_properties = resolve_metadata_from(metadata_from, timing, spacing, extra_properties)
    frames = as_dask_array(frames, "frames", 3, "(num_samples, rows, cols)")
    out_dtype = _resolve_dtype(frames.dtype, dtype, "frames")
    frames = cast_array(frames, "frames", out_dtype, casting)
    timing = check_timing(timing, frames.shape[0], "frames")
    spacing = check_spacing(spacing, frames.shape[1:], "frames")
    path = check_output_path(path, overwrite)

    layout = MovieLayout(timing, spacing, out_dtype)
    valid = timing.get_valid_samples()
    stored = frames if valid.size == timing.num_samples else frames[valid]
    metadata = movie_footer(timing, spacing, out_dtype, extra_properties)
    return store_then_commit(
        [(stored, layout.frames())], path, layout.data_size, metadata,
        overwrite=overwrite, compute=compute, fsync=fsync, write_method=write_method, resume=resume,
        **compute_kwargs,
    )


def write_image(
    image: Any,
    path: PathLike,
    *,
    spacing: Spacing | None = None,
    dtype: Any = None,
    casting: str = "same_kind",
    extra_properties: Any = None,
    overwrite: bool = False,
    compute: bool = True,
    **kwargs: Any,
) -> Delayed | None:
    """Write one 2-D image to an ``.isxd`` file (a one-frame movie of type Image).

    Parameters
    ----------
    image : numpy.ndarray or dask.array.Array, shape (rows, cols)
        The image.
    path : str or os.PathLike
        Output file; must end with ``.isxd``.
    spacing, dtype, casting, extra_properties, overwrite, compute
        As in :func:`write_movie`.
    **kwargs
        Passed to :func:`write_movie`.

    Returns
    -------
    None or dask.delayed.Delayed
        As in :func:`write_movie`.

    Raises
    ------
    ValueError, TypeError, FileExistsError, FileNotFoundError
        As in :func:`write_movie`; ``image`` must have 2 dimensions.

    See Also
    --------
    Image : the official ``isx.Image`` API.
    """
    shape = getattr(image, "shape", None)
    if shape is None:
        image = np.asarray(image)
        shape = image.shape
    if len(shape) != 2:
        msg = f"image must have 2 dimensions (rows, cols), got shape {tuple(shape)}"
        raise ValueError(msg)
    return write_movie(
        image[None], path, timing=Timing(num_samples=1), spacing=spacing, dtype=dtype, casting=casting,
        extra_properties=extra_properties, overwrite=overwrite, compute=compute, **kwargs,
    )


def _frame_to_dtype(frame: Any, dtype: np.dtype[Any], name: str) -> np.ndarray:
    """Convert one in-memory frame to the movie's dtype without losing values."""
    if not isinstance(frame, np.ndarray):
        msg = f"{name} must be a numpy.ndarray, got {type(frame).__name__}"
        raise TypeError(msg)
    if frame.dtype == dtype:
        return frame
    if np.can_cast(frame.dtype, dtype, casting="same_kind"):
        return frame.astype(dtype)
    if frame.dtype.kind in "iub" and dtype.kind in "iu":
        info = np.iinfo(dtype)
        if frame.size == 0 or (frame.min() >= info.min and frame.max() <= info.max):
            return frame.astype(dtype)
        msg = f"{name} has values outside the range of {dtype} [{info.min}, {info.max}]; clip it first"
        raise ValueError(msg)
    msg = f"{name} has dtype {frame.dtype}, which cannot be stored as {dtype} without losing values; convert it explicitly (e.g. numpy.round and astype)"
    raise TypeError(msg)


class Movie(IncrementalWriter):
    """A movie file, opened for writing frame by frame or for reading, as ``isx.Movie``.

    Use :meth:`write` and :meth:`read` to create one. Unlike the official
    writer, :meth:`set_frame_data` puts each frame at the place of its
    ``index`` (frames may come in any order), refuses an index written twice,
    and :meth:`flush` refuses to commit while a valid frame is missing. The
    file appears at its path only when :meth:`flush` succeeds. As a context
    manager, a block that raises commits nothing.

    For bulk writing from Dask, see :func:`write_movie`.

    Examples
    --------
    >>> timing = Timing(num_samples=3, period=Duration.from_msecs(10))
    >>> with Movie.write("m.isxd", timing, Spacing(num_pixels=(4, 5)), numpy.uint16) as movie:  # doctest: +SKIP
    ...     for i in range(3):
    ...         movie.set_frame_data(i, numpy.full((4, 5), i, numpy.uint16))
    """

    kind = "movie"

    def __init__(self) -> None:
        self.file_path: str = ""
        self.mode: str = ""
        self._reader: MovieFile | None = None
        # Set by write():
        self._partial: str | None = None
        self._layout: MovieLayout
        self._stored: np.ndarray
        self._written: np.ndarray
        self._metadata: dict[str, Any]
        self._overwrite: bool
        self._target: IsxdTarget

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def read(cls, file_path: PathLike) -> Movie:
        """Open a movie or image for reading.

        Raises
        ------
        FileNotFoundError
            If the file does not exist.
        IsxdFormatError
            If it is not a committed movie or image.
        """
        from ..readers.movie import MovieFile

        self = cls()
        self._reader = MovieFile(file_path)
        self.file_path = os.fspath(file_path)
        self.mode = "r"
        return self

    @classmethod
    def write(
        cls,
        file_path: PathLike,
        timing: Timing,
        spacing: Spacing,
        data_type: Any,
        *,
        extra_properties: Any = None,
        overwrite: bool = False,
    ) -> Movie:
        """Open a new movie for writing frame by frame.

        Parameters
        ----------
        file_path : str or os.PathLike
            Output path, ending in ``.isxd``; it must not exist unless ``overwrite``.
        timing : Timing
            Number of samples, period, start and invalid indices.
        spacing : Spacing
            Frame shape and pixel size.
        data_type : {numpy.uint16, numpy.float32, numpy.uint8}
            Pixel type.
        extra_properties : JSON-serialisable, optional
            Stored as ``extraProperties``.
        overwrite : bool, default False
            Replace an existing file when the movie is flushed.

        Raises
        ------
        TypeError, ValueError, FileExistsError, FileNotFoundError
            For a bad argument, before anything is created.
        """
        require_timing(timing)
        require_spacing(spacing)
        try:
            dtype = movie_dtype(data_type)
        except (TypeError, ValueError):
            msg = f"data_type must be numpy.uint16, numpy.float32 or numpy.uint8, got {data_type!r}"
            raise ValueError(msg) from None
        resolve_metadata_from(None, timing, spacing, extra_properties)
        path = check_output_path(file_path, overwrite)
        self = cls()
        self.file_path, self.mode = path, "w"
        self._layout = MovieLayout(timing, spacing, dtype)
        self._stored = stored_frame_indices(timing)
        self._written = np.zeros(timing.num_samples, dtype=bool)
        self._metadata = movie_footer(timing, spacing, dtype, extra_properties)
        self._overwrite = overwrite
        self._partial = preallocate(path, self._layout.data_size)
        self._target = IsxdTarget(self._partial, self._layout.frames())
        return self

    # -- properties ----------------------------------------------------------------------
    @property
    def timing(self) -> Timing:
        """Timing of the movie."""
        return self._reader.timing if self._reader is not None else self._layout.timing

    @property
    def spacing(self) -> Spacing:
        """Spacing of the movie."""
        return self._reader.spacing if self._reader is not None else self._layout.spacing

    @property
    def data_type(self) -> type:
        """Pixel type as a NumPy scalar type (``numpy.uint16``, ...), as in ``isx``."""
        dtype = self._reader.dtype if self._reader is not None else self._layout.dtype
        return dtype.type

    # -- reading -------------------------------------------------------------------------
    def get_frame_data(self, index: int) -> np.ndarray:
        """Frame ``index`` as a ``(rows, cols)`` array; zeros for dropped, cropped and blank frames."""
        return self._require_reader().get_frame(index)

    def get_frame_timestamp(self, index: int) -> int:
        """Sensor timestamp of frame ``index`` in microseconds (movies with frame headers only)."""
        stamps = self._require_reader().frame_timestamps()
        if stamps is None:
            msg = "No frame timestamps stored in movie."
            raise IsxdFormatError(msg)
        return int(stamps[index])

    def get_acquisition_info(self) -> Any:
        """The footer's ``extraProperties`` (acquisition metadata), or None."""
        return self._require_reader().extra_properties

    def _require_reader(self) -> MovieFile:
        if self._reader is None:
            msg = "this movie was opened for writing; open it with Movie.read to read frames"
            raise RuntimeError(msg)
        return self._reader

    # -- writing -------------------------------------------------------------------------
    def set_frame_data(self, index: int, frame: np.ndarray) -> None:
        """Write the frame of time index ``index``.

        Frames at dropped, cropped or blank indices are not stored (the format
        leaves them out) and are ignored, as in the official package.

        Raises
        ------
        IndexError
            If ``index`` is out of range.
        ValueError
            If the frame was written already, or its shape is not ``spacing.num_pixels``.
        TypeError
            If ``frame`` is not a NumPy array of a dtype that converts without loss.
        RuntimeError
            If the movie is not open for writing.
        """
        self._require_open()
        n = self._layout.timing.num_samples
        if not 0 <= index < n:
            msg = f"index {index} is out of range; the movie has num_samples={n}"
            raise IndexError(msg)
        frame = _frame_to_dtype(frame, self._layout.dtype, "frame")
        if frame.shape != self._layout.frame_shape:
            msg = f"frame has shape {frame.shape}, expected spacing.num_pixels {self._layout.frame_shape}"
            raise ValueError(msg)
        stored = int(self._stored[index])
        if stored < 0:
            return
        if self._written[index]:
            msg = f"frame {index} was already written; each frame may be written once"
            raise ValueError(msg)
        self._target[stored : stored + 1] = frame[None]
        self._written[index] = True

    def _is_complete(self) -> bool:
        return self.missing_frames().size == 0

    def missing_frames(self) -> np.ndarray:
        """Time indices of valid frames not written yet."""
        valid = self._stored >= 0
        return np.flatnonzero(valid & ~self._written)

    def flush(self) -> None:
        """Commit the file: write the footer and move it to its path.

        A second call does nothing.

        Raises
        ------
        ValueError
            If valid frames are still missing (nothing is committed; write them and call again).
        """
        if self.mode != "w" or self._partial is None:
            return
        missing = self.missing_frames()
        if missing.size:
            shown = ", ".join(str(i) for i in missing[:10]) + (", ..." if missing.size > 10 else "")
            msg = f"cannot flush: {missing.size} valid frame(s) not written yet (indices {shown})"
            raise ValueError(msg)
        commit(self._partial, self.file_path, self._metadata, self._layout.data_size, overwrite=self._overwrite)
        self._partial = None
        self.mode = "r"
        from ..readers.movie import MovieFile

        self._reader = MovieFile(self.file_path)

    def __repr__(self) -> str:
        return f"Movie({self.file_path!r}, mode={self.mode!r}, timing={self.timing!r}, spacing={self.spacing!r})"


class Image:
    """A single image, as ``isx.Image``: :meth:`write` in one call, :meth:`read` and :meth:`get_data`.

    See :func:`write_image` for the canonical documentation.
    """

    def __init__(self) -> None:
        self.file_path: str = ""
        self.mode: str = ""
        self._reader: MovieFile | None = None

    @classmethod
    def read(cls, file_path: PathLike) -> Image:
        """Open a movie file with at most one sample as an image.

        Raises
        ------
        ValueError
            If the file has more than one frame.
        """
        from ..readers.movie import MovieFile

        reader = MovieFile(file_path)
        if reader.timing.num_samples > 1:
            msg = f"{os.fspath(file_path)!r} has {reader.timing.num_samples} frames; use Movie.read instead"
            raise ValueError(msg)
        self = cls()
        self._reader, self.file_path, self.mode = reader, os.fspath(file_path), "r"
        return self

    @classmethod
    def write(cls, file_path: PathLike, spacing: Spacing, data_type: Any, data: np.ndarray, **kwargs: Any) -> Image:
        """Write ``data`` as an image file and return it opened for reading.

        Raises
        ------
        ValueError, TypeError, FileExistsError, FileNotFoundError
            As :func:`write_image`; also if ``data``'s shape is not ``spacing.num_pixels``.
        """
        require_spacing(spacing)
        try:
            dtype = movie_dtype(data_type)
        except (TypeError, ValueError):
            msg = f"data_type must be numpy.uint16, numpy.float32 or numpy.uint8, got {data_type!r}"
            raise ValueError(msg) from None
        data = _frame_to_dtype(data, dtype, "data")
        write_image(data, file_path, spacing=spacing, dtype=dtype, **kwargs)
        return cls.read(file_path)

    @property
    def spacing(self) -> Spacing:
        """Spacing of the image."""
        assert self._reader is not None
        return self._reader.spacing

    @property
    def data_type(self) -> type:
        """Pixel type as a NumPy scalar type."""
        assert self._reader is not None
        return self._reader.dtype.type

    def get_data(self) -> np.ndarray:
        """The image as a ``(rows, cols)`` array."""
        assert self._reader is not None
        return self._reader.get_frame(0)
