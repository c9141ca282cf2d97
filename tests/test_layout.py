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
