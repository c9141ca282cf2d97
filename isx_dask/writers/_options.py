"""The options every bulk writer shares, checked in one place, documented in one place, stored through one path.

Every public ``write_*`` function takes its data, the path, then keyword-only
metadata, then the same storage options in the same order::

    overwrite, compute, fsync, resume, reserve, write_method, compute_kwargs

:func:`check_write_options` validates them before anything is created,
:func:`store` hands the arrays to :func:`isx_dask.target.store_then_commit`
(the one store path), and :func:`fill_doc` puts their shared documentation
into each writer's docstring, so the text exists once.
"""

from __future__ import annotations

import difflib
import numbers
import textwrap
import typing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence, TypeVar

from ..target import Reserve, WriteMethod, store_then_commit

if TYPE_CHECKING:
    import dask.array as da
    from dask.delayed import Delayed
    from typing_extensions import TypedDict

    from ..layout import ArrayLayout

    class StoreOptions(TypedDict, total=False):
        """The storage options as keyword arguments (for the ``compute`` overloads of each writer)."""

        overwrite: bool
        fsync: bool
        resume: bool
        reserve: Reserve
        write_method: WriteMethod
        compute_kwargs: dict[str, Any] | None

__all__ = ["WriteOptions", "check_bool", "check_compute_kwargs", "check_write_options", "fill_doc", "store"]

#: Scheduler names that ``dask.compute(scheduler=...)`` accepts (the last two once ``dask.distributed`` has a client).
_SCHEDULER_NAMES = frozenset({
    "sync", "synchronous", "single-threaded", "threads", "threading", "processes", "multiprocessing",
    "distributed", "dask.distributed",
})
#: Keyword arguments of ``dask.compute`` and its schedulers; a key close to one of these is taken for a typo.
_COMPUTE_KEYS = (
    "scheduler", "num_workers", "optimize_graph", "traverse", "pool", "get", "chunksize", "retries", "resources",
    "workers", "allow_other_workers", "priority", "fifo_timeout", "actors", "initializer", "func_dumps", "func_loads",
)


@dataclass(frozen=True)
class WriteOptions:
    """How a bulk write is stored (see :data:`OPTIONS_DOC` for each field)."""

    overwrite: bool = False
    compute: bool = True
    fsync: bool = True
    resume: bool = False
    reserve: Reserve = "auto"
    write_method: WriteMethod = "auto"
    compute_kwargs: dict[str, Any] | None = None


def check_bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        msg = f"{name} must be True or False, got {type(value).__name__} {value!r}"
        raise TypeError(msg)
    return value


def _check_choice(value: Any, name: str, choices: Sequence[str]) -> Any:
    if not isinstance(value, str) or value not in choices:
        msg = f"{name} must be one of {', '.join(repr(c) for c in choices)}, got {value!r}"
        raise ValueError(msg)
    return value


def check_compute_kwargs(compute_kwargs: Any) -> dict[str, Any] | None:
    """``compute_kwargs`` if it is None or a dict whose ``scheduler`` dask knows, else a clear error.

    Raises
    ------
    TypeError
        If it is not a dict with string keys, or ``scheduler`` is neither a
        name, a client nor an executor, or ``num_workers`` is not an integer.
    ValueError
        If ``scheduler`` is a string that names no dask scheduler (or an
        address: connect a ``distributed.Client`` instead), ``num_workers``
        is below 1, or a key is a near-miss of a ``dask.compute`` option
        (``'schedular'``), which dask would silently ignore.
    """
    if compute_kwargs is None:
        return None
    if not isinstance(compute_kwargs, dict) or not all(isinstance(k, str) for k in compute_kwargs):
        msg = (
            f"compute_kwargs must be a dict of keyword arguments for dask.compute "
            f"(e.g. {{'scheduler': 'processes'}}), got {type(compute_kwargs).__name__}"
        )
        raise TypeError(msg)
    for key in compute_kwargs:
        close = [] if key in _COMPUTE_KEYS else difflib.get_close_matches(key.lower(), _COMPUTE_KEYS, n=1, cutoff=0.75)
        if close:
            msg = f"compute_kwargs has the key {key!r}, which dask.compute would silently ignore; did you mean {close[0]!r}?"
            raise ValueError(msg)
    scheduler = compute_kwargs.get("scheduler")
    if isinstance(scheduler, str):
        if "://" in scheduler:
            msg = (
                f"compute_kwargs['scheduler'] is the address {scheduler!r}, which dask.compute does not take; connect "
                f"first (client = distributed.Client({scheduler!r})): the client then computes every write, or pass "
                f"it as compute_kwargs={{'scheduler': client}}"
            )
            raise ValueError(msg)
        if scheduler not in _SCHEDULER_NAMES:
            msg = (
                f"compute_kwargs['scheduler'] is {scheduler!r}, which names no dask scheduler; expected one of "
                f"{', '.join(sorted(_SCHEDULER_NAMES))}, or a distributed Client"
            )
            raise ValueError(msg)
    elif scheduler is not None and not (callable(scheduler) or hasattr(scheduler, "get") or hasattr(scheduler, "submit")):
        msg = (
            f"compute_kwargs['scheduler'] must be a scheduler name (e.g. 'threads'), a distributed Client or an "
            f"Executor, got {type(scheduler).__name__} {scheduler!r}"
        )
        raise TypeError(msg)
    workers = compute_kwargs.get("num_workers")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, numbers.Integral) or workers < 1):
        msg = f"compute_kwargs['num_workers'] must be a positive integer (or None), got {type(workers).__name__} {workers!r}"
        raise (ValueError if isinstance(workers, numbers.Integral) and not isinstance(workers, bool) else TypeError)(msg)
    return compute_kwargs


def check_write_options(
    overwrite: Any, compute: Any, fsync: Any, resume: Any, reserve: Any, write_method: Any, compute_kwargs: Any
) -> WriteOptions:
    """The storage options of a bulk write, checked before anything is created.

    Raises
    ------
    TypeError
        A flag that is not a bool, or ``compute_kwargs`` that is not a dict.
    ValueError
        An unknown ``reserve``, ``write_method`` or scheduler name.
    """
    return WriteOptions(
        overwrite=check_bool(overwrite, "overwrite"),
        compute=check_bool(compute, "compute"),
        fsync=check_bool(fsync, "fsync"),
        resume=check_bool(resume, "resume"),
        reserve=_check_choice(reserve, "reserve", typing.get_args(Reserve)),
        write_method=_check_choice(write_method, "write_method", typing.get_args(WriteMethod)),
        compute_kwargs=check_compute_kwargs(compute_kwargs),
    )


def store(
    arrays: Sequence[tuple[da.Array, ArrayLayout]], path: str, data_size: int, metadata: dict[str, Any], options: WriteOptions
) -> Delayed | None:
    """Write ``arrays`` into a new file at ``path`` and commit ``metadata`` as its footer, as ``options`` say."""
    return store_then_commit(
        arrays, path, data_size, metadata,
        overwrite=options.overwrite, compute=options.compute, fsync=options.fsync, write_method=options.write_method,
        resume=options.resume, reserve=options.reserve, compute_kwargs=options.compute_kwargs,
    )


#: The numpydoc text of the storage options, in signature order.
OPTIONS_DOC = """\
overwrite : bool, default False
    Replace an existing file at ``path``; the old file stays until the new one
    is complete, and a failed write leaves it as it was.
compute : bool, default True
    If False, return a :class:`dask.delayed.Delayed`; the file is committed
    when it has been computed. The temporary file (``.<name>.<id>.partial``
    beside ``path``, with its space reserved) exists from this call on; if
    the graph is never computed, or fails, it stays until removed (or, with
    ``resume=True``, until the write is resumed).
fsync : bool, default True
    Flush data and footer to disk before the file is renamed into place.
resume : bool, default False
    Make the write resumable: an interrupted write run again with the same
    arguments writes only the chunks that had not finished, and gives the same
    bytes as an uninterrupted one. The temporary file is ``.<name>.partial``
    and is kept when the write fails.
reserve : {'auto', 'always', 'never'}, default 'auto'
    Reserve the disk space up front, so that a full disk fails before any
    chunk is computed: ``'auto'`` where the file system does it cheaply,
    ``'always'`` even by writing zeros, ``'never'`` not at all.
write_method : str, default 'auto'
    How chunk bytes reach the file (see :class:`isx_dask.target.IsxdTarget`);
    ``'auto'`` chooses per file system and chunk.
compute_kwargs : dict, optional
    Keyword arguments for ``dask.compute``, e.g. ``{'scheduler': 'processes'}``
    (under ``dask.distributed`` the active client is used). Where the
    threaded scheduler runs (Dask's default) and neither these nor the Dask
    configuration choose a number of workers or a pool, it runs two threads
    per core, since each chunk waits for the disk after it is computed.
"""

#: The numpydoc text of ``extra_properties`` and ``metadata_from``.
METADATA_DOC = """\
extra_properties : JSON-serialisable, optional
    Stored as the footer's ``extraProperties`` (acquisition metadata); only
    finite numbers.
metadata_from : str or os.PathLike, optional
    An existing ``.isxd`` file (typically the movie the data come from)
    whose timing, spacing and extra properties are used where the arguments
    above are not given.
"""

_F = TypeVar("_F", bound=Callable[..., Any])


def fill_doc(func: _F) -> _F:
    """Replace the ``{options}`` and ``{metadata}`` lines of ``func``'s docstring with the shared parameter text."""
    doc = func.__doc__ or ""
    for key, text in (("{options}", OPTIONS_DOC), ("{metadata}", METADATA_DOC)):
        line = next((ln for ln in doc.splitlines() if ln.strip() == key), None)
        if line is not None:
            indent = line[: len(line) - len(line.lstrip())]
            doc = doc.replace(line + "\n", textwrap.indent(text, indent))
    func.__doc__ = doc
    return func
