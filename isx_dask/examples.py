"""Synthetic calcium-imaging data, built lazily with Dask, for the demo, notebooks and tests."""

from __future__ import annotations

import datetime as _dt
import functools
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from .metadata import Duration, Spacing, Time, Timing

__all__ = ["SyntheticRecording", "synthetic_recording"]

#: Start of the synthetic recordings unless another is given: a real date and UTC offset.
DEFAULT_START = _dt.datetime(2024, 3, 14, 9, 26, 53, tzinfo=_dt.timezone(_dt.timedelta(hours=-7)))


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
        20 Hz sampling from the recording's start, with its dropped frames.
    spacing : Spacing
        Frame shape with 3-micron pixels.
    cell_names : tuple of str
        ``C00``, ``C01``, ... (as many digits as the cell count needs).
    event_offsets : list of numpy.ndarray
        Per cell, the spike times as int64 microseconds from the start
        (spikes in dropped frames left out: they were not observed).
    event_amplitudes : list of numpy.ndarray
        Per cell, the float32 spike amplitudes (counts) at those times.
    """

    frames: Any
    footprints: np.ndarray[Any, Any]
    traces: np.ndarray[Any, Any]
    timing: Timing
    spacing: Spacing
    cell_names: tuple[str, ...] = ()
    event_offsets: list[np.ndarray[Any, Any]] = field(default_factory=list)
    event_amplitudes: list[np.ndarray[Any, Any]] = field(default_factory=list)

    @property
    def num_events(self) -> int:
        """Total number of events over all cells."""
        return sum(len(o) for o in self.event_offsets)


def _footprints(num_cells: int, rows: int, cols: int, rng: np.random.Generator) -> np.ndarray[Any, Any]:
    y, x = np.mgrid[0:rows, 0:cols].astype(np.float32)
    cy = rng.uniform(0, rows, num_cells).astype(np.float32)
    cx = rng.uniform(0, cols, num_cells).astype(np.float32)
    radius = rng.uniform(3.0, 6.0, num_cells).astype(np.float32)
    out = np.empty((num_cells, rows, cols), np.float32)
    for k in range(num_cells):
        out[k] = np.exp(-((y - cy[k]) ** 2 + (x - cx[k]) ** 2) / (2 * radius[k] ** 2))
    return out


def _spikes(num_cells: int, num_samples: int, rng: np.random.Generator) -> np.ndarray[Any, Any]:
    """``(num_cells, num_samples)`` spike amplitudes, zero where a cell does not fire (about 1% of samples)."""
    fire = rng.random((num_cells, num_samples)) < 0.01
    return fire * rng.uniform(200, 800, (num_cells, num_samples))


def _traces(spikes: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    num_cells, num_samples = spikes.shape
    kernel = np.exp(-np.arange(60) / 12.0)  # about 0.6 s decay at 20 Hz
    traces = np.empty((num_cells, num_samples), np.float32)
    for k in range(num_cells):
        traces[k] = np.convolve(spikes[k], kernel)[:num_samples]
    return traces


def _events(spikes: np.ndarray[Any, Any], timing: Timing) -> tuple[list[np.ndarray[Any, Any]], list[np.ndarray[Any, Any]]]:
    """Per-cell spike offsets (us from the start) and amplitudes, at valid samples only."""
    valid = timing.get_valid_samples_mask()
    period_us = timing.period.to_fraction() * 1_000_000
    offsets, amplitudes = [], []
    for row in spikes:
        index = np.flatnonzero((row > 0) & valid)
        offsets.append(np.array([int(int(i) * period_us) for i in index], dtype=np.int64))
        amplitudes.append(row[index].astype(np.float32))
    return offsets, amplitudes


def _render(block: np.ndarray[Any, Any], *, footprints: np.ndarray[Any, Any], traces: np.ndarray[Any, Any], seed: int, block_info: Any = None) -> np.ndarray[Any, Any]:
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
    start: _dt.datetime | None = None,
    dropped: Sequence[int] = (),
) -> SyntheticRecording:
    """A lazily generated calcium-imaging movie: cells as blobs with transients, plus noise.

    Nothing large is computed until the frames are: each chunk of frames is
    rendered from the footprints and traces when it is needed, and the same
    seed always gives the same pixels, whatever the chunking. The ground
    truth comes with it: footprints, traces, and the spikes as events.

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
    start : datetime.datetime, optional
        Time of the first frame (an aware datetime keeps its UTC offset);
        default 2024-03-14 09:26:53 at UTC-07:00.
    dropped : sequence of int, default ()
        Indices of frames the acquisition dropped (written as missing; their
        rendered pixels are not stored).

    Returns
    -------
    SyntheticRecording

    Examples
    --------
    >>> rec = synthetic_recording(50, (32, 40), num_cells=3)
    >>> rec.frames.shape, rec.frames.dtype
    ((50, 32, 40), dtype('uint16'))
    >>> rec.cell_names
    ('C0', 'C1', 'C2')
    """
    import dask.array as da

    rows, cols = num_pixels
    rng = np.random.default_rng(seed)
    footprints = _footprints(num_cells, rows, cols, rng)
    spikes = _spikes(num_cells, num_samples, rng)
    traces = _traces(spikes)
    template = da.empty((num_samples, rows, cols), dtype=np.uint16, chunks=(chunk_samples, rows, cols))
    render = functools.partial(_render, footprints=footprints, traces=traces, seed=seed)
    frames = template.map_blocks(render, dtype=np.uint16, meta=np.empty((0, 0, 0), np.uint16))
    when = Time.from_datetime(DEFAULT_START if start is None else start)
    timing = Timing(num_samples=num_samples, period=Duration.from_msecs(50), start=when, dropped=tuple(dropped))
    digits = len(str(max(num_cells - 1, 0)))
    names = tuple(f"C{k:0{digits}d}" for k in range(num_cells))
    offsets, amplitudes = _events(spikes, timing)
    return SyntheticRecording(frames, footprints, traces, timing, Spacing(num_pixels=(rows, cols)), names, offsets, amplitudes)
