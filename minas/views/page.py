"""The self-contained HTML report: the verdict first, then the figures that carry it, the tables, provenance.

Source of its content: the thesis's question and tables (Kossmann 2019) as answered by one run.
One file, no external resource: figures are embedded as base64 PNGs, tables collapse in `<details>`.
Element ids (`verdict`, `figures`, `tables`, `provenance`) let the browser test find each part.
"""
from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import pandas as pd

from minas.core.config import StudyConfig

CSS = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.45}"
       "#verdict{font-size:1.12em;background:#f4f7fb;border-left:4px solid #3465a4;padding:.6em 1em}"
       "figure{margin:1.5em 0}figcaption{font-size:.9em;color:#444}img{max-width:100%}"
       "table{border-collapse:collapse;font-size:12px;margin:.6em 0}td,th{border:1px solid #ccc;padding:2px 6px}"
       "details{margin:.4em 0}summary{cursor:pointer;font-weight:bold}"
       "footer{margin-top:2em;font-size:.85em;color:#444;border-top:1px solid #ccc}dt{font-weight:bold}"
       "table.lead{font-size:14px;background:#fff}.unit{font-size:.85em;color:#444}")


def png_bytes(figure) -> bytes:
    """PNG of a matplotlib figure / seaborn grid, or the bytes of a PNG file path."""
    if isinstance(figure, (str, Path)):
        return Path(figure).read_bytes()
    fig = getattr(figure, "figure", figure)  # seaborn FacetGrid -> its Figure
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return buf.getvalue()


def _img(name: str, fig, caption: str = "") -> str:
    data = base64.b64encode(png_bytes(fig)).decode("ascii")
    cap = html.escape(caption or name)
    return f"<figure><img alt='{html.escape(name)}' src='data:image/png;base64,{data}'><figcaption>{cap}</figcaption></figure>"


def _table(df: pd.DataFrame, float_format: str) -> str:
    return df.to_html(index=False, border=0, na_rep="", float_format=lambda x: float_format.format(x))


def _answer(verdict: list[str], lead_table: pd.DataFrame | None, lead_note: str) -> str:
    esc = html.escape
    if lead_table is None:  # sentences alone, one paragraph each
        return "".join(f"<p>{esc(s)}</p>" for s in verdict)
    return ("<ol>" + "".join(f"<li>{esc(s)}</li>" for s in verdict) + "</ol>"
            + lead_table.to_html(index=False, border=0, na_rep="", classes="lead")
            + (f"<p class='unit'>{esc(lead_note)}</p>" if lead_note else ""))


def html_report(title: str, verdict: list[str], figures: dict, tables: dict, provenance: dict | None = None,
                more_figures: dict | None = None, notes: list[str] = (), float_format: str = "{:.4g}",
                lead_table: pd.DataFrame | None = None, lead_note: str = "") -> str:
    """One HTML page: verdict sentences, key figures, further figures and tables collapsed, findings, provenance.

    figures / more_figures: title -> matplotlib figure or PNG path; tables: title -> DataFrame. `lead_table` (the
    numbers behind the sentences, `minas.views.lead`) follows the sentences, numbered then, with `lead_note` (the unit).
    """
    esc = html.escape
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{esc(title)}</title>",
             f"<style>{CSS}</style></head><body>", f"<h1>{esc(title)}</h1>",
             "<section id='verdict'><h2>The answer</h2>" + _answer(verdict, lead_table, lead_note) + "</section>",
             "<section id='figures'><h2>What carries it</h2>" + "".join(_img(n, f) for n, f in figures.items()) + "</section>"]
    if more_figures:
        parts.append("<section id='more-figures'><h2>More figures</h2>" + "".join(
            f"<details><summary>{esc(n)}</summary>{_img(n, f)}</details>" for n, f in more_figures.items()) + "</section>")
    if notes:
        parts.append("<section id='findings'><h2>Every finding, in numbers</h2><ul>"
                     + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul></section>")
    parts.append("<section id='tables'><h2>Tables</h2>" + "".join(
        f"<details><summary>{esc(n)}</summary>{_table(df, float_format)}</details>" for n, df in tables.items()) + "</section>")
    if provenance:
        parts.append("<footer id='provenance'><h2>Provenance</h2><dl>"
                     + "".join(f"<dt>{esc(k)}</dt><dd>{esc(str(v))}</dd>" for k, v in provenance.items()) + "</dl></footer>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(cfg: StudyConfig, text: str, name: str = "report.html") -> Path:
    """Write the report to outputs/<profile>/<name>."""
    path = cfg.out / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
