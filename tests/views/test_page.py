"""minas.views.page: the report leads with the verdict, embeds every figure, collapses its tables, ends with provenance."""
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

import minas
from minas.views import page


def test_report_leads_with_the_answer_and_is_self_contained(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    png = tmp_path / "f.png"
    fig.savefig(png)
    table = pd.DataFrame({"method": ["NN + MI", "Uniform"], "test_mse": [1.234e-3, 4.5e-3]})
    text = page.html_report("minas <report>", ["MI does not help: +0.1 (95% CI -0.2 to +0.3)."],
                            {"a figure": fig}, {"Table 3.1": table}, {"commit": "abc123", "seed": "0"},
                            more_figures={"from a file": png}, notes=["NN + MI is not better"])
    plt.close(fig)
    assert text.count("data:image/png;base64,") == 2
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//)""", text, re.I)
    assert "<link" not in text and "<script" not in text and "minas &lt;report&gt;" in text
    order = [text.index(f"id='{s}'") for s in ("verdict", "figures", "more-figures", "findings", "tables", "provenance")]
    assert order == sorted(order), "verdict, figures, more figures, findings, tables, provenance: in that order"
    assert "<details><summary>Table 3.1</summary><table" in text and "0.001234" in text
    assert "<dt>commit</dt><dd>abc123</dd>" in text
    cfg = minas.load("smoke", output_dir=str(tmp_path / "out"))
    path = page.write_report(cfg, text)
    assert path == cfg.out / "report.html" and path.read_text() == text


def test_the_answer_opens_with_numbered_sentences_then_their_table(tmp_path):
    lead = pd.DataFrame({"finding": [1, 2], "quantity": ["NN + MI minus NN + accuracy", "power"],
                         "value": ["+0.004", "0.25"], "95% CI": ["[-0.001, +0.009]", "[0.127, 0.412]"], "sources": ["3", "6"]})
    fig, ax = plt.subplots()
    text = page.html_report("r", ["MI does not help.", "A null is absence of evidence."], {"Table 3.1": fig}, {},
                            lead_table=lead, lead_note="MSE on the per-layer scale.")
    plt.close(fig)
    verdict = text[text.index("id='verdict'"):text.index("id='figures'")]
    assert "<ol><li>MI does not help.</li><li>A null is absence of evidence.</li></ol>" in verdict
    assert verdict.index("</ol>") < verdict.index("<table") and "[-0.001, +0.009]" in verdict and "per-layer scale" in verdict
    assert "<th>95% CI</th>" in verdict and "<th>sources</th>" in verdict
    plain = page.html_report("r", ["one sentence"], {}, {})
    assert "<p>one sentence</p>" in plain and "<ol>" not in plain  # without a table: paragraphs, as before
