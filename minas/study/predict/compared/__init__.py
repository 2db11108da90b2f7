"""The predictors Experiment 1 compares, one registered object each (`minas.core.registry.PREDICTORS`).

Source: Kossmann 2019 (thesis), Table 3.1 and sec. 3.1. Every module of this package is imported when the
registry is first read (the registry's provider is this package), so a new predictor is one module here
that calls `slot.register(...)`: `baselines` (fixed predictions), `networks` (the thesis MLP fed one
feature each), `gaussians` (the 20-parameter Gaussian + X), `descriptors` and `task_mean_mi` (issue 31's
controls). Imports: the predict room's `slot`, `features`, `fits` only.
"""
import importlib
import pkgutil

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")
