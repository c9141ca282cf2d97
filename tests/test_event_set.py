"""Event sets: every written file is read back with the official isx package and compared with numpy."""

from __future__ import annotations

import gc

import json
import math
import struct
from fractions import Fraction
from pathlib import Path

import dask.array as da
import numpy as np
import pytest
from conftest import (
    leftovers,
    assert_same_footer_as_golden,
    manifest_array,
    manifest_entry,
    manifest_timing,
    split_file,
)
from dask.delayed import Delayed
from hypothesis import assume, HealthCheck, given, settings
from hypothesis import strategies as st

import isx_dask as xd

PACKET = np.dtype([("offset", "<u8"), ("cell", "<u8"), ("amplitude", "<f4")])




def expected_cell(offsets, amplitudes) -> tuple[np.ndarray, np.ndarray]:
    """What the official reader returns for unique offsets: sorted by offset, float32 (numpy only)."""
    offs = np.asarray(offsets, dtype=np.uint64)
    amps = np.asarray(amplitudes, dtype=np.float32)
    order = np.argsort(offs, kind="stable")
    return offs[order], amps[order]


def packets_bytes(cells: list[tuple[np.ndarray, np.ndarray]]) -> bytes:
    """Data section of cells stored one after another, each sorted by offset, built with numpy only."""
    out = []
    for k, (offs, amps) in enumerate(cells):
        o, a = expected_cell(offs, amps)
        rec = np.zeros(len(o), PACKET)
        rec["offset"], rec["cell"], rec["amplitude"] = o, k, a
        out.append(rec.tobytes())
    return b"".join(out)


def dense_to_cells(amplitudes: np.ndarray, period: Fraction) -> list[tuple[np.ndarray, np.ndarray]]:
    """Events of a dense array, computed independently: non-zero float32 samples at round(i * period) us."""
    values = np.asarray(amplitudes).astype(np.float32)
    cells = []
    for row in values:
        idx = np.flatnonzero(row != 0)
        offs = np.array([round(Fraction(int(i)) * period * 1_000_000) for i in idx], dtype=np.uint64)
        cells.append((offs, row[idx]))
    return cells


def official_offsets(offsets: np.ndarray) -> np.ndarray:
    """Offsets as the official reader returns them: ``uint64(double(us) / 1e6 * 1e6)``, 1 us low for some values."""
    return (np.asarray(offsets, dtype=np.uint64).astype(np.float64) / 1e6 * 1e6).astype(np.uint64)


def assert_reads_back(isx, path: Path, cells, names, timing: xd.Timing) -> None:
    """Official reader: events per cell, names, num_samples, period and start; our reader: exact offsets."""
    es = isx.EventSet.read(str(path))
    assert es.num_cells == len(cells)
    assert es.timing.num_samples == timing.num_samples
    period = es.timing.period._impl
    assert Fraction(period.num, period.den) == timing.period.to_fraction()
    start = es.timing.start._impl
    assert Fraction(start.secs_since_epoch.num, start.secs_since_epoch.den) == timing.start.secs_since_epoch.to_fraction()
    assert start.utc_offset == timing.start.utc_offset
    for k, (offs, amps) in enumerate(cells):
        assert es.get_cell_name(k) == names[k]
        got_offs, got_amps = es.get_cell_data(k)
        want_offs, want_amps = expected_cell(offs, amps)
        np.testing.assert_array_equal(got_offs, official_offsets(want_offs))
        np.testing.assert_array_equal(got_amps, want_amps)
    del es
    ours = xd.open_isxd(path)
    assert ours.cell_names == tuple(names)
    for k, (got_offs, got_amps) in enumerate(ours.get_all_cell_data()):
        want_offs, want_amps = expected_cell(*cells[k])
        np.testing.assert_array_equal(got_offs, want_offs)
        np.testing.assert_array_equal(got_amps, want_amps)


def test_official_reader_returns_some_offsets_one_microsecond_low(isx, tmp_path):
    """The official reader converts offsets through doubles; the bytes hold the exact values, which we read back."""
    out = tmp_path / "low.isxd"
    offsets = np.array([248, 249, 250, 251, 489, 1000001], np.uint64)
    xd.write_event_set([offsets], [np.arange(6, dtype=np.float32)], out, timing=xd.Timing(num_samples=100))
    np.testing.assert_array_equal(isx.EventSet.read(str(out)).get_cell_data(0)[0], [248, 248, 250, 250, 488, 1000000])
    np.testing.assert_array_equal(xd.open_isxd(out).get_cell_data(0)[0], offsets)
    np.testing.assert_array_equal(np.frombuffer(split_file(out)[0], PACKET)["offset"], offsets)


def random_cells(seed: int, num_cells: int, timing: xd.Timing) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    limit = math.ceil(timing.period.to_fraction() * timing.num_samples * 1_000_000)
    cells = []
    for _ in range(num_cells):
        n = int(rng.integers(0, min(limit, 30) + 1))
        offs = rng.choice(limit, size=n, replace=False).astype(np.uint64)
        cells.append((offs, rng.standard_normal(n).astype(np.float32)))
    return cells


TIMING = xd.Timing(num_samples=40, period=xd.Duration.from_msecs(25), start=xd.Time(xd.Duration(1700000000, 1), -3600))


# -- golden files -------------------------------------------------------------------------
def test_golden_eventset_reproduced_by_write_event_set(tmp_path, golden):
    spec = manifest_entry("eventset.isxd")
    offsets = [manifest_array(a) for a in spec["offsets_us"]]
    amplitudes = [manifest_array(a) for a in spec["amplitudes"]]
    out = tmp_path / "ours.isxd"
    xd.write_event_set(offsets, amplitudes, out, timing=manifest_timing(spec["timing"]), cell_names=spec["cell_names"])
    ours_data, ours_footer = split_file(out)
    gold_data, gold_footer = split_file(golden("eventset.isxd"))
    assert ours_data == gold_data
    assert_same_footer_as_golden(ours_footer, gold_footer)


def test_golden_eventset_reproduced_by_incremental_event_set(tmp_path, golden):
    spec = manifest_entry("eventset.isxd")
    out = tmp_path / "ours.isxd"
    with xd.EventSet.write(out, manifest_timing(spec["timing"]), tuple(spec["cell_names"])) as es:
        for k in range(len(spec["cell_names"])):
            es.set_cell_data(k, manifest_array(spec["offsets_us"][k]), manifest_array(spec["amplitudes"][k]))
    ours_data, ours_footer = split_file(out)
    gold_data, gold_footer = split_file(golden("eventset.isxd"))
    assert ours_data == gold_data
    assert_same_footer_as_golden(ours_footer, gold_footer)


def unordered_calls():
    spec = manifest_entry("eventset_unordered.isxd")
    calls = [(c["index"], manifest_array(c["offsets_us"]), manifest_array(c["amplitudes"])) for c in spec["calls"]]
    return spec, manifest_timing(spec["timing"]), calls


def test_golden_unordered_reproduced_by_incremental_event_set(tmp_path, golden):
    """Packets in call order, exactly as given, and the official ms-truncated end time: byte identity."""
    spec, timing, calls = unordered_calls()
    out = tmp_path / "ours.isxd"
    es = xd.EventSet.write(out, timing, spec["cell_names"], end_time="official")
    for index, offs, amps in calls:
        es.set_cell_data(index, offs, amps)
    es.flush()
    ours_data, ours_footer = split_file(out)
    gold_data, gold_footer = split_file(golden("eventset_unordered.isxd"))
    assert ours_data == gold_data
    assert_same_footer_as_golden(ours_footer, gold_footer)


def test_golden_unordered_by_write_event_set_reads_the_same(isx, tmp_path, golden):
    """The bulk writer sorts each cell and stores cells in order: same reads, packets and startOffsets differ."""
    spec, timing, calls = unordered_calls()
    cells = [(np.zeros(0, np.uint64), np.zeros(0, np.float32)) for _ in spec["cell_names"]]
    for index, offs, amps in calls:
        cells[index] = (np.concatenate([cells[index][0], offs]), np.concatenate([cells[index][1], amps]))
    out = tmp_path / "ours.isxd"
    xd.write_event_set([c[0] for c in cells], [c[1] for c in cells], out, timing=timing, cell_names=spec["cell_names"], end_time="official")
    gold = golden("eventset_unordered.isxd")
    ours_es, gold_es = isx.EventSet.read(str(out)), isx.EventSet.read(str(gold))
    assert ours_es.timing.num_samples == gold_es.timing.num_samples == 10
    for k in range(3):
        for ours, theirs in zip(ours_es.get_cell_data(k), gold_es.get_cell_data(k)):
            np.testing.assert_array_equal(ours, theirs)
    ours_data, ours_footer = split_file(out)
    gold_data, gold_footer = split_file(gold)
    assert ours_data == packets_bytes(cells)
    assert sorted(ours_data[i : i + 20] for i in range(0, 100, 20)) == sorted(gold_data[i : i + 20] for i in range(0, 100, 20))
    # startOffsets holds the first packet stored: the smallest offset here, the first one given there.
    assert ours_footer.pop("startOffsets") == [0, 0, 100000]
    assert gold_footer.pop("startOffsets") == [0, 0, 300000]
    assert_same_footer_as_golden(ours_footer, gold_footer)
    # With the default exact end, only the end time changes: 1/3 s instead of 333/1000.
    exact = tmp_path / "exact.isxd"
    xd.write_event_set([c[0] for c in cells], [c[1] for c in cells], exact, timing=timing, cell_names=spec["cell_names"])
    end = split_file(exact)[1]["global times"][1]["secsSinceEpoch"]
    assert end == {"num": 1, "den": 3}


# -- official reader round trips ----------------------------------------------------------
@pytest.mark.parametrize("compute", [True, False])
def test_write_event_set_reads_back(isx, tmp_path, compute):
    cells = random_cells(1, 6, TIMING)
    names = [f"cell é {k}" for k in range(6)]
    out = tmp_path / "e.isxd"
    result = xd.write_event_set([c[0] for c in cells], [c[1] for c in cells], out, timing=TIMING, cell_names=names,
                                extra_properties={"name": "session 1"}, compute=compute)
    if not compute:
        assert isinstance(result, Delayed)
        assert not out.exists()
        result.compute()
    assert_reads_back(isx, out, cells, names, TIMING)
    assert isx.EventSet.read(str(out)).get_acquisition_info() == {"Session Name": "session 1"}
    assert split_file(out)[0] == packets_bytes(cells)
    assert leftovers(tmp_path) == []


def test_our_reader_matches(tmp_path):
    cells = random_cells(2, 4, TIMING)
    out = tmp_path / "e.isxd"
    xd.write_event_set([c[0] for c in cells], [c[1] for c in cells], out, timing=TIMING)
    f = xd.open_isxd(out)
    assert isinstance(f, xd.EventSetFile)
    assert f.cell_names == ("C0", "C1", "C2", "C3")
    assert f.timing == xd.Timing(num_samples=40, period=TIMING.period, start=TIMING.start)
    everything = f.get_all_cell_data()
    for k, cell in enumerate(cells):
        want = expected_cell(*cell)
        for got in (f.get_cell_data(k), everything[k], xd.EventSet.read(out).get_cell_data(k)):
            np.testing.assert_array_equal(got[0], want[0])
            np.testing.assert_array_equal(got[1], want[1])
    chunks = list(f.iter_packets(chunk_packets=7))
    assert all(len(c) <= 7 for c in chunks)
    assert np.concatenate(chunks).tobytes() == split_file(out)[0]


def test_reader_collapses_duplicates_like_official(isx, tmp_path):
    """A file written by the official package with a repeated offset: both readers keep the last packet."""
    path = tmp_path / "official.isxd"
    timing = isx.Timing(num_samples=10, period=isx.Duration.from_msecs(50))
    es = isx.EventSet.write(str(path), timing, ["a", "b"])
    es.set_cell_data(1, np.array([300000, 100000, 100000], np.uint64), np.array([3, 1, 1.5], np.float32))
    es.set_cell_data(0, np.array([5], np.uint64), np.array([2], np.float32))
    es.flush()
    del es
    official = isx.EventSet.read(str(path))
    ours = xd.open_isxd(path)
    for k in range(2):
        for got in (ours.get_cell_data(k), ours.get_all_cell_data()[k]):
            np.testing.assert_array_equal(got[0], official.get_cell_data(k)[0])
            np.testing.assert_array_equal(got[1], official.get_cell_data(k)[1])
    np.testing.assert_array_equal(ours.get_cell_data(1)[1], [1.5, 3])
    assert ours.timing.num_samples == official.timing.num_samples == 10
    assert ours.get_cell_index("b") == 1


@pytest.mark.parametrize(
    ("period", "num_samples", "official_reads"),
    [(xd.Duration(1, 2000), 3, 2), (xd.Duration(1, 3000), 10, 9), (xd.Duration(1, 30), 10, 10), (xd.Duration(7, 9000), 1001, 1001)],
)
def test_sub_millisecond_periods_keep_num_samples(isx, tmp_path, period, num_samples, official_reads):
    timing = xd.Timing(num_samples=num_samples, period=period, start=xd.Time(xd.Duration(1700000000123, 1000)))
    cells = [(np.array([0, 1], np.uint64), np.array([1, 2], np.float32))]
    exact, truncated = tmp_path / "exact.isxd", tmp_path / "official.isxd"
    xd.write_event_set([c[0] for c in cells], [c[1] for c in cells], exact, timing=timing)
    xd.write_event_set([c[0] for c in cells], [c[1] for c in cells], truncated, timing=timing, end_time="official")
    assert_reads_back(isx, exact, cells, ["C0"], timing)
    assert isx.EventSet.read(str(truncated)).timing.num_samples == official_reads  # the official writer's loss
    assert xd.open_isxd(exact).timing.num_samples == num_samples


def test_official_end_time_matches_the_official_writer(isx, tmp_path):
    """end_time='official' stores what isx stores, across starts and periods that are not whole ms."""
    for start, period, n in [((1700000000123, 1000), (1, 30), 7), ((1, 3), (33333, 1000000), 29), ((0, 1), (1, 3000), 10)]:
        theirs = tmp_path / f"theirs_{n}.isxd"
        t = isx.Timing(num_samples=n, period=isx.Duration._from_num_den(*period),
                       start=isx.Time._from_secs_since_epoch(isx.Duration._from_num_den(*start), 0))
        es = isx.EventSet.write(str(theirs), t, ["a"])
        es.flush()
        del es
        ours = tmp_path / f"ours_{n}.isxd"
        timing = xd.Timing(num_samples=n, period=xd.Duration(*period), start=xd.Time(xd.Duration(*start)))
        xd.EventSet.write(ours, timing, ["a"], end_time="official").flush()
        assert_same_footer_as_golden(split_file(ours)[1], split_file(theirs)[1])


def test_exact_end_that_does_not_fit_is_refused_before_any_byte(tmp_path):
    timing = xd.Timing(num_samples=1, period=xd.Duration(11, 600000), start=xd.Time(xd.Duration(15372286728092, 12577)))
    with pytest.raises(ValueError, match="end_time='official'"):
        xd.write_event_set(ONE, AMP, tmp_path / "big.isxd", timing=timing)
    assert list(tmp_path.iterdir()) == []
    xd.write_event_set(ONE, AMP, tmp_path / "big.isxd", timing=timing, end_time="official")


def test_one_sample(isx, tmp_path):
    timing = xd.Timing(num_samples=1, period=xd.Duration.from_msecs(50))
    cells = [(np.array([49999], np.uint64), np.array([0.5], np.float32)), (np.array([0], np.int64), np.array([2.0]))]
    out = tmp_path / "one.isxd"
    xd.write_event_set([c[0] for c in cells], [c[1] for c in cells], out, timing=timing, cell_names=("a", "b"))
    assert_reads_back(isx, out, cells, ["a", "b"], timing)


def test_zero_cells_read_with_their_timing(isx, tmp_path):
    timing = xd.Timing(num_samples=10, period=xd.Duration(1, 30))
    bulk, incremental = tmp_path / "bulk.isxd", tmp_path / "inc.isxd"
    xd.write_event_set([], [], bulk, timing=timing)
    xd.EventSet.write(incremental, timing, ()).flush()
    for path in (bulk, incremental):
        assert_reads_back(isx, path, [], [], timing)
        assert xd.open_isxd(path).num_cells == 0
        assert xd.open_isxd(path).timing.num_samples == 10
    assert split_file(bulk) == split_file(incremental)


def test_default_names_are_zero_padded(isx, tmp_path):
    out = tmp_path / "names.isxd"
    empty = [np.zeros(0, np.uint64)] * 12
    xd.write_event_set(empty, empty, out, timing=TIMING)
    assert [isx.EventSet.read(str(out)).get_cell_name(k) for k in (0, 3, 11)] == ["C00", "C03", "C11"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    num_cells=st.integers(1, 4),
    num_samples=st.integers(1, 60),
    period=st.builds(Fraction, st.integers(1, 10**6), st.sampled_from([1, 30, 1000, 2000, 3000, 48000, 10**6, 999983])).filter(
        lambda p: Fraction(1, 100000) <= p <= 2
    ),
    start=st.sampled_from([1, 3, 1000, 10**6]).flatmap(lambda den: st.builds(Fraction, st.integers(0, 2 * 10**9 * den), st.just(den))),
    seed=st.integers(0, 2**16),
)
def test_round_trip_property(isx, tmp_path_factory, num_cells, num_samples, period, start, seed):
    end = start + num_samples * period
    assume(max(end.numerator, end.denominator) < 2**63)  # larger exact ends are refused (tested on their own)
    timing = xd.Timing(num_samples=num_samples, period=xd.Duration(period.numerator, period.denominator),
                       start=xd.Time(xd.Duration(start.numerator, start.denominator), 60))
    cells = random_cells(seed, num_cells, timing)
    out = tmp_path_factory.mktemp("prop") / "p.isxd"
    xd.write_event_set([c[0] for c in cells], [c[1] for c in cells], out, timing=timing)
    assert_reads_back(isx, out, cells, [f"C{k}" for k in range(num_cells)], timing)
    assert xd.open_isxd(out).timing == xd.Timing(num_samples, timing.period, timing.start)


# -- dense input ----------------------------------------------------------------------------
def sparse_dense(seed: int, shape: tuple[int, int], dtype=np.float64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.random(shape)
    values[values < 0.85] = 0
    values[0, :] = 0  # a cell without events
    return values.astype(dtype)


@pytest.mark.parametrize("chunks", [None, (5, 17), (1, 200), (11, 13), (2, 1)])
def test_dense_reads_back_and_matches_per_cell(isx, tmp_path, chunks):
    values = sparse_dense(3, (11, 200))
    values[3, 7] = np.nan  # NaN is an event
    timing = xd.Timing(num_samples=200, period=xd.Duration(1, 30), start=xd.Time(xd.Duration(1700000000, 1)))
    source = values if chunks is None else da.from_array(values, chunks=chunks)
    out = tmp_path / "dense.isxd"
    xd.write_event_set_dense(source, out, timing=timing)
    cells = dense_to_cells(values, Fraction(1, 30))
    assert_reads_back(isx, out, cells, [f"C{k:02d}" for k in range(11)], timing)
    # Same bytes as the per-cell writer, whatever the chunking.
    per_cell = tmp_path / "per_cell.isxd"
    xd.write_event_set([c[0] for c in cells], [c[1] for c in cells], per_cell, timing=timing)
    assert split_file(out) == split_file(per_cell)
    assert split_file(out)[0] == packets_bytes(cells)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("scheduler", ["sync", "processes"])
def test_dense_compute_false_and_schedulers(isx, tmp_path, scheduler):
    values = sparse_dense(4, (6, 90), np.float32)
    timing = xd.Timing(num_samples=90, period=xd.Duration.from_usecs(33333))
    out = tmp_path / "d.isxd"
    delayed = xd.write_event_set_dense(da.from_array(values, chunks=(4, 25)), out, timing=timing, compute=False, compute_kwargs={"scheduler": scheduler})
    assert isinstance(delayed, Delayed)
    assert not out.exists()
    delayed.compute(scheduler=scheduler)
    assert_reads_back(isx, out, dense_to_cells(values, Fraction(33333, 1000000)), [f"C{k}" for k in range(6)], timing)


def test_dense_integer_and_bool_input(isx, tmp_path):
    values = (sparse_dense(5, (3, 30)) * 100).astype(np.int32)
    timing = xd.Timing(num_samples=30)
    out = tmp_path / "i.isxd"
    xd.write_event_set_dense(values, out, timing=timing, cell_names=["x", "y", "z"])
    assert_reads_back(isx, out, dense_to_cells(values, Fraction(1, 20)), ["x", "y", "z"], timing)
    out_bool = tmp_path / "b.isxd"
    xd.write_event_set_dense(values > 0, out_bool)
    assert_reads_back(isx, out_bool, dense_to_cells(values > 0, Fraction(1, 20)), ["C0", "C1", "C2"], timing)


@pytest.mark.parametrize("shape", [(0, 10), (3, 0), (0, 0)])
def test_dense_degenerate_shapes(isx, tmp_path, shape):
    out = tmp_path / "empty.isxd"
    xd.write_event_set_dense(np.zeros(shape, np.float32), out)
    timing = xd.Timing(num_samples=shape[1])
    assert_reads_back(isx, out, [(np.zeros(0), np.zeros(0))] * shape[0], [f"C{k}" for k in range(shape[0])], timing)


def test_dense_non_deterministic_input_commits_nothing(tmp_path):
    calls = {"n": 0}

    def flaky(block):
        calls["n"] += block.size > 0  # the first real call is the first pass; later calls differ
        return block if calls["n"] <= 1 else block * 0 + 1

    values = da.from_array(sparse_dense(6, (3, 20)), chunks=(3, 20)).map_blocks(flaky, dtype=float)
    out = tmp_path / "flaky.isxd"
    with pytest.raises(RuntimeError, match="second pass"):
        xd.write_event_set_dense(values, out, timing=xd.Timing(num_samples=20), compute_kwargs={"scheduler": "sync"})
    assert not out.exists()
    assert leftovers(tmp_path) == []


# -- incremental ------------------------------------------------------------------------------
def test_incremental_any_order_appends(isx, tmp_path):
    out = tmp_path / "inc.isxd"
    es = xd.EventSet.write(out, TIMING, ["a", "b", "c"])
    es.set_cell_data(2, [30000, 10000], [3.0, 1.0])
    es.set_cell_data(0, np.array([5], np.uint32), np.array([0.5], np.float64))
    es.set_cell_data(2, [20000], [2.0])
    es.set_cell_data(1, [], [])
    with pytest.raises(ValueError, match="offsets repeats offset 10000"):
        es.set_cell_data(2, [10000], [9.0])
    assert not out.exists()
    es.flush()
    es.flush()
    cells = [([5], [0.5]), ([], []), ([30000, 10000, 20000], [3.0, 1.0, 2.0])]
    assert_reads_back(isx, out, cells, ["a", "b", "c"], TIMING)
    assert split_file(out)[1]["numSamples"] == [1, 0, 3]
    assert split_file(out)[1]["startOffsets"] == [5, 0, 30000]
    assert es.mode == "w"  # as the official package: mode stays "w" after flush()
    assert es.get_cell_index("c") == 2
    np.testing.assert_array_equal(es.get_cell_data(2)[0], [10000, 20000, 30000])
    with pytest.raises(RuntimeError, match="not open for writing"):
        es.set_cell_data(0, [1], [1.0])


def test_incremental_context_manager_commits_nothing_on_error(tmp_path):
    out = tmp_path / "inc.isxd"
    with pytest.raises(KeyError):
        with xd.EventSet.write(out, TIMING, ["a"]) as es:
            es.set_cell_data(0, [1], [1.0])
            raise KeyError("boom")
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_incremental_bad_index_writes_nothing(isx, tmp_path):
    out = tmp_path / "inc.isxd"
    es = xd.EventSet.write(out, TIMING, ["a"])
    with pytest.raises(IndexError, match="index 1 is out of range"):
        es.set_cell_data(1, [1], [1.0])
    with pytest.raises(TypeError, match="index"):
        es.set_cell_data(0.0, [1], [1.0])
    es.set_cell_data(0, [1], [1.0])
    es.flush()
    assert split_file(out)[0] == packets_bytes([([1], [1.0])])
    assert_reads_back(isx, out, [([1], [1.0])], ["a"], TIMING)


def test_incremental_dropped_unflushed_commits_nothing(tmp_path):
    # Unlike the official package (which finalises on deletion), a writer dropped without flush()
    # commits nothing: a crashed loop must not leave a valid-looking truncated file.
    out = tmp_path / "del.isxd"
    es = xd.EventSet.write(out, TIMING, ["a"])
    es.set_cell_data(0, [7], [1.0])
    with pytest.warns(ResourceWarning, match="never flushed"):
        del es
        gc.collect()
    assert list(tmp_path.iterdir()) == []


# -- bad input: a clear error before any byte ----------------------------------------------------
ONE = [np.array([1], np.uint64)]
AMP = [np.array([1.0], np.float32)]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"cell_names": ["a", "a"], "offsets": ONE * 2, "amplitudes": AMP * 2}, ValueError, "cell_names must be unique"),
        ({"cell_names": ["é" * 128]}, ValueError, r"cell_names\[0\] is 256 UTF-8 bytes"),
        ({"cell_names": ["a\x00b"]}, ValueError, r"cell_names\[0\]"),
        ({"cell_names": [1]}, TypeError, r"cell_names\[0\]"),
        ({"cell_names": "a"}, TypeError, "cell_names"),
        ({"cell_names": ["a", "b"]}, ValueError, "cell_names has 2 names"),
        ({"offsets": ONE * 2}, ValueError, "offsets has 2 cells but amplitudes has 1"),
        ({"offsets": [np.array([-5])]}, ValueError, r"offsets\[0\] holds a negative offset"),
        ({"offsets": [np.array([1_000_000])]}, ValueError, r"offsets\[0\] holds offset 1000000 us, past the end"),
        ({"offsets": [np.array([1.5])]}, TypeError, r"offsets\[0\] must be whole microseconds"),
        ({"offsets": [np.array(["1"])]}, TypeError, r"offsets\[0\] must be integer"),
        ({"offsets": [np.array([[1, 2], [3, 4]])]}, ValueError, r"offsets\[0\] must be one-dimensional"),
        ({"offsets": [np.array([1, 1])], "amplitudes": [np.array([1.0, 2.0])]}, ValueError, r"offsets\[0\] repeats offset 1 us"),
        ({"amplitudes": [np.array([1.0, 2.0])]}, ValueError, r"offsets\[0\] has 1 events but amplitudes\[0\] has 2"),
        ({"amplitudes": [np.array([1e300])]}, ValueError, r"amplitudes\[0\] holds values beyond the float32 range"),
        ({"amplitudes": [np.array([1 + 2j])]}, TypeError, r"amplitudes\[0\] has dtype complex128"),
        ({"amplitudes": [np.array(["x"])]}, TypeError, r"amplitudes\[0\] has dtype"),
        ({"timing": "50ms"}, TypeError, "timing must be an isx_dask.Timing"),
        ({"end_time": "rounded"}, ValueError, "end_time must be 'exact' or 'official'"),
        ({"extra_properties": {"x": float("nan")}}, ValueError, "extra_properties"),
    ],
)
def test_bad_input_per_cell(tmp_path, kwargs, error, match):
    args = {"offsets": ONE, "amplitudes": AMP, "timing": xd.Timing(num_samples=20), "cell_names": None, **kwargs}
    out = tmp_path / "bad.isxd"
    with pytest.raises(error, match=match):
        xd.write_event_set(args.pop("offsets"), args.pop("amplitudes"), out, **args)
    assert list(tmp_path.iterdir()) == []


def test_bad_input_existing_path(tmp_path):
    out = tmp_path / "exists.isxd"
    out.write_bytes(b"keep")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        xd.write_event_set(ONE, AMP, out, timing=TIMING)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        xd.write_event_set_dense(np.ones((1, 40)), out, timing=TIMING)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        xd.EventSet.write(out, TIMING, ["a"])
    assert out.read_bytes() == b"keep"
    assert leftovers(tmp_path) == []
    xd.write_event_set(ONE, AMP, out, timing=TIMING, overwrite=True)
    assert xd.open_isxd(out).num_cells == 1


@pytest.mark.parametrize(
    ("amplitudes", "timing", "cell_names", "error", "match"),
    [
        (np.ones((2, 30)), xd.Timing(num_samples=31), None, ValueError, "amplitudes holds 30 samples but timing.num_samples is 31"),
        (np.ones((2, 30)), None, ["a"], ValueError, "cell_names has 1 names but the data has 2 cells"),
        (np.ones(30), None, None, ValueError, r"amplitudes must have 2 dimensions"),
        (np.ones((2, 3), complex), None, None, TypeError, "amplitudes has dtype complex128"),
        (np.full((2, 3), 1e300), None, None, ValueError, "amplitudes holds values beyond the float32 range"),
        (np.ones((1, 3)), xd.Timing(num_samples=3, period=xd.Duration(1, 2_000_000)), None, ValueError, "timing.period"),
    ],
)
def test_bad_input_dense(tmp_path, amplitudes, timing, cell_names, error, match):
    out = tmp_path / "bad.isxd"
    with pytest.raises(error, match=match):
        xd.write_event_set_dense(amplitudes, out, timing=timing, cell_names=cell_names)
    assert list(tmp_path.iterdir()) == []


def test_bad_input_incremental(tmp_path):
    out = tmp_path / "bad.isxd"
    with pytest.raises(TypeError, match="timing"):
        xd.EventSet.write(out, "x", ["a"])
    with pytest.raises(ValueError, match="cell_names must be unique"):
        xd.EventSet.write(out, TIMING, ["a", "a"])
    with pytest.raises(ValueError, match="past the end"):
        with xd.EventSet.write(out, TIMING, ["a"]) as es:
            es.set_cell_data(0, [1_000_000], [1.0])
    assert list(tmp_path.iterdir()) == []


def test_malformed_files_are_refused(tmp_path):
    """A partial packet or a packet naming a cell out of range: a clear error, where the official reader crashes."""
    good = tmp_path / "good.isxd"
    xd.write_event_set(ONE, AMP, good, timing=TIMING)
    data, footer = split_file(good)
    text = json.dumps(footer).encode()

    def craft(name: str, data_section: bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(data_section + text + b"\x00" + struct.pack("<Q", len(text)))
        return path

    with pytest.raises(xd.IsxdFormatError, match="whole number of 20-byte"):
        xd.open_isxd(craft("partial.isxd", data + b"\x00" * 7))
    bad = np.frombuffer(data, PACKET).copy()
    bad["cell"] = 3
    with pytest.raises(xd.IsxdFormatError, match="names cell 3"):
        xd.open_isxd(craft("cell.isxd", bad.tobytes())).get_cell_data(0)



@pytest.mark.parametrize("num_cells", [1, 10, 11, 101])
def test_default_names_match_the_cell_set_defaults_of_the_official_writer(tmp_path, isx, num_cells):
    """Events pair with their cells by name, so default event names are the official cell-set defaults."""
    timing = xd.Timing(num_samples=3)
    official = isx.CellSet.write(str(tmp_path / "cells.isxd"), isx.Timing(num_samples=3), isx.Spacing(num_pixels=(1, 1)))
    for k in range(num_cells):
        official.set_cell_data(k, np.zeros((1, 1), np.float32), np.zeros(3, np.float32), "")
    official.flush()
    cells = isx.CellSet.read(str(tmp_path / "cells.isxd"))
    expected = [cells.get_cell_name(k) for k in range(num_cells)]
    xd.write_event_set([[0]] * num_cells, [[1.0]] * num_cells, tmp_path / "events.isxd", timing=timing)
    events = isx.EventSet.read(str(tmp_path / "events.isxd"))
    assert [events.get_cell_name(k) for k in range(num_cells)] == expected


def test_metadata_from_a_cell_set_gives_timing_names_and_extra_properties(tmp_path, isx):
    timing = xd.Timing(num_samples=40, period=xd.Duration(1, 30), start=xd.Time(xd.Duration(1700000000, 1), 3600), dropped=[3])
    cells = tmp_path / "cells.isxd"
    xd.write_cell_set(np.ones((3, 2, 2), np.float32), np.ones((3, 40), np.float32), cells, timing=timing,
                      cell_names=["a", "b", "c"], extra_properties={"idps": {"cellset": {"method": "cnmfe", "units": "dF"}}})
    spikes = np.zeros((3, 40), np.float32)
    spikes[1, 6] = 2.0
    out = tmp_path / "events.isxd"
    xd.write_event_set_dense(spikes, out, metadata_from=cells)
    events = isx.EventSet.read(str(out))
    assert [events.get_cell_name(k) for k in range(3)] == ["a", "b", "c"]
    assert events.timing.num_samples == 40
    offsets, amplitudes = events.get_cell_data(1)
    assert offsets.tolist() == [200000] and amplitudes.tolist() == [2.0]  # sample 6 at 1/30 s
    assert xd.open_isxd(out).extra_properties == {"idps": {"cellset": {"method": "cnmfe", "units": "dF"}}}
    out2 = tmp_path / "events2.isxd"
    xd.write_event_set([[0], [], [100000]], [[1.0], [], [3.0]], out2, metadata_from=cells)
    assert isx.EventSet.read(str(out2)).get_cell_name(2) == "c"
    with pytest.raises(TypeError, match="timing is required"):
        xd.write_event_set([[0]], [[1.0]], tmp_path / "x.isxd")


# -- amplitudes float32 cannot hold: refused unless casting allows the change -------------------------
BIG = 2**24 + 1  # the first integer float32 cannot hold: it would be stored as 16777216


@pytest.mark.parametrize("dtype", [np.int64, np.uint32, np.int32, np.uint64])
@pytest.mark.parametrize("lazy", [False, True], ids=["numpy", "dask"])
def test_dense_integer_amplitudes_float32_would_round_are_refused(tmp_path, dtype, lazy):
    amps = np.zeros((2, 40), dtype=dtype)
    amps[1, 7] = BIG
    data = da.from_array(amps, chunks=(1, 10)) if lazy else amps
    before = sorted(tmp_path.iterdir())
    with pytest.raises(ValueError, match=r"amplitudes holds 1 value\(s\).* float32 cannot hold exactly \(e.g. .*16777217.* at index \(1, 7\)\).*casting='unsafe'"):
        xd.write_event_set_dense(data, tmp_path / "e.isxd", timing=TIMING)
    assert sorted(tmp_path.iterdir()) == before
    assert leftovers(tmp_path) == []


def test_dense_integer_amplitudes_float32_holds_are_exact(isx, tmp_path):
    amps = np.zeros((1, 40), dtype=np.int64)
    amps[0, [3, 9, 20]] = [2**25, -(2**24), 2**62]  # large, but float32 holds them exactly
    out = tmp_path / "e.isxd"
    xd.write_event_set_dense(da.from_array(amps, chunks=(1, 8)), out, timing=TIMING)
    got = isx.EventSet.read(str(out)).get_cell_data(0)[1]
    np.testing.assert_array_equal(got.astype(np.float64), [2.0**25, -(2.0**24), 2.0**62])


@pytest.mark.parametrize("lazy", [False, True], ids=["numpy", "dask"])
def test_dense_casting_unsafe_rounds_as_numpy_astype(isx, tmp_path, lazy):
    amps = np.zeros((1, 40), dtype=np.int64)
    amps[0, 5] = BIG
    out = tmp_path / "e.isxd"
    xd.write_event_set_dense(da.from_array(amps, chunks=(1, 8)) if lazy else amps, out, timing=TIMING, casting="unsafe")
    offsets, values = isx.EventSet.read(str(out)).get_cell_data(0)
    assert values.tolist() == [16777216.0]  # what float32 holds, written by the user's explicit choice


@pytest.mark.parametrize(
    ("casting", "dtype", "error", "match"),
    [
        ("safe", np.int64, TypeError, r"amplitudes has dtype int64, which cannot be cast to float32 under casting='safe'"),
        ("no", np.float64, TypeError, r"amplitudes has dtype float64, which cannot be cast to float32 under casting='no'"),
        ("lossy", np.float32, ValueError, "casting must be one of"),
    ],
)
def test_dense_casting_rules_by_dtype(tmp_path, casting, dtype, error, match):
    with pytest.raises(error, match=match):
        xd.write_event_set_dense(np.ones((1, 40), dtype=dtype), tmp_path / "e.isxd", timing=TIMING, casting=casting)
    assert list(tmp_path.iterdir()) == []


def test_dense_same_kind_allows_float_overflow_by_choice(isx, tmp_path):
    amps = np.zeros((1, 40))
    amps[0, 2] = 1e300
    out = tmp_path / "e.isxd"
    xd.write_event_set_dense(amps, out, timing=TIMING, casting="same_kind")
    assert isx.EventSet.read(str(out)).get_cell_data(0)[1].tolist() == [np.inf]


def test_sparse_integer_amplitudes_float32_would_round_are_refused(isx, tmp_path):
    out = tmp_path / "e.isxd"
    with pytest.raises(ValueError, match=r"amplitudes\[1\] holds 1 value\(s\) that float32 cannot hold exactly .*at index \(1,\)"):
        xd.write_event_set([[0], [0, 50_000]], [[1], np.array([2, BIG])], out, timing=TIMING)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(TypeError, match=r"amplitudes\[0\] has dtype int64, which cannot be cast to float32 under casting='safe'"):
        xd.write_event_set([[0]], [np.array([1])], out, timing=TIMING, casting="safe")
    assert list(tmp_path.iterdir()) == []
    xd.write_event_set([[0], [0, 50_000]], [[1], np.array([2, BIG])], out, timing=TIMING, casting="unsafe")
    assert isx.EventSet.read(str(out)).get_cell_data(1)[1].tolist() == [2.0, 16777216.0]


def test_incremental_integer_amplitudes_float32_would_round_are_refused(tmp_path):
    out = tmp_path / "e.isxd"
    with xd.EventSet.write(out, TIMING, ["a"]) as events:
        with pytest.raises(ValueError, match=r"amplitudes holds 1 value\(s\) that float32 cannot hold exactly"):
            events.set_cell_data(0, np.array([0, 50_000]), np.array([1, BIG], dtype=np.int64))
        with pytest.warns(UserWarning, match="Converting from int64 to float32"):  # the official warning
            events.set_cell_data(0, np.array([0]), np.array([BIG - 1], dtype=np.int64))
    np.testing.assert_array_equal(xd.open_isxd(out).get_cell_data(0)[1], np.float32([BIG - 1]))
