"""Fit specifications: the ``fit.toml`` of each ``fits/<dataset>/`` folder.

A specification names the data, the agents to fit with their condition and
covariate effects, and the sampler settings::

    [data]
    path = "trials.csv.gz"     # relative to the fit.toml
    format = "tidy"            # optional; inferred when left out
    include = "in_paper"       # optional boolean column: fit only rows where true
    p_common = 0.7             # optional instructed common-transition probability
    reward_scale = 1.0         # optional factor on rewards (e.g. 1/9 for 0..9 points)

    [sampler]                  # optional; these are the defaults
    draws = 1000
    tune = 1000
    chains = 4
    seed = 0
    low_rank_mass_matrix = false   # nutpie's low-rank modified mass matrix
    max_tree_depth = 10            # NUTS tree depth cap (at most 2^depth gradients a draw)

    [[fit]]
    name = "hybrid_compulsivity"   # output folder name: out/<name>/
    agent = "hybrid"
    conditions = { w = "stakes" }              # optional
    covariates = { w = ["compulsivity"] }      # optional
    centred = false                            # optional: centred participant level
    sampler = { draws = 2000 }                 # optional per-fit overrides

    [compare]                  # optional: LOO comparison of these fits
    fits = ["mf", "mb", "hybrid"]

:func:`load_fit_spec` checks every key and value and raises
:class:`FitSpecError` naming the file and key. Running a specification (and
writing its outputs) is the command line's job: ``cogarb fit fit.toml``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cogarb._kernels import cache as kernel_cache
from cogarb._version import __version__
from cogarb.agents import AGENTS
from cogarb.toml_files import TomlMessages, read_toml

SAMPLER_DEFAULTS = {"draws": 1000, "tune": 1000, "chains": 4, "seed": 0}
# Optional nutpie settings: fit.toml key -> nutpie.sample keyword. Kept in a job's
# sampler only when given, so the fingerprints of fits that never set them are unchanged.
SAMPLER_SWITCHES = {"low_rank_mass_matrix": "low_rank_modified_mass_matrix"}  # booleans
SAMPLER_LIMITS = {"max_tree_depth": "maxdepth"}  # integers, 1..MAX_TREE_DEPTH
# NUTS's target acceptance rate (nutpie's default 0.8): raising it shortens the steps,
# the first remedy for divergent transitions. Numbers in [TARGET_ACCEPT_MIN, 1).
SAMPLER_RATES = {"target_accept": "target_accept"}
TARGET_ACCEPT_MIN = 0.6
SAMPLER_OPTIONS = {**SAMPLER_SWITCHES, **SAMPLER_LIMITS, **SAMPLER_RATES}
# nutpie's default depth is 10 (1,023 gradients a draw); deeper trees only help posteriors
# no two-hour fit should be run on, so larger values are treated as typos.
MAX_TREE_DEPTH = 12
# A fit's name is its output folder: one safe path component ("." and ".." are not,
# nor are names starting with a dot), and not "previous", where runs.py moves the
# outputs of an earlier run.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
RESERVED_NAMES = frozenset({"previous"})
# nutpie and numpy take seeds up to 2**64; keep well inside int64 (the CLI's bound too)
MAX_SEED = 2**63 - 1


class FitSpecError(ValueError):
    """A fit specification with an unknown key or a bad value; names file and key."""


@dataclass(frozen=True)
class FitJob:
    """One model fit of a specification.

    Attributes
    ----------
    name : str
        Output folder name.
    agent : str
    conditions : dict
        ``{parameter: column}`` within-participant effects.
    covariates : dict
        ``{parameter: [column, ...]}`` participant-level effects.
    centred : bool
        The centred parameterisation (:func:`cogarb.build_model`).
    sampler : dict
        ``draws``, ``tune``, ``chains``, ``seed``, and ``low_rank_mass_matrix`` and
        ``max_tree_depth`` when given.
    """

    name: str
    agent: str
    conditions: dict = field(default_factory=dict)
    covariates: dict = field(default_factory=dict)
    sampler: dict = field(default_factory=lambda: dict(SAMPLER_DEFAULTS))
    centred: bool = False

    def sampler_arguments(self) -> dict:
        """Keyword arguments for :func:`cogarb.fit`: sampler settings and nutpie options."""
        out = {k: v for k, v in self.sampler.items() if k in SAMPLER_DEFAULTS}
        options = {SAMPLER_OPTIONS[k]: v for k, v in self.sampler.items() if k in SAMPLER_OPTIONS}
        if options:
            out["sampler_options"] = options
        return out

    def model_options(self) -> dict:
        """Keyword arguments for :func:`cogarb.fit` beyond the sampler settings."""
        options = {}
        if self.conditions:
            options["conditions"] = dict(self.conditions)
        if self.covariates:
            options["covariates"] = {k: list(v) for k, v in self.covariates.items()}
        if self.centred:
            options["centred"] = True
        return options


@dataclass(frozen=True)
class FitSpec:
    """A parsed ``fit.toml``.

    Attributes
    ----------
    source : Path
        The TOML file.
    data : Path
        The trial file or folder (resolved against the TOML's folder).
    format : str or None
    include : str or None
        Boolean column selecting the rows to fit.
    p_common : float
        Instructed probability of the common transition (1: deterministic).
    reward_scale : float
        Factor applied to rewards before the model sees them (points → ~[0, 1]).
    fits : tuple of FitJob
    compare : tuple of str
        Names of the fits to compare by LOO.
    """

    source: Path
    data: Path
    format: str | None
    include: str | None
    p_common: float
    reward_scale: float
    fits: tuple[FitJob, ...]
    compare: tuple[str, ...] = ()

    @property
    def out(self) -> Path:
        """The output folder, ``out/`` beside the TOML file."""
        return self.source.parent / "out"

    def fingerprint(self, job: FitJob) -> str:
        """A hash of everything a fit's result depends on.

        The data file's bytes (or, for a folder, its files' names and bytes), the
        data options, the job, the cogarb version and the hash of the kernel
        sources (:data:`cogarb._kernels.cache.SOURCE_HASH`): a finished fit
        whose fingerprint still matches need not run again, and one made by other
        kernel code (an upgrade, an edit) is refitted.
        """
        digest = hashlib.sha256()
        paths = (
            sorted(p for p in self.data.rglob("*") if p.is_file())
            if self.data.is_dir()
            else [self.data]
        )
        for path in paths:
            digest.update(str(path.relative_to(self.data.parent)).encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        settings = {
            "format": self.format,
            "include": self.include,
            "p_common": self.p_common,
            "reward_scale": self.reward_scale,
            "job": _job_settings(job),
            "cogarb": __version__,
            # the kernels' own sources (and numba's version): an edited kernel refits
            "kernels": kernel_cache.SOURCE_HASH,
        }
        if self.compare and job.name not in self.compare:
            # written without its trial log-likelihood: naming it in [compare] later
            # must refit it (the comparison needs them), not skip it as up to date
            settings["log_likelihood"] = False
        digest.update(json.dumps(settings, sort_keys=True).encode())
        return digest.hexdigest()


def _job_settings(job: FitJob) -> dict:
    """The job's fields, leaving out ``centred`` when false: fits made before it existed
    keep their fingerprints."""
    settings = asdict(job)
    if not settings["centred"]:
        del settings["centred"]
    return settings


def _fail(source: Path, key: str, problem: str) -> FitSpecError:
    return FitSpecError(f"{source}: key '{key}' {problem}")


def _check_keys(table: dict, allowed: set[str], source: Path, prefix: str) -> None:
    for key in table:
        if key not in allowed:
            known = ", ".join(sorted(allowed))
            raise _fail(source, f"{prefix}{key}", f"is not known (expected one of: {known})")


def _table(value, source: Path, key: str, what: str) -> dict:
    if not isinstance(value, dict):
        raise _fail(source, key, f"must be a table ({what}), got {value!r}")
    return value


def _sampler(table: dict, base: dict, source: Path, prefix: str) -> dict:
    table = _table(table, source, prefix.rstrip("."), "draws = ..., tune = ...")
    _check_keys(table, set(SAMPLER_DEFAULTS) | set(SAMPLER_OPTIONS), source, prefix)
    out = dict(base)
    for key, value in table.items():
        if key in SAMPLER_SWITCHES:
            if not isinstance(value, bool):
                raise _fail(source, f"{prefix}{key}", f"must be true or false, got {value!r}")
            out[key] = value
            continue
        if key in SAMPLER_RATES:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _fail(source, f"{prefix}{key}", f"must be a number, got {value!r}")
            if not TARGET_ACCEPT_MIN <= value < 1:
                raise _fail(
                    source, f"{prefix}{key}",
                    f"must be at least {TARGET_ACCEPT_MIN} and below 1, got {value!r}",
                )  # fmt: skip
            out[key] = float(value)
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(source, f"{prefix}{key}", f"must be an integer, got {value!r}")
        if key in SAMPLER_LIMITS and not 1 <= value <= MAX_TREE_DEPTH:
            raise _fail(
                source, f"{prefix}{key}", f"must be between 1 and {MAX_TREE_DEPTH}, got {value!r}"
            )
        if value < (0 if key == "seed" else 1):
            least = "0 or more" if key == "seed" else "positive"
            raise _fail(source, f"{prefix}{key}", f"must be {least}, got {value!r}")
        if value > MAX_SEED:
            raise _fail(source, f"{prefix}{key}", f"must be at most {MAX_SEED}, got {value!r}")
        out[key] = value
    return out


def _job(table: dict, index: int, sampler: dict, source: Path) -> FitJob:
    prefix = f"fit[{index}]."
    table = _table(table, source, f"fit[{index}]", 'name = "...", agent = "..."')
    _check_keys(
        table, {"name", "agent", "conditions", "covariates", "centred", "sampler"}, source, prefix
    )
    agent = table.get("agent")
    if not isinstance(agent, str) or agent not in AGENTS:
        raise _fail(source, prefix + "agent", f"must be one of {', '.join(AGENTS)}, got {agent!r}")
    name = table.get("name", agent)
    if not isinstance(name, str) or not _NAME.match(name) or name in RESERVED_NAMES:
        raise _fail(
            source,
            prefix + "name",
            "must be a folder name (letters, digits and _.-, starting with a letter or "
            f"digit; not {', '.join(sorted(RESERVED_NAMES))}), got {name!r}",
        )
    conditions = table.get("conditions", {})
    if not isinstance(conditions, dict) or not all(isinstance(v, str) for v in conditions.values()):
        raise _fail(source, prefix + "conditions", 'must be a table {parameter = "column"}')
    covariates = table.get("covariates", {})
    if not isinstance(covariates, dict):
        raise _fail(source, prefix + "covariates", 'must be a table {parameter = ["column", ...]}')
    covariates = {k: [v] if isinstance(v, str) else v for k, v in covariates.items()}
    for key, columns in covariates.items():
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise _fail(
                source, f"{prefix}covariates.{key}", "must be a column name or a list of them"
            )
    centred = table.get("centred", False)
    if not isinstance(centred, bool):
        raise _fail(source, prefix + "centred", f"must be true or false, got {centred!r}")
    return FitJob(
        name=name,
        agent=agent,
        conditions=dict(conditions),
        covariates=covariates,
        sampler=_sampler(table.get("sampler", {}), sampler, source, prefix + "sampler."),
        centred=centred,
    )


def _reader_names() -> tuple[str, ...]:
    from cogarb.readers import READERS

    return tuple(READERS)


# Other OSErrors (unreadable) are let through as they are, and only regular files are read.
_FIT_FILE_MESSAGES = TomlMessages(
    directory="{path}: is a folder, not a fit.toml file",
    missing="{path}: no such file",
    permission="{path}: cannot be read (permission denied)",
    not_utf8="{path}: not UTF-8 text (byte {offset} is {bad!r}); TOML files must be UTF-8",
    regular_files_only=True,
)


def load_fit_spec(path: str | os.PathLike) -> FitSpec:
    """Read and check a ``fit.toml``.

    Parameters
    ----------
    path : str or path

    Returns
    -------
    FitSpec

    Raises
    ------
    FitSpecError
        On a TOML syntax error, an unknown key, a missing data file or a bad value;
        the message names the file and the key.
    FileNotFoundError
        If the TOML file does not exist.
    """
    source = Path(path)
    raw = read_toml(source, FitSpecError, _FIT_FILE_MESSAGES)
    _check_keys(raw, {"data", "sampler", "fit", "compare"}, source, "")
    data = _table(raw.get("data", {}), source, "data", 'path = "trials.csv.gz", ...')
    if "path" not in data:
        raise _fail(source, "data.path", "is required (the trial file, relative to this file)")
    _check_keys(data, {"path", "format", "include", "p_common", "reward_scale"}, source, "data.")
    for key in ("path", "format", "include"):
        if key in data and (not isinstance(data[key], str) or not data[key].strip()):
            raise _fail(source, f"data.{key}", f"must be a non-empty string, got {data[key]!r}")
    if data.get("format") not in (None, "tidy", *_reader_names()):
        formats = ", ".join(("tidy", *_reader_names()))
        raise _fail(source, "data.format", f"must be one of {formats}, got {data['format']!r}")
    data_path = (source.parent / data["path"]).resolve()
    if not data_path.exists():
        raise _fail(source, "data.path", f"names {data_path}, which does not exist")
    p_common = data.get("p_common", 0.7)
    if isinstance(p_common, bool) or not isinstance(p_common, int | float) or not 0 < p_common <= 1:
        raise _fail(source, "data.p_common", f"must be a number in (0, 1], got {p_common!r}")
    reward_scale = data.get("reward_scale", 1.0)
    if (
        isinstance(reward_scale, bool)
        or not isinstance(reward_scale, int | float)
        or not 0 < reward_scale < float("inf")
    ):
        raise _fail(source, "data.reward_scale", f"must be a positive number, got {reward_scale!r}")
    sampler = _sampler(raw.get("sampler", {}), SAMPLER_DEFAULTS, source, "sampler.")
    tables = raw.get("fit")
    if not isinstance(tables, list) or not tables:
        raise _fail(source, "fit", "must list at least one [[fit]] table")
    fits = tuple(_job(t, i, sampler, source) for i, t in enumerate(tables))
    names = [job.name for job in fits]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise _fail(source, "fit.name", f"repeats {', '.join(duplicated)}: names must be unique")
    compare = _table(raw.get("compare", {}), source, "compare", "fits = [...]")
    _check_keys(compare, {"fits"}, source, "compare.")
    compared = compare.get("fits", [])
    if not isinstance(compared, list) or not all(isinstance(n, str) for n in compared):
        raise _fail(source, "compare.fits", f"must be a list of fit names, got {compared!r}")
    unknown = [n for n in compared if n not in names]
    if unknown:
        raise _fail(source, "compare.fits", f"names unknown fits: {', '.join(unknown)}")
    return FitSpec(
        source=source.resolve(),
        data=data_path,
        format=data.get("format"),
        include=data.get("include"),
        p_common=float(p_common),
        reward_scale=float(reward_scale),
        fits=fits,
        compare=tuple(compared),
    )


def read_spec_trials(spec: FitSpec):
    """The trials a fit.toml fits: its data, read and restricted to ``data.include``.

    Returns
    -------
    (pandas.DataFrame, int)
        The trials, and how many rows ``data.include`` left out.
    """
    from cogarb.data import read_trials
    from cogarb.schema import boolean_column

    trials = read_trials(spec.data, format=spec.format)
    n_read = len(trials)
    if spec.include is not None:
        if spec.include not in trials.columns:
            raise FitSpecError(f"{spec.source}: data.include names '{spec.include}', not a column")
        keep = boolean_column(trials, spec.include, str(spec.data))
        trials = trials[keep].copy()
        trials["participant"] = trials["participant"].cat.remove_unused_categories()
    return trials, n_read - len(trials)
