"""tiff_to_isxd: TIFF, OME-TIFF and ImageJ stacks written by tifffile, read back with the official isx."""

from __future__ import annotations

import pickle
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import isx_dask as xd
from conftest import assert_spacing_equal, assert_timing_equal, directory_state, leftovers
from isx_dask.sources.tiff import read_tiff, tiff_to_isxd

tifffile = pytest.importorskip("tifffile")


def official_frames(isx: Any, path: Path) -> tuple[Any, np.ndarray]:
    """The official movie (kept open: its Timing points into it) and its stored frames."""
    movie = isx.Movie.read(str(path))
    valid = [i for i in range(movie.timing.num_samples) if i not in set(movie.timing.dropped)]
    return movie, np.stack([movie.get_frame_data(i) for i in valid])


def stack(dtype: Any, num: int = 12, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return rng.normal(100, 30, (num, 16, 20)).astype(dtype)
    return rng.integers(0, np.iinfo(dtype).max, (num, 16, 20), endpoint=True).astype(dtype)


def timing(num: int, period: Fraction) -> xd.Timing:
    return xd.Timing(num_samples=num, period=xd.Duration(period.numerator, period.denominator))


def test_ome_compressed_tiled_uint16(isx: Any, tmp_path: Path) -> None:
    frames = stack(np.uint16)
    src = tmp_path / "s.ome.tif"
    tifffile.imwrite(src, frames, ome=True, compression="zlib", tile=(16, 16),
                     metadata={"axes": "TYX", "TimeIncrement": 0.1, "PhysicalSizeX": 2.5, "PhysicalSizeY": 2.0})
    tiff_to_isxd(src, tmp_path / "m.isxd")
    movie, got = official_frames(isx, tmp_path / "m.isxd")
    np.testing.assert_array_equal(got, frames)
    assert movie.data_type == np.uint16
    assert_timing_equal(timing(12, Fraction(1, 10)), movie.timing)
    assert_spacing_equal(xd.Spacing(num_pixels=(16, 20), pixel_size=(Fraction(2), Fraction(5, 2))), movie.spacing)


def test_ome_time_increment_in_ms_and_units(isx: Any, tmp_path: Path) -> None:
    frames = stack(np.uint16, num=5)
    src = tmp_path / "ms.ome.tif"
    tifffile.imwrite(src, frames, ome=True, metadata={
        "axes": "TYX", "TimeIncrement": 50, "TimeIncrementUnit": "ms",
        "PhysicalSizeX": 800, "PhysicalSizeXUnit": "nm", "PhysicalSizeY": 800, "PhysicalSizeYUnit": "nm"})
    tiff_to_isxd(src, tmp_path / "m.isxd")
    movie, got = official_frames(isx, tmp_path / "m.isxd")
    np.testing.assert_array_equal(got, frames)
    assert_timing_equal(timing(5, Fraction(1, 20)), movie.timing)
    assert_spacing_equal(xd.Spacing(num_pixels=(16, 20), pixel_size=Fraction(4, 5)), movie.spacing)


def test_ome_plane_delta_t(isx: Any, tmp_path: Path) -> None:
    frames = stack(np.uint16, num=5)
    delta_ms = [10.0, 43.5, 77.0, 110.5, 144.0]  # steps of 33.5 ms
    tifffile.imwrite(tmp_path / "dt.ome.tif", frames, ome=True, metadata={
        "axes": "TYX", "PhysicalSizeX": 1, "PhysicalSizeY": 1, "Plane": {"DeltaT": delta_ms, "DeltaTUnit": ["ms"] * 5}})
    tiff_to_isxd(tmp_path / "dt.ome.tif", tmp_path / "m.isxd")
    movie, got = official_frames(isx, tmp_path / "m.isxd")
    np.testing.assert_array_equal(got, frames)
    assert_timing_equal(timing(5, Fraction(67, 2000)), movie.timing)
    irregular = [0.0, 0.1, 0.3, 0.4, 0.5]
    tifffile.imwrite(tmp_path / "irr.ome.tif", frames, ome=True, metadata={
        "axes": "TYX", "PhysicalSizeX": 1, "PhysicalSizeY": 1, "Plane": {"DeltaT": irregular, "DeltaTUnit": ["s"] * 5}})
    with pytest.raises(ValueError, match="period="):
        tiff_to_isxd(tmp_path / "irr.ome.tif", tmp_path / "m2.isxd")


def test_imagej_float32_finterval_and_resolution(isx: Any, tmp_path: Path) -> None:
    frames = stack(np.float32)
    src = tmp_path / "ij.tif"
    tifffile.imwrite(src, frames, imagej=True, resolution=(1 / 2.5, 1 / 2.5),
                     metadata={"axes": "TYX", "finterval": 0.05, "unit": "um"})
    tiff_to_isxd(src, tmp_path / "m.isxd")
    movie, got = official_frames(isx, tmp_path / "m.isxd")
    np.testing.assert_array_equal(got, frames)
    assert movie.data_type == np.float32
    assert_timing_equal(timing(12, Fraction(1, 20)), movie.timing)
    assert_spacing_equal(xd.Spacing(num_pixels=(16, 20), pixel_size=Fraction(5, 2)), movie.spacing)


def test_uint8_with_resolution_in_centimetres_and_explicit_period(isx: Any, tmp_path: Path) -> None:
    frames = stack(np.uint8)
    src = tmp_path / "u8.tif"
    tifffile.imwrite(src, frames, resolution=(4000, 5000), resolutionunit="CENTIMETER")  # 2.5 um x 2 um
    start = xd.Time(xd.Duration(1_700_000_000_5, 10), utc_offset=3600)
    tiff_to_isxd(src, tmp_path / "m.isxd", period=Fraction(1, 30), start=start)
    movie, got = official_frames(isx, tmp_path / "m.isxd")
    np.testing.assert_array_equal(got, frames)
    assert movie.data_type == np.uint8
    expected = xd.Timing(num_samples=12, period=xd.Duration(1, 30), start=start)
    assert_timing_equal(expected, movie.timing)
    assert_spacing_equal(xd.Spacing(num_pixels=(16, 20), pixel_size=(Fraction(2), Fraction(5, 2))), movie.spacing)


@pytest.mark.parametrize("byteorder", ["<", ">"])
def test_uncompressed_frames_read_in_runs_in_either_byte_order(isx: Any, tmp_path: Path, byteorder: str) -> None:
    import dask

    frames = stack(np.uint16, num=9)
    tifffile.imwrite(tmp_path / "s.tif", frames, byteorder=byteorder, imagej=True, resolution=(1 / 3, 1 / 3),
                     metadata={"axes": "TYX", "finterval": 0.125, "unit": "micron"})
    with dask.config.set({"array.chunk-size": 4 * 16 * 20 * 2}):  # runs of 4, 4, 1 frames
        tiff_to_isxd(tmp_path / "s.tif", tmp_path / "m.isxd")
    movie, got = official_frames(isx, tmp_path / "m.isxd")
    np.testing.assert_array_equal(got, frames)
    assert_timing_equal(timing(9, Fraction(1, 8)), movie.timing)
    assert_spacing_equal(xd.Spacing(num_pixels=(16, 20), pixel_size=3), movie.spacing)


def test_multi_file_series_concatenates_in_order(isx: Any, tmp_path: Path) -> None:
    import dask
    parts = [stack(np.uint16, num=n, seed=s) for s, n in enumerate((7, 5, 3))]
    paths = []
    for i, part in enumerate(parts):
        paths.append(tmp_path / f"part{i}.ome.tif")
        tifffile.imwrite(paths[-1], part, ome=True, compression="zlib",
                         metadata={"axes": "TYX", "TimeIncrement": 0.025, "PhysicalSizeX": 1.5, "PhysicalSizeY": 1.5})
    with dask.config.set({"array.chunk-size": 2 * 16 * 20 * 2}):  # 2 frames per task
        lazy = read_tiff(paths)
        assert lazy.frames.chunks[0] == (2, 2, 2, 1, 2, 2, 1, 2, 1)
        tiff_to_isxd(paths, tmp_path / "m.isxd", compute_kwargs={"scheduler": "threads"})
    movie, got = official_frames(isx, tmp_path / "m.isxd")
    np.testing.assert_array_equal(got, np.concatenate(parts))
    assert_timing_equal(timing(15, Fraction(1, 40)), movie.timing)


def test_the_lazy_stack_pickles_as_a_recipe(tmp_path: Path) -> None:
    """Process and distributed workers get file names and offsets, never pixels."""
    frames = stack(np.float32, num=40)
    tifffile.imwrite(tmp_path / "big.tif", frames, imagej=True, metadata={"axes": "TYX", "finterval": 1})
    lazy = read_tiff(tmp_path / "big.tif", pixel_size=1).frames
    payload = pickle.dumps(lazy)
    assert len(payload) < frames.nbytes // 4
    np.testing.assert_array_equal(pickle.loads(payload).compute(scheduler="synchronous"), frames)


def test_trailing_single_sample_axis_and_the_zarr_path(isx: Any, tmp_path: Path) -> None:
    frames = stack(np.uint16, num=5)
    tifffile.imwrite(tmp_path / "s.tif", frames[..., None], photometric="minisblack", compression="zlib", tile=(16, 16),
                     resolution=(1, 2), resolutionunit="CENTIMETER")
    tiff_to_isxd(tmp_path / "s.tif", tmp_path / "m.isxd", period=1)
    movie, got = official_frames(isx, tmp_path / "m.isxd")
    np.testing.assert_array_equal(got, frames)
    assert_spacing_equal(xd.Spacing(num_pixels=(16, 20), pixel_size=(Fraction(5000), Fraction(10000))), movie.spacing)
    # the same frames read tile by tile through tifffile's Zarr view (used where frames are not whole pages)
    from isx_dask.sources.tiff import _TiffFrames

    via_zarr = _TiffFrames(str(tmp_path / "s.tif"), 0, ("t", "y", "x", 0), (5, 16, 20), np.dtype(np.uint16), False)
    np.testing.assert_array_equal(via_zarr[1:4, 2:15, 3:19], frames[1:4, 2:15, 3:19])


def test_second_series_of_a_file(isx: Any, tmp_path: Path) -> None:
    first, second = stack(np.uint16, num=4, seed=1), stack(np.uint16, num=6, seed=2)
    with tifffile.TiffWriter(tmp_path / "two.ome.tif", ome=True) as tif:
        tif.write(first, compression="zlib", metadata={"axes": "TYX", "TimeIncrement": 0.5, "PhysicalSizeX": 1, "PhysicalSizeY": 1})
        tif.write(second, compression="zlib", metadata={"axes": "TYX", "TimeIncrement": 0.25, "PhysicalSizeX": 2, "PhysicalSizeY": 2})
    tiff_to_isxd(tmp_path / "two.ome.tif", tmp_path / "m.isxd", series=1)
    movie, got = official_frames(isx, tmp_path / "m.isxd")
    np.testing.assert_array_equal(got, second)
    assert_timing_equal(timing(6, Fraction(1, 4)), movie.timing)
    assert_spacing_equal(xd.Spacing(num_pixels=(16, 20), pixel_size=2), movie.spacing)
    with pytest.raises(ValueError, match="series=2"):
        tiff_to_isxd(tmp_path / "two.ome.tif", tmp_path / "m2.isxd", series=2)


def test_files_that_disagree_are_refused(tmp_path: Path) -> None:
    for name, inc in (("a.ome.tif", 0.1), ("b.ome.tif", 0.2)):
        tifffile.imwrite(tmp_path / name, stack(np.uint16, num=3), ome=True,
                         metadata={"axes": "TYX", "TimeIncrement": inc, "PhysicalSizeX": 1, "PhysicalSizeY": 1})
    with pytest.raises(ValueError, match="period"):
        tiff_to_isxd([tmp_path / "a.ome.tif", tmp_path / "b.ome.tif"], tmp_path / "m.isxd")
    assert not (tmp_path / "m.isxd").exists()


def test_compute_false_writes_nothing_until_computed(isx: Any, tmp_path: Path) -> None:
    frames = stack(np.uint16, num=4)
    tifffile.imwrite(tmp_path / "s.tif", frames, photometric="minisblack")
    delayed = tiff_to_isxd(tmp_path / "s.tif", tmp_path / "m.isxd", period=0.5, pixel_size=3, compute=False)
    assert not (tmp_path / "m.isxd").exists()
    delayed.compute()
    movie, got = official_frames(isx, tmp_path / "m.isxd")
    np.testing.assert_array_equal(got, frames)
    assert_timing_equal(timing(4, Fraction(1, 2)), movie.timing)


@pytest.mark.parametrize(("kwargs", "match"), [({"pixel_size": 2}, "period"), ({"period": 0.1}, "pixel_size")])
def test_missing_period_or_pixel_size_is_an_error_not_a_default(tmp_path: Path, kwargs: dict[str, Any], match: str) -> None:
    tifffile.imwrite(tmp_path / "plain.tif", stack(np.uint16, num=3), photometric="minisblack")
    before = directory_state(tmp_path)
    with pytest.raises(ValueError, match=match):
        tiff_to_isxd(tmp_path / "plain.tif", tmp_path / "m.isxd", **kwargs)
    assert directory_state(tmp_path) == before


def test_z_stack_and_colour_are_refused(tmp_path: Path) -> None:
    tifffile.imwrite(tmp_path / "z.tif", stack(np.uint16, num=4), imagej=True, metadata={"axes": "ZYX"})
    with pytest.raises(ValueError, match="z-planes"):
        tiff_to_isxd(tmp_path / "z.tif", tmp_path / "m.isxd", period=1, pixel_size=1)
    rgb = np.zeros((3, 16, 20, 3), np.uint8)
    tifffile.imwrite(tmp_path / "rgb.tif", rgb, photometric="rgb")
    with pytest.raises(ValueError, match="colour"):
        tiff_to_isxd(tmp_path / "rgb.tif", tmp_path / "m.isxd", period=1, pixel_size=1)
    assert leftovers(tmp_path) == [] and not (tmp_path / "m.isxd").exists()


def test_unstorable_dtype_needs_an_explicit_cast(isx: Any, tmp_path: Path) -> None:
    frames = stack(np.uint16, num=3).astype(np.int32)
    tifffile.imwrite(tmp_path / "i32.tif", frames, photometric="minisblack")
    with pytest.raises(TypeError, match="dtype"):
        tiff_to_isxd(tmp_path / "i32.tif", tmp_path / "m.isxd", period=1, pixel_size=1)
    tiff_to_isxd(tmp_path / "i32.tif", tmp_path / "m.isxd", period=1, pixel_size=1, dtype=np.uint16, casting="unsafe")
    _, got = official_frames(isx, tmp_path / "m.isxd")
    np.testing.assert_array_equal(got, frames.astype(np.uint16))


def test_not_a_tiff_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "bad.tif").write_bytes(b"not a tiff at all")
    with pytest.raises(xd.IsxdFormatError, match="bad.tif"):
        tiff_to_isxd(tmp_path / "bad.tif", tmp_path / "m.isxd", period=1, pixel_size=1)
    with pytest.raises(FileNotFoundError, match="nope.tif"):
        tiff_to_isxd(tmp_path / "nope.tif", tmp_path / "m.isxd", period=1, pixel_size=1)


def test_missing_tifffile_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tifffile", None)
    with pytest.raises(ImportError, match=r"isx_dask\[tiff\]"):
        tiff_to_isxd(tmp_path / "s.tif", tmp_path / "m.isxd", period=1, pixel_size=1)


@pytest.mark.parametrize("write_invalid_frames", [False, True])
def test_metadata_from_restores_what_the_official_export_drops(isx: Any, tmp_path: Path, write_invalid_frames: bool) -> None:
    """The official export_movie_to_tiff writes no timing; metadata_from puts period and dropped frames back."""
    frames = stack(np.uint16, num=10, seed=9)
    timing_in = isx.Timing(num_samples=10, period=isx.Duration.from_msecs(40), dropped=[4, 8])
    original = isx.Movie.write(str(tmp_path / "orig.isxd"), timing_in, isx.Spacing(num_pixels=(16, 20)), np.uint16)
    for i in (0, 1, 2, 3, 5, 6, 7, 9):
        original.set_frame_data(i, frames[i])
    original.flush()
    del original
    isx.export_movie_to_tiff(str(tmp_path / "orig.isxd"), str(tmp_path / "export.tif"), write_invalid_frames=write_invalid_frames)
    with pytest.raises(ValueError, match="period"):
        tiff_to_isxd(tmp_path / "export.tif", tmp_path / "m.isxd")
    tiff_to_isxd(tmp_path / "export.tif", tmp_path / "m.isxd", metadata_from=tmp_path / "orig.isxd")
    movie, got = official_frames(isx, tmp_path / "m.isxd")
    np.testing.assert_array_equal(got, frames[[0, 1, 2, 3, 5, 6, 7, 9]])
    assert_timing_equal(xd.Timing(num_samples=10, period=xd.Duration(40, 1000), dropped=(4, 8)), movie.timing)
    assert_spacing_equal(xd.Spacing(num_pixels=(16, 20), pixel_size=3), movie.spacing)


def test_metadata_from_of_another_length_is_refused(isx: Any, tmp_path: Path) -> None:
    timing_in = isx.Timing(num_samples=3, period=isx.Duration.from_msecs(40))
    original = isx.Movie.write(str(tmp_path / "orig.isxd"), timing_in, isx.Spacing(num_pixels=(16, 20)), np.uint16)
    for i in range(3):
        original.set_frame_data(i, np.zeros((16, 20), np.uint16))
    original.flush()
    del original
    tifffile.imwrite(tmp_path / "s.tif", stack(np.uint16, num=5), photometric="minisblack")
    with pytest.raises(ValueError, match="metadata_from"):
        tiff_to_isxd(tmp_path / "s.tif", tmp_path / "m.isxd", metadata_from=tmp_path / "orig.isxd")
    assert not (tmp_path / "m.isxd").exists()


@pytest.mark.parametrize("byteorder", ["<", ">"])
def test_uncompressed_files_are_read_into_memory_aligned_as_in_the_isxd(tmp_path: Path, monkeypatch: Any, byteorder: str) -> None:
    # Uncompressed frames are read straight into memory aligned as they will lie in the
    # .isxd file (across files), so they go around the page cache without a copy.
    from conftest import split_file
    from test_io import _direct_accepted

    from isx_dask import _io

    if not _direct_accepted(tmp_path):
        pytest.skip(f"{tmp_path} does not take O_DIRECT writes on this platform")
    rng = np.random.default_rng(8)
    parts = [rng.integers(0, 65535, (n, 30, 33), dtype=np.uint16) for n in (150, 77)]  # 1980-byte frames
    paths = []
    for k, part in enumerate(parts):
        paths.append(tmp_path / f"p{k}.tif")
        tifffile.imwrite(paths[-1], part.astype(part.dtype.newbyteorder(byteorder)), byteorder=byteorder, photometric="minisblack")
    bodies = []
    real = _io._write_direct_body
    monkeypatch.setattr(_io, "_write_direct_body", lambda fd, data, offset: (bodies.append(_io._is_aligned(data)), real(fd, data, offset))[1])
    out = tmp_path / "m.isxd"
    tiff_to_isxd(paths, out, period=Fraction(1, 20), pixel_size=2, write_method="direct")
    assert split_file(out)[0] == np.concatenate(parts).astype("<u2").tobytes()
    assert bodies and all(bodies) == (byteorder == "<"), bodies  # big-endian frames are converted: a new array
