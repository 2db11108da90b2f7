"""Notebook 04's design numbers that are not profile settings, read by the notebook and by `minas.cost`.

The cross-validation over sources (`crossval.run_cross_validation`) trains each fold's predictors with
CROSSVAL_SEEDS seeds at half the profile's predictor epochs (issue 23: three seeds cross the interval
with predictor noise; half the epochs keep 04 within the hour, since a fold trains on most tasks).
"""
from __future__ import annotations

CROSSVAL_SEEDS = 3  # predictor trainings per (fold, signal)


def crossval_settings(cfg) -> dict:
    """`run_cross_validation`'s seeds and epochs in notebook 04: CROSSVAL_SEEDS x half of predict.epochs (>= 1)."""
    return {"seeds": CROSSVAL_SEEDS, "epochs": max(1, cfg.predict.epochs // 2)}
