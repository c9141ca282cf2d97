"""CaImAn HDF5 results (made here with h5py and scipy, in the layout cnm.save() writes) to cell and event sets, read with the official isx."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import dask
import numpy as np
import pytest
from test_sources_suite2p import assert_results_read_back, default_names, expected_events

import isx_dask as xd
from isx_dask.layout import IsxdFormatError
from isx_dask.sources.caiman import caiman_to_isxd

h5py = pytest.importorskip("h5py")
sparse = pytest.importorskip("scipy.sparse")

D1, D2, K, T = 9, 13, 7, 25


def make_caiman_file(path: Path, *, fr=30.0, idx_components=(0, 2, 3, 6), idx_components_bad=(1, 4), seed=1,
                     with_A=True, with_dims=True) -> dict:
    """An HDF5 file laid out as CaImAn's save_dict_to_hdf5 lays out a CNMF object (None saved as 'NoneType')."""
    rng = np.random.default_rng(seed)
    dense = np.where(rng.random((K, D1, D2)) < 0.3, rng.random((K, D1, D2)), 0.0)
    A = sparse.csc_matrix(np.stack([dense[k].ravel(order="F") for k in range(K)], axis=1))  # pixels x components
    C = rng.random((K, T)) * 10
    YrA = rng.standard_normal((K, T))
    S = np.where(rng.random((K, T)) < 0.25, rng.random((K, T)) * 3, 0.0)
    with h5py.File(path, "w") as f:
        if with_A:
            f["estimates/A/data"] = A.data
            f["estimates/A/indices"] = A.indices
            f["estimates/A/indptr"] = A.indptr
            f["estimates/A/shape"] = np.array(A.shape)
        f["estimates/C"] = C
        f["estimates/YrA"] = YrA
        f["estimates/S"] = S
        f["estimates/b"] = np.ones((D1 * D2, 1))
        for name, value in (("idx_components", idx_components), ("idx_components_bad", idx_components_bad)):
            f[f"estimates/{name}"] = "NoneType" if value is None else np.array(value, dtype=np.int64)
        if with_dims:
            f["estimates/dims"] = np.array([D1, D2])
            f["dims"] = np.array([D1, D2])
            f["params/data/dims"] = np.array([D1, D2])
        f["params/data/fr"] = "NoneType" if fr is None else np.float64(fr)
        f["params/data/decay_time"] = np.float64(0.4)
    return {"footprints": dense, "C": C, "YrA": YrA, "S": S}


def test_estimates_to_raw_cell_set_events_and_statuses(tmp_path, isx):
    src = make_caiman_file(tmp_path / "cnm.hdf5")
    cells, events = tmp_path / "cells.isxd", tmp_path / "events.isxd"
    with dask.config.set({"array.chunk-size": "2KiB"}):  # several chunks of components
        caiman_to_isxd(tmp_path / "cnm.hdf5", cells, events)
    statuses = ["accepted", "rejected", "accepted", "accepted", "rejected", "undecided", "accepted"]
    assert_results_read_back(
        isx, cells, src["footprints"], (src["C"] + src["YrA"]).astype(np.float32), default_names(K), statuses,
        xd.Timing(num_samples=T, period=xd.Duration(1, 30)), xd.Spacing(num_pixels=(D1, D2)),
        events, expected_events(src["S"], 0.0, Fraction(1, 30)),
    )


def test_denoised_traces_unevaluated_components_and_threshold(tmp_path, isx):
    src = make_caiman_file(tmp_path / "cnm.hdf5", fr=7.5, idx_components=None, idx_components_bad=None)
    cells, events = tmp_path / "cells.isxd", tmp_path / "events.isxd"
    caiman_to_isxd(tmp_path / "cnm.hdf5", cells, events, traces="denoised", event_threshold=1.5)
    assert_results_read_back(
        isx, cells, src["footprints"], src["C"].astype(np.float32), default_names(K), ["undecided"] * K,
        xd.Timing(num_samples=T, period=xd.Duration(2, 15)), xd.Spacing(num_pixels=(D1, D2)),
        events, expected_events(src["S"], 1.5, Fraction(2, 15)),
    )


def test_no_frame_rate_needs_one(tmp_path, isx):
    src = make_caiman_file(tmp_path / "cnm.hdf5", fr=None)
    with pytest.raises(ValueError, match="frame_rate="):
        caiman_to_isxd(tmp_path / "cnm.hdf5", tmp_path / "cells.isxd")
    caiman_to_isxd(tmp_path / "cnm.hdf5", tmp_path / "cells.isxd", frame_rate=Fraction(30000, 1001))
    cs = isx.CellSet.read(str(tmp_path / "cells.isxd"))
    assert (cs.timing.period._impl.num, cs.timing.period._impl.den) == (1001, 30000)
    np.testing.assert_array_equal(cs.get_cell_image_data(5), src["footprints"][5].astype(np.float32))


def test_missing_footprints_or_dims_are_format_errors(tmp_path):
    make_caiman_file(tmp_path / "noA.hdf5", with_A=False)
    with pytest.raises(IsxdFormatError, match="estimates/A"):
        caiman_to_isxd(tmp_path / "noA.hdf5", tmp_path / "cells.isxd")
    make_caiman_file(tmp_path / "nodims.hdf5", with_dims=False)
    with pytest.raises(IsxdFormatError, match="spacing="):
        caiman_to_isxd(tmp_path / "nodims.hdf5", tmp_path / "cells.isxd")
    with pytest.raises(ValueError, match="traces"):
        caiman_to_isxd(tmp_path / "nodims.hdf5", tmp_path / "cells.isxd", traces="deconvolved")
    assert not (tmp_path / "cells.isxd").exists()


def test_dims_from_spacing_when_the_file_has_none(tmp_path, isx):
    src = make_caiman_file(tmp_path / "nodims.hdf5", with_dims=False)
    spacing = xd.Spacing(num_pixels=(D1, D2), pixel_size=Fraction(5, 2))
    caiman_to_isxd(tmp_path / "nodims.hdf5", tmp_path / "cells.isxd", spacing=spacing)
    cs = isx.CellSet.read(str(tmp_path / "cells.isxd"))
    np.testing.assert_array_equal(cs.get_cell_image_data(2), src["footprints"][2].astype(np.float32))
    assert cs.spacing._impl.pixel_width.num * 2 == 5 * cs.spacing._impl.pixel_width.den
