"""Predicting Hyperband posteriors from input samples: thesis Experiment 1 (Table 3.1).

Source: Kossmann 2019 (thesis), Def. 2.3, sec. 3.1, A.1. Four ideas, one module each: the
`predictors` (input-sample / clean-posterior pairs, the thesis MLP, the fitted Gaussian, the noise
floor), the `experiment` that scores every predictor and baseline on the same held-out pairs
(Table 3.1, paired comparisons, intervals, the noise-column control and the low-variance
"Gaussian + X"), `crossval`, the same experiment leave-one-source-out with independent image sources
as the unit of evidence, and `seeds`, its comparisons pooled over collection seeds. Beside them, what
Experiment 1 could have found: the question's `gate` (is there anything task-specific to predict: tau^2 of single
posteriors' summaries), the signal `budget` of a run (floor, G, s), `refit` (Gaussian + X tested with refits),
`accounting` (the named family, Holm), `synthetic` planted collections and the `power` they give (modules of their
own, imported by name: `from minas.study.predict import power`).
`from minas.study import predict` then `predict.run_experiment` is the reader's entry point; everything
public is re-exported here.
"""
from minas.study.predict.crossval import CV_METHODS, CrossValidation, cv_signals, run_cross_validation, task_means
from minas.study.predict.experiment import (
    THESIS_SCALE,
    THESIS_TABLE_3_1,
    Experiment1,
    default_signals,
    holdout_split,
    example_frame,
    mse_intervals,
    pair_mse,
    run_experiment,
    score_split,
    table_3_1,
)
from minas.study.predict.seeds import (
    SeedPooling,
    pool_seeds,
    pooling_note,
    run_seed_pooling,
    seed_experiments,
    task_differences,
)
from minas.study.predict.predictors import (
    Pairs,
    PosteriorMLP,
    SignalGaussian,
    TrainedMLP,
    build_pairs,
    fit_gaussian,
    fit_signal_gaussian,
    noise_summary,
    signal_matrix,
    task_noise,
    task_sources,
    train_mlp,
)

__all__ = [
    "CV_METHODS", "CrossValidation", "cv_signals", "run_cross_validation", "score_split", "task_means", "THESIS_SCALE", "THESIS_TABLE_3_1", "Experiment1", "Pairs", "PosteriorMLP", "TrainedMLP", "build_pairs",
    "default_signals", "example_frame", "fit_gaussian", "fit_signal_gaussian", "SignalGaussian", "holdout_split",
    "task_noise", "task_sources", "mse_intervals", "noise_summary", "pair_mse",
    "run_experiment", "signal_matrix", "table_3_1", "train_mlp",
    "SeedPooling", "pool_seeds", "pooling_note", "run_seed_pooling", "seed_experiments", "task_differences",
]
