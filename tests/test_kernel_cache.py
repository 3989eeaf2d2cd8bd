"""The numba cache cannot go stale: an edited callee in another file recompiles its callers.

Numba keys a cached kernel on its own file only. The arbitrator's simulation
kernel (``arbitrator.py``) calls the hybrid's ``td_update`` (``hybrid.py``); with
numba's own cache, halving the stage-2 learning step in ``hybrid.py`` left a warm
cache running the old arbitrator. The test edits a copy of the package, so the
checkout's cache is untouched, and runs each step in a fresh interpreter, as a
user who upgrades would.
"""

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = """
import hashlib, cogarb
from cogarb._kernels import arbitrator
trials = cogarb.simulate("daw2011", "arbitrator", n_participants=3, seed=1, internals=True)
print(hashlib.sha256(trials[["choice1", "choice2", "q2_00", "q2_11"]].to_numpy(float).tobytes())
      .hexdigest(), sum(arbitrator.simulate_cohort.stats.cache_hits.values()))
"""
EDIT = ("state[k] += alpha2 * delta2", "state[k] += 0.5 * alpha2 * delta2")


def run(package_root: Path) -> tuple[str, str]:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=package_root, capture_output=True, text=True,
        env={"PATH": "", "PYTHONPATH": str(package_root), "NUMBA_CACHE_DIR": ""},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    digest, hits = result.stdout.split()
    return digest, hits


def test_an_edited_callee_in_another_file_recompiles_its_callers(tmp_path):
    # a source checkout: the package with its built-in task files beside it (an
    # installed copy finds them as cogarb._task_files instead)
    for folder in ("cogarb", "tasks"):
        shutil.copytree(REPO / folder, tmp_path / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    hybrid = tmp_path / "cogarb" / "_kernels" / "hybrid.py"
    source = hybrid.read_text()
    assert source.count(EDIT[0]) == 1

    first, _ = run(tmp_path)  # compiles, and writes the cache
    again, hits = run(tmp_path)
    assert again == first and int(hits) > 0, "the warm cache was not used"

    hybrid.write_text(source.replace(*EDIT))  # the callee only; arbitrator.py is untouched
    edited, _ = run(tmp_path)
    assert edited != first, "a warm cache ran the arbitrator compiled with the old td_update"

    hybrid.write_text(source)
    restored, _ = run(tmp_path)
    assert restored == first
    folders = sorted(p.name for p in (tmp_path / "cogarb" / "_kernels" / "__pycache__").iterdir()
                     if p.is_dir())  # fmt: skip
    assert len(folders) == 2 and all(f.startswith("kernels-") for f in folders), folders
