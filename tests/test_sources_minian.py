"""Minian results (made here with xarray's to_zarr, as save_minian writes them) to cell and event sets, read with the official isx."""

from __future__ import annotations

import importlib.metadata

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from test_sources_suite2p import assert_results_read_back, default_names, expected_events

import isx_dask as xd
from isx_dask.layout import IsxdFormatError
from isx_dask.sources.minian import minian_to_isxd

xr = pytest.importorskip("xarray")

GOLDEN = Path(__file__).parent / "data" / "golden"
UNITS = np.array([2, 5, 6, 11, 17, 30, 31, 40, 41, 44, 50])


def make_minian(root: Path, *, rows=6, cols=10, frames=30, top=4, left=9, separate=True, zarr_format=2, seed=3) -> dict:
    """Minian's final variables: float64 A (unit_id, height, width), C and S (unit_id, frame), with Minian's coordinates."""
    rng = np.random.default_rng(seed)
    n = len(UNITS)
    A = np.where(rng.random((n, rows, cols)) < 0.3, rng.random((n, rows, cols)), 0.0)
    C = rng.random((n, frames)) * 4
    S = np.where(rng.random((n, frames)) < 0.2, rng.random((n, frames)), 0.0)
    coords = {"unit_id": UNITS, "height": np.arange(top, top + rows), "width": np.arange(left, left + cols), "frame": np.arange(frames)}
    arrays = {
        "A": xr.DataArray(A, dims=("unit_id", "height", "width"), coords={k: coords[k] for k in ("unit_id", "height", "width")}, name="A"),
        "C": xr.DataArray(C, dims=("unit_id", "frame"), coords={k: coords[k] for k in ("unit_id", "frame")}, name="C"),
        "S": xr.DataArray(S, dims=("unit_id", "frame"), coords={k: coords[k] for k in ("unit_id", "frame")}, name="S"),
    }
    root.mkdir(parents=True, exist_ok=True)
    if separate:
        for name, array in arrays.items():
            array.chunk({"unit_id": 4}).to_dataset().to_zarr(root / f"{name}.zarr", zarr_format=zarr_format)
    else:
        xr.Dataset(arrays).chunk({"unit_id": 3}).to_zarr(root, zarr_format=zarr_format, consolidated=zarr_format == 2)
    return {"A": A, "C": C, "S": S}


def test_save_minian_folder_to_cell_set_and_events_with_crop_offset(tmp_path, isx):
    src = make_minian(tmp_path / "minian")
    cells, events = tmp_path / "cells.isxd", tmp_path / "events.isxd"
    minian_to_isxd(tmp_path / "minian", cells, events, frame_rate=20)
    n = len(UNITS)
    spacing = xd.Spacing(num_pixels=(6, 10), pixel_size=3, top_left=(4 * 3, 9 * 3))  # crop at row 4, column 9
    assert_results_read_back(
        isx, cells, src["A"], src["C"].astype(np.float32), default_names(n), ["undecided"] * n,
        xd.Timing(num_samples=30, period=xd.Duration(1, 20)), spacing, events, expected_events(src["S"], 0.0, Fraction(1, 20)),
    )


def test_one_zarr_dataset_with_metadata_from_movie(tmp_path, isx):
    movie = GOLDEN / "movie_u16.isxd"  # 12 frames of 5 x 7
    # Zarr format 3 where zarr-python 3 is installed (Python >= 3.11); format 2 under zarr-python 2.18.
    fmt = 3 if int(importlib.metadata.version("zarr").split(".")[0]) >= 3 else 2
    src = make_minian(tmp_path / "minian.zarr", rows=3, cols=4, frames=12, top=1, left=2, separate=False, zarr_format=fmt)
    cells = tmp_path / "cells.isxd"
    names = [f"unit{u}" for u in UNITS]
    minian_to_isxd(tmp_path / "minian.zarr", cells, metadata_from=movie, cell_names=names, statuses="accepted")
    timing = xd.open_isxd(movie).timing
    assert timing.start.secs_since_epoch == xd.Duration(1700000000123, 1000)
    spacing = xd.Spacing(num_pixels=(3, 4), pixel_size=3, top_left=(3, 6))
    assert_results_read_back(isx, cells, src["A"], src["C"].astype(np.float32), names, ["accepted"] * len(UNITS), timing, spacing)


def test_no_frame_rate_and_mismatched_units_are_clear_errors(tmp_path):
    make_minian(tmp_path / "minian")
    with pytest.raises(ValueError, match="frame_rate="):
        minian_to_isxd(tmp_path / "minian", tmp_path / "cells.isxd")
    with pytest.raises(ValueError, match="metadata_from"):
        minian_to_isxd(tmp_path / "minian", tmp_path / "cells.isxd", metadata_from=GOLDEN / "movie_u16.isxd")
    C = xr.open_zarr(tmp_path / "minian" / "C.zarr")["C"].load()
    C = C.assign_coords(unit_id=C.unit_id.values[::-1])
    C.to_dataset().to_zarr(tmp_path / "minian" / "C.zarr", mode="w", zarr_format=2)
    with pytest.raises(IsxdFormatError, match="unit_id"):
        minian_to_isxd(tmp_path / "minian", tmp_path / "cells.isxd", frame_rate=20)
    with pytest.raises(IsxdFormatError, match="'A'"):
        minian_to_isxd(tmp_path, tmp_path / "cells.isxd", frame_rate=20)
    assert not (tmp_path / "cells.isxd").exists()


def test_crop_outside_the_movie_frame_is_refused(tmp_path):
    make_minian(tmp_path / "minian", rows=3, cols=4, frames=12, top=3, left=2)  # rows 3..5 of a 5-row movie
    with pytest.raises(ValueError, match=r"at offset \(3, 2\).*spacing="):
        minian_to_isxd(tmp_path / "minian", tmp_path / "cells.isxd", metadata_from=GOLDEN / "movie_u16.isxd")
    assert not (tmp_path / "cells.isxd").exists()
