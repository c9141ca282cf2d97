"""How a finished Zarr group gets its name (isxd_to_zarr): exclusive without overwrite, never losing what was there."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import zarr
from conftest import GOLDEN_DIR, leftovers

import isx_dask as xd
from isx_dask import _io
from isx_dask.target import put_directory_in_place


def _frames(target: Path) -> np.ndarray:
    return zarr.open_group(str(target), mode="r")["frames"][...]


def test_target_taken_while_writing_is_not_replaced(tmp_path):
    # The target is checked up front, but another writer may take the name before the
    # commit: without overwrite, its data must survive and nothing of ours remain.
    target = tmp_path / "t.zarr"
    delayed = xd.isxd_to_zarr(GOLDEN_DIR / "movie_u16.isxd", target, compute=False)
    target.mkdir()
    (target / "theirs.txt").write_bytes(b"another writer's data")
    with pytest.raises(FileExistsError, match="created by someone else"):
        delayed.compute()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.zarr"]
    assert sorted(p.name for p in target.iterdir()) == ["theirs.txt"]
    assert (target / "theirs.txt").read_bytes() == b"another writer's data"


def test_empty_directory_taken_while_writing_is_not_replaced(tmp_path):
    # On POSIX a rename replaces an empty directory: an empty directory made by someone
    # else meanwhile must not be taken over either.
    target = tmp_path / "t.zarr"
    delayed = xd.isxd_to_zarr(GOLDEN_DIR / "movie_u16.isxd", target, compute=False)
    target.mkdir()
    with pytest.raises(FileExistsError):
        delayed.compute()
    assert list(target.iterdir()) == [] and leftovers(tmp_path) == []


def test_partial_group_is_hidden(tmp_path):
    target = tmp_path / "t.zarr"
    xd.isxd_to_zarr(GOLDEN_DIR / "movie_u16.isxd", target, compute=False)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 1 and names[0].startswith(".t.zarr.") and names[0].endswith(".partial"), names


def test_overwrite_replaces_a_symlink_not_what_it_points_to(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_bytes(b"keep")
    target = tmp_path / "t.zarr"
    try:
        target.symlink_to(elsewhere, target_is_directory=True)
    except OSError:
        pytest.skip("symbolic links are not available here")
    xd.isxd_to_zarr(GOLDEN_DIR / "movie_u16.isxd", target, overwrite=True)
    assert not target.is_symlink()
    np.testing.assert_array_equal(_frames(target), xd.open_isxd(GOLDEN_DIR / "movie_u16.isxd").frames.compute())
    assert (elsewhere / "keep.txt").read_bytes() == b"keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "t.zarr"]


def test_rename_that_refuses_an_existing_directory(tmp_path, monkeypatch):
    # Windows' rename refuses an existing target even when it is empty: the claimed empty
    # directory is removed first.
    real_rename = os.rename

    def windows_rename(src, dst):
        if os.path.exists(dst):
            raise FileExistsError(183, "Cannot create a file when that file already exists", dst)
        real_rename(src, dst)

    monkeypatch.setattr(_io.os, "rename", windows_rename)
    partial = tmp_path / ".g.partial"
    partial.mkdir()
    (partial / "zarr.json").write_bytes(b"{}")
    assert put_directory_in_place(str(partial), str(tmp_path / "g.zarr"), overwrite=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.zarr"]
    assert (tmp_path / "g.zarr" / "zarr.json").read_bytes() == b"{}"
    other = tmp_path / ".h.partial"
    other.mkdir()
    assert not put_directory_in_place(str(other), str(tmp_path / "g.zarr"), overwrite=False)
    assert (tmp_path / "g.zarr" / "zarr.json").read_bytes() == b"{}"
