"""views: what a reader sees. Tables, figures and metrics written to the outputs folder (`report`),
seaborn figures (`plots`) and ipywidgets explorers (`widgets`).

May import: core, data, nas, mi, study.
"""
