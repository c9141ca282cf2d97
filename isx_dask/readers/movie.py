"""Reading movies and images lazily: frames as a Dask array, sensor headers and timestamps.

Two rules of the official reader concern movies whose frames carry sensor headers
(``hasFrameHeaderFooter``), and both are available here:

* frame timestamps exist only when ``extraProperties.producer.version`` is a
  version string of at least 1.1.1 (:attr:`MovieFile.has_frame_timestamps`);
  otherwise the official reader raises "No frame timestamps stored in movie.";
* when they exist, the official reader replaces the footer's period by the one the
  timestamps give (:meth:`MovieFile.official_timing`).
"""

from __future__ import annotations

import copy
import re
from typing import Any

import numpy as np

from ..layout import ArrayLayout, IsxdFormatError
from ..layout.fields import invalid_intervals
from ..layout.movie import MovieLayout, parse_movie_footer, stored_indices_of, valid_runs
from ..metadata import Duration, Timing
from ._file import FileIdentity, IsxdFile, check_identity, default_chunks, describe_period, describe_pixel_size, item_index, read_array

__all__ = ["NO_FRAME_TIMESTAMPS", "MovieFile"]

# Header values 1272..1279 hold the 64-bit TSC timestamp as four 16-bit chunks,
# each spread over two values (low nibble << 4, then the high 12 bits).
_TSC_FIRST_VALUE = 1272
_TSC_VALUES = 8
#: The official reader's message for a movie without frame timestamps.
NO_FRAME_TIMESTAMPS = "No frame timestamps stored in movie."
#: Oldest acquisition software whose frame headers hold timestamps, per the official reader.
_TIMESTAMPS_SINCE = (1, 1, 1)
_LEADING_INT = re.compile(r"\s*\+?(\d+)")
_USECS_PER_SEC = 1_000_000


def _version_at_least(text: str, minimum: tuple[int, int, int]) -> bool:
    """``major.minor.patch`` (before any ``-`` suffix; missing parts are 0) compared with ``minimum``.

    A text the official reader cannot parse (``'abc'``) counts as too old.
    """
    parts = text.split("-", 1)[0].split(".")
    numbers = []
    for part in parts[:3]:
        match = _LEADING_INT.match(part)
        if match is None:
            return False
        numbers.append(int(match.group(1)))
    numbers += [0] * (3 - len(numbers))
    return tuple(numbers) >= minimum


def decode_tsc(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """TSC timestamps (uint64 microseconds) from ``(n, 8)`` header values 1272..1279, as the official reader rebuilds them."""
    values = np.asarray(values, dtype=np.uint64)
    low, high = values[:, 0::2], values[:, 1::2]
    chunks = (high << np.uint64(4)) | (low >> np.uint64(4))
    tsc = np.zeros(len(values), dtype=np.uint64)
    for k in range(4):
        tsc |= chunks[:, k] << np.uint64(16 * k)
    return tsc


class _StoredFrames:
    """Array-like view of all ``num_samples`` frames, reading only what is asked for.

    Picklable (path, layout, invalid ranges and file identity), for
    ``dask.array.from_array``; invalid frames read as zeros. Memory per read grows
    with the frames asked for, never with ``num_samples``.
    """

    def __init__(self, path: str, layout: MovieLayout, identity: FileIdentity | None) -> None:
        self.path = path
        self.layout = layout
        self.identity = identity
        self.invalid = invalid_intervals(layout.timing)
        self.shape = (layout.timing.num_samples, *layout.frame_shape)
        self.dtype = layout.dtype
        self.ndim = 3

    def __getitem__(self, key: Any) -> np.ndarray[Any, Any]:
        if not isinstance(key, tuple):
            key = (key,)
        key = key + (slice(None),) * (3 - len(key))
        if not all(isinstance(k, slice) for k in key):
            msg = f"frames are read by slices, got {key!r}"
            raise IndexError(msg)
        start, stop, step = key[0].indices(self.shape[0])
        rows, cols = key[1], key[2]
        shape = (len(range(start, stop, step)), len(range(*rows.indices(self.shape[1]))), len(range(*cols.indices(self.shape[2]))))
        out = np.empty(shape, dtype=self.dtype)
        frames = self.layout.frames()
        if step == 1:  # what Dask asks for: read each run of stored frames at once
            runs = [
                (first - start, end - start, slice(stored, stored + end - first))
                for first, end, stored in valid_runs(self.invalid, start, stop)
            ]
        else:
            times = np.arange(start, stop, step, dtype=np.int64)
            stored = stored_indices_of(self.invalid, times).tolist()
            runs = [(k, k + 1, slice(i, i + 1)) for k, i in enumerate(stored) if i >= 0]
        filled = 0  # invalid frames read as zeros: zero the gaps between runs
        for a, b, _ in runs:
            out[filled:a] = 0
            filled = b
        out[filled:] = 0
        if not runs:
            return out
        with open(self.path, "rb", buffering=0) as f:
            check_identity(self.path, f, self.identity)
            for a, b, stored_slice in runs:
                read_array(self.path, frames, (stored_slice, rows, cols), file=f, out=out[a:b])
        return out


class MovieFile(IsxdFile):
    """A committed movie or image file, read lazily.

    Attributes
    ----------
    frames : dask.array.Array
        ``(num_samples, rows, cols)``; dropped, cropped and blank frames read as zeros
        (:attr:`valid` says which).
    """

    def _check(self) -> None:
        self.layout: MovieLayout = parse_movie_footer(self.metadata)
        self._timing = self.layout.timing
        if self.layout.data_size > self.data_size:
            msg = (
                f"{self.path!r} stores {self.data_size} bytes of frames, but its footer needs "
                f"{self.layout.data_size} ({self.layout.num_stored} frames of {self.layout.frame_nbytes} bytes)"
            )
            raise IsxdFormatError(msg)

    @property
    def dtype(self) -> np.dtype[Any]:
        """Pixel type."""
        return self.layout.dtype

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(num_samples, rows, cols)``."""
        return (self.layout.timing.num_samples, *self.layout.frame_shape)

    @property
    def has_frame_header_footer(self) -> bool:
        """Whether stored frames carry 2560-value sensor headers and footers."""
        return self.layout.has_frame_header_footer

    def to_dask(self, chunks: Any = None) -> Any:
        """The frames as a Dask array; ``chunks`` defaults to about 64 MiB along time."""
        import dask.array as da
        from dask.base import tokenize

        self._require_open()
        if chunks is None:
            chunks = default_chunks(self.shape, self.dtype.itemsize)
        source = _StoredFrames(self.path, self.layout, self.identity)
        name = "isxd-frames-" + tokenize(self.path, self.identity, self.data_size, chunks)
        meta = np.empty((0, 0, 0), dtype=self.dtype)
        return da.from_array(source, chunks=chunks, name=name, meta=meta, asarray=False, fancy=False)  # type: ignore[no-untyped-call]

    @property
    def frames(self) -> Any:
        """All frames as a lazy Dask array (see :meth:`to_dask`)."""
        return self.to_dask()

    def get_frame(self, index: int) -> np.ndarray[Any, Any]:
        """Frame ``index`` as a NumPy array (zeros if the frame is not stored)."""
        self._require_open()
        index = item_index(index, self.shape[0], "index", "movie has num_samples")
        frame: np.ndarray[Any, Any] = _StoredFrames(self.path, self.layout, self.identity)[index : index + 1][0]
        return frame

    def headers(self) -> np.ndarray[Any, Any]:
        """Sensor headers of the stored frames, ``(num_stored, 2560)`` uint16."""
        self._require_open()
        return self._read(self.layout.headers())

    def footers(self) -> np.ndarray[Any, Any]:
        """Sensor footers of the stored frames, ``(num_stored, 2560)`` uint16."""
        self._require_open()
        return self._read(self.layout.footers())

    # -- frame timestamps (official rules) --------------------------------------------------
    @property
    def has_frame_timestamps(self) -> bool:
        """Whether the official reader gives frame timestamps for this movie.

        True when frames carry sensor headers, ``extraProperties`` is an object and
        ``extraProperties.producer.version`` is a version string of at least 1.1.1
        (text before a ``-`` suffix; missing parts count as 0).
        """
        if not self.has_frame_header_footer:
            return False
        extra = self.extra_properties
        producer = extra.get("producer") if isinstance(extra, dict) else None
        version = producer.get("version") if isinstance(producer, dict) else None
        return isinstance(version, str) and _version_at_least(version, _TIMESTAMPS_SINCE)

    def _tsc_layout(self) -> ArrayLayout:
        headers = self.layout.headers()
        return ArrayLayout(
            headers.offset + 2 * _TSC_FIRST_VALUE, (headers.shape[0], _TSC_VALUES), "<u2", (headers.strides[0], 2)
        )

    def _stored_tsc(self, first: int, stop: int) -> np.ndarray[Any, Any]:
        """TSC timestamps of stored frames ``first`` to ``stop - 1`` (reads 16 bytes per frame)."""
        return decode_tsc(self._read(self._tsc_layout(), (slice(first, stop), slice(None))))

    def frame_timestamps(self, *, ignore_producer_version: bool = False) -> np.ndarray[Any, Any]:
        """TSC timestamps in microseconds for all ``num_samples`` frames (0 where a frame is not stored).

        Parameters
        ----------
        ignore_producer_version : bool, default False
            Decode the timestamps of any movie with frame headers, even where the
            official reader says there are none (see :attr:`has_frame_timestamps`).

        Raises
        ------
        IsxdFormatError
            ``"No frame timestamps stored in movie."`` where the official reader raises it
            (or, with ``ignore_producer_version``, where frames have no headers).
        """
        self._require_open()
        available = self.has_frame_header_footer if ignore_producer_version else self.has_frame_timestamps
        if not available:
            raise IsxdFormatError(NO_FRAME_TIMESTAMPS)
        tsc = self._stored_tsc(0, self.layout.num_stored)
        stored = stored_indices_of(invalid_intervals(self.timing), np.arange(self.shape[0], dtype=np.int64))
        out = np.zeros(len(stored), dtype=np.uint64)
        out[stored >= 0] = tsc[stored[stored >= 0]]
        return out

    def frame_timestamp(self, index: int) -> int:
        """TSC timestamp in microseconds of frame ``index`` (0 if the frame is not stored), as ``get_frame_timestamp``.

        Reads 16 bytes.

        Raises
        ------
        IsxdFormatError
            ``"No frame timestamps stored in movie."`` where the official reader raises it.
        IndexError
            If ``index`` is not in ``[0, num_samples)`` (the official reader refuses negative indices too).
        """
        self._require_open()
        if not self.has_frame_timestamps:
            raise IsxdFormatError(NO_FRAME_TIMESTAMPS)
        n = self.shape[0]
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            msg = f"index must be an integer, got {index!r}"
            raise TypeError(msg)
        if not 0 <= index < n:
            msg = f"The index of the frame ({index}) is out of range (0-{n - 1})."
            raise IndexError(msg)
        stored = int(stored_indices_of(invalid_intervals(self.timing), np.array([index], dtype=np.int64))[0])
        return 0 if stored < 0 else int(self._stored_tsc(stored, stored + 1)[0])

    def _first_last_valid(self) -> tuple[int, int] | None:
        """First and last valid time indices, or None if no frame is valid."""
        n = self.shape[0]
        invalid = invalid_intervals(self.timing).tolist()
        first = 0
        for a, b in invalid:
            if a <= first <= b:
                first = b + 1
            elif a > first:
                break
        last = n - 1
        for a, b in reversed(invalid):
            if a <= last <= b:
                last = a - 1
            elif b < last:
                break
        return (first, last) if first <= last and first < n else None

    def official_timing(self) -> Timing:
        """The timing the official reader reports.

        Where the movie has frame timestamps (:attr:`has_frame_timestamps`), the
        official reader replaces the footer's period by the one the timestamps
        give: with ``f0``, ``f1`` the first and last valid time indices, if
        ``f1 - f0 > 1`` and ``tsc(f0) < tsc(f1)``, the period is
        ``(tsc(f1) - tsc(f0)) / ((f1 - f0) * 10**6)`` seconds, not reduced
        (for example ``149700/3000000``). Otherwise this is :attr:`timing`.
        """
        timing = self.timing
        if not self.has_frame_timestamps:
            return timing
        ends = self._first_last_valid()
        if ends is None or ends[1] - ends[0] <= 1:
            return timing
        f0, f1 = ends
        stored = stored_indices_of(invalid_intervals(timing), np.array([f0, f1], dtype=np.int64))
        tsc0 = int(self._stored_tsc(int(stored[0]), int(stored[0]) + 1)[0])
        tsc1 = int(self._stored_tsc(int(stored[1]), int(stored[1]) + 1)[0])
        if not tsc0 < tsc1:
            return timing
        official = copy.copy(timing)
        object.__setattr__(official, "period", Duration(tsc1 - tsc0, (f1 - f0) * _USECS_PER_SEC))
        return official

    def _repr_fields(self) -> list[str]:
        fields = [f"shape={self.shape}", f"dtype={self.dtype}", f"period={describe_period(self.timing)}"]
        fields.append(f"pixel_size={describe_pixel_size(self.layout.spacing)}")
        invalid = self.shape[0] - self.layout.num_stored
        if invalid:
            fields.append(f"invalid_frames={invalid}")
        return fields

    def to_xarray(self, *, chunks: Any = None) -> Any:
        """The movie as an ``xarray.Dataset`` with lazy ``frames(time, y, x)``; see :mod:`isx_dask.xarray_backend`."""
        from ..xarray_backend import movie_to_xarray

        return movie_to_xarray(self, chunks=chunks)
