"""ArrayLayout arithmetic against element offsets computed independently with numpy, and movie layouts against golden files."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import manifest_entry, manifest_timing, split_file
from hypothesis import given, settings
from hypothesis import strategies as st

import isx_dask as xd
from isx_dask.layout import ArrayLayout
from isx_dask.layout.movie import MovieLayout


def element_offsets(layout: ArrayLayout) -> np.ndarray:
    """Byte offset of every element, from the definition offset + sum(index * stride)."""
    idx = np.indices(layout.shape, dtype=np.int64)
    return layout.offset + np.tensordot(np.array(layout.strides, np.int64), idx, axes=(0, 0))


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_byte_runs_and_span_cover_exactly_the_region(data):
    shape = tuple(data.draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    itemsize = data.draw(st.sampled_from([1, 2, 4]))
    # Strides of a record layout: C order with optional gaps after each axis.
    strides, step = [], itemsize
    for n in reversed(shape):
        strides.append(step)
        step = step * n + data.draw(st.integers(0, 3)) * itemsize
    layout = ArrayLayout(data.draw(st.integers(0, 50)), shape, np.dtype(f"u{itemsize}").str, tuple(reversed(strides)))
    region = tuple(slice(a, data.draw(st.integers(a + 1, n))) for n in shape for a in [data.draw(st.integers(0, n - 1))])
    expected = element_offsets(layout)[region].reshape(-1)
    num_runs, run_nbytes, offsets = layout.byte_runs(region)
    covered = np.concatenate([np.arange(o, o + run_nbytes, itemsize) for o in offsets])
    assert num_runs * run_nbytes == expected.size * itemsize
    np.testing.assert_array_equal(covered, expected)  # same bytes, in C order of the region
    assert layout.byte_span(region) == (expected.min(), expected.max() + itemsize)


@pytest.mark.parametrize("name", ["movie_u16.isxd", "movie_u16_dropped.isxd", "movie_f32.isxd", "movie_u16_frameheaders.isxd"])
def test_movie_layout_sizes_match_golden_files(golden, name):
    spec = manifest_entry(name)
    timing = manifest_timing(spec["timing"])
    layout = MovieLayout(timing, xd.Spacing(num_pixels=tuple(spec["spacing"]["num_pixels"])), spec["data_type"],
                         has_frame_header_footer=name.endswith("frameheaders.isxd"))
    data, _ = split_file(golden(name))
    assert layout.data_size == len(data) == spec["data_section_bytes"]


# -- footer fields and invalid ranges ------------------------------------------------------------
from isx_dask.layout import IsxdFormatError  # noqa: E402
from isx_dask.layout.fields import footer_int, footer_ratio, invalid_intervals, parse_spacing_info, parse_timing_info  # noqa: E402
from isx_dask.layout.movie import stored_indices_of, valid_runs  # noqa: E402


@pytest.mark.parametrize("value", ["5", 5.9, True, None, [5], -1, 2**63, float("inf")])
def test_footer_int_refuses_what_is_not_a_64_bit_integer(value):
    with pytest.raises(IsxdFormatError, match="numTimes"):
        footer_int(value, "numTimes")


def test_footer_int_takes_integers_and_integral_floats():
    assert footer_int(5, "n") == 5 and footer_int(5.0, "n") == 5 and footer_int(2**63 - 1, "n") == 2**63 - 1
    assert footer_ratio({"num": 3, "den": -4}, "r") == (-3, 4)
    with pytest.raises(IsxdFormatError, match="zero denominator"):
        footer_ratio({"num": 3, "den": 0}, "r")


def _timing_dict(n, dropped, cropped, blank):
    return {
        "numTimes": n,
        "period": {"num": 1, "den": 20},
        "start": {"secsSinceEpoch": {"num": 0, "den": 1}, "utcOffset": 0},
        "dropped": dropped,
        "cropped": [f"{a} - {b}" if a != b else str(a) for a, b in cropped],
        "blank": blank,
    }


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_parse_timing_info_normalises_as_timing_and_maps_frames_as_a_mask_does(data):
    n = data.draw(st.integers(1, 40))
    idx = st.integers(0, n - 1)
    dropped = data.draw(st.lists(idx, max_size=6))
    blank = data.draw(st.lists(idx, max_size=4))
    pairs = data.draw(st.lists(st.tuples(idx, idx), max_size=3))
    cropped = [(min(a, b), max(a, b)) for a, b in pairs]
    timing = parse_timing_info(_timing_dict(n, dropped, cropped, blank))
    expected = xd.Timing(num_samples=n, period=xd.Duration(1, 20), dropped=dropped, cropped=cropped, blank=blank)
    assert timing == expected
    # independent reference: the valid mask and its running count
    mask = np.ones(n, dtype=bool)
    mask[dropped] = False
    mask[blank] = False
    for a, b in cropped:
        mask[a : b + 1] = False
    reference = np.where(mask, np.cumsum(mask) - 1, -1)
    invalid = invalid_intervals(timing)
    np.testing.assert_array_equal(stored_indices_of(invalid, np.arange(n)), reference)
    start = data.draw(st.integers(0, n))
    stop = data.draw(st.integers(start, n))
    got = np.full(stop - start, -1)
    for first, end, stored in valid_runs(invalid, start, stop):
        got[first - start : end - start] = np.arange(stored, stored + end - first)
    np.testing.assert_array_equal(got, reference[start:stop])


def test_a_billion_cropped_samples_stay_two_integers():
    timing = parse_timing_info(_timing_dict(10**9, [5], [(10, 10**9 - 2)], []))
    assert timing.cropped == ((10, 10**9 - 2),) and timing.num_valid_samples == 10
    invalid = invalid_intervals(timing)
    assert invalid.tolist() == [[5, 5], [10, 10**9 - 2]]
    assert stored_indices_of(invalid, np.array([0, 6, 9, 10**9 - 1])).tolist() == [0, 5, 8, 9]
    assert valid_runs(invalid, 0, 10**9) == [(0, 5, 0), (6, 10, 5), (10**9 - 1, 10**9, 9)]


def test_parse_spacing_info_reads_rectangular_pixels_and_refuses_bad_sizes():
    spacing = parse_spacing_info(
        {
            "numPixels": {"x": 7, "y": 5},
            "pixelSize": {"x": {"num": 4, "den": 1}, "y": {"num": 5, "den": 2}},
            "topLeft": {"x": {"num": -8, "den": 1}, "y": {"num": 10, "den": 1}},
        }
    )
    assert spacing == xd.Spacing(num_pixels=(5, 7), pixel_size=(2.5, 4), top_left=(10, -8))
    with pytest.raises(IsxdFormatError, match="numPixels"):
        one = {"x": {"num": 1, "den": 1}, "y": {"num": 1, "den": 1}}
        parse_spacing_info({"numPixels": {"x": 2**62, "y": 4}, "pixelSize": one, "topLeft": one})
