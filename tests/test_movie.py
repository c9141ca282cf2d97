"""Movies and images: every written file is read back with the official isx package and compared with numpy."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import dask
from dask.delayed import Delayed
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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import isx_dask as xd

GOLDEN_MOVIES = ["movie_u16.isxd", "movie_f32.isxd", "movie_u16_dropped.isxd", "movie_u8.isxd"]




def assert_movie_reads_back(isx, path: Path, frames: np.ndarray, timing: xd.Timing, spacing: xd.Spacing) -> None:
    """Official reader: same pixels (zeros at invalid frames), same timing and spacing."""
    movie = isx.Movie.read(str(path))
    assert_timing_equal(timing, movie.timing)
    assert_spacing_equal(spacing, movie.spacing)
    assert np.dtype(movie.data_type) == frames.dtype
    valid = timing.get_valid_samples_mask()
    for i in range(timing.num_samples):
        expected = frames[i] if valid[i] else np.zeros_like(frames[i])
        np.testing.assert_array_equal(movie.get_frame_data(i), expected)


# -- golden files -------------------------------------------------------------------------
@pytest.mark.parametrize("name", GOLDEN_MOVIES)
@pytest.mark.parametrize("chunks", [None, (3, 2, 4)])
def test_golden_movies_reproduced_from_manifest(tmp_path, golden, name, chunks):
    spec = manifest_entry(name)
    frames = manifest_array(spec["frames"])
    timing = manifest_timing(spec["timing"])
    data = frames if chunks is None else da.from_array(frames, chunks=chunks)
    out = tmp_path / "out.isxd"
    xd.write_movie(data, out, timing=timing)
    ours_data, ours_footer = split_file(out)
    gold_data, gold_footer = split_file(golden(name))
    assert ours_data == gold_data
    assert_same_footer_as_golden(ours_footer, gold_footer)


@pytest.mark.parametrize("name", GOLDEN_MOVIES)
def test_golden_movies_reproduced_with_incremental_api_in_reverse_order(tmp_path, golden, name):
    spec = manifest_entry(name)
    frames = manifest_array(spec["frames"])
    timing = manifest_timing(spec["timing"])
    out = tmp_path / "out.isxd"
    movie = xd.Movie.write(out, timing, xd.Spacing(num_pixels=frames.shape[1:]), frames.dtype)
    for i in reversed(range(timing.num_samples)):
        movie.set_frame_data(i, frames[i])
    movie.flush()
    assert split_file(out)[0] == split_file(golden(name))[0]


@pytest.mark.parametrize("name", ["image_u16.isxd", "image_f32.isxd"])
def test_golden_images_reproduced(tmp_path, golden, isx, name):
    spec = manifest_entry(name)
    image = manifest_array(spec["data"])
    out = tmp_path / "out.isxd"
    xd.write_image(image, out)
    ours_data, ours_footer = split_file(out)
    gold_data, gold_footer = split_file(golden(name))
    assert ours_data == gold_data
    assert_same_footer_as_golden(ours_footer, gold_footer)
    np.testing.assert_array_equal(isx.Image.read(str(out)).get_data(), image)
    out2 = tmp_path / "out2.isxd"
    img = xd.Image.write(out2, xd.Spacing(num_pixels=image.shape), image.dtype, image)
    np.testing.assert_array_equal(img.get_data(), image)
    assert split_file(out2)[0] == gold_data


def test_reader_matches_official_on_frame_headers_and_timestamps(golden, isx):
    path = golden("movie_u16_frameheaders.isxd")
    spec = manifest_entry("movie_u16_frameheaders.isxd")
    ours = xd.open_isxd(path)
    official = isx.Movie.read(str(path))
    assert ours.has_frame_header_footer
    frames = ours.frames.compute()
    np.testing.assert_array_equal(frames, manifest_array(spec["frames"]))
    for i in range(4):
        np.testing.assert_array_equal(frames[i], official.get_frame_data(i))
        assert xd.Movie.read(path).get_frame_timestamp(i) == official.get_frame_timestamp(i) == spec["tsc_microseconds"][i]
    assert ours.extra_properties["microscope"]["serial"] == official.get_acquisition_info()["Microscope Serial Number"]


# -- official reader round trips ----------------------------------------------------------
@pytest.mark.parametrize("scheduler", ["synchronous", "threads", "processes"])
def test_dask_movie_read_back_by_official_isx(tmp_path, isx, scheduler):
    rng = np.random.default_rng(7)
    frames = rng.integers(0, 65535, size=(13, 6, 9), dtype=np.uint16)
    timing = xd.Timing(13, xd.Duration(1, 30), xd.Time(xd.Duration(1700000000, 1), 3600), dropped=[0, 5], cropped=[(8, 9)], blank=[12])
    spacing = xd.Spacing(num_pixels=(6, 9), pixel_size=(Fraction(7, 2), Fraction(11, 4)), top_left=(-3, Fraction(1, 2)))
    out = tmp_path / "m.isxd"
    xd.write_movie(da.from_array(frames, chunks=(4, 3, 5)), out, timing=timing, spacing=spacing, compute_kwargs={"scheduler": scheduler})
    assert_movie_reads_back(isx, out, frames, timing, spacing)
    assert leftovers(tmp_path) == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_property_round_trip(tmp_path_factory, isx, data):
    n = data.draw(st.integers(1, 9), label="num_samples")
    rows = data.draw(st.integers(1, 6), label="rows")
    cols = data.draw(st.integers(1, 6), label="cols")
    dtype = np.dtype(data.draw(st.sampled_from(["uint16", "float32", "uint8"]), label="dtype"))
    idx = st.lists(st.integers(0, max(n - 1, 0)), max_size=3) if n else st.just([])
    dropped, blank = data.draw(idx, label="dropped"), data.draw(idx, label="blank")
    cropped = [tuple(sorted(p)) for p in data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=2) if n else st.just([]), label="cropped")]
    timing = xd.Timing(n, xd.Duration(data.draw(st.integers(1, 1000)), 1000), dropped=dropped, cropped=cropped, blank=blank)
    rng = np.random.default_rng(n * 31 + rows)
    if dtype.kind == "f":
        frames = rng.standard_normal((n, rows, cols)).astype(dtype)
    else:
        frames = rng.integers(0, np.iinfo(dtype).max, (n, rows, cols), endpoint=True).astype(dtype)
    chunks = (data.draw(st.integers(1, max(n, 1))), data.draw(st.integers(1, rows)), data.draw(st.integers(1, cols)))
    out = tmp_path_factory.mktemp("prop") / "p.isxd"
    xd.write_movie(da.from_array(frames, chunks=chunks), out, timing=timing)
    if n > 0:
        assert_movie_reads_back(isx, out, frames, timing, xd.Spacing(num_pixels=(rows, cols)))
    expected = np.where(timing.get_valid_samples_mask()[:, None, None], frames, 0)
    np.testing.assert_array_equal(xd.open_isxd(out).frames.compute(), expected)
    data_section, footer = split_file(out)
    assert data_section == frames[timing.get_valid_samples_mask()].tobytes()
    assert footer["type"] == (0 if n > 1 else 4)


def test_fragmented_chunks_through_mapped_windows(tmp_path, isx):
    rng = np.random.default_rng(3)
    frames = rng.integers(0, 4000, size=(40, 64, 48), dtype=np.uint16)
    timing = xd.Timing(40, dropped=[7])
    for method in ("mmap", "pwrite", "auto"):
        out = tmp_path / f"{method}.isxd"
        xd.write_movie(da.from_array(frames, chunks=(40, 1, 48)), out, timing=timing, write_method=method)
        assert_movie_reads_back(isx, out, frames, timing, xd.Spacing(num_pixels=(64, 48)))


def test_compute_false_commits_only_when_computed(tmp_path, isx):
    frames = da.arange(2 * 3 * 4, dtype=np.uint16).reshape(2, 3, 4)
    out = tmp_path / "lazy.isxd"
    delayed = xd.write_movie(frames, out, compute=False)
    assert isinstance(delayed, Delayed)
    assert not out.exists()
    with pytest.raises(Exception, match="does not exist"):
        isx.Movie.read(str(out))
    dask.compute(delayed)
    assert_movie_reads_back(isx, out, frames.compute(), xd.Timing(2), xd.Spacing(num_pixels=(3, 4)))


def test_extra_properties_and_metadata_from_another_file(tmp_path, isx, golden):
    source = golden("movie_u16_frameheaders.isxd")
    frames = np.ones((4, 5, 7), np.float32)
    out = tmp_path / "derived.isxd"
    xd.write_movie(frames, out, metadata_from=source)
    ours, theirs = xd.open_isxd(out), xd.open_isxd(source)
    assert ours.timing == theirs.timing and ours.spacing == theirs.spacing
    assert ours.extra_properties == theirs.extra_properties
    assert isx.Movie.read(str(out)).get_acquisition_info()["Animal ID"] == "mouse-7"
    out2 = tmp_path / "extra.isxd"
    xd.write_movie(frames, out2, extra_properties={"name": "session é", "values": [1.5, -0.0, 1e-300]})
    assert split_file(out2)[1]["extraProperties"] == {"name": "session é", "values": [1.5, -0.0, 1e-300]}
    assert isx.Movie.read(str(out2)).get_acquisition_info()["Session Name"] == "session é"


def test_overwrite_replaces_only_when_complete(tmp_path, isx):
    out = tmp_path / "m.isxd"
    xd.write_movie(np.zeros((2, 3, 4), np.uint16), out)
    xd.write_movie(np.full((3, 3, 4), 9, np.uint16), out, overwrite=True)
    assert_movie_reads_back(isx, out, np.full((3, 3, 4), 9, np.uint16), xd.Timing(3), xd.Spacing(num_pixels=(3, 4)))


# -- failures -------------------------------------------------------------------------------
def _fail_on_block(block, block_info=None):
    if block_info[None]["chunk-location"][0] == 2:
        raise RuntimeError("injected failure in chunk 2")
    return block


@pytest.mark.parametrize("scheduler", ["synchronous", "threads", "processes"])
def test_failure_in_one_chunk_leaves_nothing_and_keeps_existing_file(tmp_path, scheduler):
    out = tmp_path / "m.isxd"
    out.write_bytes(b"precious bytes")
    frames = da.ones((10, 4, 4), dtype=np.uint16, chunks=(2, 4, 4)).map_blocks(_fail_on_block, dtype=np.uint16)
    with pytest.raises(RuntimeError, match="injected failure"):
        xd.write_movie(frames, out, overwrite=True, compute_kwargs={"scheduler": scheduler})
    assert out.read_bytes() == b"precious bytes"
    assert leftovers(tmp_path) == []
    new = tmp_path / "new.isxd"
    with pytest.raises(RuntimeError, match="injected failure"):
        xd.write_movie(frames, new, compute_kwargs={"scheduler": scheduler})
    assert not new.exists()
    assert leftovers(tmp_path) == []


BAD_INPUTS = [
    (lambda: np.zeros((3, 4), np.uint16), {}, ValueError, "frames must have 3 dimensions"),
    (lambda: np.zeros((3, 4, 5), np.uint16), {"spacing": xd.Spacing(num_pixels=(5, 4))}, ValueError, "spacing.num_pixels"),
    (lambda: np.zeros((3, 4, 5), np.uint16), {"timing": xd.Timing(num_samples=4)}, ValueError, "timing.num_samples"),
    (lambda: np.zeros((3, 4, 5), np.int32), {}, TypeError, "dtype"),
    (lambda: np.zeros((3, 4, 5), np.float64), {}, TypeError, "dtype=numpy.float32"),
    (lambda: np.full((3, 4, 5), 0.5, np.float32), {"dtype": np.uint16}, ValueError, "frames holds 60 value"),
    (lambda: np.zeros((3, 4, 5), np.float32), {"dtype": np.uint16, "casting": "same_kind"}, TypeError, "casting"),
    (lambda: np.full((3, 4, 5), 300, np.uint16), {"dtype": np.uint8}, ValueError, "casting='unsafe'"),
    (lambda: np.zeros((0, 4, 5), np.uint16), {}, ValueError, "at least one sample"),
    (lambda: np.zeros((3, 0, 5), np.uint16), {}, ValueError, "at least one sample, row"),
    (lambda: np.zeros((3, 4, 5), np.uint16), {"dtype": np.int64}, ValueError, "dtype"),
    (lambda: da.zeros((3, 4, 5), np.uint16)[da.from_array(np.array([True, False, True]))], {}, ValueError, "unknown"),
    (lambda: np.zeros((3, 4, 5), np.uint16), {"extra_properties": {"x": float("nan")}}, ValueError, "extra_properties"),
    (lambda: np.zeros((3, 4, 5), np.uint16), {"extra_properties": {"x": object()}}, ValueError, "extra_properties"),
    (lambda: np.zeros((3, 4, 5), np.uint16), {"timing": "50ms"}, TypeError, "timing"),
]


@pytest.mark.parametrize(("make", "kwargs", "error", "match"), BAD_INPUTS)
def test_bad_input_is_refused_before_any_byte(tmp_path, make, kwargs, error, match):
    with pytest.raises(error, match=match):
        xd.write_movie(make(), tmp_path / "bad.isxd", **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_bad_paths(tmp_path):
    frames = np.zeros((2, 3, 4), np.uint16)
    with pytest.raises(ValueError, match="must end with '.isxd'"):
        xd.write_movie(frames, tmp_path / "m.tif")
    with pytest.raises(FileNotFoundError, match="parent directory"):
        xd.write_movie(frames, tmp_path / "missing" / "m.isxd")
    existing = tmp_path / "m.isxd"
    existing.write_bytes(b"keep")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        xd.write_movie(frames, existing)
    assert existing.read_bytes() == b"keep"
    xd.write_movie(frames, tmp_path / "UPPER.ISXD")  # the official reader accepts any case


def test_bad_timing_values_name_the_argument():
    with pytest.raises(ValueError, match="period"):
        xd.Timing(3, period=xd.Duration(0, 5))
    with pytest.raises(ValueError, match="zero denominator"):
        xd.Timing(3, period=xd.Duration(1, 0))
    with pytest.raises(ValueError, match="pixel_size"):
        xd.Spacing(num_pixels=(2, 2), pixel_size=-1)
    with pytest.raises(ValueError, match="dropped"):
        xd.Timing(3, dropped=[3])


# -- incremental API ------------------------------------------------------------------------
def test_incremental_movie_rules(tmp_path, isx):
    timing = xd.Timing(4, dropped=[1])
    spacing = xd.Spacing(num_pixels=(2, 3))
    frames = np.arange(24, dtype=np.uint16).reshape(4, 2, 3)
    out = tmp_path / "inc.isxd"
    movie = xd.Movie.write(out, timing, spacing, np.uint16)
    movie.set_frame_data(3, frames[3])
    with pytest.warns(UserWarning, match="frame 1 is dropped, cropped or blank"):  # skipped, as the official writer
        movie.set_frame_data(1, frames[1])
    with pytest.raises(ValueError, match="already written"):
        movie.set_frame_data(3, frames[3])
    with pytest.raises(ValueError, match="shape"):
        movie.set_frame_data(0, frames[0].T)
    with pytest.raises(ValueError, match="frame holds 6 value"):  # a value-changing conversion
        movie.set_frame_data(0, frames[0].astype(np.float64) + 0.5)
    with pytest.raises(TypeError, match="frame must be a numpy.ndarray"):
        movie.set_frame_data(0, frames[0].tolist())
    with pytest.raises(IndexError, match="out of range"):
        movie.set_frame_data(4, frames[0])
    with pytest.raises(ValueError, match=r"not written yet \(indices 0, 2\)"):
        movie.flush()
    assert not out.exists()
    with pytest.warns(UserWarning, match="Converting from int64 to uint16."):  # the official warning
        movie.set_frame_data(0, frames[0].astype(np.int64))  # lossless integer conversion is fine
    movie.set_frame_data(2, frames[2])
    movie.flush()
    movie.flush()  # a second flush does nothing
    assert_movie_reads_back(isx, out, frames, timing, spacing)
    with pytest.raises(RuntimeError, match="not open for writing"):
        movie.set_frame_data(0, frames[0])
    np.testing.assert_array_equal(xd.Movie.read(out).get_frame_data(2), frames[2])
    with pytest.raises(FileExistsError):
        xd.Movie.write(out, timing, spacing, np.uint16)
    with pytest.raises(ValueError, match="data_type"):
        xd.Movie.write(tmp_path / "x.isxd", timing, spacing, np.int32)


def test_with_block_that_raises_commits_nothing(tmp_path):
    out = tmp_path / "ctx.isxd"
    with pytest.raises(KeyError):
        with xd.Movie.write(out, xd.Timing(2), xd.Spacing(num_pixels=(2, 2)), np.float32) as movie:
            movie.set_frame_data(0, np.zeros((2, 2), np.float32))
            movie.set_frame_data(1, np.zeros((2, 2), np.float32))
            raise KeyError("user error")
    assert list(tmp_path.iterdir()) == []


def test_reader_rejects_uncommitted_and_foreign_files(tmp_path, golden):
    raw = tmp_path / "raw.isxd"
    raw.write_bytes(b"\x01" * 100)
    with pytest.raises(xd.IsxdFormatError, match="not a committed"):
        xd.open_isxd(raw)
    with pytest.raises(xd.IsxdFormatError, match="movie"):
        xd.Movie.read(golden("cellset.isxd"))
    with pytest.raises(FileNotFoundError):
        xd.open_isxd(tmp_path / "nope.isxd")


def test_lazy_reader_reads_nothing_until_computed_and_chunks_along_time(tmp_path, golden):
    path = golden("movie_u16_dropped.isxd")
    f = xd.open_isxd(path)
    arr = f.to_dask(chunks=(5, 5, 7))
    os.unlink(path)  # nothing has been read yet: removing the file shows it
    with pytest.raises(FileNotFoundError):
        arr.compute()
    assert arr.chunks[0] == (5, 5, 5, 1)


# -- extraProperties integers beyond 64 bits ---------------------------------------------------------
_ACQUISITION = {"focus": 1, "gain": 2, "serial": "s", "type": "t", "exp": 3, "led": {"exPower": 1, "ogPower": 1}}


def _movie_with_custom_metadata(path: Path, custom: dict) -> None:
    xd.write_movie(np.zeros((2, 3, 4), np.uint16), path, timing=xd.Timing(num_samples=2), spacing=xd.Spacing(num_pixels=(3, 4)),
                   extra_properties={"microscope": {**_ACQUISITION, "customMetadata": custom}})


def test_extra_properties_64_bit_edges_read_back_exactly_in_the_official_reader(isx, tmp_path):
    out = tmp_path / "edges.isxd"
    _movie_with_custom_metadata(out, {"a": 2**64 - 1, "b": -(2**63), "c": 2**63})
    info = isx.Movie.read(str(out)).get_acquisition_info()
    assert (info["a"], info["b"], info["c"]) == (2**64 - 1, -(2**63), 2**63)
    assert all(isinstance(info[k], int) for k in "abc")


def test_official_reader_rounds_integers_beyond_64_bits(isx, tmp_path):
    """Why they are refused: the official JSON parser reads them as doubles (a file patched byte by byte)."""
    out = tmp_path / "patched.isxd"
    _movie_with_custom_metadata(out, {"a": 1, "b": 2})
    data = out.read_bytes()
    json_size = int.from_bytes(data[-8:], "little")
    start = len(data) - json_size - 9
    text = data[start : start + json_size].replace(b'"a":1', b'"a":18446744073709551616').replace(b'"b":2', b'"b":-9223372036854775809')
    out.write_bytes(data[:start] + text + b"\0" + len(text).to_bytes(8, "little"))
    info = isx.Movie.read(str(out)).get_acquisition_info()
    assert isinstance(info["a"], float) and info["a"] != 2**64
    assert isinstance(info["b"], float) and info["b"] != -(2**63) - 1


@pytest.mark.parametrize(
    ("extra", "path", "text"),
    [
        ({"a": 2**64}, r"extra_properties\['a'\]", "18446744073709551616"),
        ({"a": {"b": [0, -(2**63) - 1]}}, r"extra_properties\['a'\]\['b'\]\[1\]", "-9223372036854775809"),
        ([1, {"x": 10**200}], r"extra_properties\[1\]\['x'\]", "an integer of 665 bits"),
    ],
)
def test_extra_properties_integers_beyond_64_bits_are_refused(tmp_path, extra, path, text):
    with pytest.raises(ValueError, match=rf"{path} is {text}, outside the integers the official reader holds exactly \(-2\*\*63 to 2\*\*64 - 1"):
        xd.write_movie(np.zeros((2, 3, 4), np.uint16), tmp_path / "m.isxd", timing=xd.Timing(num_samples=2),
                       spacing=xd.Spacing(num_pixels=(3, 4)), extra_properties=extra)
    assert list(tmp_path.iterdir()) == []
