"""miniscope_to_isxd: folders made with PyAV and hand-written CSV/JSON, read back with the official isx."""

from __future__ import annotations

import json
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import isx_dask as xd
from conftest import assert_spacing_equal, assert_timing_equal, directory_state, split_file
from isx_dask.sources.miniscope import miniscope_to_isxd

av = pytest.importorskip("av")

ROWS, COLS = 16, 20
START_MS = 1_714_575_808_250  # 2024-05-01 15:03:28.250 UTC
UTC_OFFSET = 7200  # the acquisition computer's clock: UTC+2


def official_frames(isx: Any, path: Path) -> tuple[Any, np.ndarray]:
    """The official movie (kept open: its Timing points into it) and its stored frames."""
    movie = isx.Movie.read(str(path))
    valid = [i for i in range(movie.timing.num_samples) if i not in set(movie.timing.dropped)]
    return movie, np.stack([movie.get_frame_data(i) for i in valid])


def write_avi(path: Path, frames: np.ndarray, codec: str, pix_fmt: str = "gray", frame_format: str = "gray") -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=30)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], pix_fmt
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format=frame_format)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def write_time_stamps(folder: Path, times_ms: list[int]) -> None:
    rows = "".join(f"{i},{t},{i % 3}\n" for i, t in enumerate(times_ms))
    (folder / "timeStamps.csv").write_text("Frame Number,Time Stamp (ms),Buffer Index\n" + rows)


def wall_clock(msec_since_epoch: int, utc_offset: int) -> dict[str, int]:
    import datetime as dt

    local = dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=msec_since_epoch, seconds=utc_offset)
    return {"year": local.year, "month": local.month, "day": local.day, "hour": local.hour,
            "minute": local.minute, "second": local.second, "msec": local.microsecond // 1000}


def make_recording(root: Path, frames: np.ndarray, slots: list[int], *, per_file: int, start: Any = "v4") -> Path:
    """A V4 recording folder: root/metaData.json (start), root/Miniscope/{0..n}.avi, timeStamps.csv, metaData.json."""
    device = root / "Miniscope"
    device.mkdir(parents=True)
    for k, first in enumerate(range(0, len(frames), per_file)):
        codec = "rawvideo" if k % 2 else "ffv1"
        write_avi(device / f"{k}.avi", frames[first : first + per_file], codec)
    # 30 fps as the DAQ stamps it: steps of 33 ms with a 34 ms step every third frame
    times = [15 + 33 * s + (s // 3) for s in slots]
    write_time_stamps(device, times)
    (device / "metaData.json").write_text(json.dumps({"deviceName": "Miniscope", "frameRate": "30FPS", "gain": "Low"}))
    if start == "v4":
        meta = {"recordingStartTime": {**wall_clock(START_MS, UTC_OFFSET), "msecSinceEpoch": START_MS}}
    elif start == "top-level wall clock":
        meta = wall_clock(START_MS, UTC_OFFSET)
    else:
        meta = {"animalName": "m1"}
    (root / "metaData.json").write_text(json.dumps({"researcherName": "x", **meta}))
    return device


def grey_frames(num: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (num, ROWS, COLS), dtype=np.uint8)


def test_v4_folder_with_eleven_files_and_a_gap(isx: Any, tmp_path: Path) -> None:
    frames = grey_frames(22)
    slots = [s for s in range(24) if s not in (9, 10)]  # frames 9 and 10 were dropped by the DAQ
    folder = make_recording(tmp_path / "15_03_28", frames, slots, per_file=2)  # 0.avi ... 10.avi
    miniscope_to_isxd(folder, tmp_path / "m.isxd", pixel_size=Fraction(6, 5))

    movie, got = official_frames(isx, tmp_path / "m.isxd")
    assert movie.data_type == np.uint8
    np.testing.assert_array_equal(got, frames)  # 10.avi after 9.avi, every frame exact
    first_ms = START_MS + 15
    expected = xd.Timing(
        num_samples=24, period=xd.Duration(33, 1000), dropped=(9, 10),
        start=xd.Time(xd.Duration(first_ms, 1000), utc_offset=UTC_OFFSET),
    )
    assert_timing_equal(expected, movie.timing)
    assert_spacing_equal(xd.Spacing(num_pixels=(ROWS, COLS), pixel_size=Fraction(6, 5)), movie.spacing)
    _, footer = split_file(tmp_path / "m.isxd")
    assert footer["extraProperties"]["miniscope"]["gain"] == "Low"
    assert footer["extraProperties"]["recording"]["recordingStartTime"]["msecSinceEpoch"] == START_MS


@pytest.mark.parametrize("codec", ["ffv1", "rawvideo"])
def test_tasks_of_a_few_frames_seek_inside_a_file(isx: Any, tmp_path: Path, codec: str) -> None:
    import dask

    stack = dask.config.set({"array.chunk-size": 3 * ROWS * COLS})  # 3 frames per task
    frames = grey_frames(11, seed=7)
    device = tmp_path / "Miniscope"
    device.mkdir()
    write_avi(device / "0.avi", frames, codec)
    write_time_stamps(device, [20 * i for i in range(11)])
    with stack:
        miniscope_to_isxd(device, tmp_path / "m.isxd", pixel_size=1, start=xd.Time(), compute_kwargs={"scheduler": "threads"})
    _, got = official_frames(isx, tmp_path / "m.isxd")
    np.testing.assert_array_equal(got, frames)


def test_median_step_is_exact_when_it_falls_between_two_steps(isx: Any, tmp_path: Path) -> None:
    device = tmp_path / "Miniscope"
    device.mkdir()
    frames = grey_frames(5)
    write_avi(device / "0.avi", frames, "ffv1")
    write_time_stamps(device, [0, 33, 67, 100, 134])  # steps 33, 34, 33, 34: median 33.5 ms
    (tmp_path / "metaData.json").write_text(json.dumps({"recordingStartTime": {"msecSinceEpoch": 1000}}))
    miniscope_to_isxd(device, tmp_path / "m.isxd", pixel_size=1)
    movie, got = official_frames(isx, tmp_path / "m.isxd")
    np.testing.assert_array_equal(got, frames)
    assert_timing_equal(xd.Timing(num_samples=5, period=xd.Duration(67, 2000), start=xd.Time(xd.Duration(1))), movie.timing)


def test_colour_avi_with_equal_channels_is_grey(isx: Any, tmp_path: Path) -> None:
    frames = grey_frames(6, seed=3)
    folder = tmp_path / "Miniscope"
    folder.mkdir()
    write_avi(folder / "0.avi", np.repeat(frames[..., None], 3, axis=3), "rawvideo", "bgr24", "bgr24")
    write_time_stamps(folder, [50 * i for i in range(6)])
    start = xd.Time(xd.Duration(12345, 10))
    miniscope_to_isxd(folder, tmp_path / "m.isxd", pixel_size=2, start=start)
    movie, got = official_frames(isx, tmp_path / "m.isxd")
    np.testing.assert_array_equal(got, frames)
    assert_timing_equal(xd.Timing(num_samples=6, period=xd.Duration(1, 20), start=start), movie.timing)


def test_colour_avi_is_refused_before_writing(tmp_path: Path) -> None:
    rgb = np.random.default_rng(1).integers(0, 256, (4, ROWS, COLS, 3), dtype=np.uint8)
    folder = tmp_path / "Miniscope"
    folder.mkdir()
    write_avi(folder / "0.avi", rgb, "rawvideo", "bgr24", "bgr24")
    write_time_stamps(folder, [50 * i for i in range(4)])
    before = directory_state(tmp_path)
    with pytest.raises(ValueError, match="colour"):
        miniscope_to_isxd(folder, tmp_path / "m.isxd", pixel_size=2, start=xd.Time())
    assert directory_state(tmp_path) == before


def test_start_time_must_be_found_or_given(isx: Any, tmp_path: Path) -> None:
    folder = make_recording(tmp_path / "a", grey_frames(4), list(range(4)), per_file=4, start=None)
    with pytest.raises(ValueError, match="start="):
        miniscope_to_isxd(folder, tmp_path / "m.isxd", pixel_size=1)
    older = make_recording(tmp_path / "b", grey_frames(4), list(range(4)), per_file=4, start="top-level wall clock")
    with pytest.raises(ValueError, match="utc_offset"):
        miniscope_to_isxd(older, tmp_path / "m.isxd", pixel_size=1)
    assert not (tmp_path / "m.isxd").exists()
    miniscope_to_isxd(older, tmp_path / "m.isxd", pixel_size=1, utc_offset=UTC_OFFSET)
    movie, _ = official_frames(isx, tmp_path / "m.isxd")
    expected = xd.Timing(num_samples=4, period=xd.Duration(33, 1000),
                         start=xd.Time(xd.Duration(START_MS + 15, 1000), utc_offset=UTC_OFFSET))
    assert_timing_equal(expected, movie.timing)


def test_frame_count_must_match_time_stamps(tmp_path: Path) -> None:
    folder = make_recording(tmp_path / "r", grey_frames(6), list(range(6)), per_file=3)
    write_time_stamps(folder, [33 * i for i in range(7)])
    with pytest.raises(xd.IsxdFormatError, match="timeStamps.csv"):
        miniscope_to_isxd(folder, tmp_path / "m.isxd", pixel_size=1)
    assert not (tmp_path / "m.isxd").exists()


def test_missing_av_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "av", None)
    with pytest.raises(ImportError, match=r"isx_dask\[miniscope\]"):
        miniscope_to_isxd(tmp_path, tmp_path / "m.isxd", pixel_size=1)


def test_broken_avi_and_missing_pixel_size(tmp_path: Path) -> None:
    folder = make_recording(tmp_path / "r", grey_frames(4), list(range(4)), per_file=2)
    with pytest.raises(ValueError, match="pixel_size"):
        miniscope_to_isxd(folder, tmp_path / "m.isxd", pixel_size=None)
    with pytest.raises(FileNotFoundError, match=r"device folders are \['Miniscope'\]"):
        miniscope_to_isxd(tmp_path / "r", tmp_path / "m.isxd", pixel_size=1)
    (folder / "1.avi").write_bytes(b"RIFF\x10\x00\x00\x00AVI LIST" + bytes(64))
    with pytest.raises(xd.IsxdFormatError, match="1.avi"):
        miniscope_to_isxd(folder, tmp_path / "m.isxd", pixel_size=1)
    assert not (tmp_path / "m.isxd").exists()


def test_truncated_avi_fails_the_write_and_leaves_no_file(tmp_path: Path) -> None:
    folder = make_recording(tmp_path / "r", grey_frames(8), list(range(8)), per_file=4)
    data = (folder / "1.avi").read_bytes()
    (folder / "1.avi").write_bytes(data[: len(data) * 2 // 3])  # header still says 4 frames
    before = directory_state(tmp_path)
    with pytest.raises(xd.IsxdFormatError, match="1.avi"):
        miniscope_to_isxd(folder, tmp_path / "m.isxd", pixel_size=1)
    after = directory_state(tmp_path)
    assert after == before
