"""The controller's world (minas.study.controller.environment): evaluation brackets on common random numbers."""
import numpy as np

from minas.core import config
from minas.nas.space import N_LAYERS, N_OPTIONS, OPTIONS
from minas.study import collection
from minas.study.controller.environment import Environment, paired_spec


def test_the_uniform_priors_evaluation_bracket_is_the_collections_bracket(tmp_path):
    cfg = config.load("smoke", output_dir=str(tmp_path))
    task = cfg.data.tasks[0]
    for k, coll in enumerate(collection.collection_brackets(cfg, task)[:2]):
        spec = paired_spec("controller-eval-uniform", task, k, None, 1.0, cfg.hyperband.n_inputs, cfg.seed)
        assert [a.id for a in spec.archs] == [a.id for a in coll.archs] and (spec.task, spec.instance) == (task, k)


def test_a_prior_fills_its_share_of_the_inputs_and_the_rest_stay_the_uniform_draw():
    prior = np.zeros((N_LAYERS, N_OPTIONS))
    prior[:, 5] = 1.0  # every layer on option 5: a draw from it is known exactly
    spec = paired_spec("t", "task", 0, prior, 0.5, 6, seed=3)
    uniform = paired_spec("t", "task", 0, None, 0.5, 6, seed=3)
    assert all(a.filters == (OPTIONS[5],) * N_LAYERS for a in spec.archs[:3])  # round(0.5 x 6) from the prior
    assert [a.id for a in spec.archs[3:]] == [a.id for a in uniform.archs[3:]]  # common random numbers


def test_the_default_evaluation_inputs_are_seeded_by_task_and_run():
    env = Environment(["a"], ["b"], 6, 0, features=lambda pairs: np.zeros((len(pairs), N_LAYERS)), run=lambda s: [])
    assert env.eval_input("a", 1).id == env.eval_input("a", 1).id
    assert len({env.eval_input("a", k).id for k in range(5)}) > 1 and env.first_baseline("a") == 0.0
    assert [a.id for a in env.eval_spec("x", "a", 2, None).archs] == [a.id for a in paired_spec("x", "a", 2, None, 1.0, 6, 0).archs]
