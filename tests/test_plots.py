import io

import cogarb
from cogarb.plots import stay_probability_figure


def test_stay_figure_renders_with_labels(daw2011):
    stays = {
        agent: cogarb.stay_probabilities(cogarb.simulate(daw2011, agent, {}, n_participants=10))
        for agent in ("mf", "mb")
    }
    fig = stay_probability_figure(stays, title="t")
    axes = fig.get_axes()
    assert len(axes) == 2
    assert axes[0].get_ylabel().startswith("P(stay")
    assert [t.get_text() for t in axes[0].get_xticklabels()] == ["rewarded", "unrewarded"]
    assert len(axes[0].patches) == 4  # 2 outcomes x 2 transitions
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    assert buffer.tell() > 10_000


def test_condition_levels_get_panels(daw2011):
    sims = cogarb.simulate(daw2011, "hybrid", {}, n_participants=10)
    sims["load"] = (sims["trial"] > 100).astype(int)
    fig = stay_probability_figure(cogarb.stay_probabilities(sims))
    assert [ax.get_title() for ax in fig.get_axes()] == ["load=0", "load=1"]


def test_weight_timecourse_figure(repo):
    from cogarb.analysis import weight_timecourse
    from cogarb.plots import weight_timecourse_figure

    task = cogarb.load_task(repo / "tasks" / "novelty_reversal.toml")
    sims = cogarb.simulate(task, "arbitrator", {}, n_participants=5, internals=True)
    course = weight_timecourse(sims)
    assert len(course) == task.n_trials and set(course.loc[course["event"] != "", "trial"]) == {
        101,
        201,
    }
    fig = weight_timecourse_figure({"reversal": course})
    ax = fig.get_axes()[0]
    assert ax.get_xlabel() == "trial" and "w" in ax.get_ylabel()
    assert len(ax.lines) == 3  # the mean and two event markers


def test_recovery_figure_panels_and_r():
    import numpy as np
    import pandas as pd

    from cogarb.plots import recovery_figure

    rng = np.random.default_rng(0)
    true = rng.normal(size=(2, 30))
    parts = []
    for name, t in zip(("w", "beta1"), true, strict=True):
        mean = t + 0.1 * rng.normal(size=30)
        parts.append(pd.DataFrame({"parameter": name, "true": t, "mean": mean}))
    table = pd.concat(parts).assign(
        lower=lambda d: d["true"] - 0.5, upper=lambda d: d["true"] + 0.5
    )
    fig = recovery_figure(table, title="recovery")
    visible = [ax for ax in fig.get_axes() if ax.get_visible()]
    assert [ax.get_title().split()[0] for ax in visible] == ["w", "beta1"]
    r = float(visible[0].get_title().split("=")[1])
    assert r == round(np.corrcoef(table.query("parameter == 'w'")[["true", "mean"]].T)[0, 1], 2)
    assert visible[0].get_xlabel() == "true value"
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    assert buffer.tell() > 10_000
