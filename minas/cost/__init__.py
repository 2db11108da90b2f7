"""cost: what a series will cost before it runs. `plan` counts a profile's work (`minas plan`),
`throughput` prices it from a calibration measured on this machine or read from a file.

May import: core, stats, data, nas, mi, study.
"""
