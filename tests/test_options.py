"""One way to pass options: every public writer and converter has an explicit, keyword-only signature.

An unknown or misspelled keyword (``period=`` on write_movie, ``statuse=`` on
write_cell_set) is a ``TypeError`` naming it, before anything is created, and
the storage options come in one order everywhere.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import isx_dask as xd

WRITERS = sorted(
    name for name in xd.__all__
    if name.startswith("write_") or name.endswith(("_to_isxd", "_to_zarr", "_to_nwb"))
    or name in ("create_movie", "deinterleave_movie")
)
STORAGE_OPTIONS = ["overwrite", "compute", "fsync", "resume", "reserve", "write_method", "compute_kwargs"]


def test_the_writers_are_all_found():
    assert {"write_movie", "write_cell_set", "write_event_set_dense", "write_vessel_set", "zarr_to_isxd",
            "suite2p_to_isxd", "tiff_to_isxd", "isxd_to_nwb", "write_gpio_set"} <= set(WRITERS)


UNKNOWN = [
    (name, keyword)
    for name in WRITERS
    for keyword in ("bogus_option", "statuse", "period", "scheduler")
    if keyword not in inspect.signature(getattr(xd, name)).parameters  # period= is real on the recording converters
]


@pytest.mark.parametrize(("name", "keyword"), UNKNOWN)
def test_unknown_keyword_is_a_type_error_naming_it(tmp_path, name, keyword):
    func = getattr(xd, name)
    params = inspect.signature(func).parameters
    required = [p for p in params.values() if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    args = [tmp_path / f"arg{i}.isxd" for i in range(len(required))]
    with pytest.raises(TypeError, match=keyword):
        func(*args, **{keyword: 1})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", WRITERS)
def test_no_catch_all_keywords_and_options_keyword_only(name):
    params = inspect.signature(getattr(xd, name)).parameters.values()
    assert not [p.name for p in params if p.kind is p.VAR_KEYWORD], f"{name} takes **kwargs"
    assert all(p.kind is p.KEYWORD_ONLY for p in params if p.name in STORAGE_OPTIONS)


@pytest.mark.parametrize("name", [n for n in WRITERS if n.startswith("write_") and n != "write_movie_region"])
def test_bulk_writers_take_the_storage_options_in_one_order(name):
    names = list(inspect.signature(getattr(xd, name)).parameters)
    present = [n for n in names if n in STORAGE_OPTIONS]
    assert present == [n for n in STORAGE_OPTIONS if n in present], f"{name}: {present}"
    assert {"overwrite", "compute", "compute_kwargs"} <= set(present)


def test_misplaced_metadata_keyword_is_refused_not_defaulted(tmp_path):
    frames = np.zeros((3, 2, 2), np.uint16)
    with pytest.raises(TypeError, match="period"):
        xd.write_movie(frames, tmp_path / "m.isxd", period=xd.Duration(1, 30))
    with pytest.raises(TypeError, match="statuse"):
        xd.write_cell_set(np.zeros((1, 2, 2)), np.zeros((1, 3)), tmp_path / "c.isxd", statuse=["accepted"])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"overwrite": "yes"}, TypeError, "overwrite must be True or False"),
        ({"compute": 1}, TypeError, "compute must be True or False"),
        ({"fsync": None}, TypeError, "fsync must be True or False"),
        ({"resume": "no"}, TypeError, "resume must be True or False"),
        ({"reserve": "sometimes"}, ValueError, "reserve must be one of"),
        ({"write_method": "fast"}, ValueError, "write_method must be one of"),
        ({"compute_kwargs": "threads"}, TypeError, "compute_kwargs must be a dict"),
        ({"compute_kwargs": {"scheduler": "bogus"}}, ValueError, r"compute_kwargs\['scheduler'\] is 'bogus'"),
        ({"casting": "lossy"}, ValueError, "casting must be one of"),
    ],
)
def test_bad_option_values_are_refused_before_any_byte(tmp_path, options, error, match):
    with pytest.raises(error, match=match):
        xd.write_movie(np.zeros((3, 2, 2), np.uint16), tmp_path / "m.isxd", timing=xd.Timing(3),
                       spacing=xd.Spacing(num_pixels=(2, 2)), **options)
    assert list(tmp_path.iterdir()) == []


def test_defaulted_metadata_is_never_silent(tmp_path):
    frames = np.zeros((3, 2, 2), np.uint16)
    with pytest.warns(xd.DefaultMetadataWarning, match="no timing and no spacing given"):
        xd.write_movie(frames, tmp_path / "a.isxd")
    with pytest.warns(xd.DefaultMetadataWarning, match="no spacing given") as record:
        xd.write_movie(frames, tmp_path / "b.isxd", timing=xd.Timing(3))
    assert "timing" not in str(record[0].message).split("given")[0]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", xd.DefaultMetadataWarning)
        xd.write_movie(frames, tmp_path / "c.isxd", timing=xd.Timing(3), spacing=xd.Spacing(num_pixels=(2, 2)))
        xd.write_movie(frames, tmp_path / "d.isxd", metadata_from=tmp_path / "c.isxd")
    with pytest.raises(FileExistsError), warnings.catch_warnings():  # a refused write does not warn first
        warnings.simplefilter("error", xd.DefaultMetadataWarning)
        xd.write_movie(frames, tmp_path / "a.isxd")


def _write_through_barrier(directory, parties, compute_kwargs, timeout=10.0):
    """Write 8 chunks whose computation waits until ``parties`` chunks are being computed at once; the threads used."""
    import threading

    import dask
    import dask.array as da

    barrier = threading.Barrier(parties, timeout=timeout)
    threads = set()

    def chunk(block):
        threads.add(threading.get_ident())
        barrier.wait()
        return block

    frames = da.arange(8 * 6, dtype=np.uint16, chunks=6).reshape(8, 2, 3).map_blocks(chunk, dtype=np.uint16, meta=np.empty((0, 0, 0), np.uint16))
    out = directory / "m.isxd"
    with dask.config.set({"scheduler": None, "num_workers": None, "get": None, "pool": None}):
        xd.write_movie(frames, out, timing=xd.Timing(8), spacing=xd.Spacing(num_pixels=(2, 3)), fsync=False,
                       compute_kwargs=compute_kwargs)
    np.testing.assert_array_equal(xd.open_isxd(out).frames.compute(), np.arange(48, dtype=np.uint16).reshape(8, 2, 3))
    return threads


def test_default_scheduler_runs_two_threads_per_core(tmp_path, monkeypatch):
    # Each chunk waits for the disk after it is computed, so by default the threaded
    # scheduler gets two threads per core: four chunks at once on a 2-core machine.
    import os

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert len(_write_through_barrier(tmp_path, 4, None)) == 4


def test_explicit_workers_are_kept(tmp_path):
    import os
    import threading

    assert len(_write_through_barrier(tmp_path, 1, {"num_workers": 1})) == 1
    os.unlink(tmp_path / "m.isxd")
    with pytest.raises(threading.BrokenBarrierError):
        _write_through_barrier(tmp_path, 3, {"num_workers": 2}, timeout=1.0)
    assert os.listdir(tmp_path) == []


def test_configured_scheduler_is_kept():
    import dask

    import isx_dask.target as target

    import os

    threads = {"scheduler": "threads", "num_workers": 2 * (os.cpu_count() or 1)}
    assert target.write_compute_kwargs({"scheduler": "sync"}) == {"scheduler": "sync"}
    assert target.write_compute_kwargs({"scheduler": "threads", "num_workers": 1}) == {"scheduler": "threads", "num_workers": 1}
    with dask.config.set(scheduler="processes"):
        assert target.write_compute_kwargs(None) == {}
        assert target.write_compute_kwargs({"scheduler": "threads"}) == threads  # the call's choice wins over the configuration
    with dask.config.set(num_workers=3):
        assert target.write_compute_kwargs({"optimize_graph": True}) == {"optimize_graph": True}
    with dask.config.set(scheduler="threads"):  # a scheduler named without a count: the writers' count
        assert target.write_compute_kwargs(None) == threads
    assert target.write_compute_kwargs({"scheduler": "threads"}) == threads
