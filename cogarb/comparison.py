"""Model comparison by PSIS-LOO, per trial or leaving one participant out."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from cogarb.fitting import _arviz

BY = ("trial", "participant")
PARTICIPANT_VAR = "participant_total"  # summed log-likelihood; the dim is "participant"


def participant_log_likelihood(idata):
    """A copy of ``idata`` whose log-likelihood is summed over each participant's trials."""
    if "log_likelihood" not in idata.groups():
        raise ValueError("this fit has no log_likelihood group (fit with log_likelihood=True)")
    trial = idata.log_likelihood["trial"]
    summed = trial.groupby("participant").sum().rename(PARTICIPANT_VAR)
    out = idata.copy()
    del out.log_likelihood
    out.add_groups(log_likelihood=summed.to_dataset())
    return out


def compare(fits: Mapping[str, object], by: str = "trial", **kwargs) -> pd.DataFrame:
    """Rank fitted models by expected log predictive density (PSIS-LOO).

    Parameters
    ----------
    fits : dict
        ``{label: InferenceData}`` from :func:`cogarb.fit` on the same trials.
    by : {"trial", "participant"}
        ``"trial"`` leaves out one trial at a time (the default of ArviZ on the
        trial-level log-likelihood); ``"participant"`` leaves out a whole participant
        (their trials' log-likelihoods summed), which asks how well the model
        generalises to a new person and is the safer choice when trials within a
        participant are dependent, as they are in learning tasks.
    **kwargs
        Passed to :func:`arviz.compare` (e.g. ``ic``, ``scale``).

    Returns
    -------
    pandas.DataFrame
        :func:`arviz.compare`'s table: ``elpd_loo``, ``p_loo``, ``elpd_diff``,
        ``dse``, ``weight``, ``warning`` per model, best first.
    """
    if by not in BY:
        raise ValueError(f"by must be one of {BY}, got {by!r}")
    if len(fits) < 2:
        raise ValueError("compare needs at least two fits")
    sizes = {label: idata.log_likelihood["trial"].sizes["obs"] for label, idata in fits.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"fits are on different data (trial counts {sizes})")
    if by == "participant":
        fits = {label: participant_log_likelihood(idata) for label, idata in fits.items()}
    var_name = PARTICIPANT_VAR if by == "participant" else "trial"
    return _arviz().compare(dict(fits), var_name=var_name, **kwargs)
