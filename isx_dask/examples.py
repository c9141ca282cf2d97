"""Synthetic calcium-imaging data, built lazily with Dask, for the demo, notebooks and tests."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from .metadata import Duration, Spacing, Timing

__all__ = ["SyntheticRecording", "synthetic_recording"]


@dataclass(frozen=True)
class SyntheticRecording:
    """A synthetic recording and its ground truth.

    Attributes
    ----------
    frames : dask.array.Array
        ``(num_samples, rows, cols)`` uint16 movie, computed chunk by chunk on demand.
    footprints : numpy.ndarray
        ``(num_cells, rows, cols)`` float32 cell footprints (Gaussian blobs, peak 1).
    traces : numpy.ndarray
        ``(num_cells, num_samples)`` float32 calcium traces (dF, in counts).
    timing : Timing
        20 Hz sampling.
    spacing : Spacing
        Frame shape with 3-micron pixels.
    """

    frames: Any
    footprints: np.ndarray
    traces: np.ndarray
    timing: Timing
    spacing: Spacing


def _footprints(num_cells: int, rows: int, cols: int, rng: np.random.Generator) -> np.ndarray:
    y, x = np.mgrid[0:rows, 0:cols].astype(np.float32)
    cy = rng.uniform(0, rows, num_cells).astype(np.float32)
    cx = rng.uniform(0, cols, num_cells).astype(np.float32)
    radius = rng.uniform(3.0, 6.0, num_cells).astype(np.float32)
    out = np.empty((num_cells, rows, cols), np.float32)
    for k in range(num_cells):
        out[k] = np.exp(-((y - cy[k]) ** 2 + (x - cx[k]) ** 2) / (2 * radius[k] ** 2))
    return out


def _traces(num_cells: int, num_samples: int, rng: np.random.Generator) -> np.ndarray:
    spikes = (rng.random((num_cells, num_samples)) < 0.01) * rng.uniform(200, 800, (num_cells, num_samples))
    kernel = np.exp(-np.arange(60) / 12.0)  # about 0.6 s decay at 20 Hz
    traces = np.empty((num_cells, num_samples), np.float32)
    for k in range(num_cells):
        traces[k] = np.convolve(spikes[k], kernel)[:num_samples]
    return traces


def _render(block: np.ndarray, *, footprints: np.ndarray, traces: np.ndarray, seed: int, block_info: Any = None) -> np.ndarray:
    (t0, t1), (r0, r1), (c0, c1) = block_info[None]["array-location"]
    rng = np.random.default_rng([seed, t0, r0, c0])
    out = rng.standard_normal((t1 - t0, r1 - r0, c1 - c0), dtype=np.float32)
    out *= 30.0
    out += 1000.0
    for k in range(len(footprints)):
        # Each footprint is a small blob: add it only where it is not negligible.
        rows, cols = np.nonzero(footprints[k, r0:r1, c0:c1] > 1e-3)
        if rows.size == 0:
            continue
        ra, rb, ca, cb = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
        patch = footprints[k, r0 + ra : r0 + rb, c0 + ca : c0 + cb]
        out[:, ra:rb, ca:cb] += traces[k, t0:t1, None, None] * patch
    return np.clip(out, 0, 65535).astype(np.uint16)


def synthetic_recording(
    num_samples: int = 1000,
    num_pixels: tuple[int, int] = (256, 320),
    num_cells: int = 40,
    *,
    seed: int = 0,
    chunk_samples: int = 100,
) -> SyntheticRecording:
    """A lazily generated calcium-imaging movie: cells as blobs with transients, plus noise.

    Nothing large is computed until the frames are: each chunk of frames is
    rendered from the footprints and traces when it is needed, and the same
    seed always gives the same pixels, whatever the chunking.

    Parameters
    ----------
    num_samples : int, default 1000
        Number of frames.
    num_pixels : (int, int), default (256, 320)
        Frame ``(rows, cols)``.
    num_cells : int, default 40
        Number of cells.
    seed : int, default 0
        Random seed.
    chunk_samples : int, default 100
        Frames per Dask chunk.

    Returns
    -------
    SyntheticRecording

    Examples
    --------
    >>> rec = synthetic_recording(50, (32, 40), num_cells=3)
    >>> rec.frames.shape, rec.frames.dtype
    ((50, 32, 40), dtype('uint16'))
    """
    import dask.array as da

    rows, cols = num_pixels
    rng = np.random.default_rng(seed)
    footprints = _footprints(num_cells, rows, cols, rng)
    traces = _traces(num_cells, num_samples, rng)
    template = da.empty((num_samples, rows, cols), dtype=np.uint16, chunks=(chunk_samples, rows, cols))
    render = functools.partial(_render, footprints=footprints, traces=traces, seed=seed)
    frames = template.map_blocks(render, dtype=np.uint16, meta=np.empty((0, 0, 0), np.uint16))
    timing = Timing(num_samples=num_samples, period=Duration.from_msecs(50))
    return SyntheticRecording(frames, footprints, traces, timing, Spacing(num_pixels=(rows, cols)))
