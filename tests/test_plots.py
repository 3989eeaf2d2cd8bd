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


def _stays_with_load(n=6):
    sims = cogarb.simulate("otto2013_load", "arbitrator", {}, n_participants=n, seed=3)
    return cogarb.stay_probabilities(sims, by="load")


def _png_bytes(fig) -> int:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.tell()


def test_load_figure_has_stay_panels_and_weights():
    import pandas as pd

    from cogarb.plots import load_figure

    weights = pd.DataFrame(
        {
            "source": ["simulated", "simulated", "fitted", "fitted"],
            "condition": ["single task", "dual task"] * 2,
            "mean": [0.7, 0.4, 0.6, 0.35],
            "ci_low": [0.65, 0.35, 0.5, 0.2],
            "ci_high": [0.75, 0.45, 0.7, 0.5],
        }
    )
    fig = load_figure(_stays_with_load(), weights)
    stay_left, stay_right, w_axis = fig.get_axes()
    assert [stay_left.get_title(), stay_right.get_title()] == ["single task", "dual task (load)"]
    assert len(stay_left.patches) == 4 and stay_left.get_ylabel().startswith("P(stay")
    assert w_axis.get_ylabel() == "weight on direct control w"
    assert [t.get_text() for t in w_axis.get_xticklabels()] == ["single task", "dual task"]
    assert [t.get_text() for t in w_axis.get_legend().get_texts()] == ["simulated", "fitted"]
    assert _png_bytes(fig) > 10_000


def test_model_comparison_figure_shows_differences_with_95_intervals():
    import pandas as pd

    from cogarb.plots import model_comparison_figure

    table = pd.DataFrame(
        {"elpd_diff": [0.0, 3.0, 40.0], "dse": [0.0, 1.0, 10.0]},
        index=["hybrid", "arbitrator", "mf"],
    )
    fig = model_comparison_figure({"A": table, "B": table.iloc[[1, 0]]})
    first, second = fig.get_axes()[:2]
    assert [first.get_title(), second.get_title()] == ["A", "B"]
    assert "ELPD difference" in first.get_xlabel()
    assert [t.get_text() for t in first.get_yticklabels()] == ["mf", "hybrid", "arbitrator"]
    # the mf row (drawn first): point at -40, interval -40 ± 1.96 × 10
    bars = first.collections[0].get_segments()[0]
    assert bars[0][0] == -40 - 19.6 and bars[1][0] == -40 + 19.6
    assert _png_bytes(fig) > 10_000


def test_real_data_figure_has_three_labelled_panels(daw2011):
    import pandas as pd

    from cogarb.plots import real_data_figure

    stays = cogarb.stay_probabilities(cogarb.simulate(daw2011, "hybrid", {}, n_participants=8))
    predicted = stays.group[["previous_reward", "transition", "mean", "ci_low", "ci_high"]]
    slopes = pd.DataFrame(
        {
            "label": ["compulsivity", "age"],
            "mean": [-0.2, 0.1],
            "ci_low": [-0.3, 0.0],
            "ci_high": [-0.1, 0.2],
        }
    )
    stakes = pd.DataFrame(
        {
            "label": ["novel, low", "novel, high"],
            "task": ["novel", "novel"],
            "mean": [0.3, 0.7],
            "ci_low": [0.2, 0.6],
            "ci_high": [0.4, 0.8],
        }
    )
    fig = real_data_figure(stays, predicted, slopes, stakes)
    ppc, slope, stake = fig.get_axes()
    assert len(ppc.patches) == 4 and ppc.get_legend().get_texts()[-1].get_text() == (
        "posterior predictive"
    )
    assert [t.get_text() for t in slope.get_yticklabels()] == ["compulsivity", "age"]
    assert "slope of logit w" in slope.get_xlabel() and "w" in stake.get_xlabel()
    assert _png_bytes(fig) > 10_000
