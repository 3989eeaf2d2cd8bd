"""Model comparison by PSIS-LOO, per trial or leaving one participant out."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from cogarb.fitting import import_arviz

BY = ("trial", "participant")
PARTICIPANT_VAR = "participant_total"  # summed log-likelihood; the dim is "participant"
POINTWISE_DIM = {"trial": "obs", "participant": "participant"}  # the dim of loo_i


def participant_log_likelihood(idata):
    """A copy of ``idata`` whose log-likelihood is summed over each participant's trials."""
    _check_log_likelihood(idata)
    trial = idata.log_likelihood["trial"]
    summed = trial.groupby("participant").sum().rename(PARTICIPANT_VAR)
    out = idata.copy()
    del out.log_likelihood
    out.add_groups(log_likelihood=summed.to_dataset())
    return out


def _check_log_likelihood(idata) -> None:
    if "log_likelihood" not in idata.groups():
        raise ValueError("this fit has no log_likelihood group (fit with log_likelihood=True)")


def _check_by(by: str) -> None:
    if by not in BY:
        raise ValueError(f"by must be one of {BY}, got {by!r}")


def loo(idata, by: str = "trial"):
    """PSIS-LOO of one fit, with its pointwise values.

    Parameters
    ----------
    idata : arviz.InferenceData
        A fit from :func:`cogarb.fit` with its ``log_likelihood`` group.
    by : {"trial", "participant"}
        What is left out: one trial, or one participant (see :func:`compare`).

    Returns
    -------
    arviz.ELPDData
        ``elpd_loo``, ``p_loo``, the Pareto k and the pointwise ``loo_i`` (dim
        ``obs`` for trials, ``participant`` for participants). A dict of these can be
        passed to :func:`compare` in place of the fits, so that a comparison of large
        fits holds one fit's trial log-likelihood in memory at a time.
    """
    _check_by(by)
    _check_log_likelihood(idata)
    if by == "participant":
        idata = participant_log_likelihood(idata)
    var_name = PARTICIPANT_VAR if by == "participant" else "trial"
    return import_arviz().loo(idata, pointwise=True, var_name=var_name)


def _is_precomputed(value) -> bool:
    """Whether ``value`` is an ELPDData (a pandas Series) rather than a fit."""
    return isinstance(value, pd.Series)


def _loo_size(value, by: str) -> int:
    """Number of left-out units of a fit or of a precomputed LOO (checked against ``by``)."""
    if _is_precomputed(value):
        if "loo_i" not in value:
            raise ValueError("a precomputed LOO needs its pointwise values: use cogarb.loo")
        dims = value["loo_i"].dims
        if dims != (POINTWISE_DIM[by],):
            raise ValueError(
                f"a precomputed LOO over {dims} does not match by={by!r} "
                f"(compute it with cogarb.loo(idata, by={by!r}))"
            )
        return int(value["loo_i"].size)
    _check_log_likelihood(value)
    trial = value.log_likelihood["trial"]
    if by == "participant":
        return len(pd.unique(trial["participant"].values))
    return int(trial.sizes["obs"])


def compare(fits: Mapping[str, object], by: str = "trial", **kwargs) -> pd.DataFrame:
    """Rank fitted models by expected log predictive density (PSIS-LOO).

    Parameters
    ----------
    fits : dict
        ``{label: InferenceData}`` from :func:`cogarb.fit` on the same trials, or
        ``{label: ELPDData}`` from :func:`cogarb.loo` with the same ``by`` (cheaper
        in memory for large fits: compute each, then drop the fit).
    by : {"trial", "participant"}
        ``"trial"`` leaves out one trial at a time (the default of ArviZ on the
        trial-level log-likelihood); ``"participant"`` leaves out a whole participant
        (their trials' log-likelihoods summed), which asks how well the model
        generalises to a new person and is the safer choice when trials within a
        participant are dependent, as they are in learning tasks.
    **kwargs
        Passed to :func:`arviz.compare` (e.g. ``scale``).

    Returns
    -------
    pandas.DataFrame
        :func:`arviz.compare`'s table: ``elpd_loo``, ``p_loo``, ``elpd_diff``,
        ``dse``, ``weight``, ``warning`` per model, best first.
    """
    _check_by(by)
    if len(fits) < 2:
        raise ValueError("compare needs at least two fits")
    sizes = {label: _loo_size(value, by) for label, value in fits.items()}
    trials = {
        label: int(value.log_likelihood["trial"].sizes["obs"])
        for label, value in fits.items()
        if not _is_precomputed(value)
    }
    if len(set(sizes.values())) != 1 or len(set(trials.values())) > 1:
        unit = "trial" if by == "trial" else "participant"
        raise ValueError(
            f"fits are on different data ({unit} counts {sizes}, trial counts {trials})"
        )
    # precomputed or not, every entry is an ELPDData here: arviz would deep-copy fits
    elpds = {
        label: value if _is_precomputed(value) else loo(value, by) for label, value in fits.items()
    }
    return import_arviz().compare(elpds, **kwargs)
