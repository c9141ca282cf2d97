"""The one place that knows which zarr-python is installed: 2.18 or 3.x.

One job: open, create and inspect Zarr groups and arrays the same way under
both. zarr-python 3 needs Python >= 3.11, so on Python 3.10 pip installs
zarr-python 2.18, which reads and writes Zarr format 2 only and has another
API (``create_dataset(compressor=...)`` instead of
``create_array(compressors=[...])``, no ``zarr_format=`` keyword, stores
with ``.path`` instead of ``store_path.store.root``). Everything else in
:mod:`isx_dask.convert` and :mod:`isx_dask._codecs` calls these functions
and never branches on the version itself.
"""

from __future__ import annotations

import os
import sys
from functools import lru_cache
from importlib import import_module
from typing import Any, Mapping, Sequence

__all__ = [
    "check_zarr_format",
    "create_array",
    "default_zarr_format",
    "is_zarr_group",
    "is_zarr_node",
    "local_root",
    "node_attrs",
    "open_group_for_write",
    "open_node",
    "read_into",
    "resolve_zarr_format",
    "zarr_major",
]


@lru_cache(maxsize=1)
def zarr_major() -> int:
    """The major version of the installed zarr-python (2 or 3)."""
    import zarr

    return int(str(zarr.__version__).split(".")[0])


def default_zarr_format() -> int:
    """The Zarr format written when none is asked for: 3 under zarr-python 3, 2 under zarr-python 2."""
    return 3 if zarr_major() >= 3 else 2


def check_zarr_format(zarr_format: Any) -> int:
    """``zarr_format`` as an int if it is 2 or 3, else ``ValueError`` naming it."""
    if isinstance(zarr_format, bool) or zarr_format not in (2, 3):
        msg = f"zarr_format must be 2 or 3, got {zarr_format!r}"
        raise ValueError(msg)
    return int(zarr_format)


def resolve_zarr_format(zarr_format: Any) -> int:
    """The Zarr format to write: ``zarr_format`` checked, or :func:`default_zarr_format` for None.

    Raises
    ------
    ValueError
        ``zarr_format`` is not None, 2 or 3; or it is 3 and the installed
        zarr-python (2.x) cannot write Zarr format 3.
    """
    if zarr_format is None:
        return default_zarr_format()
    fmt = check_zarr_format(zarr_format)
    if fmt == 3 and zarr_major() < 3:
        import zarr

        msg = (f"zarr_format=3 needs zarr-python >= 3 (which needs Python >= 3.11); the installed zarr "
               f"{zarr.__version__} on Python {sys.version_info.major}.{sys.version_info.minor} writes Zarr format 2 "
               f"only: pass zarr_format=2 (or leave zarr_format unset), or upgrade to Python >= 3.11 and zarr>=3")
        raise ValueError(msg)
    return fmt


def is_zarr_node(obj: Any) -> bool:
    """Whether ``obj`` is a zarr Array or Group."""
    import zarr

    return isinstance(obj, (zarr.Array, zarr.Group))


def is_zarr_group(obj: Any) -> bool:
    """Whether ``obj`` is a zarr Group."""
    import zarr

    return isinstance(obj, zarr.Group)


def node_attrs(node: Any) -> dict[str, Any]:
    """The attributes of a zarr Array or Group as a plain dict."""
    attrs = node.attrs
    return dict(attrs.asdict()) if hasattr(attrs, "asdict") else dict(attrs)


def open_node(text: str, storage_options: Mapping[str, Any] | None) -> Any:
    """The zarr Array or Group at a path or URL, read-only.

    Raises
    ------
    FileNotFoundError
        Nothing Zarr is there (zarr-python 2 says ``PathNotFoundError``, a ``ValueError``).
    ValueError
        Under zarr-python 2: a Zarr format 3 store, which it cannot read.
    """
    import zarr

    options = dict(storage_options) if storage_options else None
    if zarr_major() >= 3:
        return zarr.open(text, mode="r", storage_options=options)
    not_found: Any = getattr(import_module("zarr.errors"), "PathNotFoundError")  # zarr-python 2 only
    try:
        return zarr.open(text, mode="r", storage_options=options)
    except not_found as err:
        if _holds_zarr_json(text, options):
            msg = (f"it is in Zarr format 3 (it holds zarr.json), which the installed zarr "
                   f"{zarr.__version__} cannot read; reading it needs zarr-python >= 3 (which needs Python >= 3.11)")
            raise ValueError(msg) from None
        raise FileNotFoundError(str(err)) from None


def _holds_zarr_json(text: str, options: dict[str, Any] | None) -> bool:
    """Whether the directory or URL ``text`` has a Zarr format 3 ``zarr.json`` (False when that cannot be told)."""
    if "://" not in text:
        return os.path.isfile(os.path.join(text, "zarr.json"))
    try:
        import fsspec  # type: ignore[import-untyped]

        fs, root = fsspec.core.url_to_fs(text, **(options or {}))
        return bool(fs.exists(f"{root.rstrip('/')}/zarr.json"))
    except Exception:  # noqa: BLE001 - only to choose the message; the caller raises FileNotFoundError then
        return False


def open_group_for_write(path: str, zarr_format: int, storage_options: Mapping[str, Any] | None) -> Any:
    """A new, empty zarr Group of Zarr format ``zarr_format`` at ``path`` (whatever was there is cleared)."""
    import zarr

    fmt = resolve_zarr_format(zarr_format)
    options = dict(storage_options) if storage_options else None
    if zarr_major() >= 3:
        return zarr.open_group(path, mode="w", zarr_format=fmt, storage_options=options)  # type: ignore[arg-type,unused-ignore]
    return zarr.open_group(path, mode="w", storage_options=options)


def create_array(group: Any, name: str, *, shape: tuple[int, ...], dtype: Any, chunks: tuple[int, ...],
                 compressors: Sequence[Any], dimension_names: Sequence[str] | None = None) -> Any:
    """A new array ``name`` in ``group``, zero-filled, compressed by ``compressors`` (at most one under format 2).

    ``dimension_names`` is kept only in Zarr format 3, which has a field for it.
    No compressor is ``compressors=None`` for zarr-python 3 (which refuses an
    empty list for format 2) and ``compressor=None`` for zarr-python 2.
    """
    if zarr_major() >= 3:
        v3 = getattr(group.metadata, "zarr_format", 3) == 3
        return group.create_array(name, shape=shape, dtype=dtype, chunks=chunks, compressors=list(compressors) or None,
                                  fill_value=0, dimension_names=list(dimension_names) if v3 and dimension_names else None)
    if len(compressors) > 1:
        msg = f"Zarr format 2 takes one compressor, got {len(compressors)}: {list(compressors)!r}"
        raise ValueError(msg)
    return group.create_dataset(name, shape=shape, dtype=dtype, chunks=chunks,
                                compressor=compressors[0] if compressors else None, fill_value=0)


def local_root(node: Any) -> str | None:
    """The local directory of a zarr Array or Group on a local directory store; None for other stores."""
    if zarr_major() >= 3:
        store_path = getattr(node, "store_path", None)
        root = getattr(getattr(store_path, "store", None), "root", None)
        if root is None:
            return None
        return os.path.join(os.fspath(root), str(getattr(store_path, "path", "") or ""))
    directory_store: Any = getattr(import_module("zarr.storage"), "DirectoryStore")  # zarr-python 2 only
    store: Any = getattr(node, "store", None)
    if not isinstance(store, directory_store):
        return None
    return os.path.join(os.fspath(store.path), str(getattr(node, "path", "") or ""))


def read_into(array: Any, selection: tuple[slice, ...], out: Any) -> None:
    """Read ``array[selection]`` into the NumPy array ``out`` (of the selection's shape), without an intermediate array."""
    if zarr_major() >= 3:
        from zarr.buffer import default_buffer_prototype

        array.get_basic_selection(selection, out=default_buffer_prototype().nd_buffer.from_numpy_array(out))
    else:
        array.get_basic_selection(selection, out=out)
