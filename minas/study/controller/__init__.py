"""The REINFORCE controller that predicts Hyperband priors from an input sample (thesis Experiment 2).

Sources: Williams 1992 (REINFORCE); Kossmann 2019 (thesis) section 2.3, Algorithm 1, Table 3.2.
Three ideas, one module each: the `policy` (input sample -> prior, drawing inputs, the loss),
its `training` loop (Algorithm 1, each iteration stored as a `records` entry and resumable) in an injected
`environment` (MI features and Hyperband runs), and the `evaluation` of trained priors (Table 3.2,
training curves, collapse). `from minas.study import controller as ctl` then `ctl.train_controller`
is the reader's entry point; everything public is re-exported here.
"""
from minas.study.controller.environment import (
    Environment,
    paired_spec,
    store_environment,
)
from minas.study.controller.evaluation import (
    THESIS_TABLE_3_2,
    collapse_table,
    compare_to_uniform,
    evaluate_priors,
    evaluate_runs,
    history_frame,
    prior_frame,
    score_table,
    seed_table,
    table_3_2,
)
from minas.study.controller.policy import (
    COLLAPSE_PROB,
    EXPERIMENTS,
    HIDDEN,
    Draw,
    Policy,
    collapsed,
    draw_inputs,
    entropy,
    input_vector,
    make_optimizer,
    new_policy,
    paired_draw,
    reinforce_loss,
)
from minas.study.controller.records import ControllerRun, Iteration, load_run
from minas.study.controller.training import (
    iteration_plan,
    planned_inputs,
    run_iteration,
    train_controller,
    train_controllers,
)

__all__ = [
    "COLLAPSE_PROB",
    "EXPERIMENTS",
    "HIDDEN",
    "THESIS_TABLE_3_2",
    "ControllerRun",
    "Draw",
    "Environment",
    "Iteration",
    "Policy",
    "collapse_table",
    "collapsed",
    "compare_to_uniform",
    "draw_inputs",
    "entropy",
    "evaluate_priors",
    "evaluate_runs",
    "history_frame",
    "input_vector",
    "iteration_plan",
    "load_run",
    "make_optimizer",
    "planned_inputs",
    "new_policy",
    "paired_draw",
    "paired_spec",
    "prior_frame",
    "reinforce_loss",
    "run_iteration",
    "score_table",
    "seed_table",
    "store_environment",
    "table_3_2",
    "train_controller",
    "train_controllers",
]
