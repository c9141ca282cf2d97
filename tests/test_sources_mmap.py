"""caiman_mmap_to_isxd: .mmap files laid out by numpy as CaImAn's save_memmap does, read back with the official isx."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import isx_dask as xd
from conftest import assert_spacing_equal, assert_timing_equal, directory_state, leftovers
from isx_dask.sources.caiman_mmap import caiman_mmap_to_isxd, parse_caiman_mmap_name

T, ROWS, COLS = 13, 16, 20  # rows != cols, so a swapped d1/d2 cannot pass


def official_frames(isx: Any, path: Path) -> tuple[Any, np.ndarray]:
    """The official movie (kept open: its Timing points into it) and its stored frames."""
    movie = isx.Movie.read(str(path))
    return movie, np.stack([movie.get_frame_data(i) for i in range(movie.timing.num_samples)])


def write_caiman_mmap(folder: Path, movie: np.ndarray, order: str, base: str = "Yr") -> Path:
    """CaImAn's layout: a (pixels, frames) float32 matrix, pixel index row + col * d1, in ``order``."""
    frames, d1, d2 = movie.shape
    yr = movie.transpose(1, 2, 0).reshape(d1 * d2, frames, order="F")
    path = folder / f"{base}_d1_{d1}_d2_{d2}_d3_1_order_{order}_frames_{frames}_.mmap"
    out = np.memmap(path, mode="w+", dtype=np.float32, shape=(d1 * d2, frames), order=order)
    out[:] = yr
    out.flush()
    del out
    return path


def movie_data(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(50, 10, (T, ROWS, COLS)).astype(np.float32)


def test_the_fixture_has_caimans_byte_layout(tmp_path: Path) -> None:
    movie = movie_data()
    raw_f = np.fromfile(write_caiman_mmap(tmp_path, movie, "F"), dtype=np.float32)
    # order F: frame 0 first, its pixels column by column
    np.testing.assert_array_equal(raw_f[: ROWS * COLS].reshape(COLS, ROWS).T, movie[0])
    raw_c = np.fromfile(write_caiman_mmap(tmp_path, movie, "C"), dtype=np.float32)
    # order C: the trace of pixel (row 1, col 0) is the second run of T values
    np.testing.assert_array_equal(raw_c[T : 2 * T], movie[:, 1, 0])
    np.testing.assert_array_equal(raw_c[ROWS * T : ROWS * T + T], movie[:, 0, 1])


@pytest.mark.parametrize("order", ["F", "C"])
def test_both_orders_read_back_exactly(isx: Any, tmp_path: Path, order: str) -> None:
    movie = movie_data()
    src = write_caiman_mmap(tmp_path, movie, order, base="memmap__els_")
    start = xd.Time(xd.Duration(1_650_000_000, 1), utc_offset=-18000)
    caiman_mmap_to_isxd(src, tmp_path / "m.isxd", period=Fraction(1, 15), pixel_size=(Fraction(3, 2), 2), start=start)
    official, got = official_frames(isx, tmp_path / "m.isxd")
    assert official.data_type == np.float32
    np.testing.assert_array_equal(got, movie)
    assert_timing_equal(xd.Timing(num_samples=T, period=xd.Duration(1, 15), start=start), official.timing)
    assert_spacing_equal(xd.Spacing(num_pixels=(ROWS, COLS), pixel_size=(Fraction(3, 2), Fraction(2))), official.spacing)


def test_name_parsing() -> None:
    assert parse_caiman_mmap_name("a_b_d1_512_d2_400_d3_1_order_C_frames_1000_.mmap") == (512, 400, 1, "C", 1000)
    with pytest.raises(xd.IsxdFormatError, match="d1_<rows>"):
        parse_caiman_mmap_name("movie.mmap")


def test_truncated_or_3d_files_and_missing_metadata_are_refused(tmp_path: Path) -> None:
    src = write_caiman_mmap(tmp_path, movie_data(), "F")
    short = tmp_path / src.name.replace("frames_13", "frames_14")
    short.write_bytes(src.read_bytes())
    volume = tmp_path / f"Yr_d1_{ROWS}_d2_{COLS}_d3_2_order_F_frames_3_.mmap"
    volume.write_bytes(b"\0" * (ROWS * COLS * 2 * 3 * 4))
    before = directory_state(tmp_path)
    with pytest.raises(xd.IsxdFormatError, match="bytes"):
        caiman_mmap_to_isxd(short, tmp_path / "m.isxd", period=1, pixel_size=1)
    with pytest.raises(ValueError, match="d3=2"):
        caiman_mmap_to_isxd(volume, tmp_path / "m.isxd", period=1, pixel_size=1)
    with pytest.raises(ValueError, match="pixel_size"):
        caiman_mmap_to_isxd(src, tmp_path / "m.isxd", period=1, pixel_size=None)
    with pytest.raises(ValueError, match="period"):
        caiman_mmap_to_isxd(src, tmp_path / "m.isxd", period=None, pixel_size=1)
    assert directory_state(tmp_path) == before


def test_float_to_uint16_only_where_every_value_survives(isx: Any, tmp_path: Path) -> None:
    fractional = write_caiman_mmap(tmp_path, movie_data(), "F", base="frac")
    with pytest.raises(ValueError, match="frames"):  # 'same_value' (the default) checks values as chunks are written
        caiman_mmap_to_isxd(fractional, tmp_path / "m.isxd", period=1, pixel_size=1, dtype=np.uint16)
    assert not (tmp_path / "m.isxd").exists() and leftovers(tmp_path) == []
    with pytest.raises(TypeError, match="casting"):
        caiman_mmap_to_isxd(fractional, tmp_path / "m.isxd", period=1, pixel_size=1, dtype=np.uint16, casting="same_kind")
    movie = np.round(movie_data()).astype(np.float32)
    whole = write_caiman_mmap(tmp_path, movie, "C", base="whole")
    caiman_mmap_to_isxd(whole, tmp_path / "m.isxd", period=1, pixel_size=1, dtype=np.uint16)
    official, got = official_frames(isx, tmp_path / "m.isxd")
    assert official.data_type == np.uint16
    np.testing.assert_array_equal(got, movie.astype(np.uint16))


def test_metadata_from_puts_valid_frames_back_in_their_slots(isx: Any, tmp_path: Path) -> None:
    """CaImAn reads only the valid frames of an .isxd movie; metadata_from restores period, start and dropped frames."""
    movie = movie_data(seed=2)  # T = 13 valid frames of a 15-sample recording with frames 3 and 10 dropped
    timing_in = isx.Timing(num_samples=T + 2, period=isx.Duration.from_msecs(50), dropped=[3, 10])
    original = isx.Movie.write(str(tmp_path / "orig.isxd"), timing_in, isx.Spacing(num_pixels=(ROWS, COLS)), np.float32)
    valid = [i for i in range(T + 2) if i not in (3, 10)]
    for k, i in enumerate(valid):
        original.set_frame_data(i, movie[k])
    original.flush()
    del original
    src = write_caiman_mmap(tmp_path, movie, "F")
    caiman_mmap_to_isxd(src, tmp_path / "m.isxd", metadata_from=tmp_path / "orig.isxd")
    official, got = official_frames(isx, tmp_path / "m.isxd")
    assert_timing_equal(xd.Timing(num_samples=T + 2, period=xd.Duration(50, 1000), dropped=(3, 10)), official.timing)
    np.testing.assert_array_equal(got[valid], movie)
