"""Vessel sets: golden files, the official reader as oracle, bad input, Dask chunking, the incremental API."""

from __future__ import annotations

import struct
from pathlib import Path

import dask.array as da
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import isx_dask as xd
from conftest import (
    assert_same_footer_as_golden,
    assert_spacing_equal,
    assert_timing_equal,
    manifest_array,
    manifest_entry,
    manifest_timing,
    split_file,
)

ROWS, COLS = 5, 7



def write_vs(path, **inputs):
    """``write_vessel_set`` with the data arrays given by keyword, as the tests build them."""
    return xd.write_vessel_set(inputs.pop("image"), inputs.pop("lines"), inputs.pop("traces"), path, **inputs)

def make_inputs(seed: int, n: int, t: int, vessel_type: str, heatmap: tuple[int, int] | None = None) -> dict:
    rng = np.random.default_rng(seed)
    points = 4 if vessel_type == "rbc velocity" else 2
    inputs = {
        "vessel_type": vessel_type,
        "image": rng.random((ROWS, COLS)).astype(np.float32),
        # (x, y) points inside the ROWS x COLS projection: x is the column, y the row.
        "lines": np.stack([rng.integers(0, COLS, size=(n, points)), rng.integers(0, ROWS, size=(n, points))], axis=-1).astype(np.int64),
        "traces": rng.normal(size=(n, t)).astype(np.float32),
        ("direction_traces" if points == 4 else "center_traces"): rng.normal(size=(n, t)).astype(np.float32),
    }
    if heatmap is not None:
        inputs["correlations"] = rng.random((n, t, 3, *heatmap)).astype(np.float32)
    return inputs


def expected_trace(trace: np.ndarray, timing: xd.Timing) -> np.ndarray:
    """Independent expectation: NaN at dropped, cropped and blank samples."""
    out = np.array(trace, dtype=np.float32)
    bad = list(timing.dropped) + list(timing.blank) + [i for a, b in timing.cropped for i in range(a, b + 1)]
    out[bad] = np.nan
    return out


def check_with_oracle(isx, path: Path, inputs: dict, timing: xd.Timing, names=None, statuses=None) -> None:
    """Read ``path`` with the official package and compare every getter with the inputs."""
    vs = isx.VesselSet.read(str(path))
    n = inputs["traces"].shape[0]
    rbc = inputs["vessel_type"] == "rbc velocity"
    assert vs.num_vessels == n
    assert_timing_equal(timing, vs.timing)
    assert_spacing_equal(xd.Spacing(num_pixels=inputs["image"].shape), vs.spacing)
    kind = isx.VesselSet.VesselSetType.RBC_VELOCITY if rbc else isx.VesselSet.VesselSetType.VESSEL_DIAMETER
    assert vs.get_vessel_set_type() == kind
    heat = inputs.get("correlations")
    if n:
        assert vs.has_correlation_heatmaps() == (heat is not None)
    second = inputs["direction_traces" if rbc else "center_traces"]
    for k in range(n):
        assert vs.get_vessel_name(k) == (names[k] if names else f"V{k}")
        assert vs.get_vessel_status(k) == (statuses[k] if statuses else "undecided")
        np.testing.assert_array_equal(vs.get_vessel_image_data(k), inputs["image"])
        np.testing.assert_array_equal(vs.get_vessel_line_data(k), inputs["lines"][k])
        np.testing.assert_array_equal(vs.get_vessel_trace_data(k), expected_trace(inputs["traces"][k], timing))
        got = vs.get_vessel_direction_trace_data(k) if rbc else vs.get_vessel_center_trace_data(k)
        np.testing.assert_array_equal(got, expected_trace(second[k], timing))
        if heat is not None:
            hk = heat[k]
            for f in range(hk.shape[0]):
                np.testing.assert_array_equal(vs.get_vessel_correlations_data(k, f), hk[f])


# -- golden files ----------------------------------------------------------------------------
GOLDEN = ["vesselset_diameter.isxd", "vesselset_rbc.isxd", "vesselset_rbc_heatmaps.isxd"]


def golden_inputs(name: str) -> tuple[dict, xd.Timing]:
    e = manifest_entry(name)
    inputs = {
        "vessel_type": e["vessel_type"],
        "image": manifest_array(e["projection_image"]),
        "lines": manifest_array(e["lines"]),
        "traces": manifest_array(e["traces"]),
    }
    for key in ("center_traces", "direction_traces"):
        if key in e:
            inputs[key] = manifest_array(e[key])
    if "heatmaps" in e:
        inputs["correlations"] = manifest_array(e["heatmaps"])
    return inputs, manifest_timing(e["timing"])


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_bulk(tmp_path, golden, name):
    inputs, timing = golden_inputs(name)
    statuses = ["accepted", "undecided", "rejected"] if name == "vesselset_diameter.isxd" else None
    out = tmp_path / "out.isxd"
    write_vs(out, timing=timing, statuses=statuses, **inputs)
    ours_data, ours_footer = split_file(out)
    gold_data, gold_footer = split_file(golden(name))
    assert ours_data == gold_data
    assert_same_footer_as_golden(ours_footer, gold_footer)


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_incremental(tmp_path, golden, name):
    inputs, timing = golden_inputs(name)
    out = tmp_path / "out.isxd"
    rbc = inputs["vessel_type"] == "rbc velocity"
    with xd.VesselSet.write(out, timing, xd.Spacing(num_pixels=(ROWS, COLS)), inputs["vessel_type"]) as vs:
        for k in range(inputs["traces"].shape[0]):
            if rbc:
                heat = inputs["correlations"][k] if "correlations" in inputs else None
                vs.set_rbc_velocity_data(k, inputs["image"], inputs["lines"][k], inputs["traces"][k],
                                         inputs["direction_traces"][k], heat, f"V{k}")
            else:
                vs.set_vessel_diameter_data(k, inputs["image"], inputs["lines"][k], inputs["traces"][k],
                                            inputs["center_traces"][k], f"V{k}")
        if not rbc:
            vs.set_vessel_status(0, "accepted")
            vs.set_vessel_status(2, "rejected")
    ours_data, ours_footer = split_file(out)
    gold_data, gold_footer = split_file(golden(name))
    assert ours_data == gold_data
    assert_same_footer_as_golden(ours_footer, gold_footer)


def test_golden_read_with_our_reader(golden):
    inputs, timing = golden_inputs("vesselset_rbc_heatmaps.isxd")
    path = golden("vesselset_rbc_heatmaps.isxd")  # copied once: copying again would replace the file vs reads
    vs = xd.VesselSet.read(path)
    assert vs.vessel_type == "rbc velocity" and vs.num_vessels == 2 and vs.has_correlation_heatmaps()
    assert vs.get_vessel_set_type() == xd.VesselSet.VesselSetType.RBC_VELOCITY
    f = xd.open_isxd(path)
    assert isinstance(f, xd.VesselSetFile)
    np.testing.assert_array_equal(f.projection.compute(), inputs["image"])
    np.testing.assert_array_equal(f.lines.compute(), inputs["lines"])
    np.testing.assert_array_equal(f.traces.compute(), inputs["traces"])
    np.testing.assert_array_equal(f.direction_traces.compute(), inputs["direction_traces"])
    np.testing.assert_array_equal(f.stacked_heatmaps().compute(), inputs["correlations"])
    np.testing.assert_array_equal(vs.get_vessel_correlations_data(1, 4), inputs["correlations"][1, 4])


# -- official reader on our output ---------------------------------------------------------
TIMING_INVALID = xd.Timing(num_samples=9, period=xd.Duration(1, 20), dropped=[1], cropped=[(4, 5)], blank=[7])


@pytest.mark.parametrize(
    ("vessel_type", "heatmap"),
    [("vessel diameter", None), ("rbc velocity", None), ("rbc velocity", (2, 4))],
)
def test_official_reads_bulk_with_invalid_samples(tmp_path, isx, vessel_type, heatmap):
    inputs = make_inputs(1, 3, TIMING_INVALID.num_samples, vessel_type, heatmap)
    names, statuses = ["a", "", "名前✓"], ["rejected", "accepted", "undecided"]
    out = tmp_path / "v.isxd"
    write_vs(out, timing=TIMING_INVALID, vessel_names=names, statuses=statuses, **inputs)
    check_with_oracle(isx, out, inputs, TIMING_INVALID, ["a", "V1", "名前✓"], statuses)


def test_official_reads_per_vessel_heatmap_sizes(tmp_path, isx):
    inputs = make_inputs(2, 3, 6, "rbc velocity")
    rng = np.random.default_rng(3)
    heat = [rng.random((6, 3, h, w)).astype(np.float32) for h, w in [(3, 2), (1, 4), (2, 5)]]
    inputs["correlations"] = heat
    out = tmp_path / "v.isxd"
    lazy = dict(inputs, correlations=[da.from_array(h, chunks=(4, 2, 1, 2)) for h in heat])
    write_vs(out, **lazy)
    check_with_oracle(isx, out, inputs, xd.Timing(num_samples=6))
    _, footer = split_file(out)
    assert footer["VesselCorrelationSizes"] == [[2, 3], [4, 1], [5, 2]]
    f = xd.open_isxd(out)
    assert f.heatmap_shapes == [(3, 2), (1, 4), (2, 5)]
    for k in range(3):
        np.testing.assert_array_equal(f.heatmaps(k).compute(), heat[k])
    np.testing.assert_array_equal(f.traces.compute(), inputs["traces"])


def test_dask_chunked_across_time_and_heatmap_rows(tmp_path, isx):
    t = 11
    inputs = make_inputs(4, 4, t, "rbc velocity", (5, 3))
    lazy = dict(inputs)
    lazy["traces"] = da.from_array(inputs["traces"], chunks=(3, 4))
    lazy["direction_traces"] = da.from_array(inputs["direction_traces"], chunks=(4, 2))
    lazy["correlations"] = da.from_array(inputs["correlations"], chunks=(2, 4, 2, 2, 3))
    lazy["image"] = da.from_array(inputs["image"], chunks=(2, 3))
    out = tmp_path / "v.isxd"
    write_vs(out, **lazy)
    check_with_oracle(isx, out, inputs, xd.Timing(num_samples=t))
    ref = tmp_path / "ref.isxd"
    write_vs(ref, **inputs)
    assert out.read_bytes() == ref.read_bytes()


def test_compute_false_commits_on_compute(tmp_path, isx):
    inputs = make_inputs(5, 2, 4, "vessel diameter")
    out = tmp_path / "v.isxd"
    delayed = write_vs(out, compute=False, **inputs)
    assert not out.exists()
    delayed.compute()
    check_with_oracle(isx, out, inputs, xd.Timing(num_samples=4))


@pytest.mark.parametrize("vessel_type", ["vessel diameter", "rbc velocity"])
def test_zero_vessels(tmp_path, isx, vessel_type):
    inputs = make_inputs(6, 0, 5, vessel_type, (2, 2) if vessel_type == "rbc velocity" else None)
    out = tmp_path / "v.isxd"
    write_vs(out, **inputs)
    data, footer = split_file(out)
    assert data == b""
    assert "VesselCorrelationSizes" not in footer and "VesselCenterSaved" not in footer
    check_with_oracle(isx, out, inputs, xd.Timing(num_samples=5))
    inc = tmp_path / "inc.isxd"
    xd.VesselSet.write(inc, xd.Timing(num_samples=5), xd.Spacing(num_pixels=(ROWS, COLS)), vessel_type).flush()
    assert split_file(inc)[0] == b""
    assert isx.VesselSet.read(str(inc)).num_vessels == 0


def test_incremental_matches_official_reader(tmp_path, isx):
    inputs = make_inputs(7, 3, TIMING_INVALID.num_samples, "rbc velocity", (3, 3))
    out = tmp_path / "v.isxd"
    vs = xd.VesselSet.write(out, TIMING_INVALID, xd.Spacing(num_pixels=(ROWS, COLS)), "rbc velocity")
    for k in range(3):
        vs.set_rbc_velocity_data(k, inputs["image"], inputs["lines"][k], inputs["traces"][k],
                                 inputs["direction_traces"][k], inputs["correlations"][k])
    assert not out.exists()
    vs.set_vessel_status(1, "accepted")  # as the official package: flushes, then writes the status through
    assert out.exists()
    vs.flush()  # nothing left to do
    check_with_oracle(isx, out, inputs, TIMING_INVALID, statuses=["undecided", "accepted", "undecided"])
    assert vs.get_vessel_status(1) == "accepted"
    np.testing.assert_array_equal(vs.get_vessel_correlations_data(2, 0), inputs["correlations"][2, 0])
    with pytest.raises(ValueError, match="Model center"):
        vs.get_vessel_center_trace_data(0)


def test_incremental_context_manager_discards_on_error(tmp_path):
    out = tmp_path / "v.isxd"
    with pytest.raises(RuntimeError, match="boom"):
        with xd.VesselSet.write(out, xd.Timing(num_samples=3), xd.Spacing(num_pixels=(2, 2)), "vessel diameter") as vs:
            vs.set_vessel_diameter_data(0, np.zeros((2, 2)), np.zeros((2, 2), int), np.zeros(3), np.zeros(3))
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n=st.integers(0, 3),
    t=st.integers(1, 6),
    rbc=st.booleans(),
    heat=st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))),
    seed=st.integers(0, 2**16),
)
def test_round_trip_hypothesis(tmp_path_factory, isx, n, t, rbc, heat, seed):
    vessel_type = "rbc velocity" if rbc else "vessel diameter"
    inputs = make_inputs(seed, n, t, vessel_type, heat if rbc else None)
    out = tmp_path_factory.mktemp("h") / "v.isxd"
    write_vs(out, **inputs)
    check_with_oracle(isx, out, inputs, xd.Timing(num_samples=t))
    f = xd.open_isxd(out)
    assert f.vessel_type == vessel_type and f.num_vessels == n
    np.testing.assert_array_equal(f.lines.compute(), inputs["lines"])
    np.testing.assert_array_equal(f.traces.compute(), inputs["traces"])
    np.testing.assert_array_equal(f.second_traces.compute(), inputs["direction_traces" if rbc else "center_traces"])


# -- layout and reader size rule ------------------------------------------------------------
def test_layout_sizes_and_tail_pad_rule(tmp_path, golden):
    timing, spacing = xd.Timing(num_samples=10), xd.Spacing(num_pixels=(ROWS, COLS))
    from isx_dask.layout.vessel_set import VesselSetLayout, parse_vessel_set_footer

    lay = VesselSetLayout(timing, spacing, "rbc velocity", 2, [(3, 4), (1, 2)])
    assert lay.data_size == 4 * 35 + (64 + 80 + 12 * 10 * 12) + (64 + 80 + 12 * 10 * 2) + 64
    assert lay.heatmaps(1).offset == 4 * 35 + (64 + 80 + 12 * 10 * 12) + 64 + 80
    assert not lay.uniform
    path = golden("vesselset_diameter.isxd")
    data, footer = split_file(path)
    assert data[-32:] == bytes(32)
    parse_vessel_set_footer(footer, len(data))
    for wrong in (len(data) - 32, len(data) + 4):
        with pytest.raises(xd.IsxdFormatError, match="Number of vessels"):
            parse_vessel_set_footer(footer, wrong)


def test_reader_rejects_missing_tail_pad(tmp_path):
    inputs = make_inputs(8, 2, 3, "vessel diameter")
    out = tmp_path / "v.isxd"
    write_vs(out, **inputs)
    data, _ = split_file(out)
    raw = out.read_bytes()
    text = raw[len(data) : -9]
    cut = tmp_path / "cut.isxd"
    cut.write_bytes(data[:-32] + text + b"\x00" + struct.pack("<Q", len(text)))
    with pytest.raises(xd.IsxdFormatError, match="Number of vessels"):
        xd.open_isxd(cut)


# -- bad input: clear errors before any byte ------------------------------------------------
def _bulk(tmp_path, **changes):
    inputs = make_inputs(9, 2, 4, changes.pop("vessel_type_for_inputs", "vessel diameter"))
    inputs.update(changes)
    inputs = {k: v for k, v in inputs.items() if v is not None}
    write_vs(tmp_path / "bad.isxd", **inputs)


BAD_BULK = [
    ({"vessel_type": "banana"}, "vessel_type"),
    ({"vessel_type": "rbc_velocity"}, "vessel_type"),
    ({"lines": np.zeros((2, 4, 2), np.int64)}, "lines"),
    ({"lines": np.zeros((2, 2, 3), np.int64)}, "lines"),
    ({"lines": np.zeros((3, 2, 2), np.int64)}, "lines"),
    ({"lines": np.zeros((2, 2, 2), np.float64)}, "lines"),
    ({"traces": np.zeros((2, 5), np.float32)}, "center_traces"),
    ({"traces": np.zeros((2, 4), np.float32), "timing": xd.Timing(num_samples=5)}, "timing"),
    ({"center_traces": np.zeros((2, 3), np.float32)}, "center_traces"),
    ({"center_traces": None}, "center_traces"),
    ({"direction_traces": np.zeros((2, 4), np.float32)}, "direction_traces"),
    ({"correlations": np.zeros((2, 4, 3, 2, 2), np.float32)}, "correlations"),
    ({"vessel_names": ["x" * 256, "b"]}, r"vessel_names\[0\]"),
    ({"vessel_names": ["é" * 128, "b"]}, r"vessel_names\[0\]"),
    ({"vessel_names": ["a"]}, "vessel_names"),
    ({"statuses": ["accepted", "maybe"]}, r"statuses\[1\]"),
    ({"statuses": ["accepted"]}, "statuses"),
    ({"image": np.zeros((ROWS, COLS + 1), np.float32), "spacing": xd.Spacing(num_pixels=(ROWS, COLS))}, "spacing"),
    ({"image": np.zeros((ROWS, COLS, 1), np.float32)}, "image"),
    ({"extra_properties": {"idps": {"vesselset": {"type": "red blood cell velocity"}}}}, "vessel_type"),
    ({"extra_properties": [1, 2]}, "extra_properties"),
]


@pytest.mark.parametrize(("changes", "match"), BAD_BULK)
def test_bulk_bad_input_fails_before_any_byte(tmp_path, changes, match):
    with pytest.raises((ValueError, TypeError), match=match):
        _bulk(tmp_path, **changes)
    assert list(tmp_path.iterdir()) == []


RBC_BAD = [
    ({"lines": np.zeros((2, 2, 2), np.int64)}, "lines"),
    ({"center_traces": np.zeros((2, 4), np.float32)}, "center_traces"),
    ({"correlations": [np.zeros((4, 3, 2, 2), np.float32), None]}, r"correlations\[1\]"),
    ({"correlations": [np.zeros((4, 3, 2, 2), np.float32)]}, "correlations"),
    ({"correlations": np.zeros((2, 4, 2, 2, 2), np.float32)}, "correlations"),
    ({"correlations": np.zeros((2, 4, 3, 2), np.float32)}, "correlations"),
    ({"correlations": [np.zeros((4, 3, 2, 2)), np.zeros((5, 3, 2, 2))]}, r"correlations\[1\]"),
    ({"correlations": [np.zeros((4, 3, 2, 2)), np.zeros((4, 3, 2))]}, r"correlations\[1\]"),
]


@pytest.mark.parametrize(("changes", "match"), RBC_BAD)
def test_rbc_bad_input_fails_before_any_byte(tmp_path, changes, match):
    with pytest.raises((ValueError, TypeError), match=match):
        _bulk(tmp_path, vessel_type_for_inputs="rbc velocity", **changes)
    assert list(tmp_path.iterdir()) == []


def test_incremental_bad_input(tmp_path):
    timing, spacing = xd.Timing(num_samples=3), xd.Spacing(num_pixels=(2, 2))
    with pytest.raises(ValueError, match="vessel_type"):
        xd.VesselSet.write(tmp_path / "a.isxd", timing, spacing, "banana")
    assert list(tmp_path.iterdir()) == []
    img, z3 = np.zeros((2, 2), np.float32), np.zeros(3, np.float32)
    dia = xd.VesselSet.write(tmp_path / "d.isxd", timing, spacing, "vessel diameter")
    with pytest.raises(ValueError, match="set_rbc_velocity_data cannot write"):
        dia.set_rbc_velocity_data(0, img, np.zeros((4, 2), int), z3, z3)
    with pytest.raises(ValueError, match="line"):
        dia.set_vessel_diameter_data(0, img, np.zeros((4, 2), int), z3, z3)
    with pytest.raises(ValueError, match="trace"):
        dia.set_vessel_diameter_data(0, img, np.zeros((2, 2), int), np.zeros(4), z3)
    with pytest.raises(ValueError, match="image"):
        dia.set_vessel_diameter_data(0, np.zeros((3, 2)), np.zeros((2, 2), int), z3, z3)
    with pytest.raises(ValueError, match="index 1"):
        dia.set_vessel_diameter_data(1, img, np.zeros((2, 2), int), z3, z3)
    with pytest.raises(ValueError, match="name"):
        dia.set_vessel_diameter_data(0, img, np.zeros((2, 2), int), z3, z3, "n" * 256)
    with pytest.raises(ValueError, match="NUL"):
        dia.set_vessel_diameter_data(0, img, np.zeros((2, 2), int), z3, z3, "v\x001")
    dia.set_vessel_diameter_data(0, img, np.zeros((2, 2), int), z3, z3)
    with pytest.raises(ValueError, match="status"):
        dia.set_vessel_status(0, "maybe")
    with pytest.raises(IndexError, match="Vessel index 1"):
        dia.set_vessel_status(1, "accepted")
    dia.discard()
    rbc = xd.VesselSet.write(tmp_path / "r.isxd", timing, spacing, "rbc velocity")
    line4 = np.zeros((4, 2), int)
    with pytest.raises(ValueError, match="set_vessel_diameter_data cannot write"):
        rbc.set_vessel_diameter_data(0, img, np.zeros((2, 2), int), z3, z3)
    with pytest.raises(ValueError, match="correlations_trace"):
        rbc.set_rbc_velocity_data(0, img, line4, z3, z3, np.zeros((3, 2, 2, 2)))
    rbc.set_rbc_velocity_data(0, img, line4, z3, z3, np.zeros((3, 3, 2, 2)))
    with pytest.raises(ValueError, match="correlations_trace"):
        rbc.set_rbc_velocity_data(1, img, line4, z3, z3, None)
    rbc.discard()
    assert list(tmp_path.iterdir()) == []


def test_extra_properties_are_merged_with_the_vessel_type(tmp_path, isx):
    inputs = make_inputs(10, 2, 4, "rbc velocity")
    extra = {"idps": {"efocus": 3}, "note": "é"}
    out = tmp_path / "v.isxd"
    write_vs(out, extra_properties=extra, **inputs)
    _, footer = split_file(out)
    assert footer["extraProperties"] == {"idps": {"efocus": 3, "vesselset": {"type": "red blood cell velocity"}}, "note": "é"}
    assert extra == {"idps": {"efocus": 3}, "note": "é"}
    check_with_oracle(isx, out, inputs, xd.Timing(num_samples=4))


def test_read_only_false_writes_statuses_through(golden, isx):
    path = golden("vesselset_rbc.isxd")
    data_before = split_file(path)[0]
    editable = xd.VesselSet.read(path, read_only=False)
    assert editable.mode == "w"
    editable.set_vessel_status(1, "rejected")
    editable.set_vessel_status(0, True)
    official = isx.VesselSet.read(str(path))
    assert [official.get_vessel_status(k) for k in range(official.num_vessels)][:2] == ["accepted", "rejected"]
    del official
    assert split_file(path)[0] == data_before  # only the footer changed
    with pytest.raises(IndexError, match="out of range"):
        editable.set_vessel_status(99, "accepted")
    vs = xd.VesselSet.read(golden("vesselset_rbc.isxd"))
    with pytest.raises(ValueError, match="Reading direction|Model center"):
        vs.get_vessel_center_trace_data(0)
    with pytest.raises(xd.IsxdFormatError, match="No correlation heatmaps"):
        vs.get_vessel_correlations_data(0, 0)
    with pytest.raises(IndexError, match="out of range"):
        vs.get_vessel_trace_data(3)
    with pytest.raises(RuntimeError, match="read-only"):
        vs.set_vessel_status(0, "accepted")


def test_empty_names_are_zero_padded_as_the_official_core(tmp_path, isx):
    # isx 2.1.0 with name='' for 12 vessels stores V00 ... V11 (checked with the official writer).
    expected = [f"V{k:02d}" for k in range(12)]
    inputs = make_inputs(11, 12, 3, "vessel diameter")
    bulk = tmp_path / "bulk.isxd"
    write_vs(bulk, vessel_names=[""] * 12, **inputs)
    inc = tmp_path / "inc.isxd"
    with xd.VesselSet.write(inc, xd.Timing(num_samples=3), xd.Spacing(num_pixels=(ROWS, COLS)), "vessel diameter") as vs:
        for k in range(12):
            vs.set_vessel_diameter_data(k, inputs["image"], inputs["lines"][k], inputs["traces"][k], inputs["center_traces"][k], "")
    for path in (bulk, inc):
        official = isx.VesselSet.read(str(path))
        assert [official.get_vessel_name(k) for k in range(12)] == expected
    assert bulk.read_bytes() == inc.read_bytes()


# -- line points outside the projection image --------------------------------------------------------
def _lines_inside(n: int, points: int) -> np.ndarray:
    """Points on the corners of the ROWS x COLS projection: (x, y) = (column, row)."""
    corners = np.array([[0, 0], [COLS - 1, 0], [COLS - 1, ROWS - 1], [0, ROWS - 1]], dtype=np.int64)
    return np.stack([corners[:points]] * n)


@pytest.mark.parametrize("rbc", [False, True], ids=["diameter", "rbc"])
@pytest.mark.parametrize(
    ("vessel", "point", "xy"),
    [(1, 0, (-1, 0)), (0, 1, (COLS, 0)), (1, 1, (0, ROWS)), (0, 0, (0, -1)), (1, 1, (2**62, 2)), (0, 1, (ROWS, COLS - 1))],
)
def test_bulk_refuses_a_line_point_outside_the_image(tmp_path, rbc, vessel, point, xy):
    vessel_type = "rbc velocity" if rbc else "vessel diameter"
    inputs = make_inputs(3, 2, 4, vessel_type)
    inputs["lines"] = _lines_inside(2, 4 if rbc else 2)
    inputs["lines"][vessel, point] = xy
    x, y = xy
    match = (
        rf"lines\[{vessel}\] \(vessel {vessel}\) has point {point} at \(x={x}, y={y}\), outside the projection image "
        rf"of spacing.num_pixels=\({ROWS}, {COLS}\) \(rows, cols\); expected 0 <= x < {COLS} .* and 0 <= y < {ROWS}"
    )
    with pytest.raises(ValueError, match=match):
        write_vs(tmp_path / "v.isxd", timing=xd.Timing(num_samples=4), spacing=xd.Spacing(num_pixels=(ROWS, COLS)), **inputs)
    assert list(tmp_path.iterdir()) == []


def test_bulk_accepts_every_corner_and_the_official_reader_returns_them(isx, tmp_path):
    inputs = make_inputs(4, 2, 4, "rbc velocity")
    inputs["lines"] = _lines_inside(2, 4)
    out = tmp_path / "v.isxd"
    write_vs(out, timing=xd.Timing(num_samples=4), spacing=xd.Spacing(num_pixels=(ROWS, COLS)), **inputs)
    vs = isx.VesselSet.read(str(out))
    for k in range(2):
        np.testing.assert_array_equal(vs.get_vessel_line_data(k), [[0, 0], [COLS - 1, 0], [COLS - 1, ROWS - 1], [0, ROWS - 1]])


@pytest.mark.parametrize("rbc", [False, True], ids=["diameter", "rbc"])
def test_incremental_refuses_a_line_point_outside_the_image(tmp_path, rbc):
    out = tmp_path / "v.isxd"
    timing, spacing = xd.Timing(num_samples=3), xd.Spacing(num_pixels=(ROWS, COLS))
    img, z3 = np.zeros((ROWS, COLS), np.float32), np.zeros(3, np.float32)
    points = 4 if rbc else 2
    with xd.VesselSet.write(out, timing, spacing, "rbc velocity" if rbc else "vessel diameter") as vs:
        write = vs.set_rbc_velocity_data if rbc else vs.set_vessel_diameter_data
        write(0, img, _lines_inside(1, points)[0], z3, z3)
        partial = [p for p in tmp_path.iterdir()]
        before = {p: p.read_bytes() for p in partial}
        bad = _lines_inside(1, points)[0]
        bad[points - 1] = (COLS, ROWS - 1)  # one column right of the image
        with pytest.raises(ValueError, match=rf"line \(vessel 1\) has point {points - 1} at \(x={COLS}, y={ROWS - 1}\), outside the projection image"):
            write(1, img, bad, z3, z3)
        assert {p: p.read_bytes() for p in partial} == before  # nothing written
        write(1, img, _lines_inside(1, points)[0], z3, z3)
    assert xd.open_isxd(out).num_vessels == 2


def test_official_writer_and_reader_keep_points_outside_the_image(isx, tmp_path):
    """Why the refusal: the official package stores and returns any int64, with no error."""
    out = str(tmp_path / "official.isxd")
    vs = isx.VesselSet.write(out, isx.Timing(num_samples=3), isx.Spacing(num_pixels=(ROWS, COLS)), "vessel diameter")
    z3 = np.zeros(3, np.float32)
    vs.set_vessel_diameter_data(0, np.zeros((ROWS, COLS), np.float32), np.array([[-3, 100], [COLS, ROWS]]), z3, z3)
    vs.flush()
    del vs
    np.testing.assert_array_equal(isx.VesselSet.read(out).get_vessel_line_data(0), [[-3, 100], [COLS, ROWS]])


def test_official_status_edit_keeps_our_file_readable(isx, tmp_path):
    out = tmp_path / "v.isxd"
    inputs = make_inputs(6, 1, 3, "vessel diameter")
    inputs["lines"] = _lines_inside(1, 2)
    write_vs(out, timing=xd.Timing(num_samples=3), spacing=xd.Spacing(num_pixels=(ROWS, COLS)), **inputs)
    edited = isx.VesselSet.read(str(out), read_only=False)
    edited.set_vessel_status(0, "accepted")
    del edited
    assert isx.VesselSet.read(str(out)).get_vessel_status(0) == "accepted"
