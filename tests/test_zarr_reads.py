"""zarr_to_isxd reads each chunk into memory aligned as its bytes lie in the file, so it is written without a copy."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import leftovers, split_file
from test_convert import FORMATS, new_array
from test_io import _direct_accepted

import isx_dask as xd
from isx_dask import _io


@pytest.mark.parametrize("zarr_format", FORMATS)
@pytest.mark.parametrize(("shape", "chunks"), [
    ((12, 64, 64), (4, 64, 64)),  # 8192-byte frames: every chunk starts on a block boundary
    ((150, 30, 33), (50, 30, 33)),  # 1980-byte frames: chunks start anywhere in a block
    ((9, 30, 33), (9, 30, 33)),  # one chunk
])
def test_zarr_chunks_are_written_from_aligned_memory(tmp_path, monkeypatch, zarr_format, shape, chunks):
    if not _direct_accepted(tmp_path):
        pytest.skip(f"{tmp_path} does not take O_DIRECT writes on this platform")
    frames = np.random.default_rng(len(shape)).integers(0, 65535, shape, dtype=np.uint16)
    new_array(str(tmp_path / "m.zarr"), frames, chunks=chunks, zarr_format=zarr_format)
    bodies = []
    real = _io._write_direct_body
    monkeypatch.setattr(_io, "_write_direct_body", lambda fd, data, offset: (bodies.append(_io._is_aligned(data)), real(fd, data, offset))[1])
    monkeypatch.setattr(_io, "on_local_filesystem", lambda directory: True)
    out = tmp_path / "m.isxd"
    xd.zarr_to_isxd(tmp_path / "m.zarr", out, timing=xd.Timing(shape[0]), spacing=xd.Spacing(num_pixels=shape[-2:]),
                    write_method="direct")
    assert bodies and all(bodies), bodies
    assert split_file(out)[0] == frames.tobytes()


def test_zarr_chunks_whatever_the_alignment_give_the_same_bytes(tmp_path):
    # Chunks split along rows and columns (tiles) are not whole runs: they take the ordinary path.
    frames = np.random.default_rng(3).integers(0, 65535, (10, 30, 33), dtype=np.uint16)
    new_array(str(tmp_path / "t.zarr"), frames, chunks=(3, 7, 11))
    out = tmp_path / "t.isxd"
    xd.zarr_to_isxd(tmp_path / "t.zarr", out, timing=xd.Timing(10), spacing=xd.Spacing(num_pixels=(30, 33)))
    assert split_file(out)[0] == frames.tobytes()


def test_zarr_conversion_resumes_after_a_failed_chunk(tmp_path):
    frames = np.random.default_rng(4).integers(0, 65535, (12, 64, 64), dtype=np.uint16)
    new_array(str(tmp_path / "m.zarr"), frames, chunks=(4, 64, 64))
    chunk_files = sorted(p for p in (tmp_path / "m.zarr").rglob("*") if p.is_file() and p.stat().st_size > 1000)
    assert len(chunk_files) == 3
    good = chunk_files[1].read_bytes()
    chunk_files[1].write_bytes(b"\xff" * len(good))  # a damaged chunk: its decoding fails
    out = tmp_path / "m.isxd"
    options = {"timing": xd.Timing(12), "spacing": xd.Spacing(num_pixels=(64, 64)), "resume": True,
               "compute_kwargs": {"scheduler": "sync"}}
    with pytest.raises(Exception):  # noqa: B017 - whatever the codec raises
        xd.zarr_to_isxd(tmp_path / "m.zarr", out, **options)
    assert not out.exists() and leftovers(tmp_path)  # the partial file is kept for the resume
    chunk_files[1].write_bytes(good)
    xd.zarr_to_isxd(tmp_path / "m.zarr", out, **options)
    assert split_file(out)[0] == frames.tobytes() and leftovers(tmp_path) == []


def test_command_line_conversion_resumes(tmp_path, capsys):
    from isx_dask import cli

    frames = np.random.default_rng(5).integers(0, 65535, (12, 64, 64), dtype=np.uint16)
    new_array(str(tmp_path / "m.zarr"), frames, chunks=(4, 64, 64))
    chunk_files = sorted(p for p in (tmp_path / "m.zarr").rglob("*") if p.is_file() and p.stat().st_size > 1000)
    good = chunk_files[2].read_bytes()
    chunk_files[2].write_bytes(b"\xff" * len(good))
    out = tmp_path / "m.isxd"
    argv = ["convert", str(tmp_path / "m.zarr"), str(out), "--period", "1/20", "--pixel-size", "2", "--resume",
            "--no-progress", "--scheduler", "sync"]
    assert cli.main(argv) != 0
    assert not out.exists() and leftovers(tmp_path)
    chunk_files[2].write_bytes(good)
    assert cli.main(argv) == 0, capsys.readouterr().err
    assert split_file(out)[0] == frames.tobytes() and leftovers(tmp_path) == []
