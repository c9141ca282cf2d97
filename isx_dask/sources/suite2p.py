"""suite2p results (a ``plane0/`` folder of ``.npy`` files) to an Inscopix cell set and event set."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Sequence, overload

import numpy as np

from ..layout import IsxdFormatError
from ..metadata import Spacing, Timing
from ._recording import PathLike
from ._results import (
    NpyArray,
    cell_chunks,
    check_outputs,
    check_threshold,
    events_from_dense,
    lazy_cells,
    lazy_traces,
    resolve_metadata,
    sparse_block,
    write_results,
)

if TYPE_CHECKING:
    from dask.delayed import Delayed
    from typing_extensions import Unpack

    from ._results import EventResultOptions

    class _Suite2pOptions(EventResultOptions, total=False):
        subtract_neuropil: bool | float

__all__ = ["suite2p_to_isxd"]

_SOURCE = "suite2p"


def _load_pickled(path: Path, what: str) -> Any:
    if not path.is_file():
        msg = f"{path} not found: a suite2p plane folder holds {what}"
        raise FileNotFoundError(msg)
    try:
        return np.load(path, allow_pickle=True)
    except (ValueError, OSError, EOFError) as err:
        msg = f"{path} is not a .npy file numpy can read: {err}"
        raise IsxdFormatError(msg) from err


def _read_ops(path: Path) -> dict[str, Any]:
    ops = _load_pickled(path, "ops.npy (the run's options and image size)")
    if isinstance(ops, np.ndarray) and ops.shape == () and ops.dtype.hasobject:
        ops = ops.item()
    if not isinstance(ops, dict):
        msg = f"{path} must hold a pickled dict (suite2p's ops), got {type(ops).__name__}"
        raise IsxdFormatError(msg)
    for key in ("Ly", "Lx"):
        value = ops.get(key)
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or int(value) <= 0:
            msg = f"{path}: ops[{key!r}] must be a positive integer (the frame size), got {value!r}"
            raise IsxdFormatError(msg)
    return ops


def _read_stat(path: Path, frame_shape: tuple[int, int]) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Every ROI's pixels as (cell_starts, row-major pixel indices, lam), checked against the frame."""
    stat = _load_pickled(path, "stat.npy (each ROI's ypix, xpix and lam)")
    if not isinstance(stat, np.ndarray) or stat.ndim != 1:
        msg = f"{path} must hold a 1-D array of ROI dicts, got {type(stat).__name__}"
        raise IsxdFormatError(msg)
    rows, cols = frame_shape
    counts = np.zeros(len(stat), dtype=np.int64)
    flat, lam = [], []
    for k, roi in enumerate(stat):
        if not isinstance(roi, dict) or not {"ypix", "xpix", "lam"} <= roi.keys():
            msg = f"{path}: ROI {k} must be a dict with 'ypix', 'xpix' and 'lam'"
            raise IsxdFormatError(msg)
        y, x, w = (np.asarray(roi[key]).ravel() for key in ("ypix", "xpix", "lam"))
        if not (len(y) == len(x) == len(w)):
            msg = f"{path}: ROI {k} has {len(y)} ypix, {len(x)} xpix and {len(w)} lam values; they must be equal"
            raise IsxdFormatError(msg)
        if y.dtype.kind not in "iu" or x.dtype.kind not in "iu" or w.dtype.kind not in "iuf":
            msg = f"{path}: ROI {k} has ypix/xpix of dtype {y.dtype}/{x.dtype} and lam of {w.dtype}; expected integer pixels and real weights"
            raise IsxdFormatError(msg)
        if len(y) and (y.min() < 0 or y.max() >= rows or x.min() < 0 or x.max() >= cols):
            msg = f"{path}: ROI {k} has pixels outside the {rows} x {cols} frame of ops['Ly'], ops['Lx']"
            raise IsxdFormatError(msg)
        counts[k] = len(y)
        flat.append(y.astype(np.int64) * cols + x.astype(np.int64))
        lam.append(w.astype(np.float32))
    starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    pixels = np.concatenate(flat) if flat else np.zeros(0, np.int64)
    weights = np.concatenate(lam) if lam else np.zeros(0, np.float32)
    return starts, pixels, weights


def _read_traces(path: Path, num_cells: int, what: str, num_samples: int | None = None) -> NpyArray:
    if not path.is_file():
        msg = f"{path} not found: it holds {what}"
        raise FileNotFoundError(msg)
    array = NpyArray(path)
    if array.ndim != 2 or array.shape[0] != num_cells or (num_samples is not None and array.shape[1] != num_samples):
        expected = f"({num_cells}, {num_samples if num_samples is not None else 'num_frames'})"
        msg = f"{path} has shape {array.shape}; expected {expected}, one row per ROI of stat.npy"
        raise IsxdFormatError(msg)
    if array.dtype.kind not in "iuf":
        msg = f"{path} has dtype {array.dtype}; expected real numbers"
        raise IsxdFormatError(msg)
    return array


def _read_iscell(path: Path, num_cells: int) -> np.ndarray[Any, Any] | None:
    """``iscell.npy``'s first column as booleans (True accepted), or None if there is no such file."""
    if not path.is_file():
        return None
    iscell = np.load(path, allow_pickle=False)
    if iscell.ndim not in (1, 2) or iscell.shape[0] != num_cells:
        msg = f"{path} has shape {iscell.shape}; expected ({num_cells}, 2): is-cell flag and probability per ROI"
        raise IsxdFormatError(msg)
    flags = iscell[:, 0] if iscell.ndim == 2 else iscell
    return np.asarray(flags != 0)


def _neuropil_coefficient(subtract_neuropil: Any, ops: dict[str, Any], ops_path: Path) -> float | None:
    if subtract_neuropil is False:
        return None
    if subtract_neuropil is True:
        coef = ops.get("neucoeff")
        if coef is None:
            msg = f"{ops_path} has no 'neucoeff'; pass subtract_neuropil=<coefficient> (suite2p's default is 0.7)"
            raise IsxdFormatError(msg)
        label = "ops['neucoeff']"
    else:
        coef, label = subtract_neuropil, "subtract_neuropil"
    if isinstance(coef, (bool, np.bool_)) or not isinstance(coef, (int, float, np.integer, np.floating)) or not np.isfinite(coef):
        msg = f"{label} must be a finite number (the neuropil coefficient), got {coef!r}"
        raise TypeError(msg)
    return float(coef)


def _suite2p_block(cell_starts: np.ndarray[Any, Any], pixels: np.ndarray[Any, Any], lam: np.ndarray[Any, Any], frame_shape: tuple[int, int]) -> np.ndarray[Any, Any]:
    return sparse_block(cell_starts, pixels, lam, frame_shape)


@overload
def suite2p_to_isxd(
    plane_dir: PathLike, cell_set_path: PathLike, event_set_path: PathLike | None = ..., *,
    compute: Literal[False], **options: Unpack[_Suite2pOptions],
) -> Delayed: ...
@overload
def suite2p_to_isxd(
    plane_dir: PathLike, cell_set_path: PathLike, event_set_path: PathLike | None = ..., *,
    compute: Literal[True] = ..., **options: Unpack[_Suite2pOptions],
) -> None: ...


def suite2p_to_isxd(
    plane_dir: PathLike,
    cell_set_path: PathLike,
    event_set_path: PathLike | None = None,
    *,
    timing: Timing | None = None,
    spacing: Spacing | None = None,
    extra_properties: Any = None,
    metadata_from: PathLike | None = None,
    frame_rate: Any = None,
    cell_names: Sequence[str] | None = None,
    statuses: Any = None,
    subtract_neuropil: bool | float = False,
    event_threshold: float = 0.0,
    overwrite: bool = False,
    compute: bool = True,
    fsync: bool = True,
    compute_kwargs: dict[str, Any] | None = None,
) -> Delayed | None:
    """Convert one suite2p plane folder to an ``.isxd`` cell set and, optionally, an event set.

    Reads ``stat.npy`` (each ROI's ``ypix``, ``xpix``, ``lam``), ``ops.npy``
    (``Ly``, ``Lx``, ``fs``, ``neucoeff``), ``F.npy`` (and ``Fneu.npy`` for
    neuropil subtraction), ``iscell.npy`` (if present) and ``spks.npy`` (for
    events). ``F``, ``Fneu`` and ``spks`` are memory-mapped and read chunk by
    chunk; footprints are made one chunk of ROIs at a time inside the Dask
    tasks, so memory does not grow with the number of ROIs or frames.

    Each footprint is a full ``Ly`` x ``Lx`` frame holding ``lam`` at the ROI's
    pixels and 0 elsewhere, as suite2p gives them: pixels shared with other
    ROIs (``overlap``) are kept, and ``lam`` is not rescaled.

    Parameters
    ----------
    plane_dir : str or os.PathLike
        The folder suite2p wrote for one plane (``suite2p/plane0``).
    cell_set_path : str or os.PathLike
        Output cell set, ending in ``.isxd``.
    event_set_path : str or os.PathLike, optional
        Output event set from ``spks.npy``; none is written if omitted.
    timing : Timing, optional
        Timing of the traces; overrides ``metadata_from`` and the frame rate.
    spacing : Spacing, optional
        Footprint spacing; its ``num_pixels`` must be ``(Ly, Lx)``.
    extra_properties : JSON-serialisable, optional
        The footer's ``extraProperties``; defaults to those of ``metadata_from``.
    metadata_from : str or os.PathLike, optional
        The ``.isxd`` movie the ROIs were found in: its timing (start time
        included), pixel size, top-left corner and extra properties are used.
        Its frames must be ``Ly`` x ``Lx`` and its ``num_samples`` the traces' length.
    frame_rate : int, float or Fraction, optional
        Frames per second, instead of ``ops['fs']`` (which is what suite2p was
        told; its default is 10 Hz). Not together with ``timing`` or ``metadata_from``.
        Without ``timing`` or ``metadata_from`` the start is the Unix epoch.
    cell_names : sequence of str, optional
        One unique name per ROI; defaults to ``C0``, ``C1``, ... padded to the
        digits of the largest index, the official default names.
    statuses : sequence, str or bool, optional
        As in :func:`isx_dask.write_cell_set`; defaults to ``iscell.npy``'s
        first column (1 accepted, 0 rejected), or ``'undecided'`` without that file.
    subtract_neuropil : bool or float, default False
        Traces are ``F``; True gives ``F - ops['neucoeff'] * Fneu`` (float32,
        as suite2p computes it), a number uses that coefficient instead.
    event_threshold : float, default 0.0
        A sample of ``spks`` is an event when its value is greater than
        ``event_threshold`` (NaN never is); the amplitude is that value, the time
        the sample's offset from the start in whole microseconds.
    overwrite : bool, default False
        Replace existing output files (each only once its replacement is complete).
    compute : bool, default True
        If False, return one :class:`dask.delayed.Delayed` that writes both files.
    fsync : bool, default True
        Flush each file to disk before it is renamed into place.
    compute_kwargs : dict, optional
        Passed to ``dask.compute`` (for example ``{'scheduler': 'processes'}``).

    Returns
    -------
    None or dask.delayed.Delayed
        ``None`` if ``compute`` is True.

    Raises
    ------
    FileNotFoundError
        ``plane_dir`` or a file it must hold is missing (``spks.npy`` only when
        ``event_set_path`` is given, ``Fneu.npy`` only with ``subtract_neuropil``).
    IsxdFormatError
        A file whose content is not what suite2p saves (shapes, ROI pixels outside the frame).
    ValueError
        No frame rate in ``ops`` nor given; timing or ``metadata_from`` that
        do not match the traces or frame size; a bad output path or option.
    TypeError
        ``frame_rate`` with ``timing`` or ``metadata_from``; options of the wrong type.
    FileExistsError
        An output exists and ``overwrite`` is False.

    Notes
    -----
    ``ops.npy`` and ``stat.npy`` are Python pickles (that is how suite2p saves
    them): loading one runs code stored in it, so convert only folders you trust.
    The cell set is written first, then the event set; each is atomic.

    See Also
    --------
    isx_dask.write_cell_set, isx_dask.write_event_set_dense

    Examples
    --------
    >>> suite2p_to_isxd("suite2p/plane0", "cells.isxd", "events.isxd",
    ...                 metadata_from="movie.isxd")  # doctest: +SKIP
    """
    plane = Path(plane_dir)
    if not plane.is_dir():
        msg = f"plane_dir {os.fspath(plane_dir)!r} is not a folder; pass the folder suite2p wrote for one plane (suite2p/plane0)"
        raise FileNotFoundError(msg)
    threshold = check_threshold(event_threshold)
    check_outputs(cell_set_path, event_set_path, overwrite)
    ops = _read_ops(plane / "ops.npy")
    frame_shape = (int(ops["Ly"]), int(ops["Lx"]))
    cell_starts, pixels, lam = _read_stat(plane / "stat.npy", frame_shape)
    num_cells = len(cell_starts) - 1
    fluorescence = _read_traces(plane / "F.npy", num_cells, "each ROI's fluorescence F (ROIs x frames)")
    num_samples = fluorescence.shape[1]
    coef = _neuropil_coefficient(subtract_neuropil, ops, plane / "ops.npy")
    neuropil = None if coef is None else _read_traces(plane / "Fneu.npy", num_cells, "the neuropil traces Fneu", num_samples)
    spikes = None
    if event_set_path is not None:
        spikes = _read_traces(plane / "spks.npy", num_cells, "the deconvolved activity spks, for events", num_samples)
    if statuses is None:
        statuses = _read_iscell(plane / "iscell.npy", num_cells)

    timing, spacing, extra_properties = resolve_metadata(
        _SOURCE, num_samples=num_samples, frame_shape=frame_shape, timing=timing, spacing=spacing,
        extra_properties=extra_properties, metadata_from=metadata_from, frame_rate=frame_rate,
        source_frame_rate=ops.get("fs"), source_rate_label="ops['fs']",
    )

    def block_args(start: int, stop: int) -> tuple[Any, ...]:
        first, last = int(cell_starts[start]), int(cell_starts[stop])
        return (cell_starts[start : stop + 1] - first, pixels[first:last], lam[first:last], frame_shape)

    counts = cell_chunks(num_cells, frame_shape, num_samples)
    footprints = lazy_cells(_suite2p_block, block_args, num_cells, frame_shape, "suite2p-footprints", counts)
    traces = lazy_traces(fluorescence, "suite2p-F", counts)
    if neuropil is not None:
        traces = traces - np.float32(coef) * lazy_traces(neuropil, "suite2p-Fneu", counts)
    events = None if spikes is None else events_from_dense(lazy_traces(spikes, "suite2p-spks", counts), threshold, timing)
    return write_results(
        footprints, traces, cell_set_path, event_set_path, events, timing=timing, spacing=spacing,
        extra_properties=extra_properties, cell_names=cell_names, statuses=statuses,
        overwrite=overwrite, compute=compute, fsync=fsync, compute_kwargs=compute_kwargs,
    )
