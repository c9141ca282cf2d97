"""``isx-dask demo``: where the files go, what it prints, and that the official package reads what it wrote."""

from __future__ import annotations

import os

import numpy as np
import pytest

from isx_dask import cli
from isx_dask.examples import synthetic_recording

FILES = ["demo_cellset.isxd", "demo_eventset.isxd", "demo_movie.isxd"]


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    """One tiny demo run in a fresh current directory; its stdout, stderr and exit code."""
    directory = tmp_path_factory.mktemp("demo")
    before = os.getcwd()
    os.chdir(directory)
    try:
        import contextlib
        import io

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(["demo", "--size", "tiny", "--seed", "3"])
    finally:
        os.chdir(before)
    return directory, code, out.getvalue(), err.getvalue()


def expected_recording():
    """The synthetic session the tiny demo writes, made here from the same public recipe."""
    frames, shape, cells = cli.DEMO_SIZES["tiny"]
    dropped = sorted({frames // 7, frames // 3, frames // 3 + 1, (2 * frames) // 3})
    return synthetic_recording(frames, shape, cells, seed=3, dropped=dropped)


def test_demo_writes_three_files_into_the_current_directory(demo_dir):
    directory, code, out, err = demo_dir
    assert code == 0, err
    assert sorted(p.name for p in directory.iterdir()) == FILES
    lines = out.strip().splitlines()
    assert 4 <= len(lines) <= 6
    assert "MiB/s, the writer alone" in out and "not counted below" in out
    assert lines[-1].startswith("Read back: ") and "identical" in lines[-1]
    assert "\r" not in out + err  # not a terminal: no carriage returns


def test_official_package_reads_the_demo_movie(isx, demo_dir):
    directory = demo_dir[0]
    rec = expected_recording()
    movie = isx.Movie.read(str(directory / "demo_movie.isxd"))
    assert movie.timing.num_samples == rec.timing.num_samples
    assert list(movie.timing.dropped) == list(rec.timing.dropped) and len(movie.timing.dropped) >= 3
    start = movie.timing.start._impl
    assert start.utc_offset == -7 * 3600
    assert start.secs_since_epoch.num // start.secs_since_epoch.den == 1710433613  # 2024-03-14 09:26:53 -07:00
    frames = rec.frames.compute()
    for i in (0, 1, rec.timing.dropped[0] + 1, rec.timing.num_samples - 1):
        np.testing.assert_array_equal(movie.get_frame_data(i), frames[i])
    assert not movie.get_frame_data(rec.timing.dropped[0]).any()


def test_official_package_reads_the_demo_cell_set_and_events(isx, demo_dir):
    directory = demo_dir[0]
    rec = expected_recording()
    cells = isx.CellSet.read(str(directory / "demo_cellset.isxd"))
    assert cells.num_cells == len(rec.cell_names)
    valid = rec.timing.get_valid_samples_mask()
    for k, name in enumerate(rec.cell_names):
        assert cells.get_cell_name(k) == name and cells.get_cell_status(k) == "accepted"
        np.testing.assert_array_equal(cells.get_cell_image_data(k), rec.footprints[k])
        np.testing.assert_array_equal(cells.get_cell_trace_data(k), np.where(valid, rec.traces[k], np.nan).astype(np.float32))
    events = isx.EventSet.read(str(directory / "demo_eventset.isxd"))
    assert events.num_cells == len(rec.cell_names)
    total = 0
    for k in range(events.num_cells):
        offsets, amplitudes = events.get_cell_data(k)
        # the official reader passes offsets through doubles: up to 1 us low
        assert np.all(np.abs(offsets.astype(np.int64) - rec.event_offsets[k]) <= 1)
        np.testing.assert_array_equal(amplitudes, rec.event_amplitudes[k])
        total += len(offsets)
    assert total == rec.num_events > 0


def test_demo_refuses_to_replace_files_without_overwrite(demo_dir, capsys, monkeypatch):
    directory = demo_dir[0]
    before = {name: (directory / name).read_bytes() for name in FILES}
    monkeypatch.chdir(directory)
    code = cli.main(["demo", "--size", "tiny"])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("isx-dask demo: error: ") and "--overwrite" in err and err.count("\n") == 1
    assert {name: (directory / name).read_bytes() for name in FILES} == before


def test_demo_output_dir(tmp_path, capsys):
    code = cli.main(["demo", "--size", "tiny", "--output-dir", str(tmp_path / "missing")])
    assert code == 2 and "--output-dir" in capsys.readouterr().err
    code = cli.main(["demo", "--size", "tiny", "--output-dir", str(tmp_path), "--no-progress"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == FILES
    assert str(tmp_path / "demo_movie.isxd") in out


def test_demo_beyond_memory_synthesises_lazily_and_estimates_the_writer(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "_IN_MEMORY_NBYTES", 0)  # as for --size large: frames never all in memory
    code = cli.main(["demo", "--size", "tiny", "--output-dir", str(tmp_path), "--no-progress", "--seed", "3"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "with synthesis; about" in out and "for the writer alone" in out
    rec = expected_recording()
    from isx_dask import open_isxd

    movie = open_isxd(tmp_path / "demo_movie.isxd")
    valid = rec.timing.get_valid_samples()
    np.testing.assert_array_equal(movie.frames.compute()[valid], rec.frames.compute()[valid])
