"""Layout of movies and images (type 0 / 4): stored frames, one after another.

Only valid frames are stored. Time index ``i`` maps to stored frame
``j(i) = i - (number of invalid indices before i)``. Each stored frame is
``rows * cols`` pixels, row-major, optionally wrapped in a 2560-value uint16
sensor header and footer.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..metadata import Spacing, Timing
from . import PRODUCER, ArrayLayout, DataSetType, IsxdFormatError

__all__ = [
    "FRAME_HEADER_VALUES",
    "MOVIE_DTYPES",
    "MovieLayout",
    "movie_footer",
    "parse_movie_footer",
    "stored_frame_indices",
    "stored_frames_region",
    "stored_indices_of",
    "valid_runs",
]

#: Supported pixel types and their footer ``dataType`` codes.
MOVIE_DTYPES: dict[np.dtype[Any], int] = {
    np.dtype("<u2"): 0,
    np.dtype("<f4"): 1,
    np.dtype("|u1"): 2,
}
_CODE_TO_DTYPE = {code: dt for dt, code in MOVIE_DTYPES.items()}

#: uint16 values in a sensor frame header, and in a frame footer.
FRAME_HEADER_VALUES = 2560
_HEADER_NBYTES = FRAME_HEADER_VALUES * 2


def movie_dtype(dtype: Any) -> np.dtype[Any]:
    """Canonical little-endian dtype for a supported pixel type, else ``ValueError``."""
    dt = np.dtype(dtype).newbyteorder("<") if np.dtype(dtype).itemsize > 1 else np.dtype(dtype)
    for supported in MOVIE_DTYPES:
        if dt == supported:
            return supported
    names = ", ".join(str(d) for d in ("uint16", "float32", "uint8"))
    msg = f"dtype {np.dtype(dtype)} is not a pixel type of .isxd movies; expected one of {names}"
    raise ValueError(msg)


def stored_frame_indices(timing: Timing) -> np.ndarray[Any, Any]:
    """Stored frame number for each time index, or -1 where the frame is not stored."""
    mask = timing.get_valid_samples_mask()
    stored = np.cumsum(mask, dtype=np.int64) - 1
    stored[~mask] = -1
    return stored


def stored_indices_of(invalid: np.ndarray[Any, Any], times: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Stored frame number of each time index in ``times``, or -1 where the frame is not stored.

    Parameters
    ----------
    invalid : numpy.ndarray
        Sorted, disjoint, inclusive ``(first, last)`` rows of invalid indices
        (:func:`isx_dask.layout.fields.invalid_intervals`).
    times : numpy.ndarray
        Time indices (int64).

    Memory and time grow with ``len(times)`` and ``len(invalid)``, never with ``num_samples``.
    """
    times = np.asarray(times, dtype=np.int64)
    if len(invalid) == 0:
        return times.copy()
    lengths = invalid[:, 1] - invalid[:, 0] + 1
    before = np.concatenate([[0], np.cumsum(lengths)])
    k = np.searchsorted(invalid[:, 0], times, side="right")
    inside = (k > 0) & (times <= invalid[np.clip(k - 1, 0, None), 1])
    out: np.ndarray[Any, Any] = times - before[k]
    out[inside] = -1
    return out


def valid_runs(invalid: np.ndarray[Any, Any], start: int, stop: int) -> list[tuple[int, int, int]]:
    """The runs of valid time indices in ``[start, stop)``, as ``(first, stop, stored_first)`` triples.

    Time indices ``first`` to ``stop - 1`` are valid and stored as frames
    ``stored_first`` onwards. ``invalid`` holds sorted, disjoint, inclusive
    ``(first, last)`` rows (:func:`isx_dask.layout.fields.invalid_intervals`); time and
    memory grow with the rows that meet ``[start, stop)``, never with the length of the range.
    """
    if stop <= start:
        return []
    if len(invalid) == 0:
        return [(start, stop, start)]
    firsts, lasts = invalid[:, 0], invalid[:, 1]
    before = np.concatenate([[0], np.cumsum(lasts - firsts + 1)])
    k0 = int(np.searchsorted(lasts, start, side="left"))
    k1 = int(np.searchsorted(firsts, stop, side="left"))
    runs = []
    t = start
    for k in range(k0, k1):
        a, b = int(firsts[k]), int(lasts[k])
        if a > t:
            runs.append((t, a, t - int(before[k])))
        t = max(t, b + 1)
    if t < stop:
        runs.append((t, stop, t - int(before[k1])))
    return runs


class MovieLayout:
    """Byte positions of frames (and sensor headers/footers) in a movie's data section.

    Parameters
    ----------
    timing : Timing
        Which frames exist and which are stored.
    spacing : Spacing
        Frame shape.
    dtype : dtype-like
        Pixel type (uint16, float32 or uint8).
    has_frame_header_footer : bool, default False
        Whether each stored frame is wrapped in a 5120-byte header and footer (uint16 only).
    """

    def __init__(self, timing: Timing, spacing: Spacing, dtype: Any, has_frame_header_footer: bool = False) -> None:
        self.timing = timing
        self.spacing = spacing
        self.dtype = movie_dtype(dtype)
        self.has_frame_header_footer = bool(has_frame_header_footer)
        if self.has_frame_header_footer and self.dtype != np.dtype("<u2"):
            msg = f"frames with sensor headers and footers must be uint16, got dtype {self.dtype}"
            raise ValueError(msg)
        rows, cols = spacing.num_pixels
        self.frame_shape = (rows, cols)
        self.pixel_nbytes = rows * cols * self.dtype.itemsize
        pad = _HEADER_NBYTES if self.has_frame_header_footer else 0
        self._pad = pad
        self.frame_nbytes = self.pixel_nbytes + 2 * pad
        self.num_stored = timing.num_valid_samples

    @property
    def data_size(self) -> int:
        """``D``: bytes of the data section."""
        return self.num_stored * self.frame_nbytes

    def frame_offset(self, stored_index: int) -> int:
        """File offset of the pixels of stored frame ``stored_index``."""
        return stored_index * self.frame_nbytes + self._pad

    def frames(self) -> ArrayLayout:
        """The stored frames as a ``(num_stored, rows, cols)`` array."""
        rows, cols = self.frame_shape
        item = self.dtype.itemsize
        return ArrayLayout(self._pad, (self.num_stored, rows, cols), self.dtype.str, (self.frame_nbytes, cols * item, item))

    def headers(self) -> ArrayLayout:
        """Sensor headers as a ``(num_stored, 2560)`` uint16 array."""
        self._require_headers()
        return ArrayLayout(0, (self.num_stored, FRAME_HEADER_VALUES), "<u2", (self.frame_nbytes, 2))

    def footers(self) -> ArrayLayout:
        """Sensor footers as a ``(num_stored, 2560)`` uint16 array."""
        self._require_headers()
        offset = _HEADER_NBYTES + self.pixel_nbytes
        return ArrayLayout(offset, (self.num_stored, FRAME_HEADER_VALUES), "<u2", (self.frame_nbytes, 2))

    def _require_headers(self) -> None:
        if not self.has_frame_header_footer:
            msg = "this movie has no sensor frame headers or footers"
            raise IsxdFormatError(msg)


def movie_footer(
    timing: Timing,
    spacing: Spacing,
    dtype: Any,
    extra_properties: Any = None,
    has_frame_header_footer: bool = False,
) -> dict[str, Any]:
    """The footer of a movie (or, with ``num_samples <= 1``, an image).

    The keys and values are those the official writer emits (the ``type`` is
    Image when there is at most one sample), with this package as ``producer``.
    """
    return {
        "dataType": MOVIE_DTYPES[movie_dtype(dtype)],
        "extraProperties": extra_properties,
        "fileVersion": 1,
        "hasFrameHeaderFooter": bool(has_frame_header_footer),
        "producer": PRODUCER,
        "spacingInfo": spacing.to_dict(),
        "timingInfo": timing.to_dict(),
        "type": int(DataSetType.MOVIE if timing.num_samples > 1 else DataSetType.IMAGE),
    }


def parse_movie_footer(metadata: Mapping[str, Any]) -> MovieLayout:
    """Read a movie footer as the official reader does, and return its layout.

    Raises
    ------
    IsxdFormatError
        If it is not a movie or image footer, or a required key is missing.
    """
    from .fields import footer_int, footer_timing_spacing

    kind = metadata.get("type")
    if kind not in (DataSetType.MOVIE, DataSetType.IMAGE):
        msg = f"expected a movie or image (type 0 or 4), got type {kind!r}"
        raise IsxdFormatError(msg)
    timing, spacing = footer_timing_spacing(metadata, ("dataType",), "movie footer")
    code = metadata["dataType"]
    if isinstance(code, bool) or not isinstance(code, (int, float)) or code not in _CODE_TO_DTYPE:
        msg = f"movie dataType {code!r:.80} is not supported; expected 0 (uint16), 1 (float32) or 2 (uint8)"
        raise IsxdFormatError(msg)
    # The official reader ignores hasFrameHeaderFooter in files without a fileVersion.
    version = footer_int(metadata["fileVersion"], "fileVersion") if "fileVersion" in metadata else 0
    hhf = False
    if version >= 1:
        flag = metadata.get("hasFrameHeaderFooter")
        if not isinstance(flag, bool):
            msg = f"movie footer key 'hasFrameHeaderFooter' must be true or false when fileVersion >= 1, got {flag!r:.80}"
            raise IsxdFormatError(msg)
        hhf = flag
    try:
        return MovieLayout(timing, spacing, _CODE_TO_DTYPE[int(code)], hhf)
    except ValueError as err:  # frame headers on a non-uint16 movie
        raise IsxdFormatError(str(err)) from None


def stored_frames_region(layout: MovieLayout, start_frame: int, num_frames: int) -> tuple[np.ndarray[Any, Any], ArrayLayout, tuple[int, int]]:
    """Where the frames of time indices ``start_frame .. start_frame + num_frames - 1`` are stored.

    Frames at dropped, cropped or blank indices are not stored.

    Parameters
    ----------
    layout : MovieLayout
        The movie.
    start_frame, num_frames : int
        First time index and number of frames (``0 <= start_frame <= num_samples - num_frames``).

    Returns
    -------
    kept : numpy.ndarray
        Positions, within the ``num_frames`` frames, of those that are stored.
    region : ArrayLayout
        Where those stored frames live, as a ``(len(kept), rows, cols)`` array.
    stored : tuple of int
        ``(first, stop)``: the range of stored-frame numbers they occupy.

    Raises
    ------
    ValueError
        If the frames do not fit in the movie's time indices.
    """
    num_samples = layout.timing.num_samples
    if not (0 <= num_frames and 0 <= start_frame <= num_samples - num_frames):
        msg = f"start_frame={start_frame} with {num_frames} frames does not fit in the movie's {num_samples} samples"
        raise ValueError(msg)
    valid = layout.timing.get_valid_samples_mask()
    first = int(np.count_nonzero(valid[:start_frame]))
    kept = np.flatnonzero(valid[start_frame : start_frame + num_frames])
    whole = layout.frames()
    count = int(kept.size)
    region = ArrayLayout(whole.offset + first * whole.strides[0], (count,) + whole.shape[1:], whole.dtype, whole.strides)
    return kept, region, (first, first + count)
