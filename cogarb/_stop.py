"""A record of stop signals, checked between the stages of long work.

A signal handler raises its exception (``KeyboardInterrupt``, ...) wherever the
main thread is. When that moment falls inside a long call into compiled code, the
exception can be lost before it reaches Python: a Ctrl-C during nutpie's compile
of a model with a cold numba cache (inside LLVM) once let the fit sample to its
end and be saved as finished. The command line's handler therefore also records
the signal here, and :func:`cogarb.fit` and :func:`cogarb.runs.write_done_marker`
check the record between stages: a stop that was asked for is never lost, and no
result is marked finished after one.
"""

from __future__ import annotations

_requested: list[type[BaseException]] = []


def request(error: type[BaseException]) -> None:
    """Record that a stop was asked for, to be raised as ``error`` at the next check."""
    _requested.append(error)


def check() -> None:
    """Raise the recorded stop, if any (once: the record is cleared)."""
    if _requested:
        error = _requested[0]
        _requested.clear()
        raise error


def clear() -> None:
    """Forget recorded stops (a new command starts)."""
    _requested.clear()
