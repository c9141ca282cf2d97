"""Movies and images: ``write_movie`` / ``write_image`` from NumPy or Dask, and the incremental ``Movie`` / ``Image``."""

from __future__ import annotations

import numbers
import os
import warnings
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np

from ..layout import IsxdFormatError
from .._io import check_file_size
from ..layout.fields import invalid_intervals
from ..layout.movie import MovieLayout, movie_dtype, movie_footer, stored_indices_of
from ..metadata import Spacing, Timing
from ..target import IsxdTarget, Reserve, WriteMethod, check_output_path
from ._incremental import IncrementalWriter, PathLike, missing_indices
from ._options import WriteOptions, check_write_options, fill_doc, store
from ._validate import (
    DEFAULT_CASTING,
    as_dask_array,
    check_spacing,
    check_timing,
    convert_in_memory,
    prepare_array,
    require_spacing,
    require_timing,
    resolve_metadata_from,
    warn_defaults,
)

if TYPE_CHECKING:
    from dask.delayed import Delayed
    from typing_extensions import Unpack

    from ._options import StoreOptions

    class _ImageOptions(StoreOptions, total=False):
        spacing: Spacing | None
        extra_properties: Any
        metadata_from: PathLike | None
        dtype: Any
        casting: str

    class _MovieOptions(_ImageOptions, total=False):
        timing: Timing | None

    from ..readers.movie import MovieFile

__all__ = ["Image", "Movie", "write_image", "write_movie"]



def _resolve_dtype(data_dtype: np.dtype[Any], dtype: Any, name: str) -> np.dtype[Any]:
    if dtype is not None:
        try:
            return movie_dtype(dtype)
        except (TypeError, ValueError):
            msg = f"dtype must be numpy.uint16, numpy.float32 or numpy.uint8 (the pixel types of .isxd movies), got {dtype!r}"
            raise ValueError(msg) from None
    try:
        return movie_dtype(data_dtype)
    except ValueError:
        msg = (
            f"{name} has dtype {data_dtype}, which .isxd movies cannot store (uint16, float32 or uint8); "
            f"pass dtype=numpy.float32 or dtype=numpy.uint16 to convert it"
        )
        raise TypeError(msg) from None


@overload
def write_movie(frames: Any, path: PathLike, *, compute: Literal[False], **options: Unpack[_MovieOptions]) -> Delayed: ...
@overload
def write_movie(frames: Any, path: PathLike, *, compute: Literal[True] = ..., **options: Unpack[_MovieOptions]) -> None: ...
@overload
def write_movie(frames: Any, path: PathLike, *, compute: bool, **options: Unpack[_MovieOptions]) -> Delayed | None: ...


@fill_doc
def write_movie(
    frames: Any,
    path: PathLike,
    *,
    timing: Timing | None = None,
    spacing: Spacing | None = None,
    extra_properties: Any = None,
    metadata_from: PathLike | None = None,
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
        Number of samples, period, start and invalid indices. Without it (and
        without ``metadata_from``) the official defaults are used, 50 ms from
        1970-01-01, with a :class:`DefaultMetadataWarning`.
    spacing : Spacing, optional
        Frame shape and pixel size; defaults to the frame shape with 3-micron
        pixels, with a :class:`DefaultMetadataWarning`.
    {metadata}
    dtype : {numpy.uint16, numpy.float32, numpy.uint8}, optional
        Pixel type to store. Defaults to the dtype of ``frames``, which must then
        be one of these.
    casting : {'same_value', 'no', 'equiv', 'safe', 'same_kind', 'unsafe'}, default 'same_value'
        Which conversions to ``dtype`` are allowed. ``'same_value'`` converts
        when no value changes (checked value by value: NumPy input before
        anything is written, Dask input chunk by chunk as it is written, and
        then nothing is committed); float64 to float32 rounds to float32's
        precision but refuses values beyond its range. numpy's rules decide by
        dtype alone; ``'unsafe'`` is numpy's ``astype``, which wraps and
        truncates out-of-range values.
    {options}

    Returns
    -------
    None or dask.delayed.Delayed
        ``None`` if ``compute`` is True.

    Raises
    ------
    ValueError
        Wrong number of dimensions, no frames, shape not matching
        ``timing``/``spacing``, unknown chunk sizes, a path not ending in
        ``.isxd``, extra properties that are not strict JSON, values that
        ``dtype`` cannot hold (under ``'same_value'``).
    TypeError
        A dtype that cannot be stored, a cast not allowed by ``casting``, or an
        option of the wrong type (an unknown keyword included).
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
    options = check_write_options(overwrite, compute, fsync, resume, reserve, write_method, compute_kwargs)
    given = (timing is not None or metadata_from is not None, spacing is not None or metadata_from is not None)
    timing, spacing, extra_properties = resolve_metadata_from(metadata_from, timing, spacing, extra_properties)
    return _write_frames(frames, path, "frames", timing, spacing, extra_properties, dtype, casting, options, given)


def _write_frames(
    frames: Any, path: PathLike, label: str, timing: Timing | None, spacing: Spacing | None, extra_properties: Any,
    dtype: Any, casting: str, options: WriteOptions, given: tuple[bool, bool],
) -> Delayed | None:
    """The movie path of :func:`write_movie` and :func:`write_image`; messages name the data ``label``."""
    axes = "(num_samples, rows, cols)" if label == "frames" else "(rows, cols)"
    wrapped = as_dask_array(frames, label, 3, axes)
    _check_not_empty(wrapped.shape, label, axes)
    frames = prepare_array(frames, label, 3, axes, _resolve_dtype(wrapped.dtype, dtype, label), casting)
    out_dtype = frames.dtype
    timing = check_timing(timing, frames.shape[0], label)
    spacing = check_spacing(spacing, frames.shape[1:], label)
    path = check_output_path(path, options.overwrite)
    warn_defaults(timing_given=given[0], spacing_given=given[1])

    layout = MovieLayout(timing, spacing, out_dtype)
    # The size comes from the layout alone: refuse it before any per-frame index is built.
    check_file_size(layout.data_size)
    stored = frames if timing.num_valid_samples == timing.num_samples else frames[timing.get_valid_samples()]
    metadata = movie_footer(timing, spacing, out_dtype, extra_properties)
    return store([(stored, layout.frames())], path, layout.data_size, metadata, options)


def _check_not_empty(shape: tuple[int, ...], name: str, axes: str) -> None:
    """Refuse data with an empty axis: the official reader cannot read a file without frames or pixels."""
    if 0 in shape:
        msg = f"{name} has shape {shape} {axes}; expected at least one sample, row and column (the official reader cannot read empty data)"
        raise ValueError(msg)


@overload
def write_image(image: Any, path: PathLike, *, compute: Literal[False], **options: Unpack[_ImageOptions]) -> Delayed: ...
@overload
def write_image(image: Any, path: PathLike, *, compute: Literal[True] = ..., **options: Unpack[_ImageOptions]) -> None: ...
@overload
def write_image(image: Any, path: PathLike, *, compute: bool, **options: Unpack[_ImageOptions]) -> Delayed | None: ...


@fill_doc
def write_image(
    image: Any,
    path: PathLike,
    *,
    spacing: Spacing | None = None,
    extra_properties: Any = None,
    metadata_from: PathLike | None = None,
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
    """Write one 2-D image to an ``.isxd`` file (a one-frame movie of type Image).

    Parameters
    ----------
    image : numpy.ndarray or dask.array.Array, shape (rows, cols)
        The image.
    path : str or os.PathLike
        Output file; must end with ``.isxd``.
    spacing : Spacing, optional
        Image shape and pixel size; defaults to the image shape with 3-micron
        pixels, with a :class:`DefaultMetadataWarning`.
    {metadata}
    dtype, casting
        As in :func:`write_movie`.
    {options}

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
    options = check_write_options(overwrite, compute, fsync, resume, reserve, write_method, compute_kwargs)
    if not hasattr(image, "shape") or not hasattr(image, "dtype"):
        image = np.asarray(image)
    if len(image.shape) != 2:
        msg = f"image must have 2 dimensions (rows, cols), got shape {tuple(image.shape)}"
        raise ValueError(msg)
    _check_not_empty(tuple(image.shape), "image", "(rows, cols)")
    given = spacing is not None or metadata_from is not None
    _, spacing, extra_properties = resolve_metadata_from(metadata_from, Timing(num_samples=1), spacing, extra_properties)
    return _write_frames(
        image[None], path, "image", Timing(num_samples=1), spacing, extra_properties, dtype, casting, options, (True, given)
    )


class Movie(IncrementalWriter["MovieFile"]):
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
    str_fields = ("timing", "spacing", "data_type")
    _layout: MovieLayout
    _invalid: np.ndarray[Any, Any]
    _written: np.ndarray[Any, Any]
    _metadata: dict[str, Any]
    _target: IsxdTarget
    _read_timing: tuple[MovieFile, Timing] | None = None

    @classmethod
    def _open_reader(cls, path: str) -> MovieFile:
        from ..readers.movie import MovieFile

        return MovieFile(path)

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
            For a bad argument, before anything is created (an ``.isxb`` path
            gives the official "Cannot write isxb movies.").
        """
        if os.fspath(file_path).lower().endswith(".isxb"):
            msg = (
                f"Cannot write isxb movies. {os.fspath(file_path)!r} is an nVision .isxb path; only the "
                f"acquisition software writes those; write an .isxd movie instead"
            )
            raise ValueError(msg)
        require_timing(timing)
        require_spacing(spacing)
        dtype = _data_type(data_type)
        _check_not_empty((timing.num_samples, *spacing.num_pixels), "timing.num_samples and spacing.num_pixels",
                         "(num_samples, rows, cols)")
        resolve_metadata_from(None, timing, spacing, extra_properties)
        layout = MovieLayout(timing, spacing, dtype)
        # Refuse a size no file can hold before the per-frame bookkeeping is allocated.
        check_file_size(layout.data_size)
        self = cls()
        self._timing, self._spacing = timing, spacing
        self._layout = layout
        self._invalid = invalid_intervals(timing)
        # One flag per time index (True once written; invalid indices count as written).
        self._written = np.zeros(timing.num_samples, dtype=bool)
        for first, last in self._invalid:
            self._written[first : last + 1] = True
        self._metadata = movie_footer(timing, spacing, dtype, extra_properties)
        self._start(file_path, overwrite, self._layout.data_size)
        assert self._partial is not None
        self._target = IsxdTarget(self._partial, self._layout.frames())
        return self

    # -- properties ----------------------------------------------------------------------
    @property
    def timing(self) -> Timing:
        """Timing: as given when writing; when reading, as the official reader reports it.

        For a movie whose frames carry sensor timestamps the official reader
        replaces the footer's period by the one the first and last valid
        frames' timestamps give (for example 149700/3000000 s instead of the
        stored 50 ms); the footer's own timing is ``open_isxd(path).timing``.
        """
        if self._reader is None:
            return self._timing
        cached = getattr(self, "_read_timing", None)
        if cached is None or cached[0] is not self._reader:
            # Computed once per opened file (it reads two frame headers), not on every access.
            cached = self._read_timing = (self._reader, self._reader.official_timing())
        return cached[1]

    @property
    def data_type(self) -> type:
        """Pixel type as a NumPy scalar type (``numpy.uint16``, ...), as in ``isx``."""
        dtype = self._reader.dtype if self._reader is not None else self._layout.dtype
        return dtype.type

    # -- reading -------------------------------------------------------------------------
    def get_frame_data(self, index: int) -> np.ndarray[Any, Any]:
        """Frame ``index`` as a ``(rows, cols)`` array; zeros for dropped, cropped and blank frames."""
        return np.asarray(self._require_reader().get_frame(index))

    def get_frame_timestamp(self, index: int) -> int:
        """Sensor (TSC) timestamp of frame ``index`` in microseconds, as the official ``get_frame_timestamp``.

        0 for a frame that is not stored (dropped, cropped, blank). Reads 16 bytes.

        Raises
        ------
        IsxdFormatError
            ``"No frame timestamps stored in movie."`` where the official reader
            raises it: frames without sensor headers, or ``extraProperties``
            without a ``producer.version`` of at least 1.1.1.
        IndexError
            If ``index`` is not in ``[0, num_samples)``.
        """
        return self._require_reader().frame_timestamp(index)

    # -- writing -------------------------------------------------------------------------
    def set_frame_data(self, index: int, frame: np.ndarray[Any, Any]) -> None:
        """Write the frame of time index ``index``.

        Frames at dropped, cropped or blank indices are not stored (the format
        leaves them out) and are ignored, as in the official package. A frame of
        another dtype is converted with the official ``UserWarning``, but only
        when no value changes.

        Raises
        ------
        IndexError
            If ``index`` is out of range.
        ValueError
            If the frame was written already (the official writer ignores the
            index and appends frames in call order; a script that restarts the
            index for each input file must add the frames written before), its
            shape is not ``spacing.num_pixels``, or a value would change in the
            conversion.
        TypeError
            If ``frame`` is not a NumPy array of real numbers.
        RuntimeError
            If the movie is not open for writing.
        """
        self._require_open()
        n = self._layout.timing.num_samples
        index = _check_index(index, n, "the movie has num_samples")
        frame = convert_in_memory(frame, self._layout.dtype, "frame", self._layout.frame_shape)
        stored = int(stored_indices_of(self._invalid, np.array([index], dtype=np.int64))[0])
        if stored < 0:
            warnings.warn(
                f"frame {index} is dropped, cropped or blank in the timing: it is not stored (the official writer "
                f"skips it too, printing 'Attempted to write invalid frame {index}. Skipping.')",
                UserWarning,
                stacklevel=2,
            )
            return
        if self._written[index]:
            msg = (
                f"frame {index} was already written; each frame may be written once. If the script restarts the "
                f"index for each input file, add the number of frames written before (index = offset + i)"
            )
            raise ValueError(msg)
        self._target[stored : stored + 1] = frame[None]
        self._written[index] = True

    def missing_frames(self) -> np.ndarray[Any, Any]:
        """Time indices of valid frames not written yet."""
        return np.flatnonzero(~self._written)

    def _missing(self) -> str:
        return missing_indices(self._written, "valid frame(s)")

    def _footer(self) -> tuple[dict[str, Any], int]:
        return self._metadata, self._layout.data_size

    def __repr__(self) -> str:
        if not self.file_path:
            return "Movie()"
        return f"Movie({self.file_path!r}, mode={self.mode!r}, timing={self.timing!r}, spacing={self.spacing!r})"


def _data_type(data_type: Any) -> np.dtype[Any]:
    try:
        return movie_dtype(data_type)
    except (TypeError, ValueError):
        msg = f"data_type must be numpy.uint16, numpy.float32 or numpy.uint8, got {data_type!r}"
        raise ValueError(msg) from None


def _check_index(index: Any, n: int, what: str) -> int:
    if isinstance(index, (bool, np.bool_)) or not isinstance(index, numbers.Integral):
        msg = f"index must be an integer, got {type(index).__name__} {index!r}"
        raise TypeError(msg)
    if not 0 <= int(index) < n:
        msg = f"index {index} is out of range; {what}={n}"
        raise IndexError(msg)
    return int(index)


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
        reader = Movie._open_reader(os.fspath(file_path))
        if reader.timing.num_samples > 1:
            msg = f"{os.fspath(file_path)!r} has {reader.timing.num_samples} frames; use Movie.read instead"
            raise ValueError(msg)
        self = cls()
        self._reader, self.file_path, self.mode = reader, os.fspath(file_path), "r"
        return self

    @classmethod
    def write(cls, file_path: PathLike, spacing: Spacing, data_type: Any, data: np.ndarray[Any, Any]) -> Image:
        """Write ``data`` as an image file and return it (``mode`` ``'w'``, readable, as in the official package).

        Raises
        ------
        ValueError, TypeError, FileExistsError, FileNotFoundError
            As :func:`write_image`; also if ``data``'s shape is not ``spacing.num_pixels``.
        """
        require_spacing(spacing)
        dtype = _data_type(data_type)
        data = convert_in_memory(data, dtype, "data", spacing.num_pixels)
        write_image(data, file_path, spacing=spacing, dtype=dtype)
        self = cls.read(file_path)
        self.mode = "w"
        return self

    @property
    def spacing(self) -> Spacing:
        """Spacing of the image."""
        return self._require_reader().spacing

    @property
    def data_type(self) -> type:
        """Pixel type as a NumPy scalar type."""
        return self._require_reader().dtype.type

    def get_data(self) -> np.ndarray[Any, Any]:
        """The image as a ``(rows, cols)`` array."""
        return np.asarray(self._require_reader().get_frame(0))

    def get_acquisition_info(self) -> Any:
        """The acquisition metadata, as the official package returns it."""
        from ..official import acquisition_info

        return acquisition_info(self._require_reader().extra_properties)

    def _require_reader(self) -> MovieFile:
        if self._reader is None:
            msg = "this Image was not opened; use Image.read or Image.write"
            raise RuntimeError(msg)
        return self._reader

    def __repr__(self) -> str:
        return f"Image({self.file_path!r}, mode={self.mode!r})" if self.file_path else "Image()"

    def __str__(self) -> str:
        """The official package's text: ``Image``, then ``file_path``, ``mode``, ``spacing``, ``data_type``."""
        def text(field: str) -> str:
            return str(getattr(self, field)) if self._reader is not None else "None"

        return "\n".join(["Image", *(f"    {f}: {text(f)}" for f in ("file_path", "mode", "spacing", "data_type"))])
