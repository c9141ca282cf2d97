"""Inscopix CNMF-E .h5 output (made here with h5py in Armadillo's column-major layout) to a cell set, read with the official isx."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from test_sources_suite2p import assert_results_read_back, default_names

import isx_dask as xd
from isx_dask.layout import IsxdFormatError
from isx_dask.sources.cnmfe import cnmfe_to_isxd

h5py = pytest.importorskip("h5py")

GOLDEN = Path(__file__).parent / "data" / "golden"


def make_cnmfe_file(path: Path, *, rows=8, cols=11, cells=12, frames=20, seed=4) -> dict:
    """``footprints`` and ``traces`` as Armadillo saves a Cube(rows, cols, cells) and, transposed, a Mat(cells, frames)."""
    rng = np.random.default_rng(seed)
    images = np.where(rng.random((cells, rows, cols)) < 0.4, rng.random((cells, rows, cols)), 0).astype(np.float32)
    traces = rng.standard_normal((cells, frames)).astype(np.float32)
    cube = np.empty(rows * cols * cells, np.float32)  # column-major: element (r, c, k) at r + c*rows + k*rows*cols
    r, c, k = np.meshgrid(np.arange(rows), np.arange(cols), np.arange(cells), indexing="ij")
    cube[(r + c * rows + k * rows * cols).ravel()] = images[k, r, c].ravel()
    with h5py.File(path, "w") as f:
        f.create_dataset("footprints", data=cube.reshape(cells, cols, rows))  # HDF5 dims [n_slices, n_cols, n_rows]
        f.create_dataset("traces", data=traces)
    return {"footprints": images, "traces": traces}


def test_cnmfe_output_to_cell_set(tmp_path, isx):
    src = make_cnmfe_file(tmp_path / "movie_output.h5")
    out = tmp_path / "cells.isxd"
    cnmfe_to_isxd(tmp_path / "movie_output.h5", out, frame_rate=Fraction(20))
    assert_results_read_back(
        isx, out, src["footprints"], src["traces"], default_names(12), ["undecided"] * 12,
        xd.Timing(num_samples=20, period=xd.Duration(1, 20)), xd.Spacing(num_pixels=(8, 11)),
    )


def test_metadata_from_movie_and_statuses(tmp_path, isx):
    src = make_cnmfe_file(tmp_path / "movie_output.h5", rows=5, cols=7, cells=3, frames=12)
    out = tmp_path / "cells.isxd"
    movie = GOLDEN / "movie_u16.isxd"
    cnmfe_to_isxd(tmp_path / "movie_output.h5", out, metadata_from=movie, statuses=[True, False, "undecided"])
    ours = xd.open_isxd(movie)
    assert_results_read_back(isx, out, src["footprints"], src["traces"], ["C0", "C1", "C2"],
                             ["accepted", "rejected", "undecided"], ours.timing, ours.spacing)


def test_missing_datasets_and_frame_rate(tmp_path):
    make_cnmfe_file(tmp_path / "movie_output.h5")
    with pytest.raises(ValueError, match="frame_rate="):
        cnmfe_to_isxd(tmp_path / "movie_output.h5", tmp_path / "cells.isxd")
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["traces"] = np.zeros((2, 3), np.float32)
    with pytest.raises(IsxdFormatError, match="footprints"):
        cnmfe_to_isxd(tmp_path / "other.h5", tmp_path / "cells.isxd", frame_rate=10)
    assert not (tmp_path / "cells.isxd").exists()
