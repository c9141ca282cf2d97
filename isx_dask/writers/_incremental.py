"""The life cycle shared by the incremental writers (``Movie``, ``CellSet``, ``EventSet``, ``VesselSet``).

A writer opened with ``write()`` owns a temporary file beside its path until
:meth:`~IncrementalWriter.flush` commits it or
:meth:`~IncrementalWriter.discard` removes it. Nothing else commits:

* as a context manager, the normal end of the block flushes, and a block
  that raises commits nothing;
* a writer dropped unflushed (garbage-collected after a failure in its own
  calls or in the code around it) commits nothing either: it removes its
  temporary file and emits a ``ResourceWarning`` naming the path, as a
  database connection rolls back an uncommitted transaction. The official
  package finalises on deletion instead, which turns a crashed loop into a
  valid-looking truncated file; an existing file at the path is only ever
  replaced by a completed ``flush()``.

Opened with ``read()``, the same classes read a committed file through the
lazy reader of its type. With ``read_only=False`` (cell and vessel sets),
statuses are written through at once by rewriting the footer.

A subclass says only what its type adds: :meth:`_open_reader` (which reader
class), :meth:`_missing` (what still has to be written before a flush), and
:meth:`_footer` (the footer and data size to commit).
"""

from __future__ import annotations

import numbers
import os
import warnings
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import numpy as np

from ..target import check_output_path, commit, preallocate, remove_partial, rewrite_footer

if TYPE_CHECKING:
    from ..metadata import Spacing, Timing
    from ..readers import IsxdFile

__all__ = ["IncrementalWriter", "PathLike", "check_item_index", "missing_indices"]

PathLike = str | os.PathLike[str]
_W = TypeVar("_W", bound="IncrementalWriter[Any]")
_R = TypeVar("_R", bound="IsxdFile")


class IncrementalWriter(Generic[_R]):
    """Base of the incremental writers: open, read, commit, discard, context manager and finaliser."""

    #: What the file is, for messages ("movie", "cell set", ...).
    kind: ClassVar[str] = "file"
    #: Footer key of the statuses this type stores ('' for none); with it, ``read(path, read_only=False)`` edits them.
    status_key: ClassVar[str] = ""
    #: The fields ``str()`` lists after ``file_path`` and ``mode``, as the official package's ``__str__``.
    str_fields: ClassVar[tuple[str, ...]] = ("timing", "spacing")

    def __init__(self) -> None:
        self.file_path: str = ""
        #: ``'w'`` once opened with ``write()`` (also after :meth:`flush`, as in the official package), ``'r'`` when read.
        self.mode: str = ""
        self._reader: _R | None = None
        self._partial: str | None = None
        self._overwrite = False
        self._editable = False
        self._timing: Timing
        self._spacing: Spacing

    # -- what each type says ---------------------------------------------------------------
    @classmethod
    def _open_reader(cls, path: str) -> _R:
        """The committed file at ``path``, opened with the reader of this type."""
        raise NotImplementedError

    def _missing(self) -> str:
        """What must still be written before :meth:`flush` can commit ('' when nothing)."""
        return ""

    def _footer(self) -> tuple[dict[str, Any], int]:
        """The footer and the data size to commit."""
        raise NotImplementedError

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def read(cls: type[_W], file_path: PathLike, read_only: bool = True) -> _W:
        """Open a committed file for reading (and, with ``read_only=False``, for editing statuses).

        Parameters
        ----------
        file_path : str or os.PathLike
            The file.
        read_only : bool, default True
            False opens a cell or vessel set so that ``set_cell_status`` /
            ``set_vessel_status`` write each status through to the file at
            once (``mode`` is then ``'w'``, as in the official package).

        Raises
        ------
        FileNotFoundError
            If the file does not exist.
        IsxdFormatError
            If it is not a committed file of this type.
        ValueError
            If ``read_only`` is False for a type without statuses.
        PermissionError
            If ``read_only`` is False and the file cannot be written.
        """
        if not isinstance(read_only, bool):
            msg = f"read_only must be True or False, got {read_only!r}"
            raise TypeError(msg)
        if not read_only and not cls.status_key:
            msg = f"read_only=False: a {cls.kind} has no statuses to edit; write a new file instead"
            raise ValueError(msg)
        self = cls()
        self.file_path = os.fspath(file_path)
        self._reader = cls._open_reader(self.file_path)
        if not read_only and not os.access(self.file_path, os.W_OK):
            msg = f"read_only=False: {self.file_path!r} is not writable"
            raise PermissionError(msg)
        self.mode = "r" if read_only else "w"
        self._editable = not read_only
        return self

    def _start(self, file_path: PathLike, overwrite: bool, data_size: int = 0) -> None:
        """Become a writer of a new file at ``file_path``: checks the path, then creates the temporary file."""
        path = check_output_path(file_path, overwrite)
        self.file_path, self.mode, self._overwrite = path, "w", overwrite
        # Records are written at their offsets as they arrive; the file grows as needed.
        self._partial = preallocate(path, data_size)

    # -- metadata ------------------------------------------------------------------------
    @property
    def timing(self) -> Timing:
        """Timing: as given when writing, as stored when reading."""
        return self._reader.timing if self._reader is not None else self._timing

    @property
    def spacing(self) -> Spacing:
        """Spacing: as given when writing, as stored when reading."""
        return self._reader.spacing if self._reader is not None else self._spacing

    def get_acquisition_info(self) -> Any:
        """The acquisition metadata (the footer's ``extraProperties``), as the official package returns it."""
        from ..official import acquisition_info

        return acquisition_info(self._require_reader().extra_properties)

    # -- checks ----------------------------------------------------------------------------
    def _require_reader(self) -> _R:
        if self._reader is None:
            msg = f"this {self.kind} is open for writing; flush it, or open it with {type(self).__name__}.read, to read it"
            raise RuntimeError(msg)
        return self._reader

    def _require_open(self) -> str:
        """The temporary file, or ``RuntimeError`` if the writer is not open for writing."""
        if self._partial is None:
            state = "was flushed" if self.mode == "w" else f"is open in mode {self.mode!r}"
            msg = f"{self.kind} {self.file_path!r} is not open for writing (it {state})"
            raise RuntimeError(msg)
        return self._partial

    # -- committing ------------------------------------------------------------------------
    def flush(self) -> None:
        """Commit the file: write the footer and move the file to its path.

        Until this succeeds nothing appears at the path (and a file already
        there is left as it was). A second call does nothing.

        Raises
        ------
        ValueError
            If something that must be stored is missing (nothing is committed;
            write it and call again).
        """
        if self._partial is None:
            return
        missing = self._missing()
        if missing:
            msg = f"cannot flush {self.kind} {self.file_path!r}: {missing}"
            raise ValueError(msg)
        metadata, data_size = self._footer()
        commit(self._partial, self.file_path, metadata, data_size, overwrite=self._overwrite)
        self._partial = None
        self._editable = bool(self.status_key)
        self._reader = self._open_reader(self.file_path)

    def _write_status(self, index: int, code: int) -> None:
        """Write status ``code`` of item ``index`` through to the committed file (a new footer, committed safely)."""
        if not self._editable:
            msg = (
                f"{self.kind} {self.file_path!r} was opened read-only; open it with "
                f"{type(self).__name__}.read(path, read_only=False) to change statuses"
            )
            raise RuntimeError(msg)
        from ..readers._file import read_footer

        metadata, data_size = read_footer(self.file_path)
        codes = list(metadata[self.status_key])
        codes[check_item_index(index, len(codes), self.kind.split()[0])] = code
        metadata[self.status_key] = codes
        rewrite_footer(self.file_path, metadata, data_size)
        self._reader = self._open_reader(self.file_path)

    def discard(self) -> None:
        """Abandon a file being written: remove its temporary file; nothing is committed."""
        if self._partial is not None:
            remove_partial(self._partial)
            self._partial = None
            self.mode = "closed"

    def _field_text(self, field: str) -> str:
        """``str()`` of attribute ``field``; 'None' where there is nothing (no file opened yet), as in ``isx``."""
        if not self.file_path:
            return "None"
        try:
            return str(getattr(self, field))
        except (AttributeError, RuntimeError):
            return "None"

    def __str__(self) -> str:
        """The official package's text: the type, then one indented ``name: value`` line per field."""
        title = type(self).__name__
        fields = ("file_path", "mode", *self.str_fields)
        return "\n".join([title, *(f"    {field}: {self._field_text(field)}" for field in fields)])

    def __enter__(self: _W) -> _W:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            self.discard()
        else:
            self.flush()

    def __del__(self) -> None:
        if getattr(self, "_partial", None) is None:
            return
        warnings.warn(
            f"{self.kind} {self.file_path!r} was never flushed: nothing was committed and its temporary file was "
            f"removed (call flush(), or use a with block, to commit)",
            ResourceWarning,
            stacklevel=2,
        )
        self.discard()


def missing_indices(written: np.ndarray[Any, Any], what: str) -> str:
    """'' if every entry of ``written`` is True, else a message listing the first missing indices."""
    missing = np.flatnonzero(~written)
    if not missing.size:
        return ""
    shown = ", ".join(str(i) for i in missing[:10]) + (", ..." if missing.size > 10 else "")
    return f"{missing.size} {what} not written yet (indices {shown})"


def check_item_index(index: Any, count: int | None, what: str) -> int:
    """``index`` as an int, if it is an integer in ``[0, count)`` (``count`` None: any index >= 0)."""
    if isinstance(index, (bool, np.bool_)) or not isinstance(index, numbers.Integral):
        msg = f"index must be an integer {what} index, got {type(index).__name__} {index!r}"
        raise TypeError(msg)
    value = int(index)
    if value < 0:
        msg = f"index must be >= 0, got {value}"
        raise ValueError(msg) if count is None else IndexError(msg)
    if count is not None and value >= count:
        msg = f"{what} index {value} is out of range; there are {count} {what}s"
        raise IndexError(msg)
    return value
