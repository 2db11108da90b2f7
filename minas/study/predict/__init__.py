"""Predicting Hyperband posteriors from input samples: thesis Experiment 1 (Table 3.1).

Source: Kossmann 2019 (thesis), Def. 2.3, sec. 3.1, A.1. The predictor slot first: `slot` (a predictor is one
registered object; `lineup` binds them to a collection's signals), `features` (what a predictor reads beside
the architecture), `fits` (fixed, Gaussian + X, the thesis MLP) and the package `compared` (one module per group
of predictors, each registered). Then four ideas, one module each: the
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
from minas.study.predict.crossval import CrossValidation, run_cross_validation, task_means
from minas.study.predict.experiment import (
    THESIS_SCALE,
    THESIS_TABLE_3_1,
    Experiment1,
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
from minas.study.predict.features import AccuracyFeature, NoFeature, NoiseFeature, SignalFeature
from minas.study.predict.fits import GAUSSIAN, GROUPED_GAUSSIAN, MLP, Fixed
from minas.study.predict.slot import PosteriorPredictor, comparisons, lineup, register
from minas.study.predict.predictors import (
    Pairs,
    PosteriorMLP,
    SignalGaussian,
    TrainedMLP,
    build_pairs,
    fit_gaussian,
    fit_signal_gaussian,
    noise_summary,
    task_noise,
    task_sources,
    train_mlp,
)

__all__ = [
    "CrossValidation", "run_cross_validation", "score_split", "task_means", "THESIS_SCALE", "THESIS_TABLE_3_1", "Experiment1", "Pairs", "PosteriorMLP", "TrainedMLP", "build_pairs",
    "example_frame", "fit_gaussian", "fit_signal_gaussian", "SignalGaussian", "holdout_split",
    "task_noise", "task_sources", "mse_intervals", "noise_summary", "pair_mse",
    "run_experiment", "table_3_1", "train_mlp",
    "PosteriorPredictor", "lineup", "comparisons", "register", "SignalFeature", "AccuracyFeature", "NoiseFeature",
    "NoFeature", "Fixed", "GAUSSIAN", "GROUPED_GAUSSIAN", "MLP",
    "SeedPooling", "pool_seeds", "pooling_note", "run_seed_pooling", "seed_experiments", "task_differences",
]
