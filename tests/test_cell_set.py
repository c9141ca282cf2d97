"""Cell sets: every written file is read back with the official isx package and compared with numpy."""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import pytest
from conftest import (
    leftovers,
    assert_same_footer_as_golden,
    assert_spacing_equal,
    assert_timing_equal,
    manifest_array,
    manifest_entry,
    manifest_timing,
    split_file,
)
from dask.delayed import Delayed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import isx_dask as xd

STATUS_OF_CODE = {0: "accepted", 1: "undecided", 2: "rejected"}




def expected_traces(traces: np.ndarray, timing: xd.Timing) -> np.ndarray:
    """Traces as stored: float32, NaN at dropped, cropped and blank samples (computed with numpy only)."""
    out = np.array(traces, dtype=np.float32, copy=True)
    for i in timing.dropped + timing.blank:
        out[:, i] = np.nan
    for first, last in timing.cropped:
        out[:, first : last + 1] = np.nan
    return out


def expected_data_section(footprints: np.ndarray, traces: np.ndarray, timing: xd.Timing) -> bytes:
    """The data section computed independently: per cell, footprint bytes then trace bytes."""
    stored = expected_traces(traces, timing)
    return b"".join(
        np.asarray(footprints[k], np.float32).tobytes() + stored[k].tobytes() for k in range(len(footprints))
    )


def assert_cell_set_reads_back(isx, path: Path, footprints, traces, names, statuses, timing, spacing) -> None:
    """Official reader: exact footprints, traces (NaN exactly where invalid), names, statuses, timing, spacing."""
    cs = isx.CellSet.read(str(path))
    assert cs.num_cells == len(footprints)
    assert_timing_equal(timing, cs.timing)
    assert_spacing_equal(spacing, cs.spacing)
    stored = expected_traces(traces, timing)
    for k in range(len(footprints)):
        np.testing.assert_array_equal(cs.get_cell_image_data(k), np.asarray(footprints[k], np.float32))
        trace = cs.get_cell_trace_data(k)
        np.testing.assert_array_equal(np.isnan(trace), np.isnan(stored[k]))
        np.testing.assert_array_equal(trace, stored[k])
        assert cs.get_cell_name(k) == names[k]
        assert cs.get_cell_status(k) == statuses[k]


def random_cells(seed: int, n: int, rows: int, cols: int, samples: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random((n, rows, cols), dtype=np.float32), rng.standard_normal((n, samples)).astype(np.float32)


# -- golden files -------------------------------------------------------------------------
def golden_inputs(name: str) -> dict:
    spec = manifest_entry(name)
    timing = manifest_timing(spec["timing"])
    spacing = xd.Spacing(num_pixels=tuple(spec["spacing"]["num_pixels"]))
    if "images" in spec:
        footprints, traces = manifest_array(spec["images"]), manifest_array(spec["traces"])
    else:
        footprints = np.zeros((0, *spacing.num_pixels), np.float32)
        traces = np.zeros((0, timing.num_samples), np.float32)
    return {"footprints": footprints, "traces": traces, "timing": timing, "spacing": spacing,
            "names": spec.get("names"), "statuses": spec.get("statuses")}


@pytest.mark.parametrize("name", ["cellset.isxd", "cellset_dropped.isxd", "cellset_empty.isxd"])
@pytest.mark.parametrize("chunks", [None, ((1, 2, 3), (2, 4))])
def test_golden_cell_sets_reproduced_from_manifest(tmp_path, golden, name, chunks):
    spec = golden_inputs(name)
    footprints, traces = spec["footprints"], spec["traces"]
    if chunks is not None:  # chunks that split cells, rows, columns and samples
        footprints = da.from_array(footprints, chunks=chunks[0])
        traces = da.from_array(traces, chunks=chunks[1])
    out = tmp_path / "out.isxd"
    xd.write_cell_set(footprints, traces, out, timing=spec["timing"], cell_names=spec["names"], statuses=spec["statuses"])
    ours_data, ours_footer = split_file(out)
    gold_data, gold_footer = split_file(golden(name))
    assert ours_data == gold_data
    assert_same_footer_as_golden(ours_footer, gold_footer)


@pytest.mark.parametrize("name", ["cellset.isxd", "cellset_dropped.isxd", "cellset_empty.isxd"])
def test_golden_cell_sets_reproduced_by_incremental_api_in_shuffled_order(tmp_path, golden, name):
    spec = golden_inputs(name)
    out = tmp_path / "out.isxd"
    cs = xd.CellSet.write(out, spec["timing"], spec["spacing"])
    order = list(range(len(spec["footprints"])))
    random.Random(5).shuffle(order)
    for k in order:
        name_k = spec["names"][k] if spec["names"] else None
        cs.set_cell_data(k, spec["footprints"][k], spec["traces"][k], name_k)
    assert not out.exists()
    for k in reversed(order):
        if spec["statuses"]:
            cs.set_cell_status(k, spec["statuses"][k])
    # As in the official package, set_cell_status flushes the set, then writes each status through.
    assert out.exists() == bool(spec["statuses"])
    cs.flush()
    ours_data, ours_footer = split_file(out)
    gold_data, gold_footer = split_file(golden(name))
    assert ours_data == gold_data
    assert_same_footer_as_golden(ours_footer, gold_footer)


def test_reader_matches_official_on_golden_files(golden, isx):
    for name in ("cellset.isxd", "cellset_dropped.isxd", "cellset_empty.isxd"):
        path = golden(name)
        ours, official = xd.open_isxd(path), isx.CellSet.read(str(path))
        assert isinstance(ours, xd.CellSetFile)
        assert ours.num_cells == official.num_cells
        assert_timing_equal(ours.timing, official.timing)
        assert_spacing_equal(ours.spacing, official.spacing)
        footprints, traces = ours.footprints.compute(), ours.traces.compute()
        assert footprints.shape == (ours.num_cells, 5, 7) and traces.shape == (ours.num_cells, ours.timing.num_samples)
        for k in range(ours.num_cells):
            np.testing.assert_array_equal(footprints[k], official.get_cell_image_data(k))
            np.testing.assert_array_equal(traces[k], official.get_cell_trace_data(k))
            np.testing.assert_array_equal(ours.get_footprint(k), official.get_cell_image_data(k))
            np.testing.assert_array_equal(ours.get_trace(k), official.get_cell_trace_data(k))
            assert ours.names[k] == official.get_cell_name(k)
            assert ours.statuses[k] == official.get_cell_status(k)
        reader = xd.CellSet.read(path)
        assert reader.num_cells == official.num_cells
        for k in range(reader.num_cells):
            assert reader.get_cell_name(k) == official.get_cell_name(k)
            assert reader.get_cell_status(k) == official.get_cell_status(k)
            np.testing.assert_array_equal(reader.get_cell_trace_data(k), official.get_cell_trace_data(k))
            np.testing.assert_array_equal(reader.get_cell_image_data(k), official.get_cell_image_data(k))


# -- official reader round trips ----------------------------------------------------------
@pytest.mark.parametrize("scheduler", ["synchronous", "threads", "processes"])
def test_dask_cell_set_read_back_by_official_isx(tmp_path, isx, scheduler):
    footprints, traces = random_cells(11, 7, 6, 9, 20)
    timing = xd.Timing(20, xd.Duration(1, 30), xd.Time(xd.Duration(1700000000, 1), -3600), dropped=[0, 5], cropped=[(8, 10)], blank=[19])
    spacing = xd.Spacing(num_pixels=(6, 9), pixel_size=(Fraction(7, 2), Fraction(11, 4)), top_left=(-3, Fraction(1, 2)))
    names = [f"cell {k} é" for k in range(7)]
    statuses = ["accepted", "rejected", "undecided", "accepted", "rejected", "undecided", "accepted"]
    out = tmp_path / "c.isxd"
    # Chunks that split cells, rows, columns and samples.
    xd.write_cell_set(
        da.from_array(footprints, chunks=(3, 4, 5)), da.from_array(traces, chunks=(2, 7)), out,
        timing=timing, spacing=spacing, cell_names=names, statuses=statuses, compute_kwargs={"scheduler": scheduler},
    )
    assert_cell_set_reads_back(isx, out, footprints, traces, names, statuses, timing, spacing)
    assert split_file(out)[0] == expected_data_section(footprints, traces, timing)
    assert leftovers(tmp_path) == []


def test_numpy_input_of_other_dtypes_and_boolean_status_mask(tmp_path, isx):
    rng = np.random.default_rng(4)
    footprints = rng.integers(0, 1000, (5, 3, 4)).astype(np.uint16)
    traces = rng.standard_normal((5, 8))  # float64: converted to float32
    accepted = np.array([True, False, True, True, False])
    out = tmp_path / "c.isxd"
    xd.write_cell_set(footprints, traces, out, statuses=accepted, timing=xd.Timing(8, blank=[3]))
    statuses = ["accepted", "rejected", "accepted", "accepted", "rejected"]
    names = [f"C{k}" for k in range(5)]
    assert_cell_set_reads_back(isx, out, footprints.astype(np.float32), traces.astype(np.float32), names, statuses,
                               xd.Timing(8, blank=[3]), xd.Spacing(num_pixels=(3, 4)))
    out2 = tmp_path / "all.isxd"
    xd.write_cell_set(footprints.astype(np.float32), traces.astype(np.float32), out2, statuses="rejected", write_method="mmap")
    assert [isx.CellSet.read(str(out2)).get_cell_status(k) for k in range(5)] == ["rejected"] * 5


def test_default_names_are_padded_like_the_official_core(tmp_path, isx):
    for n, first, last in [(1, "C0", "C0"), (10, "C0", "C9"), (11, "C00", "C10"), (101, "C000", "C100")]:
        out = tmp_path / f"n{n}.isxd"
        xd.write_cell_set(np.zeros((n, 1, 2), np.float32), np.zeros((n, 1), np.float32), out)
        cs = isx.CellSet.read(str(out))
        assert (cs.get_cell_name(0), cs.get_cell_name(n - 1)) == (first, last)
        assert cs.get_cell_status(0) == "undecided"


def test_zero_cells_and_one_sample(tmp_path, isx):
    out = tmp_path / "empty.isxd"
    xd.write_cell_set(da.zeros((0, 4, 5), np.float32), da.zeros((0, 3), np.float32), out)
    assert isx.CellSet.read(str(out)).num_cells == 0
    assert xd.open_isxd(out).footprints.compute().shape == (0, 4, 5)
    one = tmp_path / "one.isxd"
    footprints, traces = random_cells(2, 3, 4, 5, 1)
    xd.write_cell_set(footprints, traces, one)
    assert_cell_set_reads_back(isx, one, footprints, traces, ["C0", "C1", "C2"], ["undecided"] * 3, xd.Timing(1), xd.Spacing(num_pixels=(4, 5)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_property_round_trip(tmp_path_factory, isx, data):
    n = data.draw(st.integers(0, 5), label="num_cells")
    rows = data.draw(st.integers(1, 5), label="rows")
    cols = data.draw(st.integers(1, 5), label="cols")
    t = data.draw(st.integers(1, 9), label="num_samples")
    idx = st.lists(st.integers(0, t - 1), max_size=3)
    cropped = [tuple(sorted(p)) for p in data.draw(st.lists(st.tuples(st.integers(0, t - 1), st.integers(0, t - 1)), max_size=2), label="cropped")]
    timing = xd.Timing(t, dropped=data.draw(idx, label="dropped"), cropped=cropped, blank=data.draw(idx, label="blank"))
    footprints, traces = random_cells(n * 97 + rows * 7 + t, n, rows, cols, t)
    statuses = data.draw(st.lists(st.sampled_from(["accepted", "undecided", "rejected"]), min_size=n, max_size=n), label="statuses")
    foot_chunks = (data.draw(st.integers(1, max(n, 1))), data.draw(st.integers(1, rows)), data.draw(st.integers(1, cols)))
    trace_chunks = (data.draw(st.integers(1, max(n, 1))), data.draw(st.integers(1, t)))
    out = tmp_path_factory.mktemp("prop") / "p.isxd"
    xd.write_cell_set(da.from_array(footprints, chunks=foot_chunks), da.from_array(traces, chunks=trace_chunks), out,
                      timing=timing, statuses=statuses, fsync=False)
    width = len(str(max(n - 1, 0)))
    names = [f"C{k:0{width}d}" for k in range(n)]
    assert_cell_set_reads_back(isx, out, footprints, traces, names, statuses, timing, xd.Spacing(num_pixels=(rows, cols)))
    assert split_file(out)[0] == expected_data_section(footprints, traces, timing)
    ours = xd.open_isxd(out)
    np.testing.assert_array_equal(ours.traces_to_dask(chunks=(2, 3)).compute(), expected_traces(traces, timing))
    np.testing.assert_array_equal(ours.footprints_to_dask(chunks=(2, 2, 3)).compute(), footprints)


def test_compute_false_commits_only_when_computed(tmp_path, isx):
    footprints, traces = random_cells(3, 4, 3, 3, 6)
    out = tmp_path / "lazy.isxd"
    delayed = xd.write_cell_set(da.from_array(footprints, chunks=2), traces, out, compute=False)
    assert isinstance(delayed, Delayed)
    assert not out.exists()
    with pytest.raises(Exception, match="does not exist"):
        isx.CellSet.read(str(out))
    dask.compute(delayed)
    assert_cell_set_reads_back(isx, out, footprints, traces, ["C0", "C1", "C2", "C3"], ["undecided"] * 4, xd.Timing(6), xd.Spacing(num_pixels=(3, 3)))


def test_metadata_from_movie(tmp_path, isx, golden):
    source = golden("movie_u16_dropped.isxd")
    movie = isx.Movie.read(str(source))
    rows, cols = movie.spacing.num_pixels
    footprints, traces = random_cells(8, 2, rows, cols, movie.timing.num_samples)
    out = tmp_path / "derived.isxd"
    xd.write_cell_set(footprints, traces, out, metadata_from=source, extra_properties={"idps": {"cellset": {"method": "cnmfe", "units": "dF over noise"}}})
    src = xd.open_isxd(source)
    assert_cell_set_reads_back(isx, out, footprints, traces, ["C0", "C1"], ["undecided"] * 2, src.timing, src.spacing)
    info = isx.CellSet.read(str(out)).get_acquisition_info()
    assert info["Cell Identification Method"] == "cnmfe" and info["Trace Units"] == "dF over noise"


def _fail_on_block(block, block_info=None):
    if block_info[None]["chunk-location"][0] == 1:
        raise RuntimeError("injected failure in chunk 1")
    return block


def test_failure_in_one_chunk_leaves_nothing_and_keeps_existing_file(tmp_path):
    out = tmp_path / "c.isxd"
    out.write_bytes(b"precious bytes")
    traces = da.ones((6, 5), np.float32, chunks=(2, 5)).map_blocks(_fail_on_block, dtype=np.float32)
    with pytest.raises(RuntimeError, match="injected failure"):
        xd.write_cell_set(np.ones((6, 2, 2), np.float32), traces, out, overwrite=True)
    assert out.read_bytes() == b"precious bytes"
    assert leftovers(tmp_path) == []


# -- bad input ----------------------------------------------------------------------------
F, T = np.zeros((3, 4, 5), np.float32), np.zeros((3, 6), np.float32)
BAD_INPUTS = [
    ({"footprints": np.zeros((3, 20), np.float32)}, ValueError, "footprints must have 3 dimensions"),
    ({"traces": np.zeros(6, np.float32)}, ValueError, "traces must have 2 dimensions"),
    ({"spacing": xd.Spacing(num_pixels=(5, 4))}, ValueError, "footprints.*spacing.num_pixels"),
    ({"timing": xd.Timing(num_samples=7)}, ValueError, "traces.*timing.num_samples"),
    ({"traces": np.zeros((2, 6), np.float32)}, ValueError, "footprints hold 3 cells but traces hold 2"),
    ({"cell_names": ["a", "b"]}, ValueError, "cell_names has 2 names"),
    ({"statuses": ["accepted"] * 4}, ValueError, "statuses has 4 entries"),
    ({"cell_names": ["a", "é" * 128, "c"]}, ValueError, r"cell_names\[1\] is 256 UTF-8 bytes"),
    ({"cell_names": ["a", 7, "c"]}, TypeError, r"cell_names\[1\] must be a str"),
    ({"cell_names": "abc"}, TypeError, "cell_names must be a sequence"),
    ({"cell_names": ["a", "b\x00", "c"]}, ValueError, r"cell_names\[1\].*NUL"),
    ({"statuses": ["accepted", "maybe", "rejected"]}, ValueError, r"statuses\[1\] must be 'accepted'"),
    ({"statuses": "maybe"}, ValueError, "statuses must be 'accepted'"),
    ({"footprints": np.zeros((3, 4, 5), np.complex64)}, TypeError, "footprints has dtype complex64"),
    ({"traces": np.array([["x"] * 6] * 3)}, TypeError, "traces has dtype"),
    ({"traces": da.zeros((3, 6), np.float32)[da.from_array(np.array([True, False, True]))]}, ValueError, "traces has unknown"),
    ({"footprints": np.zeros((3, 0, 5), np.float32), "traces": T}, ValueError, "spacing.num_pixels"),
    ({"traces": np.zeros((3, 0), np.float32)}, ValueError, "timing.num_samples is 0"),
    ({"timing": "50ms"}, TypeError, "timing"),
    ({"extra_properties": {"x": float("inf")}}, ValueError, "extra_properties"),
]


@pytest.mark.parametrize(("kwargs", "error", "match"), BAD_INPUTS)
def test_bad_input_is_refused_before_any_byte(tmp_path, kwargs, error, match):
    args = {"footprints": F, "traces": T, **kwargs}
    with pytest.raises(error, match=match):
        xd.write_cell_set(args.pop("footprints"), args.pop("traces"), tmp_path / "bad.isxd", **args)
    assert list(tmp_path.iterdir()) == []


def test_existing_path_without_overwrite(tmp_path):
    existing = tmp_path / "c.isxd"
    existing.write_bytes(b"keep")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        xd.write_cell_set(F, T, existing)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        xd.CellSet.write(existing, xd.Timing(6), xd.Spacing(num_pixels=(4, 5)))
    assert existing.read_bytes() == b"keep"
    assert leftovers(tmp_path) == []


# -- incremental API ------------------------------------------------------------------------
def test_incremental_cell_set_rules(tmp_path, isx):
    timing = xd.Timing(5, dropped=[1])
    spacing = xd.Spacing(num_pixels=(2, 3))
    footprints, traces = random_cells(9, 4, 2, 3, 5)
    out = tmp_path / "inc.isxd"
    cs = xd.CellSet.write(out, timing, spacing)
    cs.set_cell_data(3, footprints[3], traces[3], "last")
    cs.set_cell_data(1, footprints[1].astype(np.float64), traces[1], None)
    with pytest.raises(ValueError, match="already written"):
        cs.set_cell_data(3, footprints[3], traces[3], "again")
    with pytest.raises(ValueError, match="image has shape"):
        cs.set_cell_data(0, footprints[0].T, traces[0], "x")
    with pytest.raises(ValueError, match="trace has shape"):
        cs.set_cell_data(0, footprints[0], traces[0][:4], "x")
    with pytest.raises(TypeError, match="image must be a numpy.ndarray"):
        cs.set_cell_data(0, footprints[0].tolist(), traces[0], "x")
    with pytest.raises(TypeError, match="trace has dtype complex128"):
        cs.set_cell_data(0, footprints[0], traces[0].astype(complex), "x")
    with pytest.raises(ValueError, match="index must be >= 0"):
        cs.set_cell_data(-1, footprints[0], traces[0], "x")
    with pytest.raises(ValueError, match="UTF-8 bytes"):
        cs.set_cell_data(0, footprints[0], traces[0], "x" * 256)
    with pytest.raises(IndexError, match="not been written"):
        cs.set_cell_status(0, "accepted")
    with pytest.raises(ValueError, match="status must be"):
        cs.set_cell_status(3, "fine")
    # As in the official package, set_cell_status flushes first: refused while cells are missing.
    with pytest.raises(ValueError, match=r"not written yet \(indices 0, 2\)"):
        cs.set_cell_status(3, "rejected")
    with pytest.raises(ValueError, match=r"not written yet \(indices 0, 2\)"):
        cs.flush()
    assert not out.exists()
    cs.set_cell_data(2, footprints[2], traces[2], "")
    cs.set_cell_data(0, footprints[0], traces[0], "first")
    cs.set_cell_status(3, "rejected")  # flushes, then writes the status through to the file
    assert out.exists() and xd.CellSet.read(out).get_cell_status(3) == "rejected"
    cs.set_cell_status(0, True)
    cs.flush()
    cs.flush()  # a second flush does nothing
    names = ["first", "C1", "C2", "last"]
    statuses = ["accepted", "undecided", "undecided", "rejected"]
    assert_cell_set_reads_back(isx, out, footprints, traces, names, statuses, timing, spacing)
    assert cs.num_cells == 4 and cs.get_cell_name(3) == "last"
    with pytest.raises(RuntimeError, match="not open for writing"):
        cs.set_cell_data(4, footprints[0], traces[0], "x")
    assert leftovers(tmp_path) == []


def test_with_block_that_raises_commits_nothing(tmp_path):
    out = tmp_path / "ctx.isxd"
    with pytest.raises(KeyError):
        with xd.CellSet.write(out, xd.Timing(2), xd.Spacing(num_pixels=(2, 2))) as cs:
            cs.set_cell_data(0, np.zeros((2, 2), np.float32), np.zeros(2, np.float32), "a")
            raise KeyError("user error")
    assert list(tmp_path.iterdir()) == []
    with xd.CellSet.write(out, xd.Timing(2), xd.Spacing(num_pixels=(2, 2))) as cs:
        cs.set_cell_data(0, np.ones((2, 2), np.float32), np.ones(2, np.float32), "a")
    assert xd.CellSet.read(out).get_cell_name(0) == "a"


def test_reader_rejects_foreign_and_inconsistent_files(tmp_path, golden):
    with pytest.raises(xd.IsxdFormatError, match="cell set"):
        xd.CellSet.read(golden("movie_u16.isxd"))
    raw = bytearray(golden("cellset.isxd").read_bytes())
    truncated = tmp_path / "short.isxd"
    truncated.write_bytes(raw[:10] + raw[200:])  # a record shorter: floor(D/S) == 3 != 4 names
    with pytest.raises(xd.IsxdFormatError, match="number of cells"):
        xd.open_isxd(truncated)


def test_documented_parameters_match_the_signature():
    import inspect
    import re

    for fn in (xd.write_cell_set, xd.CellSet.write, xd.CellSet.set_cell_data):
        doc = inspect.getdoc(fn)
        section = doc.split("Parameters\n----------\n", 1)[1].split("\n\n", 1)[0] if "Parameters" in doc else ""
        documented = []
        for line in section.splitlines():
            match = re.match(r"^(\*\*)?([A-Za-z_][\w, ]*?)(?: :|$)", line)
            if match and not line.startswith(" "):
                documented += [name.strip() for name in match.group(2).split(",")]
        expected = [p for p in inspect.signature(fn).parameters if p not in ("self", "cls")]
        assert documented == expected, fn.__qualname__


@pytest.mark.parametrize(("foot_cells", "trace_cells", "expected_runs"), [
    (4, 4, [(0, 4), (4, 8), (8, 12)]),
    (4, 6, [(0, 4), (4, 6), (6, 8), (8, 12)]),
])
def test_records_are_written_as_one_run_per_chunk(tmp_path, monkeypatch, foot_cells, trace_cells, expected_runs):
    # Footprint and trace of a cell are neighbours in the file: a chunk of cells
    # must reach the disk as one contiguous run of whole records, not as two short
    # runs per cell. Chunks end wherever a footprint or trace chunk ends.
    from isx_dask import _io

    rows, cols, samples = 3, 5, 7
    record_nbytes = 4 * (rows * cols + samples)
    footprints, traces = random_cells(11, 12, rows, cols, samples)
    calls: list[tuple[int, list[int]]] = []
    real = _io.write_runs

    def spy(path, fd, data, run_nbytes, offsets, *, direct):
        offsets = list(offsets)
        calls.append((run_nbytes, offsets))
        return real(path, fd, data, run_nbytes, offsets, direct=direct)

    monkeypatch.setattr(_io, "write_runs", spy)
    out = tmp_path / "c.isxd"
    xd.write_cell_set(da.from_array(footprints, chunks=(foot_cells, 2, 5)), da.from_array(traces, chunks=(trace_cells, 3)), out,
                      timing=xd.Timing(samples), spacing=xd.Spacing(num_pixels=(rows, cols)), fsync=False, write_method="pwrite",
                      compute_kwargs={"scheduler": "sync"})
    runs = sorted((offsets[0] // record_nbytes, offsets[0] // record_nbytes + run_nbytes // record_nbytes)
                  for run_nbytes, offsets in calls if len(offsets) == 1 and run_nbytes % record_nbytes == 0)
    assert runs == expected_runs
    assert len(calls) == len(expected_runs)
    assert split_file(out)[0] == expected_data_section(footprints, traces, xd.Timing(samples))


@pytest.mark.parametrize("extra", [None, {
    "floats": [0.30000000000000004, 1.2345678901234567e-300, -2.220446049250313e-16] * 20, "text": "Ωμέγα"}])
def test_official_status_edit_keeps_our_file_readable(isx, tmp_path, extra):
    # The official set_cell_status rewrites the footer in place, indented, and does not
    # shorten the file: a footer of ours longer than its rewrite would leave stray bytes
    # after the new size field. Worst cases for length: floats that its 15 significant
    # digits shorten, non-ASCII names, many cells.
    footprints, traces = random_cells(3, 40, 3, 4, 5)
    out = tmp_path / "c.isxd"
    names = [f"é名{k}" for k in range(40)]
    xd.write_cell_set(footprints, traces, out, timing=xd.Timing(5), spacing=xd.Spacing(num_pixels=(3, 4)),
                      cell_names=names, extra_properties=extra)
    size = out.stat().st_size
    edited = isx.CellSet.read(str(out), read_only=False)
    edited.set_cell_status(7, "accepted")
    edited.set_cell_status(39, "rejected")
    del edited
    assert out.stat().st_size >= size
    theirs = isx.CellSet.read(str(out))
    assert [theirs.get_cell_status(k) for k in (0, 7, 39)] == ["undecided", "accepted", "rejected"]
    assert [theirs.get_cell_name(k) for k in range(40)] == names
    np.testing.assert_array_equal(theirs.get_cell_trace_data(7), traces[7])
    ours = xd.open_isxd(out)
    assert ours.statuses[7] == "accepted" and ours.statuses[39] == "rejected"
    np.testing.assert_array_equal(ours.footprints[39].compute(), footprints[39])


def test_records_are_written_from_memory_aligned_as_in_the_file(tmp_path, monkeypatch):
    from test_io import _direct_accepted

    from isx_dask import _io

    if not _direct_accepted(tmp_path):
        pytest.skip(f"{tmp_path} does not take O_DIRECT writes on this platform")
    footprints, traces = random_cells(21, 40, 30, 33, 101)  # records of 4364 bytes: chunks start anywhere in a block
    bodies = []
    real = _io._write_direct_body
    monkeypatch.setattr(_io, "_write_direct_body", lambda fd, data, offset: (bodies.append(_io._is_aligned(data)), real(fd, data, offset))[1])
    out = tmp_path / "c.isxd"
    xd.write_cell_set(da.from_array(footprints, chunks=(7, 30, 33)), da.from_array(traces, chunks=(10, 101)), out,
                      timing=xd.Timing(101), spacing=xd.Spacing(num_pixels=(30, 33)), write_method="direct")
    assert len(bodies) > 5 and all(bodies), bodies
    assert split_file(out)[0] == expected_data_section(footprints, traces, xd.Timing(101))
