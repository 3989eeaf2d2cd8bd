"""Run ``cogarb`` as a real process that announces each stage of a fit on stdout.

Used by ``tests/test_interrupts.py``: ``python interrupt_driver.py STAGE ARGS...``
runs ``cogarb ARGS...`` (``cogarb.cli.main``) and prints ``STAGE <name>`` when the
fit reaches STAGE, so the test can send a real SIGINT or SIGTERM at that moment:

* ``compile``: just before nutpie compiles the model (the signal lands in the compile);
* ``tuning`` / ``drawing``: when nutpie's progress reports every chain tuning / every
  chain past its tuning (a progress callback in place of the progress display; the
  signal lands while the process waits on the sampler);
* ``writing``: after ``posterior.nc`` is written and before ``summary.csv`` is: the
  process then waits there (sleeping) for the signal.

Nothing else is changed: the command, its signal handling and its outputs are the
real ones.
"""

from __future__ import annotations

import sys
import time


def announce(stage: str) -> None:
    print(f"STAGE {stage}", flush=True)


class _ProgressProxy:
    """nutpie's ``_lib`` with every progress display replaced by a callback reporting
    each chain's finished draws (tuning included), rendered from a template."""

    TEMPLATE = "{% for chain in chains %}{{ chain.finished_draws }} {% endfor %}"

    def __init__(self, lib, callback):
        self._lib, self._callback = lib, callback

    def __getattr__(self, name):
        if name != "ProgressType":
            return getattr(self._lib, name)
        lib, callback, template = self._lib, self._callback, self.TEMPLATE

        class ProgressType:
            @staticmethod
            def _callback(*args):
                return lib.ProgressType.template_callback(10, template, 64, callback)

            none = indicatif = template_callback = _callback

        return ProgressType


def watch_progress(stage: str, tune: int) -> None:
    """Announce ``stage`` when every chain is tuning (0 < draws < tune) or drawing (> tune)."""
    import sys as _sys

    module = _sys.modules["nutpie.sample"]
    announced = False

    def callback(formatted: str) -> None:
        nonlocal announced
        counts = [int(n) for n in formatted.split()]
        if announced or not counts:
            return
        tuning = all(0 < n < tune for n in counts)
        drawing = all(n > tune for n in counts)
        if (stage == "tuning" and tuning) or (stage == "drawing" and drawing):
            announced = True
            announce(stage)

    module._lib = _ProgressProxy(module._lib, callback)


def install(stage: str) -> None:
    import nutpie

    import cogarb.runs

    if stage == "compile":
        compile_model = nutpie.compile_pymc_model

        def announced_compile(*args, **kwargs):
            announce("compile")
            return compile_model(*args, **kwargs)

        nutpie.compile_pymc_model = announced_compile
    elif stage in ("tuning", "drawing"):
        sample = nutpie.sample

        def watched_sample(*args, **kwargs):
            watch_progress(stage, kwargs["tune"])
            return sample(*args, **kwargs)

        nutpie.sample = watched_sample
    elif stage == "writing":
        write_text = cogarb.runs.write_text

        def paused_write_text(path, text):
            if path.name == "summary.csv":
                announce("writing")
                time.sleep(120)  # the test's signal ends this
            return write_text(path, text)

        cogarb.runs.write_text = paused_write_text
    else:
        raise SystemExit(f"unknown stage {stage!r}")


if __name__ == "__main__":
    install(sys.argv[1])
    from cogarb.cli import main

    raise SystemExit(main(sys.argv[2:]))
