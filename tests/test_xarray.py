"""xarray: ``xr.open_dataset(path, engine="isxd")`` and ``to_xarray()``, compared with the official reader."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

xr = pytest.importorskip("xarray")
da = pytest.importorskip("dask.array")

from isx_dask.readers import open_isxd  # noqa: E402
from isx_dask.xarray_backend import IsxdBackendEntrypoint  # noqa: E402

GOLDEN = Path(__file__).parent / "data" / "golden"


def official_period(timing) -> float:  # noqa: ANN001 - an official isx.Timing
    period = timing.period._impl
    return period.num / period.den


@pytest.mark.parametrize("name", ["movie_u16_dropped.isxd", "movie_f32.isxd", "image_u16.isxd"])
def test_movie_dataset_matches_the_official_reader(isx, name):
    p = GOLDEN / name
    ds = xr.open_dataset(p, engine="isxd")
    official = isx.Movie.read(str(p))
    n = official.timing.num_samples
    rows, cols = official.spacing.num_pixels
    assert ds.frames.dims == ("time", "y", "x") and ds.frames.shape == (n, rows, cols)
    assert isinstance(ds.frames.data, da.Array)  # lazy
    values = ds.frames.values
    for i in range(n):
        np.testing.assert_array_equal(values[i], official.get_frame_data(i))
    np.testing.assert_allclose(ds.time.values, np.arange(n) * official_period(official.timing), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(ds.valid.values, np.asarray(official.timing.get_valid_samples_mask(), dtype=bool))
    # pixel centres in microns: official default spacing is 3 um pixels with the top-left corner at 0
    np.testing.assert_allclose(ds.y.values, 1.5 + 3.0 * np.arange(rows))
    np.testing.assert_allclose(ds.x.values, 1.5 + 3.0 * np.arange(cols))
    assert ds.attrs["period_s"] == pytest.approx(official_period(official.timing))
    assert ds.attrs["start_time"] == official.timing.start.to_datetime().isoformat()
    json.dumps(ds.attrs)  # JSON-serialisable
    assert ds.attrs["timingInfo"]["numTimes"] == n  # the footer's fields as stored


def test_to_xarray_equals_the_engine_and_masks_invalid_frames():
    p = GOLDEN / "movie_u16_dropped.isxd"
    ds = open_isxd(p).to_xarray()
    engine = xr.open_dataset(p, engine="isxd")
    xr.testing.assert_equal(ds, engine)
    assert ds.attrs == engine.attrs
    kept = ds.frames.where(ds.valid, drop=True)
    assert kept.sizes["time"] == int(ds.valid.sum()) < ds.sizes["time"]


def test_cell_set_dataset_matches_the_official_reader(isx):
    p = GOLDEN / "cellset_dropped.isxd"
    ds = xr.open_dataset(p, engine="isxd")
    official = isx.CellSet.read(str(p))
    assert ds.footprints.dims == ("cell", "y", "x") and ds.traces.dims == ("cell", "time")
    assert isinstance(ds.traces.data, da.Array)
    names = [official.get_cell_name(k) for k in range(official.num_cells)]
    assert ds.cell.values.tolist() == names
    assert ds.status.values.tolist() == [official.get_cell_status(k) for k in range(official.num_cells)]
    for k in range(official.num_cells):
        np.testing.assert_array_equal(ds.footprints.values[k], official.get_cell_image_data(k))
        np.testing.assert_array_equal(ds.traces.values[k], official.get_cell_trace_data(k))  # NaN at invalid samples
    n = official.timing.num_samples
    np.testing.assert_allclose(ds.time.values, np.arange(n) * official_period(official.timing), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(ds.valid.values, np.asarray(official.timing.get_valid_samples_mask(), dtype=bool))
    assert "CellNames" not in ds.attrs and ds.attrs["isxd_type"] == "cell_set"
    json.dumps(ds.attrs)
    first = ds.sel(cell=names[0])
    np.testing.assert_array_equal(first.traces.values, official.get_cell_trace_data(0))


def test_spacing_with_top_left_and_rectangular_pixels(tmp_path):
    import isx_dask as xd

    spacing = xd.Spacing(num_pixels=(2, 3), pixel_size=(2.5, 4), top_left=(10, -8))
    timing = xd.Timing(num_samples=2, period=xd.Duration(1, 10))
    p = tmp_path / "m.isxd"
    xd.write_movie(np.zeros((2, 2, 3), dtype=np.uint16), p, timing=timing, spacing=spacing)
    ds = xr.open_dataset(p, engine="isxd")
    np.testing.assert_allclose(ds.y.values, [10 + 1.25, 10 + 3.75])
    np.testing.assert_allclose(ds.x.values, [-8 + 2, -8 + 6, -8 + 10])
    assert ds.attrs["pixel_size_um"] == [2.5, 4.0] and ds.attrs["sampling_rate_hz"] == 10.0


def test_other_types_are_refused_with_a_pointer_to_open_isxd():
    with pytest.raises(ValueError, match="open_isxd"):
        xr.open_dataset(GOLDEN / "eventset.isxd", engine="isxd")


def test_engine_guesses_by_extension():
    entry = IsxdBackendEntrypoint()
    assert entry.guess_can_open("a/b.ISXD") and entry.guess_can_open(GOLDEN / "cellset.isxd")
    assert not entry.guess_can_open("a.nc") and not entry.guess_can_open(object())


def test_missing_xarray_names_the_extra(monkeypatch):
    reader = open_isxd(GOLDEN / "movie_u16.isxd")
    monkeypatch.setitem(sys.modules, "xarray", None)
    with pytest.raises(ImportError, match=r"isx_dask\[xarray\]"):
        reader.to_xarray()
