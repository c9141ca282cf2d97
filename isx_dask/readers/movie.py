"""Reading movies and images lazily: frames as a Dask array, sensor headers and timestamps."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..layout import IsxdFormatError
from ..layout.movie import MovieLayout, parse_movie_footer, stored_frame_indices
from ._file import IsxdFile, read_array

__all__ = ["MovieFile"]

_READ_CHUNK_NBYTES = 64 * 2**20
# Header values 1272..1279 hold the 64-bit TSC timestamp as four 16-bit chunks,
# each spread over two values (low nibble << 4, then the high 12 bits).
_TSC_FIRST_VALUE = 1272


class _StoredFrames:
    """Array-like view of all ``num_samples`` frames, reading only what is asked for.

    Picklable (path and layout only), for ``dask.array.from_array``; invalid frames read as zeros.
    """

    def __init__(self, path: str, layout: MovieLayout) -> None:
        self.path = path
        self.layout = layout
        self.stored = stored_frame_indices(layout.timing)
        self.shape = (layout.timing.num_samples, *layout.frame_shape)
        self.dtype = layout.dtype
        self.ndim = 3

    def __getitem__(self, key: tuple[slice, ...]) -> np.ndarray:
        if not isinstance(key, tuple):
            key = (key,)
        key = key + (slice(None),) * (3 - len(key))
        times = np.arange(self.shape[0])[key[0]]
        rows, cols = key[1], key[2]
        frames = self.layout.frames()
        out = np.zeros((len(times), *np.empty(self.layout.frame_shape)[rows, cols].shape), dtype=self.dtype)
        stored = self.stored[times]
        k = 0
        while k < len(times):
            if stored[k] < 0:
                k += 1
                continue
            end = k + 1
            while end < len(times) and stored[end] == stored[end - 1] + 1:
                end += 1
            out[k:end] = read_array(self.path, frames, (slice(int(stored[k]), int(stored[end - 1]) + 1), rows, cols))
            k = end
        return out


class MovieFile(IsxdFile):
    """A committed movie or image file, read lazily.

    Attributes
    ----------
    frames : dask.array.Array
        ``(num_samples, rows, cols)``; dropped, cropped and blank frames read as zeros.
    """

    def _check(self) -> None:
        self.layout: MovieLayout = parse_movie_footer(self.metadata)
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

        if chunks is None:
            per_frame = max(1, self.layout.pixel_nbytes)
            chunks = (max(1, _READ_CHUNK_NBYTES // per_frame), *self.layout.frame_shape)
        source = _StoredFrames(self.path, self.layout)
        name = "isxd-frames-" + tokenize(self.path, self.metadata, self.data_size, chunks)
        meta = np.empty((0, 0, 0), dtype=self.dtype)
        return da.from_array(source, chunks=chunks, name=name, meta=meta, asarray=False, fancy=False)  # type: ignore[no-untyped-call]

    @property
    def frames(self) -> Any:
        """All frames as a lazy Dask array (see :meth:`to_dask`)."""
        return self.to_dask()

    def get_frame(self, index: int) -> np.ndarray:
        """Frame ``index`` as a NumPy array (zeros if the frame is not stored)."""
        n = self.shape[0]
        if not -n <= index < n:
            msg = f"index {index} is out of range; the movie has num_samples={n}"
            raise IndexError(msg)
        index %= n
        return _StoredFrames(self.path, self.layout)[index : index + 1][0]  # type: ignore[no-any-return, index]

    def headers(self) -> np.ndarray:
        """Sensor headers of the stored frames, ``(num_stored, 2560)`` uint16."""
        layout = self.layout.headers()
        return read_array(self.path, layout, (slice(None), slice(None)))

    def footers(self) -> np.ndarray:
        """Sensor footers of the stored frames, ``(num_stored, 2560)`` uint16."""
        layout = self.layout.footers()
        return read_array(self.path, layout, (slice(None), slice(None)))

    def frame_timestamps(self) -> np.ndarray | None:
        """TSC timestamps in microseconds for all ``num_samples`` frames (0 where not stored).

        ``None`` if the movie has no sensor frame headers.
        """
        if not self.has_frame_header_footer:
            return None
        values = self.headers()[:, _TSC_FIRST_VALUE : _TSC_FIRST_VALUE + 8].astype(np.uint64)
        low, high = values[:, 0::2], values[:, 1::2]
        chunks = (high << np.uint64(4)) | (low >> np.uint64(4))
        tsc = np.zeros(len(values), dtype=np.uint64)
        for k in range(4):
            tsc |= (chunks[:, k] & np.uint64(0xFFFF)) << np.uint64(16 * k)
        stored = stored_frame_indices(self.layout.timing)
        out = np.zeros(len(stored), dtype=np.uint64)
        out[stored >= 0] = tsc[stored[stored >= 0]]
        return out

    def __repr__(self) -> str:
        return f"MovieFile({self.path!r}, shape={self.shape}, dtype={self.dtype}, timing={self.timing!r})"


