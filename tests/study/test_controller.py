"""The REINFORCE controller on fake objectives: learning, baseline, sampling, Exp 1 mix, resume."""
import sqlite3

import numpy as np
import pandas as pd
import pytest
import torch

import minas
from minas.core import keys, migrate
from minas.core.seeding import derive_seed
from minas.core.store import Store
from minas.nas import hyperband
from minas.nas.space import (
    N_OPTIONS,
    OPTIONS,
    from_indices,
    sample_architectures,
    uniform_prior,
)
from minas.study import controller as ctl

TARGET = (4, 9, 14, 19)  # rewarded option per layer in the toy problem


def toy_accuracy(arch, epochs):
    """Closer to TARGET in every layer is better; more epochs help a little (deterministic)."""
    dist = np.abs(np.array(arch.indices) - np.array(TARGET)) / (N_OPTIONS - 1)
    return float(1.0 - dist.mean()) * (1 - 0.1 / epochs)


def toy_env(calls=None, n_tasks=4, n_inputs=6, first=lambda t: 0.0):
    """Fake world: hashed MI features, Hyperband on toy_accuracy (no CNNs); counts run() calls."""
    calls = [] if calls is None else calls

    def features(pairs):
        return np.array([[derive_seed(0, t, a.id, l) % 1000 / 500 - 1 for l in range(4)] for t, a in pairs]).reshape(-1, 4)

    def run(specs):
        calls.append([(s.task, s.instance) for s in specs])
        return [hyperband.run_bracket(s.archs, toy_accuracy, [4, 2], [1, 1, 1], 0.0) for s in specs]

    return ctl.Environment([f"t{i}" for i in range(n_tasks)], ["u0", "u1"], n_inputs, 0, features, run, first)


def cfg_for(tmp_path, **over):
    return minas.load("smoke", output_dir=str(tmp_path), **over)


def test_reinforce_step_follows_the_sign_of_the_reward():
    arch = from_indices(TARGET)
    x = torch.zeros(1, 96)
    for reward, sign in ((1.0, 1), (-1.0, -1)):
        pol = ctl.new_policy(0)
        opt = torch.optim.SGD(pol.parameters(), lr=0.5)
        before = float(pol(x)[0, range(4), list(TARGET)].sum().detach())
        loss, ce = ctl.reinforce_loss(pol(x), [[arch]], reward)
        assert ce == pytest.approx(4 * np.log(N_OPTIONS), rel=1e-5)  # zero last layer: uniform start
        loss.backward()
        opt.step()
        after = float(pol(x)[0, range(4), list(TARGET)].sum().detach())
        assert sign * (after - before) > 0.05


LR = {"sgd": 30.0, "adam": 0.05}  # sgd 30 ends runs 0-2 at 0.60, 0.66, 0.56 of the start


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_reinforce_learns_the_rewarded_option(tmp_path, optimizer):
    # the thesis update is noisy (one scalar reward per iteration, stale baselines): M = all 4
    # tasks and 40 iterations move the prior from 7.1 options away from TARGET to under 0.7 of that,
    # with the plain step scaled by R (the default) as with Adam
    rng = np.random.default_rng(0)
    uniform_hs = np.mean([hyperband.run_bracket(sample_architectures(6, rng), toy_accuracy, [4, 2], [1, 1, 1], 0.0)
                          .summed_score for _ in range(100)])
    cfg = cfg_for(tmp_path, **{"controller.iterations": 40, "controller.lr": LR[optimizer], "controller.datasets_per_iteration": 4,
                               "controller.optimizer": optimizer})
    run = ctl.train_controller(cfg, Store(tmp_path / "s.sqlite"), toy_env(first=lambda t: uniform_hs), "exp2")
    p = run.priors  # (I, 4, 23) mean prior per iteration
    np.testing.assert_allclose(p[0], uniform_prior(), atol=1e-6)
    dist = lambda q: (q * np.abs(np.arange(N_OPTIONS) - np.array(TARGET)[:, None])).sum(-1).mean()  # E|option - target|
    assert dist(p[-1]) < 0.7 * dist(uniform_prior())
    assert run.iterations.entropy_1.iloc[-1] < run.iterations.entropy_1.iloc[0]


def test_baseline_is_the_previous_visit_of_the_same_task(tmp_path):
    cfg = cfg_for(tmp_path, **{"controller.iterations": 6, "controller.datasets_per_iteration": 2})
    first = {f"t{i}": 10.0 + i for i in range(3)}
    run = ctl.train_controller(cfg, Store(tmp_path / "s.sqlite"), toy_env(n_tasks=3, first=first.get), "exp1")
    v = run.visits.sort_values(["task", "iteration"])
    for task, g in v.groupby("task"):
        assert g.baseline.iloc[0] == first[task]
        np.testing.assert_allclose(g.baseline.iloc[1:].to_numpy(), g.hs.iloc[:-1].to_numpy())
    rewards = run.visits.groupby("iteration").advantage.sum().to_numpy()
    np.testing.assert_allclose(rewards, run.iterations.reward.to_numpy())
    assert (run.visits.groupby("iteration").task.nunique() == 2).all()


def test_sampling_matches_the_prior():
    rng = np.random.default_rng(1)
    prior = rng.dirichlet(np.full(N_OPTIONS, 0.5), size=4)  # (4, 23)
    draw = ctl.draw_inputs(prior, 20000, 1.0, rng)
    assert all(draw.from_prior) and draw.prior_drawn == draw.archs
    idx = np.array([a.indices for a in draw.archs])  # (n, 4)
    for layer in range(4):
        freq = np.bincount(idx[:, layer], minlength=N_OPTIONS) / len(idx)
        np.testing.assert_allclose(freq, prior[layer], atol=0.012)


def test_exp1_mixes_half_prior_half_uniform(tmp_path):
    delta = np.zeros((4, N_OPTIONS))
    delta[:, 3] = 1.0
    draw = ctl.draw_inputs(delta, 12, ctl.EXPERIMENTS["exp1"], np.random.default_rng(0))
    assert draw.from_prior == [True] * 6 + [False] * 6 and draw.prior_drawn == draw.archs[:6]
    assert all(a.filters == (OPTIONS[3],) * 4 for a in draw.archs[:6])
    assert sum(a.filters == (OPTIONS[3],) * 4 for a in draw.archs[6:]) == 0
    cfg = cfg_for(tmp_path, **{"controller.iterations": 1})
    store = Store(tmp_path / "s.sqlite")
    for exp, n in (("exp1", 3), ("exp2", 6)):
        ctl.train_controller(cfg, store, toy_env(), exp)
        assert store.get_result(f"controller-{exp}", "0", keys.controller_key(cfg))["n_from_prior"] == n


def test_resume_skips_finished_iterations_and_restores_the_policy(tmp_path):
    calls = []
    short = cfg_for(tmp_path, **{"controller.iterations": 3})
    store = Store(tmp_path / "a.sqlite")
    ctl.train_controller(short, store, toy_env(calls), "exp2")
    assert len(calls) == 3
    again = ctl.train_controller(short, store, toy_env(calls), "exp2")
    assert len(calls) == 3 and again.iterations.resumed.all()
    long = cfg_for(tmp_path, **{"controller.iterations": 5})
    resumed = ctl.train_controller(long, store, toy_env(calls), "exp2")
    assert len(calls) == 5 and [c[0][1] for c in calls[3:]] == [3, 4]
    straight = ctl.train_controller(long, Store(tmp_path / "b.sqlite"), toy_env(), "exp2")
    for a, b in zip(resumed.policy.state_dict().values(), straight.policy.state_dict().values()):
        torch.testing.assert_close(a, b)
    np.testing.assert_allclose(resumed.iterations.reward, straight.iterations.reward)


def _key_before(cfg) -> str:
    """The controller key as it was built before minas.core.keys (it hashed data.root and data.download too)."""
    import hashlib
    import json

    d = cfg.to_dict()
    blob = {k: d[k] for k in ("seed", "data", "train", "mi", "hyperband", "collection")}
    blob["collection"].pop("seeds", None)
    blob["mi"]["methods"] = blob["mi"].pop("signals")  # the name the old key hashed
    blob["train"].pop("group_size")  # added since, at their defaults
    for k in ("lam_mode", "max_clean"):
        blob["hyperband"].pop(k)
    blob["train"]["precision"] += keys.precision_suffix(cfg)
    blob["controller"] = {k: d["controller"][k] for k in ("lr", "datasets_per_iteration", "optimizer")}
    return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()[:12]


def test_a_store_written_under_the_old_key_is_migrated_when_its_profile_opens_it_and_resumed(tmp_path):
    calls = []
    cfg = cfg_for(tmp_path, **{"controller.iterations": 3})
    path = tmp_path / "a.sqlite"
    first = ctl.train_controller(cfg, Store(path), toy_env(calls), "exp2")
    new, old = keys.controller_key(cfg), migrate.old_controller_key(cfg)
    assert old == _key_before(cfg) != new
    con = sqlite3.connect(path)  # the store as the code before minas.core.keys wrote it: version 1, the old key
    con.execute("UPDATE results SET config=? WHERE kind='controller-exp2'", (old,))
    con.execute("UPDATE meta SET value='1' WHERE key='schema_version'")
    con.commit()
    con.close()
    assert ctl.load_run(cfg, Store(path), "exp2") is None  # opened without its config: not migrated yet
    store = Store(path, cfg)  # as open_store(cfg) opens it
    assert store.get_result("controller-exp2", "0", old) is None
    loaded = ctl.load_run(cfg, store, "exp2")  # notebook 06 reads it back
    np.testing.assert_allclose(loaded.iterations.reward, first.iterations.reward)
    again = ctl.train_controller(cfg, store, toy_env(calls), "exp2")
    assert len(calls) == 3 and again.iterations.resumed.all()  # resumed, nothing rerun
    moved = cfg_for(tmp_path, **{"controller.iterations": 3, "data.root": str(tmp_path / "elsewhere"), "engine.workers": 5})
    assert ctl.load_run(moved, store, "exp2") is not None  # from now on moving the data changes nothing


def test_evaluation_table_and_collapse():
    env = toy_env()
    delta = np.full((4, N_OPTIONS), 0.01 / (N_OPTIONS - 1))
    delta[range(4), list(TARGET)] = 0.99
    assert ctl.collapsed(delta) == from_indices(TARGET)
    assert ctl.collapsed(uniform_prior()) is None
    evals = ctl.evaluate_priors(env, {"uniform": None, "exp2": ctl.new_policy(0)}, env.train_tasks + env.test_tasks, 2)
    assert len(evals) == 2 * 6 * 2 and set(evals.split) == {"train", "test"}
    table = ctl.score_table(evals)
    assert set(zip(table.split, table.prior)) == {(s, p) for s in ("train", "test") for p in ("uniform", "exp2")}
    assert (table.n_tasks == table.split.map({"train": 4, "test": 2})).all()
    assert table["mean"].between(0, 1).all() and (table.within_task_std >= 0).all()


def test_an_iteration_is_typed_and_stored_as_its_dict(tmp_path):
    env, policy = toy_env(), ctl.new_policy(0)
    opt = torch.optim.Adam(policy.parameters(), lr=0.01)
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    rec = ctl.run_iteration(env, policy, opt, "exp1", 0, 2, {})
    assert torch.equal(torch.rand(3), before)  # neither new_policy nor an iteration reseeds torch's global RNG
    assert isinstance(rec, ctl.Iteration) and len(rec.tasks) == len(rec.hs) == len(rec.priors) == 2
    assert rec.n_from_prior == 3 and np.array(rec.priors).shape == (2, 4, N_OPTIONS)
    assert rec.reward == pytest.approx(sum(rec.hs) - sum(rec.baseline))
    assert ctl.Iteration.from_dict(dict(rec.to_dict(), extra=1)) == rec


def test_the_plain_step_is_lr_times_reward_times_the_gradient(tmp_path):
    cfg = cfg_for(tmp_path, **{"controller.lr": 0.3})
    assert cfg.controller.optimizer == "sgd"  # the thesis's update is the default
    arch, x, moves = from_indices(TARGET), torch.zeros(1, 96), []
    for reward in (0.5, 1.0):
        pol = ctl.new_policy(0)
        opt = ctl.make_optimizer(pol, cfg.controller)
        before = [p.detach().clone() for p in pol.parameters()]
        loss, _ = ctl.reinforce_loss(pol(x), [[arch]], reward)
        opt.zero_grad()
        loss.backward()
        grads = [p.grad.clone() for p in pol.parameters()]
        opt.step()
        for b, p, g in zip(before, pol.parameters(), grads):
            torch.testing.assert_close(p.detach(), b - 0.3 * g)  # g already carries R
        moves.append(torch.cat([(p.detach() - b).flatten() for b, p in zip(before, pol.parameters())]))
    torch.testing.assert_close(moves[1], 2 * moves[0])  # twice the reward, twice the step (Adam would not)


def test_paired_draw_is_common_random_numbers():
    prior = np.random.default_rng(2).dirichlet(np.full(N_OPTIONS, 0.3), size=4)
    seed = lambda: derive_seed(0, "bracket", "t0", 1)
    uniform = ctl.paired_draw(None, 12, 1.0, np.random.default_rng(seed()))
    assert uniform.archs == sample_architectures(12, np.random.default_rng(seed()))  # the collection's bracket
    assert ctl.paired_draw(prior, 12, 1.0, np.random.default_rng(seed())).archs == \
        sample_architectures(12, np.random.default_rng(seed()), prior)
    half = ctl.paired_draw(prior, 12, 0.5, np.random.default_rng(seed()))
    assert half.from_prior == [True] * 6 + [False] * 6 and half.archs[6:] == uniform.archs[6:]


def test_every_prior_and_controller_run_sees_the_same_draw_seeds(tmp_path):
    calls = []
    env = toy_env(calls)
    cfg = cfg_for(tmp_path, **{"controller.iterations": 2})
    store = Store(tmp_path / "s.sqlite")
    runs = {(e, s): ctl.train_controller(cfg, store, env, e, s) for s in (0, 1) for e in ctl.EXPERIMENTS}
    assert not np.allclose(runs[("exp2", 0)].priors[-1], runs[("exp2", 1)].priors[-1])  # runs differ
    seen = []
    env.run = lambda specs: (seen.extend(specs), toy_env().run(specs))[1]
    evals = ctl.evaluate_runs(env, runs, ["t0", "u0"], 2)
    assert set(evals.prior) == {"uniform", "exp1", "exp1_as_trained", "exp2"}
    assert set(evals.controller_run) == {-1, 0, 1} and (evals[evals.prior == "uniform"].controller_run == -1).all()
    assert len(evals) == 2 * 2 * (1 + 2 * 3) and len({s.tag for s in seen}) == 7  # uniform + 3 labels x 2 runs
    for task in ("t0", "u0"):
        for k in range(2):
            specs = {s.tag: s for s in seen if (s.task, s.instance) == (task, k)}
            u = ctl.paired_draw(None, env.n_inputs, 1.0, np.random.default_rng(derive_seed(0, "bracket", task, k)))
            assert specs["controller-eval-uniform"].archs == u.archs
            for tag, s in specs.items():  # every learned prior: the same uniforms through its own inverse CDF
                if tag.startswith("controller-eval-exp1_as_trained"):
                    assert s.archs[3:] == u.archs[3:]  # the uniform half is the uniform prior's
    table = ctl.seed_table(evals)
    row = table.set_index(["split", "prior"])
    assert row.loc[("train", "exp2"), "n_runs"] == 2 and np.isfinite(row.loc[("train", "exp2"), "ci_low"])
    assert row.loc[("train", "uniform"), "diff_mean"] == 0
    assert (table.ci_low <= table["mean"]).all() or table.ci_low.isna().any()


def test_priors_against_uniform_are_judged_over_sources_when_given():
    evals = pd.DataFrame({"split": "train", "prior": ["uniform"] * 4 + ["exp1"] * 4, "task": ["a", "b", "c", "d"] * 2,
                          "avg_score": [0.5, 0.5, 0.5, 0.5, 0.6, 0.7, 0.4, 0.45]})
    by_task = ctl.compare_to_uniform(evals).iloc[0]
    assert (by_task.n_tasks, by_task.n_sources) == (4, 4) and by_task.diff_mean == pytest.approx(0.0375)
    clustered = ctl.compare_to_uniform(evals, {"a": "s1", "b": "s1", "c": "s2", "d": "s2"}).iloc[0]
    assert (clustered.n_tasks, clustered.n_sources, clustered.wins) == (4, 2, 2)
    assert clustered.diff_mean == pytest.approx(((0.1 + 0.2) / 2 + (-0.1 - 0.05) / 2) / 2)
    assert clustered.ci_high - clustered.ci_low > by_task.ci_high - by_task.ci_low  # 1 degree of freedom: wider


def test_runs_side_by_side_equal_runs_alone_in_one_hyperband_call_per_iteration(tmp_path):
    """train_controllers pools every run's instances of an iteration into one env.run call and computes every
    planned input sample first; each run's numbers are those it gets alone."""
    cfg = cfg_for(tmp_path, **{"controller.iterations": 4, "controller.seeds": 2})
    calls, asked = [], []
    env = toy_env(calls)
    features = env.features
    env.features = lambda pairs: asked.append(list(pairs)) or features(pairs)
    together = ctl.train_controllers(cfg, Store(tmp_path / "a.sqlite"), env)
    assert len(calls) == 4 and all(len(c) == 4 * cfg.controller.datasets_per_iteration for c in calls)
    planned = ctl.planned_inputs(env, cfg, list(together))
    assert asked[0] == planned and len(planned) == len(set(planned))
    assert all(set(pairs) <= set(planned) for pairs in asked[1:])  # later reads only read what was computed first
    for (exp, run), got in together.items():
        alone = ctl.train_controller(cfg, Store(tmp_path / f"{exp}{run}.sqlite"), toy_env(), exp, run)
        np.testing.assert_array_equal(got.iterations.reward, alone.iterations.reward)
        np.testing.assert_array_equal(got.priors, alone.priors)
    again = []
    ctl.train_controllers(cfg, Store(tmp_path / "a.sqlite"), toy_env(again))
    assert again == []  # finished: nothing runs
