"""CaImAn memory-mapped movies (``*_d1_<rows>_d2_<cols>_d3_1_order_<C|F>_frames_<T>_.mmap``) to ``.isxd``.

CaImAn stores a movie as a raw float32 matrix of shape ``(pixels, frames)``
with no header; the frame shape, the number of frames and the matrix order
are in the file name. ``d1`` is the number of rows and ``d2`` the number of
columns, and the pixel index runs in Fortran order (``row + col * d1``): frame
``t`` is ``Yr[:, t].reshape((d1, d2), order='F')``. ``order_F`` files keep
each frame contiguous; ``order_C`` files keep each pixel's trace contiguous, so
reading frames from them is strided (slower, same memory).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np

from ..layout import IsxdFormatError
from ..metadata import Spacing, Time
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
    frames_per_chunk,
    make_timing,
    read_metadata_from,
    write_recording,
)

if TYPE_CHECKING:
    from dask.delayed import Delayed
    from typing_extensions import Unpack

    from ..writers._options import StoreOptions

    class _MmapOptions(StoreOptions, total=False):
        period: Any
        pixel_size: Any
        start: Time | None
        dtype: Any
        casting: str
        extra_properties: Any
        metadata_from: PathLike | None

__all__ = ["caiman_mmap_to_isxd", "parse_caiman_mmap_name", "read_caiman_mmap"]

_NAME = re.compile(r"_d1_(\d+)_d2_(\d+)_d3_(\d+)_order_([CF])_frames_(\d+)_?\.mmap$")
_ITEMSIZE = 4  # CaImAn always writes float32


def parse_caiman_mmap_name(mmap_path: PathLike) -> tuple[int, int, int, Literal["C", "F"], int]:
    """``(d1, d2, d3, order, num_frames)`` from a CaImAn ``.mmap`` file name.

    Raises
    ------
    IsxdFormatError
        The name does not end in ``_d1_<n>_d2_<n>_d3_<n>_order_<C|F>_frames_<n>_.mmap``.
    """
    name = os.path.basename(os.fspath(mmap_path))
    match = _NAME.search(name)
    if match is None:
        msg = (
            f"mmap_path {name!r} is not named as CaImAn names memory-mapped movies "
            f"('<base>_d1_<rows>_d2_<cols>_d3_1_order_<C|F>_frames_<frames>_.mmap'); its shape cannot be known"
        )
        raise IsxdFormatError(msg)
    d1, d2, d3, order, frames = match.groups()
    return int(d1), int(d2), int(d3), "C" if order == "C" else "F", int(frames)


@dataclass(frozen=True)
class _MmapFrames:
    """A picklable recipe for frames of a CaImAn ``.mmap``; each read maps the file anew."""

    path: str
    rows: int
    cols: int
    num_frames: int
    order: Literal["C", "F"]

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.num_frames, self.rows, self.cols)

    @property
    def dtype(self) -> np.dtype[Any]:
        return np.dtype(np.float32)

    @property
    def ndim(self) -> int:
        return 3

    def __getitem__(self, key: tuple[slice, slice, slice]) -> np.ndarray[Any, Any]:
        npix = self.rows * self.cols
        yr = np.memmap(self.path, mode="r", dtype=np.float32, shape=(npix, self.num_frames), order=self.order)
        try:
            block = np.array(yr[:, key[0]])  # (pixels, k): the one read of the file
        finally:
            del yr
        k = block.shape[1]
        # pixel p = row + col * rows, so (k, cols, rows) in C order is the frame transposed
        frames = block.T.reshape(k, self.cols, self.rows).transpose(0, 2, 1)
        return np.ascontiguousarray(frames[:, key[1], key[2]])


def read_caiman_mmap(
    mmap_path: PathLike,
    *,
    period: Any,
    pixel_size: Any,
    start: Time | None = None,
) -> Recording:
    """Read a CaImAn ``.mmap`` lazily as a Recording; see :func:`caiman_mmap_to_isxd`."""
    import dask.array as da

    path = os.fspath(mmap_path)
    d1, d2, d3, order, num_frames = parse_caiman_mmap_name(path)
    if d3 != 1:
        msg = f"mmap_path {os.path.basename(path)!r} holds 3-D frames (d3={d3}); an .isxd movie holds 2-D frames"
        raise ValueError(msg)
    if not os.path.isfile(path):
        msg = f"mmap_path {path!r} does not exist or is not a file"
        raise FileNotFoundError(msg)
    expected = d1 * d2 * num_frames * _ITEMSIZE
    size = os.path.getsize(path)
    if size != expected:
        msg = (
            f"mmap_path {os.path.basename(path)!r} is {size} bytes, but its name says {d1}x{d2} pixels x "
            f"{num_frames} frames of float32 = {expected} bytes; the file is truncated or misnamed"
        )
        raise IsxdFormatError(msg)
    if period is None:
        msg = "period is required: a CaImAn .mmap does not store its frame interval; pass period= (seconds, a Fraction or a Duration) or metadata_from="
        raise ValueError(msg)
    if pixel_size is None:
        msg = "pixel_size is required: a CaImAn .mmap does not store its pixel size; pass pixel_size= in microns or metadata_from="
        raise ValueError(msg)
    source = _MmapFrames(path, d1, d2, num_frames, order)
    step = frames_per_chunk((num_frames, d1, d2), np.float32)
    frames = da.from_array(  # type: ignore[no-untyped-call]
        source, chunks=(step, d1, d2), asarray=True, fancy=False, meta=np.empty((0, 0, 0), dtype=np.float32),
        name=f"caiman-mmap-{path}-{os.stat(path).st_mtime_ns}",
    )
    extra = {"source": {"format": "CaImAn mmap", "file": os.path.basename(path), "order": order}}
    return Recording(
        frames=frames,
        timing=make_timing(num_frames, as_duration(period), start),
        spacing=Spacing(num_pixels=(d1, d2), pixel_size=as_pixel_size(pixel_size)),
        extra_properties=extra,
        name=path,
    )


@overload
def caiman_mmap_to_isxd(
    mmap_path: PathLike, path: PathLike, *, compute: Literal[False], **options: Unpack[_MmapOptions],
) -> Delayed: ...
@overload
def caiman_mmap_to_isxd(
    mmap_path: PathLike, path: PathLike, *, compute: Literal[True] = ..., **options: Unpack[_MmapOptions],
) -> None: ...


@fill_doc
def caiman_mmap_to_isxd(
    mmap_path: PathLike,
    path: PathLike,
    *,
    period: Any = None,
    pixel_size: Any = None,
    start: Time | None = None,
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
    """Convert a CaImAn memory-mapped movie (``.mmap``) to a float32 ``.isxd`` movie, out of core.

    Parameters
    ----------
    mmap_path : str or os.PathLike
        A file CaImAn's ``save_memmap`` wrote, named
        ``<base>_d1_<rows>_d2_<cols>_d3_1_order_<C|F>_frames_<frames>_.mmap``.
    path : str or os.PathLike
        Output ``.isxd`` file.
    period : float, fractions.Fraction or Duration
        Time between frames in seconds (the file does not store it). Required
        unless ``metadata_from`` is given.
    pixel_size : number or (number, number)
        Pixel (height, width) in microns (the file does not store it). Required
        unless ``metadata_from`` is given.
    start : Time, optional
        Time of the first frame; the epoch if not given.
    dtype : {numpy.float32, numpy.uint16, numpy.uint8}, optional
        Store as this type; under the default ``casting='same_value'`` only
        if every value survives (checked as the chunks are written).
    casting : str, default 'same_value'
        As in :func:`isx_dask.write_movie`.
    extra_properties : JSON-serialisable, optional
        The footer's ``extraProperties``; defaults to those of ``metadata_from``.
    metadata_from : str or os.PathLike, optional
        The ``.isxd`` movie CaImAn read (for example before motion correction):
        its period, pixel size and start are used where not given, and its
        dropped, cropped and blank frames are kept (the ``.mmap`` holds either
        all of its samples or only its valid ones).
    {options}

    Returns
    -------
    None or dask.delayed.Delayed
        ``None`` if ``compute`` is True.

    Raises
    ------
    IsxdFormatError
        The name does not follow CaImAn's pattern, or the size does not match it.
    FileNotFoundError
        ``mmap_path`` does not exist.
    ValueError
        3-D frames (``d3`` > 1), a missing ``period`` or ``pixel_size``, and
        everything :func:`isx_dask.write_movie` refuses.

    See Also
    --------
    isx_dask.write_movie : the writer every conversion goes through.

    Examples
    --------
    >>> caiman_mmap_to_isxd("Yr_d1_512_d2_512_d3_1_order_F_frames_1000_.mmap", "mc.isxd",
    ...                     period=Fraction(1, 20), pixel_size=1.2)  # doctest: +SKIP
    """
    origin = read_metadata_from(metadata_from)
    if origin is not None:
        period = origin.timing.period if period is None else period
        pixel_size = origin.spacing.pixel_size if pixel_size is None else pixel_size
        start = origin.timing.start if start is None else start
    recording = read_caiman_mmap(mmap_path, period=period, pixel_size=pixel_size, start=start)
    recording = apply_metadata_from(recording, origin, extra_properties)
    return write_recording(
        recording, path, dtype=dtype, casting=casting, overwrite=overwrite, compute=compute, fsync=fsync,
        resume=resume, reserve=reserve, write_method=write_method, compute_kwargs=compute_kwargs,
    )

