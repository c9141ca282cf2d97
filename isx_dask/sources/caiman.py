"""CaImAn results (the HDF5 file ``cnm.save()`` writes) to an Inscopix cell set and event set."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Literal, Sequence, overload

import numpy as np

from ..layout import IsxdFormatError
from ..metadata import Spacing, Timing
from ._recording import PathLike, import_optional
from ._results import (
    H5Array,
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

    class _CaimanOptions(EventResultOptions, total=False):
        traces: str

__all__ = ["caiman_to_isxd"]

_SOURCE = "CaImAn"
_TRACES = ("raw", "denoised")


def _dataset(f: Any, name: str, path: str, what: str) -> Any:
    import h5py  # type: ignore[import-untyped]

    node = f.get(name)
    if not isinstance(node, h5py.Dataset):
        msg = f"{path} has no dataset {name!r} ({what}); is it a file saved by CaImAn's cnm.save()?"
        raise IsxdFormatError(msg)
    return node


def _is_none(node: Any) -> bool:
    """CaImAn saves None as the string 'NoneType'."""
    return node is None or node.dtype.kind in "SUO"


def _scalar(f: Any, names: Sequence[str]) -> Any:
    for name in names:
        node = f.get(name)
        if node is not None and hasattr(node, "dtype") and not _is_none(node):
            return node[()]
    return None


def _frame_shape(f: Any, path: str, spacing: Spacing | None) -> tuple[int, int]:
    for name in ("estimates/dims", "dims", "params/data/dims"):
        node = f.get(name)
        if node is not None and hasattr(node, "dtype") and not _is_none(node):
            dims = np.asarray(node[()]).ravel()
            if dims.size == 2 and dims.dtype.kind in "iuf" and np.all(dims == np.round(dims)) and np.all(dims > 0):
                return int(dims[0]), int(dims[1])
            msg = f"{path}: {name} is {dims.tolist()}; expected the two frame dimensions (d1, d2) of a 2-D recording"
            raise IsxdFormatError(msg)
    if isinstance(spacing, Spacing):
        return spacing.num_pixels
    msg = f"{path} has no estimates/dims, dims or params/data/dims (the frame size of the footprints); pass spacing= with num_pixels=(rows, cols)"
    raise IsxdFormatError(msg)


def _check_csc(f: Any, path: str, frame_shape: tuple[int, int]) -> int:
    """Number of components of ``estimates/A``, after checking its CSC layout (indptr read, not data)."""
    import h5py

    group = f.get("estimates/A")
    if not isinstance(group, h5py.Group) or not {"data", "indices", "indptr", "shape"} <= set(group):
        msg = f"{path} has no estimates/A sparse matrix (data, indices, indptr, shape): no footprints to convert"
        raise IsxdFormatError(msg)
    shape = np.asarray(group["shape"][()]).ravel()
    num_pixels = frame_shape[0] * frame_shape[1]
    if shape.size != 2 or int(shape[0]) != num_pixels:
        msg = f"{path}: estimates/A has shape {shape.tolist()}; expected ({num_pixels}, num_components) for frames of {frame_shape}"
        raise IsxdFormatError(msg)
    num_cells = int(shape[1])
    indptr = np.asarray(group["indptr"][()])
    nnz = group["data"].shape[0]
    if (
        indptr.shape != (num_cells + 1,) or indptr.dtype.kind not in "iu" or indptr[0] != 0 or int(indptr[-1]) != nnz
        or np.any(np.diff(indptr) < 0) or group["indices"].shape != (nnz,) or group["indices"].dtype.kind not in "iu"
    ):
        msg = f"{path}: estimates/A is not a valid CSC matrix (indptr must run from 0 to len(data), non-decreasing, one entry per component + 1)"
        raise IsxdFormatError(msg)
    return num_cells


def _caiman_block(path: str, start: int, stop: int, frame_shape: tuple[int, int]) -> np.ndarray[Any, Any]:
    """Dense footprints of components ``start:stop``, read from the CSC slices of ``estimates/A``."""
    import h5py

    rows, cols = frame_shape
    with h5py.File(path, "r") as f:
        group = f["estimates/A"]
        indptr = np.asarray(group["indptr"][start : stop + 1], dtype=np.int64)
        first, last = int(indptr[0]), int(indptr[-1])
        fortran = np.asarray(group["indices"][first:last], dtype=np.int64)
        values = np.asarray(group["data"][first:last])
    if fortran.size and (fortran.min() < 0 or fortran.max() >= rows * cols):
        msg = f"{path}: estimates/A has pixel indices outside the {rows * cols} pixels of the frame (components {start}..{stop - 1})"
        raise IsxdFormatError(msg)
    # CaImAn flattens frames in Fortran order: index = row + col * rows.
    row_major = (fortran % rows) * cols + fortran // rows
    return sparse_block(indptr - first, row_major, values, frame_shape)


def _component_indices(f: Any, name: str, num_cells: int, path: str) -> np.ndarray[Any, Any] | None:
    node = f.get(name)
    if node is None or not hasattr(node, "dtype") or _is_none(node):
        return None
    index = np.asarray(node[()]).ravel()
    if index.size and (index.dtype.kind not in "iu" or index.min() < 0 or index.max() >= num_cells):
        msg = f"{path}: {name} must hold component indices in [0, {num_cells}), got {index[:10].tolist()}"
        raise IsxdFormatError(msg)
    return index.astype(np.int64)


def _statuses(f: Any, num_cells: int, path: str) -> list[str]:
    """Accepted from ``idx_components``, rejected from ``idx_components_bad``, the rest undecided."""
    statuses = ["undecided"] * num_cells
    good = _component_indices(f, "estimates/idx_components", num_cells, path)
    bad = _component_indices(f, "estimates/idx_components_bad", num_cells, path)
    if good is not None and bad is not None and np.intersect1d(good, bad).size:
        msg = f"{path}: components {np.intersect1d(good, bad)[:10].tolist()} are in both idx_components and idx_components_bad"
        raise IsxdFormatError(msg)
    for k in good if good is not None else ():
        statuses[k] = "accepted"
    for k in bad if bad is not None else ():
        statuses[k] = "rejected"
    return statuses


def _trace_array(f: Any, name: str, path: str, num_cells: int, num_samples: int | None, what: str) -> H5Array:
    node = _dataset(f, name, path, what)
    if node.ndim != 2 or node.shape[0] != num_cells or (num_samples is not None and node.shape[1] != num_samples):
        expected = f"({num_cells}, {num_samples if num_samples is not None else 'num_frames'})"
        msg = f"{path}: {name} has shape {node.shape}; expected {expected}, one row per component of estimates/A"
        raise IsxdFormatError(msg)
    if node.dtype.kind not in "iuf":
        msg = f"{path}: {name} has dtype {node.dtype}; expected real numbers"
        raise IsxdFormatError(msg)
    return H5Array(path, name, node.shape, node.dtype)


@overload
def caiman_to_isxd(
    hdf5_path: PathLike, cell_set_path: PathLike, event_set_path: PathLike | None = ..., *,
    compute: Literal[False], **options: Unpack[_CaimanOptions],
) -> Delayed: ...
@overload
def caiman_to_isxd(
    hdf5_path: PathLike, cell_set_path: PathLike, event_set_path: PathLike | None = ..., *,
    compute: Literal[True] = ..., **options: Unpack[_CaimanOptions],
) -> None: ...


def caiman_to_isxd(
    hdf5_path: PathLike,
    cell_set_path: PathLike,
    event_set_path: PathLike | None = None,
    *,
    traces: str = "raw",
    timing: Timing | None = None,
    spacing: Spacing | None = None,
    extra_properties: Any = None,
    metadata_from: PathLike | None = None,
    frame_rate: Any = None,
    cell_names: Sequence[str] | None = None,
    statuses: Any = None,
    event_threshold: float = 0.0,
    overwrite: bool = False,
    compute: bool = True,
    fsync: bool = True,
    compute_kwargs: dict[str, Any] | None = None,
) -> Delayed | None:
    """Convert CaImAn's saved estimates (CNMF or CNMF-E HDF5) to an ``.isxd`` cell set and, optionally, an event set.

    Reads ``estimates/A`` (a sparse CSC matrix of pixels x components, saved
    as ``data``, ``indices``, ``indptr`` and ``shape``; pixels in Fortran
    order), ``estimates/C``, ``estimates/YrA``, ``estimates/S``,
    ``estimates/idx_components`` / ``idx_components_bad``, the frame size
    ``dims`` and the frame rate ``params/data/fr``. Footprints are made one
    chunk of components at a time inside the Dask tasks, from that chunk's
    slice of the sparse matrix; traces are read chunk by chunk. Nothing is
    ever loaded whole.

    Parameters
    ----------
    hdf5_path : str or os.PathLike
        The file ``cnm.save(...)`` wrote.
    cell_set_path : str or os.PathLike
        Output cell set, ending in ``.isxd``.
    event_set_path : str or os.PathLike, optional
        Output event set from ``estimates/S``; none is written if omitted.
    traces : {'raw', 'denoised'}, default 'raw'
        ``'raw'`` is ``C + YrA`` (denoised plus residual, IDPS's raw cell set);
        ``'denoised'`` is ``C``.
    timing, spacing, extra_properties, metadata_from, frame_rate, cell_names
        As in :func:`isx_dask.sources.suite2p.suite2p_to_isxd`; the source's own
        frame rate is ``params/data/fr`` and its frame size ``dims``.
    statuses : sequence, str or bool, optional
        Defaults to accepted for ``idx_components``, rejected for
        ``idx_components_bad`` and undecided for the rest (all undecided when
        components were not evaluated).
    event_threshold, overwrite, compute, fsync, compute_kwargs
        As in :func:`isx_dask.sources.suite2p.suite2p_to_isxd`, with ``S`` for ``spks``.

    Returns
    -------
    None or dask.delayed.Delayed
        ``None`` if ``compute`` is True.

    Raises
    ------
    FileNotFoundError
        ``hdf5_path`` does not exist.
    IsxdFormatError
        The file lacks ``estimates/A`` or ``dims`` (no footprints to convert), or
        its datasets do not fit together.
    ValueError, TypeError, FileExistsError
        As in :func:`isx_dask.sources.suite2p.suite2p_to_isxd`.
    ImportError
        h5py is missing (``pip install "isx_dask[hdf5]"``).

    See Also
    --------
    isx_dask.write_cell_set, isx_dask.write_event_set_dense

    Examples
    --------
    >>> caiman_to_isxd("caiman_results.hdf5", "cells.isxd", "events.isxd",
    ...                metadata_from="movie.isxd")  # doctest: +SKIP
    """
    h5py = import_optional("h5py", "hdf5", "Reading CaImAn results")
    if traces not in _TRACES:
        msg = f"traces must be 'raw' (C + YrA) or 'denoised' (C), got {traces!r}"
        raise ValueError(msg)
    path = os.fspath(hdf5_path)
    if not os.path.isfile(path):
        msg = f"hdf5_path {path!r} does not exist; pass the .hdf5 file CaImAn's cnm.save() wrote"
        raise FileNotFoundError(msg)
    threshold = check_threshold(event_threshold)
    check_outputs(cell_set_path, event_set_path, overwrite)
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        msg = f"{path} is not an HDF5 file h5py can open: {err}"
        raise IsxdFormatError(msg) from err
    with f:
        frame_shape = _frame_shape(f, path, spacing)
        num_cells = _check_csc(f, path, frame_shape)
        denoised = _trace_array(f, "estimates/C", path, num_cells, None, "the denoised traces C")
        num_samples = denoised.shape[1]
        residual = _trace_array(f, "estimates/YrA", path, num_cells, num_samples, "the residuals YrA") if traces == "raw" else None
        spikes = _trace_array(f, "estimates/S", path, num_cells, num_samples, "the deconvolved activity S") if event_set_path is not None else None
        if statuses is None:
            statuses = _statuses(f, num_cells, path)
        source_rate = _scalar(f, ("params/data/fr",))

    timing, spacing, extra_properties = resolve_metadata(
        _SOURCE, num_samples=num_samples, frame_shape=frame_shape, timing=timing, spacing=spacing,
        extra_properties=extra_properties, metadata_from=metadata_from, frame_rate=frame_rate,
        source_frame_rate=source_rate, source_rate_label="params/data/fr",
    )
    counts = cell_chunks(num_cells, frame_shape, num_samples)
    footprints = lazy_cells(
        _caiman_block, lambda start, stop: (path, start, stop, frame_shape), num_cells, frame_shape, "caiman-footprints", counts
    )
    cell_traces = lazy_traces(denoised, "caiman-C", counts)
    if residual is not None:
        cell_traces = cell_traces + lazy_traces(residual, "caiman-YrA", counts)
    events = None if spikes is None else events_from_dense(lazy_traces(spikes, "caiman-S", counts), threshold, timing)
    return write_results(
        footprints, cell_traces, cell_set_path, event_set_path, events, timing=timing, spacing=spacing,
        extra_properties=extra_properties, cell_names=cell_names, statuses=statuses,
        overwrite=overwrite, compute=compute, fsync=fsync, compute_kwargs=compute_kwargs,
    )
