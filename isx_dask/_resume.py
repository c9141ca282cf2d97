"""State of resumable writes and region templates: the deterministic temporary file, its sidecar and markers.

A resumable write (``resume=True``) or a region template
(:func:`isx_dask.regions.create_movie`) writes into ``.<name>.partial`` beside
the final path. The sidecar directory ``.<name>.partial.d/`` holds
``state.json`` (data size, array layouts, the footer: a :class:`PartialState`)
and ``done/``, with one empty marker file per finished chunk or region, made
only after that chunk's bytes were written (and, with ``fsync``, flushed).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from . import _io
from .layout import ArrayLayout

__all__ = [
    "PartialState",
    "create_partial",
    "done_markers",
    "open_partial",
    "partial_path",
    "record_region",
    "region_name",
    "remove_partial",
    "sidecar_path",
    "touch",
    "written_regions",
]

_STATE_FORMAT = "isx_dask-partial"
_STATE_VERSION = 1


def partial_path(path: str | os.PathLike[str]) -> str:
    """The deterministic temporary file of a resumable write or a region template: ``.<name>.partial``."""
    directory, name = os.path.split(os.path.abspath(os.fspath(path)))
    return os.path.join(directory, f".{name}.partial")


def sidecar_path(partial: str) -> str:
    """The directory beside ``partial`` that records its state and finished chunks."""
    return partial + ".d"


def remove_partial(partial: str) -> None:
    """Remove a temporary file, and its sidecar directory, if they are still there."""
    try:
        os.unlink(partial)
    except FileNotFoundError:
        pass
    shutil.rmtree(sidecar_path(partial), ignore_errors=True)


def region_name(region: tuple[tuple[int, int], ...], prefix: str = "") -> str:
    """Marker name of a region given as ``(start, stop)`` per axis, e.g. ``'a0_0-10_0-64_0-80'``."""
    return prefix + "_".join(f"{a}-{b}" for a, b in region)


def touch(marker: str) -> None:
    """Create the empty file ``marker`` (kept if it exists)."""
    os.close(_io.open_file(marker, os.O_WRONLY | os.O_CREAT))


@dataclass(frozen=True)
class PartialState:
    """What a resumable write or a region template was started with, as kept in ``state.json``.

    Parameters
    ----------
    kind : {'resume', 'regions'}
        Which API made it.
    data_size : int
        Size of the data section.
    metadata : dict
        The footer.
    arrays : tuple of ArrayLayout
        Where each array lives.
    overwrite : bool
        Whether the commit may replace an existing file (regions only; a
        resumable write takes it from the call).
    """

    kind: str
    data_size: int
    metadata: dict[str, Any]
    arrays: tuple[ArrayLayout, ...]
    overwrite: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "format": _STATE_FORMAT,
            "version": _STATE_VERSION,
            "kind": self.kind,
            "data_size": self.data_size,
            "metadata": self.metadata,
            "arrays": [asdict(layout) for layout in self.arrays],
            "overwrite": self.overwrite,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> PartialState:
        if obj.get("format") != _STATE_FORMAT or obj.get("version") != _STATE_VERSION:
            msg = f"not an isx_dask partial-file state (format {obj.get('format')!r}, version {obj.get('version')!r})"
            raise ValueError(msg)
        arrays = tuple(
            ArrayLayout(a["offset"], tuple(a["shape"]), a["dtype"], tuple(a["strides"])) for a in obj["arrays"]
        )
        return cls(obj["kind"], obj["data_size"], obj["metadata"], arrays, bool(obj.get("overwrite", False)))


def _same_state(a: PartialState, b: PartialState) -> str | None:
    """None if ``a`` and ``b`` describe the same file, else what differs."""
    ja = json.loads(json.dumps(a.to_json()))
    jb = json.loads(json.dumps(b.to_json()))
    ma, mb = ja["metadata"], jb["metadata"]
    for key in sorted(set(ma) | set(mb)):
        if key != "producer" and ma.get(key) != mb.get(key):
            return f"footer key {key!r}"
    names = {"kind": "API (write_movie(resume=True) or create_movie)", "data_size": "data size",
             "arrays": "layout of the data section", "overwrite": "overwrite flag"}
    for key, name in names.items():
        if ja[key] != jb[key]:
            return name
    return None


def _write_state(sidecar: str, state: PartialState) -> None:
    tmp = os.path.join(sidecar, f"state.json.{uuid.uuid4().hex}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(state.to_json(), f, allow_nan=False)
        f.flush()
        _io.sync_file(f.fileno())
    os.replace(tmp, os.path.join(sidecar, "state.json"))


def _read_state(sidecar: str) -> PartialState | None:
    try:
        with open(os.path.join(sidecar, "state.json"), encoding="utf-8") as f:
            return PartialState.from_json(json.load(f))
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None


def create_partial(path: str, state: PartialState, *, reserve: _io.Reserve = "auto") -> tuple[str, bool]:
    """Create the deterministic temporary file of ``path`` with its sidecar, or find it again.

    A temporary file whose recorded state equals ``state`` is reused as it is
    (with its finished chunks); one without a state, or without its data file,
    is started afresh.

    Returns
    -------
    partial : str
        The temporary file.
    reused : bool
        Whether an existing one was found.

    Raises
    ------
    ValueError
        If a temporary file for ``path`` exists with another footer or layout, or
        no file can hold the data section.
    OSError
        If the space cannot be reserved.
    """
    _io.check_file_size(state.data_size)
    partial = partial_path(path)
    sidecar = sidecar_path(partial)
    found = _read_state(sidecar)
    if found is not None and os.path.exists(partial):
        differs = _same_state(found, state)
        if differs is None:
            return partial, True
        msg = (
            f"an unfinished write of {path!r} ({partial!r}) was started with a different {differs}; "
            f"it cannot be continued with these arguments. Remove it with isx_dask.target.remove_partial({partial!r}) "
            f"to start again"
        )
        raise ValueError(msg)
    remove_partial(partial)
    os.makedirs(os.path.join(sidecar, "done"))
    try:
        _write_state(sidecar, state)
        _io.create_file(partial, state.data_size, reserve)
    except BaseException:
        remove_partial(partial)
        raise
    return partial, False


def open_partial(path: str | os.PathLike[str]) -> tuple[str, PartialState]:
    """The temporary file of ``path`` and its recorded state.

    Raises
    ------
    FileNotFoundError
        If there is no unfinished file for ``path``.
    """
    partial = partial_path(path)
    state = _read_state(sidecar_path(partial))
    if state is None or not os.path.exists(partial):
        msg = f"no unfinished file for {os.fspath(path)!r} (expected {partial!r} and its state); create it first"
        raise FileNotFoundError(msg)
    return partial, state


def done_markers(partial: str) -> set[str]:
    """Names of the markers of finished chunks and regions of ``partial``."""
    try:
        return set(os.listdir(os.path.join(sidecar_path(partial), "done")))
    except FileNotFoundError:
        return set()


def done_dir(partial: str) -> str:
    """The directory of the markers of ``partial``."""
    return os.path.join(sidecar_path(partial), "done")


def record_region(partial: str, name: str, *, fsync: bool = True) -> None:
    """Record that region ``name`` of ``partial`` is written, after flushing its bytes if ``fsync``."""
    if fsync:
        fd = _io.open_file(partial, os.O_RDWR)
        try:
            _io.sync_data(fd)
        finally:
            os.close(fd)
    touch(os.path.join(done_dir(partial), name))


def written_regions(partial: str, prefix: str) -> list[tuple[tuple[int, int], ...]]:
    """Regions recorded under ``prefix``, as ``(start, stop)`` per axis."""
    regions = []
    for name in done_markers(partial):
        if name.startswith(prefix):
            regions.append(tuple(tuple(int(v) for v in part.split("-")) for part in name[len(prefix) :].split("_")))
    return regions  # type: ignore[return-value]
