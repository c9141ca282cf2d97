"""series_to_isxd and deinterleave_movie on movies written by the official isx and by tifffile."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import isx_dask as xd
from conftest import assert_spacing_equal, assert_timing_equal, directory_state, split_file
from isx_dask.sources.series import deinterleave_movie, series_to_isxd
from isx_dask.sources.tiff import read_tiff

ROWS, COLS = 16, 20


def official_frames(isx: Any, path: Path) -> tuple[Any, np.ndarray]:
    """The official movie (kept open: its Timing points into it) and its stored frames."""
    movie = isx.Movie.read(str(path))
    valid = [i for i in range(movie.timing.num_samples) if i not in set(movie.timing.dropped)]
    return movie, np.stack([movie.get_frame_data(i) for i in valid])


def official_movie(isx: Any, path: Path, frames: np.ndarray, period_ms: int, dropped: list[int]) -> Path:
    """An .isxd movie written by the official package (valid frames only; start at the epoch, its only choice)."""
    timing = isx.Timing(num_samples=len(frames), period=isx.Duration.from_msecs(period_ms), dropped=dropped)
    movie = isx.Movie.write(str(path), timing, isx.Spacing(num_pixels=(ROWS, COLS)), np.uint16)
    for i, frame in enumerate(frames):
        if i not in dropped:
            movie.set_frame_data(i, frame)
    movie.flush()
    return path


def frames_of(num: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 65535, (num, ROWS, COLS), dtype=np.uint16)


def test_concatenated_series_keeps_each_dropped_frame(isx: Any, tmp_path: Path) -> None:
    a, b = frames_of(7, 0), frames_of(6, 1)
    src_a = official_movie(isx, tmp_path / "a.isxd", a, 40, [2])
    src_b = official_movie(isx, tmp_path / "b.isxd", b, 40, [0, 5])
    series_to_isxd([src_a, src_b], tmp_path / "ab.isxd")
    movie, got = official_frames(isx, tmp_path / "ab.isxd")
    keep_a = [i for i in range(7) if i != 2]
    keep_b = [i for i in range(6) if i not in (0, 5)]
    np.testing.assert_array_equal(got, np.concatenate([a[keep_a], b[keep_b]]))
    assert_timing_equal(xd.Timing(num_samples=13, period=xd.Duration(40, 1000), dropped=(2, 7, 12)), movie.timing)
    assert_spacing_equal(xd.Spacing(num_pixels=(ROWS, COLS)), movie.spacing)
    _, footer = split_file(tmp_path / "ab.isxd")
    assert [m["numTimes"] for m in footer["extraProperties"]["series"]] == [7, 6]


def test_concatenation_refuses_different_periods(isx: Any, tmp_path: Path) -> None:
    src_a = official_movie(isx, tmp_path / "a.isxd", frames_of(3, 0), 40, [])
    src_b = official_movie(isx, tmp_path / "b.isxd", frames_of(3, 1), 50, [])
    before = directory_state(tmp_path)
    with pytest.raises(ValueError, match=r"sources\[1\].*period"):
        series_to_isxd([src_a, src_b], tmp_path / "ab.isxd")
    assert directory_state(tmp_path) == before


def test_split_series_gives_each_file_its_own_start(isx: Any, tmp_path: Path) -> None:
    tifffile = pytest.importorskip("tifffile")
    parts = [frames_of(4, 2), frames_of(5, 3)]
    starts = [xd.Time(xd.Duration(1_700_000_000, 1), 3600), xd.Time(xd.Duration(1_700_003_600_5, 10), 3600)]
    recordings = []
    for i, (part, start) in enumerate(zip(parts, starts)):
        tifffile.imwrite(tmp_path / f"s{i}.ome.tif", part, ome=True,
                         metadata={"axes": "TYX", "TimeIncrement": 0.05, "PhysicalSizeX": 2, "PhysicalSizeY": 2})
        recordings.append(read_tiff(tmp_path / f"s{i}.ome.tif", start=start))
    outs = [tmp_path / "s0.isxd", tmp_path / "s1.isxd"]
    with pytest.raises(TypeError, match="split"):
        series_to_isxd(recordings, outs)
    series_to_isxd(recordings, outs, split=True)
    for part, start, out in zip(parts, starts, outs):
        movie, got = official_frames(isx, out)
        np.testing.assert_array_equal(got, part)
        assert_timing_equal(xd.Timing(num_samples=len(part), period=xd.Duration(1, 20), start=start), movie.timing)
        assert_spacing_equal(xd.Spacing(num_pixels=(ROWS, COLS), pixel_size=2), movie.spacing)


def test_deinterleave_three_planes_with_dropped_frames(isx: Any, tmp_path: Path) -> None:
    frames = frames_of(10, 4)
    src = official_movie(isx, tmp_path / "planes.isxd", frames, 30, [4, 8])
    outs = [tmp_path / f"p{p}.isxd" for p in range(3)]
    deinterleave_movie(src, outs, num_planes=3)
    # plane p holds source frames p, p+3, ...; source frame 4 is plane 1's frame 1, source frame 8 plane 2's frame 2
    expected_dropped = {0: (), 1: (1,), 2: (2,)}
    for p, out in enumerate(outs):
        movie, got = official_frames(isx, out)
        indices = [i for i in range(p, 10, 3) if i not in (4, 8)]
        np.testing.assert_array_equal(got, frames[indices])
        expected = xd.Timing(
            num_samples=len(range(p, 10, 3)), period=xd.Duration(90, 1000), dropped=expected_dropped[p],
            start=xd.Time(xd.Duration(30 * p, 1000)),
        )
        assert_timing_equal(expected, movie.timing)


def test_deinterleave_refusals(isx: Any, tmp_path: Path) -> None:
    src = official_movie(isx, tmp_path / "m.isxd", frames_of(4, 5), 30, [])
    before = directory_state(tmp_path)
    with pytest.raises(ValueError, match="num_planes"):
        deinterleave_movie(src, [tmp_path / "a.isxd"], num_planes=1)
    with pytest.raises(ValueError, match="paths"):
        deinterleave_movie(src, [tmp_path / "a.isxd"], num_planes=2)
    with pytest.raises(ValueError, match="num_planes=5"):
        deinterleave_movie(src, [tmp_path / f"{i}.isxd" for i in range(5)], num_planes=5)
    with pytest.raises(TypeError, match="num_planes"):
        deinterleave_movie(src, [tmp_path / "a.isxd", tmp_path / "b.isxd"], num_planes=2.0)  # type: ignore[arg-type]
    assert directory_state(tmp_path) == before


def test_exact_plane_start_for_a_rational_period(isx: Any, tmp_path: Path) -> None:
    tifffile = pytest.importorskip("tifffile")
    frames = frames_of(6, 6)
    tifffile.imwrite(tmp_path / "m.tif", frames, photometric="minisblack")
    outs = [tmp_path / "g.isxd", tmp_path / "r.isxd"]
    deinterleave_movie(tmp_path / "m.tif", outs, num_planes=2, period=Fraction(1, 30), pixel_size=1)
    movie, got = official_frames(isx, outs[1])
    np.testing.assert_array_equal(got, frames[1::2])
    assert_timing_equal(xd.Timing(num_samples=3, period=xd.Duration(1, 15), start=xd.Time(xd.Duration(1, 30))), movie.timing)


def test_compute_false_writes_every_plane_when_computed(isx: Any, tmp_path: Path) -> None:
    frames = frames_of(6, 7)
    src = official_movie(isx, tmp_path / "m.isxd", frames, 25, [])
    outs = [tmp_path / "a.isxd", tmp_path / "b.isxd"]
    delayed = deinterleave_movie(src, outs, num_planes=2, compute=False)
    assert not any(p.exists() for p in outs)
    delayed.compute(scheduler="threads")
    for p, out in enumerate(outs):
        _, got = official_frames(isx, out)
        np.testing.assert_array_equal(got, frames[p::2])


def test_deinterleave_maps_cropped_and_blank_frames(isx: Any, tmp_path: Path) -> None:
    frames = frames_of(9, 8)
    timing = isx.Timing(num_samples=9, period=isx.Duration.from_msecs(20), cropped=[(2, 4)], blank=[7])
    movie = isx.Movie.write(str(tmp_path / "m.isxd"), timing, isx.Spacing(num_pixels=(ROWS, COLS)), np.uint16)
    stored = [0, 1, 5, 6, 8]
    for i in stored:
        movie.set_frame_data(i, frames[i])
    movie.flush()
    del movie
    outs = [tmp_path / "a.isxd", tmp_path / "b.isxd"]
    deinterleave_movie(tmp_path / "m.isxd", outs, num_planes=2)
    # plane 0: source 0, 2, 4, 6, 8 -> cropped 2 and 4 are its samples 1 and 2; plane 1: source 1, 3, 5, 7 -> 3 is 1, blank 7 is 3
    expected = {0: ([(1, 2)], [], [0, 6, 8]), 1: ([(1, 1)], [3], [1, 5])}
    for p, out in enumerate(outs):
        official = isx.Movie.read(str(out))
        cropped, blank, sources = expected[p]
        assert [tuple(c) for c in official.timing.cropped] == cropped
        assert list(official.timing.blank) == blank
        valid = [i for i in range(official.timing.num_samples)
                 if i not in blank and not any(a <= i <= b for a, b in cropped)]
        got = np.stack([official.get_frame_data(i) for i in valid])
        np.testing.assert_array_equal(got, frames[sources])
