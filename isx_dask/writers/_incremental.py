"""The life cycle shared by the incremental writers (``Movie``, ``CellSet``, ``EventSet``, ``VesselSet``).

A writer opened with ``write()`` owns a temporary file until :meth:`flush`
commits it or :meth:`discard` removes it. As a context manager, a block that
raises commits nothing. A writer dropped unflushed is committed if it is
complete (the official package finalises on ``del`` too), and otherwise
discarded with a ``ResourceWarning``.
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

from ..target import remove_partial

__all__ = ["IncrementalWriter"]


class IncrementalWriter:
    """Base of the incremental writers: open check, discard, context manager and finaliser."""

    #: What the file is, for messages ("movie", "cell set", ...).
    kind: ClassVar[str] = "file"

    file_path: str
    mode: str
    _partial: str | None

    def flush(self) -> None:
        """Commit the file (each writer implements it)."""
        raise NotImplementedError

    def _is_complete(self) -> bool:
        """Whether :meth:`flush` can commit now (every required item written)."""
        return True

    def _require_open(self) -> str:
        """The temporary file, or ``RuntimeError`` if the writer is not open for writing."""
        if self.mode != "w" or self._partial is None:
            msg = f"{self.kind} {self.file_path!r} is not open for writing (mode {self.mode!r})"
            raise RuntimeError(msg)
        return self._partial

    def discard(self) -> None:
        """Abandon a file being written: remove its temporary file; nothing is committed."""
        if getattr(self, "_partial", None) is not None:
            remove_partial(self._partial)  # type: ignore[arg-type]
            self._partial = None
            self.mode = "closed"

    def __enter__(self) -> Any:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            self.discard()
        else:
            self.flush()

    def __del__(self) -> None:
        if getattr(self, "_partial", None) is None:
            return
        if self._is_complete():
            try:
                self.flush()
                return
            except Exception:  # noqa: BLE001 - never raise from a finaliser
                pass
        warnings.warn(
            f"{self.kind} {self.file_path!r} was never flushed and could not be committed; its temporary file was removed",
            ResourceWarning,
            stacklevel=2,
        )
        self.discard()
