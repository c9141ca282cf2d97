"""Readers: a replaced file is detected, close()/with, readable reprs, the valid mask,
the official frame-timestamp rules, and get_cell_index, each compared with the official reader."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import isx_dask as xd
from isx_dask.layout import IsxdFormatError
from isx_dask.readers import IsxdFileChangedError, open_isxd
from isx_dask.readers.event_set import index_of_name
from isx_dask.readers.movie import NO_FRAME_TIMESTAMPS, MovieFile

GOLDEN = Path(__file__).parent / "data" / "golden"


def copy_golden(tmp_path: Path, name: str) -> Path:
    dst = tmp_path / name
    shutil.copyfile(GOLDEN / name, dst)
    return dst


# -- a file changed under a reader ------------------------------------------------------------
def test_lazy_frames_opened_before_an_overwrite_raise_instead_of_reading_the_new_file(tmp_path):
    p = copy_golden(tmp_path, "movie_u16.isxd")
    f = open_isxd(p)
    frames = f.frames
    before = frames.compute(scheduler="synchronous")
    timing, spacing = f.timing, f.spacing
    new = np.full(f.shape, 7, dtype=np.uint16)
    xd.write_movie(new, p, timing=timing, spacing=spacing, overwrite=True)
    with pytest.raises(IsxdFileChangedError, match="replaced|modified") as info:
        frames.compute(scheduler="synchronous")
    assert str(p) in str(info.value)
    with pytest.raises(IsxdFileChangedError):
        f.get_frame(0)
    g = open_isxd(p)  # a new reader reads the new file
    np.testing.assert_array_equal(g.frames.compute(scheduler="synchronous"), new)
    assert not np.array_equal(before, new)


@pytest.mark.parametrize(
    ("name", "read"),
    [
        ("cellset.isxd", lambda f: f.traces.compute(scheduler="synchronous")),
        ("cellset.isxd", lambda f: f.get_footprint(0)),
        ("eventset.isxd", lambda f: f.get_cell_data(0)),
        ("vesselset_diameter.isxd", lambda f: f.lines.compute(scheduler="synchronous")),
        ("movie_u16_frameheaders.isxd", lambda f: f.frame_timestamps()),
    ],
)
def test_every_reader_detects_replacement_and_in_place_change(tmp_path, name, read):
    p = copy_golden(tmp_path, name)
    f = open_isxd(p)
    read(f)  # unchanged: reads
    other = tmp_path / "other.isxd"
    shutil.copyfile(GOLDEN / name, other)
    os.replace(other, p)  # same bytes, another file (as overwrite=True does)
    with pytest.raises(IsxdFileChangedError, match="replaced"):
        read(f)
    g = open_isxd(p)
    read(g)
    with open(p, "r+b") as h:  # same file, modified in place (same size)
        h.write(h.read(1))
    os.utime(p, ns=(g.identity.mtime_ns + 10**9, g.identity.mtime_ns + 10**9))
    with pytest.raises(IsxdFileChangedError, match="modified"):
        read(g)


def test_lazy_arrays_pickle_with_the_identity(tmp_path):
    p = copy_golden(tmp_path, "cellset.isxd")
    traces = open_isxd(p).traces
    clone = pickle.loads(pickle.dumps(traces))
    np.testing.assert_array_equal(clone.compute(scheduler="synchronous"), traces.compute(scheduler="synchronous"))
    p.write_bytes(p.read_bytes() + b"\x00")
    with pytest.raises(IsxdFileChangedError):
        clone.compute(scheduler="synchronous")


# -- life cycle and repr ----------------------------------------------------------------------
def test_close_and_context_manager():
    with open_isxd(GOLDEN / "movie_u16.isxd") as f:
        assert not f.closed
        frames = f.frames
        f.get_frame(0)
    assert f.closed and "closed" in repr(f)
    for call in (lambda: f.get_frame(0), lambda: f.frames, lambda: f.headers()):
        with pytest.raises(ValueError, match="closed"):
            call()
    frames.compute(scheduler="synchronous")  # arrays made before keep working
    with open_isxd(GOLDEN / "cellset.isxd") as c:
        c.get_trace(0)
    with pytest.raises(ValueError, match="closed"):
        c.get_trace(0)


def _manifest(name: str) -> dict[str, Any]:
    files: dict[str, Any] = json.loads((GOLDEN / "manifest.json").read_text())["files"]
    return files[name]


def test_reprs_are_readable():
    m = _manifest("movie_u16_dropped.isxd")
    rows, cols = m["spacing"]["num_pixels"]
    n = m["timing"]["num_samples"]
    text = repr(open_isxd(GOLDEN / "movie_u16_dropped.isxd"))
    assert text.startswith("MovieFile(")
    assert f"shape=({n}, {rows}, {cols})" in text and "dtype=uint16" in text
    assert "period=0.05 s (20 Hz)" in text and "pixel_size=3 x 3 µm" in text
    invalid = len(m["timing"]["dropped"]) + len(m["timing"]["blank"]) + sum(b - a + 1 for a, b in m["timing"]["cropped"])
    assert f"invalid_frames={invalid}" in text
    text = repr(open_isxd(GOLDEN / "cellset.isxd"))
    assert text.startswith("CellSetFile(") and "num_cells=4" in text and "µm" in text and " Hz)" in text
    assert "num_cells=5" in repr(open_isxd(GOLDEN / "eventset.isxd"))
    assert "vessel_type='vessel diameter'" in repr(open_isxd(GOLDEN / "vesselset_diameter.isxd"))


# -- valid mask -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["movie_u16_dropped.isxd", "movie_u16.isxd", "cellset_dropped.isxd"])
def test_valid_mask_matches_the_official_reader(isx, name):
    ours = open_isxd(GOLDEN / name)
    official = (isx.Movie if name.startswith("movie") else isx.CellSet).read(str(GOLDEN / name))
    np.testing.assert_array_equal(ours.valid, np.asarray(official.timing.get_valid_samples_mask(), dtype=bool))


def test_valid_mask_selects_the_stored_frames(isx):
    p = GOLDEN / "movie_u16_dropped.isxd"
    f = open_isxd(p)
    official = isx.Movie.read(str(p))
    valid = np.flatnonzero(f.valid)
    frames = f.frames[valid].compute(scheduler="synchronous")
    for k, i in enumerate(valid.tolist()):
        np.testing.assert_array_equal(frames[k], official.get_frame_data(i))


# -- frame timestamps: the official rules -------------------------------------------------------
def _encode_tsc(tsc: int) -> list[int]:
    values = []
    for k in range(4):
        chunk = (tsc >> (16 * k)) & 0xFFFF
        values += [(chunk & 0xF) << 4, chunk >> 4]
    return values


def header_movie(path: Path, tscs: list[int], *, n: int | None = None, extra: Any = None, **lists: Any) -> Path:
    """A uint16 movie with sensor frame headers, built byte by byte (independently of the package)."""
    rows, cols = 2, 3
    parts = []
    for i, tsc in enumerate(tscs):
        header = np.full(2560, 0xA0, dtype="<u2")
        header[1272:1280] = _encode_tsc(tsc)
        pixels = (np.arange(rows * cols) + 10 * i).astype("<u2")
        footer = np.full(2560, i, dtype="<u2")
        parts += [header.tobytes(), pixels.tobytes(), footer.tobytes()]
    timing = {
        "numTimes": len(tscs) if n is None else n,
        "period": {"num": 50, "den": 1000},
        "start": {"secsSinceEpoch": {"num": 1700000000, "den": 1}, "utcOffset": 0},
        "dropped": lists.get("dropped", []),
        "cropped": lists.get("cropped", []),
        "blank": lists.get("blank", []),
    }
    footer_json = {
        "type": 0,
        "dataType": 0,
        "fileVersion": 1,
        "hasFrameHeaderFooter": True,
        "extraProperties": extra,
        "timingInfo": timing,
        "spacingInfo": {
            "numPixels": {"x": cols, "y": rows},
            "pixelSize": {"x": {"num": 3, "den": 1}, "y": {"num": 3, "den": 1}},
            "topLeft": {"x": {"num": 0, "den": 1}, "y": {"num": 0, "den": 1}},
        },
    }
    text = json.dumps(footer_json).encode()
    path.write_bytes(b"".join(parts) + text + b"\x00" + struct.pack("<Q", len(text)))
    return path


V = {"producer": {"version": "1.9.0"}}
HEADER_CASES: dict[str, dict[str, Any]] = {
    "steady": {"tscs": [1000, 1100, 1200, 1300], "extra": V},
    "two_frames": {"tscs": [1000, 1100], "extra": V},
    "uneven": {"tscs": [1000, 1100, 1250], "extra": V},
    "decreasing": {"tscs": [1300, 1200, 1100, 1000], "extra": V},
    "equal_ends": {"tscs": [1000, 1100, 1100, 1000], "extra": V},
    "unreduced": {"tscs": [0, 500000, 1000000], "extra": V},
    "one_frame": {"tscs": [1000], "extra": V},
    "first_dropped": {"tscs": [1100, 1200, 1300], "n": 4, "dropped": [0], "extra": V},
    "last_dropped": {"tscs": [1000, 1100, 1200], "n": 4, "dropped": [3], "extra": V},
    "middle_cropped": {"tscs": [1000, 1300], "n": 4, "cropped": ["1 - 2"], "extra": V},
    "first_blank": {"tscs": [1100, 1200, 1300], "n": 4, "blank": [0], "extra": V},
    "no_extra_properties": {"tscs": [1000, 1100, 1200, 1300], "extra": None},
    "version_1_1_0": {"tscs": [1000, 1100, 1200, 1300], "extra": {"producer": {"version": "1.1.0"}}},
    "version_1_1_1": {"tscs": [1000, 1100, 1200, 1300], "extra": {"producer": {"version": "1.1.1"}}},
    "version_suffix": {"tscs": [1000, 1100, 1200, 1300], "extra": {"producer": {"version": "1.1.1-beta"}}},
    "version_major_only": {"tscs": [1000, 1100, 1200, 1300], "extra": {"producer": {"version": "2"}}},
    "version_1_1": {"tscs": [1000, 1100, 1200, 1300], "extra": {"producer": {"version": "1.1"}}},
    "version_1_2": {"tscs": [1000, 1100, 1200, 1300], "extra": {"producer": {"version": "1.2"}}},
    "version_four_parts": {"tscs": [1000, 1100, 1200, 1300], "extra": {"producer": {"version": "1.1.1.5"}}},
    "version_not_text": {"tscs": [1000, 1100, 1200, 1300], "extra": {"producer": {"version": [1, 2, 3]}}},
    "version_garbage": {"tscs": [1000, 1100, 1200, 1300], "extra": {"producer": {"version": "abc"}}},
    "no_producer": {"tscs": [1000, 1100, 1200, 1300], "extra": {"name": "x"}},
    "extra_not_object": {"tscs": [1000, 1100, 1200, 1300], "extra": [1, 2]},
    "large_tsc": {"tscs": [2**40 + 7, 2**40 + 50007, 2**40 + 99907], "extra": V},
}


def _official(isx: Any, path: Path) -> tuple[tuple[int, int], list[int] | str]:
    movie = isx.Movie.read(str(path))
    period = movie.timing.period._impl
    try:
        stamps: list[int] | str = [movie.get_frame_timestamp(i) for i in range(movie.timing.num_samples)]
    except Exception as err:  # noqa: BLE001 - the official package raises a plain Exception
        stamps = str(err).splitlines()[-1]
    return (period.num, period.den), stamps


@pytest.mark.parametrize("case", sorted(HEADER_CASES))
def test_frame_timestamp_rules_match_the_official_reader(tmp_path, isx, case):
    p = header_movie(tmp_path / f"{case}.isxd", **HEADER_CASES[case])
    official_period, official_stamps = _official(isx, p)
    f = MovieFile(p)
    period = f.official_timing().period
    assert (period.num, period.den) == official_period
    if isinstance(official_stamps, str):
        assert official_stamps.endswith(NO_FRAME_TIMESTAMPS)
        assert not f.has_frame_timestamps
        with pytest.raises(IsxdFormatError, match=NO_FRAME_TIMESTAMPS):
            f.frame_timestamps()
        decoded = f.frame_timestamps(ignore_producer_version=True)  # the headers still hold them
        assert decoded[f.valid].tolist() == HEADER_CASES[case]["tscs"]
        with pytest.raises(IsxdFormatError, match=NO_FRAME_TIMESTAMPS):
            f.frame_timestamp(0)
    else:
        assert f.has_frame_timestamps
        assert f.frame_timestamps().tolist() == official_stamps
        assert [f.frame_timestamp(i) for i in range(len(official_stamps))] == official_stamps
        with pytest.raises(IndexError, match="out of range"):
            f.frame_timestamp(len(official_stamps))
    assert f.timing.period == xd.Duration(50, 1000)  # the footer's period is unchanged


def test_golden_frame_header_movie_reads_as_the_official_reader(isx):
    p = GOLDEN / "movie_u16_frameheaders.isxd"
    official_period, official_stamps = _official(isx, p)
    f = MovieFile(p)
    period = f.official_timing().period
    assert (period.num, period.den) == official_period == (149700, 3000000)
    assert f.frame_timestamps().tolist() == official_stamps
    official = isx.Movie.read(str(p))
    np.testing.assert_array_equal(f.get_frame(2), official.get_frame_data(2))


def test_movie_without_frame_headers_has_no_timestamps():
    f = MovieFile(GOLDEN / "movie_u16.isxd")
    assert not f.has_frame_timestamps and f.official_timing() == f.timing
    for kwargs in ({}, {"ignore_producer_version": True}):
        with pytest.raises(IsxdFormatError, match=NO_FRAME_TIMESTAMPS):
            f.frame_timestamps(**kwargs)


# -- cell index by name ---------------------------------------------------------------------
def test_get_cell_index_matches_the_official_reader(isx):
    p = GOLDEN / "eventset.isxd"
    ours, official = open_isxd(p), isx.EventSet.read(str(p))
    for k in range(official.num_cells):
        name = official.get_cell_name(k)
        assert ours.get_cell_index(name) == official.get_cell_index(name) == k
    with pytest.raises(KeyError) as theirs:
        official.get_cell_index("nope")
    with pytest.raises(KeyError) as mine:
        ours.get_cell_index("nope")
    assert mine.value.args == theirs.value.args


def test_index_of_name_takes_the_first_of_repeated_names():
    assert index_of_name(["a", "b", "a"], "a") == 0
    assert index_of_name(["a", "b", "a"], "b") == 1
    with pytest.raises(KeyError, match='Vessel with name "c" does not exist.'):
        index_of_name(["a"], "c", kind="Vessel")


def test_open_refuses_unknown_type_codes(tmp_path):
    p = tmp_path / "x.isxd"
    text = b'{"type": 9}'
    p.write_bytes(text + b"\x00" + struct.pack("<Q", len(text)))
    with pytest.raises(IsxdFormatError, match="type 9"):
        open_isxd(p)


@pytest.mark.parametrize("chunk", [1, 3, 5, 16])
def test_frames_in_any_chunking_match_the_official_reader(isx, chunk):
    """Chunks that start, end or lie inside runs of dropped/cropped/blank frames; strided reads."""
    from isx_dask.readers.movie import _StoredFrames

    p = GOLDEN / "movie_u16_dropped.isxd"
    f, official = open_isxd(p), isx.Movie.read(str(p))
    expected = np.stack([official.get_frame_data(i) for i in range(official.timing.num_samples)])
    rows, cols = expected.shape[1:]
    np.testing.assert_array_equal(f.to_dask(chunks=(chunk, rows, cols)).compute(scheduler="synchronous"), expected)
    view = _StoredFrames(f.path, f.layout, f.identity)
    np.testing.assert_array_equal(view[::chunk], expected[::chunk])
    np.testing.assert_array_equal(view[2:11:2, 1:4, 2:], expected[2:11:2, 1:4, 2:])
