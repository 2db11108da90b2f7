"""nas: the search space (`space`: 4 layers x 23 filter options), the CNN (`cnn`: build, evaluate,
activations, trained one at a time), the training recipe every engine runs (`recipe`: epoch loop,
schedule, validation split, early stopping, resuming), where it trains (`device`: the device and
train.precision resolved on it), population training (`population`: many CNNs in one step) and
Hyperband (`hyperband`: score, bracket, posteriors).

May import: core.
"""
from minas.nas import cnn, device, hyperband, population, recipe, space
from minas.nas.space import (
           N_LAYERS,
           N_OPTIONS,
           ONE_HOT_SIZE,
           OPTIONS,
           Architecture,
           parse_architecture,
)

__all__ = ["cnn", "device", "hyperband", "population", "recipe", "space", "Architecture", "parse_architecture",
           "N_LAYERS", "N_OPTIONS", "ONE_HOT_SIZE", "OPTIONS"]
