"""End to end in a real browser: JupyterLab serves the executed analysis notebook, headless Chromium runs it,
and the per-layer MI widget (`minas.views.widgets.MIExplorer`) must render and redraw when a dropdown changes;
and the run's `report.html` (`minas.views.page`) must show its verdict and every figure with no broken image; and
README.md, rendered as a code host renders it, must show the Table 3.1 figure it opens with.

Debian's Chromium is driven by Playwright's Python package; `tests/browser_setup.sh` installs both when
missing (apt-get and pip; never `playwright install`). Set MINAS_SKIP_BROWSER=1 to skip this test;
MINAS_BROWSER_NOTEBOOK=/path/to/executed.ipynb runs it on that notebook instead of the smoke run's, and
MINAS_BROWSER_REPORT=/path/to/report.html the report check on that report.
Screenshots go to the test's tmp_path and to outputs/browser/.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.browser

NOTEBOOK = "06_analysis.ipynb"  # executed by the smoke run, holds its injected parameters cell
ROOT = Path(__file__).resolve().parents[1]
SETUP = ROOT / "tests" / "browser_setup.sh"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_S = {"setup": 600, "server": 90, "page": 90, "kernel": 90, "run_all": 300, "redraw": 60}


@pytest.fixture(scope="module")
def browser_ready():
    """Chromium and playwright are installed (by tests/browser_setup.sh), or the test fails saying why."""
    if os.environ.get("MINAS_SKIP_BROWSER") == "1":
        pytest.skip("MINAS_SKIP_BROWSER=1")
    try:
        r = subprocess.run(["bash", str(SETUP), sys.executable], capture_output=True, text=True,
                           timeout=TIMEOUT_S["setup"])
    except subprocess.TimeoutExpired:
        pytest.fail(f"{SETUP} took over {TIMEOUT_S['setup']} s; run it by hand to see why (or MINAS_SKIP_BROWSER=1)")
    judge_setup(r.returncode, r.stdout, r.stderr)


def judge_setup(returncode: int, stdout: str = "", stderr: str = "") -> None:
    """What the installer's exit code means here: 0 run the test, 3 skip it (no Chromium and no root to install it:
    not this test's failure), any other code fail it, saying why."""
    if returncode == 3:
        pytest.skip(f"Chromium is not installed at {CHROMIUM} and installing it needs root "
                    f"(apt-get install chromium as root enables this test)")
    if returncode:
        pytest.fail(f"{SETUP} failed (exit {returncode}); install Chromium/playwright by hand or set "
                    f"MINAS_SKIP_BROWSER=1:\n{stdout[-2000:]}\n{stderr[-3000:]}")


def executed_notebook(request) -> Path:
    """The executed notebook to open: MINAS_BROWSER_NOTEBOOK, else NOTEBOOK from the session's smoke run."""
    if os.environ.get("MINAS_BROWSER_NOTEBOOK"):
        path = Path(os.environ["MINAS_BROWSER_NOTEBOOK"])
    else:
        out, _overrides, _done = request.getfixturevalue("smoke_run")
        path = Path(out) / "notebooks" / NOTEBOOK
    if not path.is_file():
        pytest.fail(f"no executed notebook at {path}: the smoke run must produce {NOTEBOOK} "
                    f"(or point MINAS_BROWSER_NOTEBOOK at an executed notebook that shows mi_explorer)")
    return path


def serve_copy(src: Path, root: Path) -> Path:
    """Copy `src` into the served folder with its outputs cleared, its run's output folder copied beside it.

    The injected parameters cell then points `output_dir` at the copy, so the browser's run does not
    rewrite the session's smoke outputs that other tests read; `checkpoints/` (a large cache) is linked.
    """
    out = src.parent.parent  # <output_dir>/notebooks/<name>.ipynb
    copy = root / "output"
    copy.mkdir(parents=True)
    for item in out.iterdir():
        if item.name == "checkpoints":
            (copy / item.name).symlink_to(item.resolve(), target_is_directory=True)
        elif item.is_dir() and item.name != "notebooks":
            shutil.copytree(item, copy / item.name)
        elif item.is_file():
            shutil.copy2(item, copy / item.name)
    nb = nbformat.read(src, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            if "injected-parameters" in cell.metadata.get("tags", []):
                cell.source += f'\noverrides = {{**overrides, "output_dir": {str(copy)!r}}}  # browser test\n'
    dest = root / src.name
    nbformat.write(nb, dest)
    return dest


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lab_env(home: Path) -> dict:
    """Environment for a JupyterLab isolated from the user's settings: all cells attached, no news popup."""
    settings = home / "lab-settings"
    tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True, exist_ok=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    notification = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True, exist_ok=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
               JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               MPLBACKEND="module://matplotlib_inline.backend_inline")
    return env


def start_lab(root: Path, home: Path, log: Path) -> tuple[subprocess.Popen, str, str]:
    """Start `jupyter lab` on a free localhost port; returns (process, base url, token) once it answers."""
    port, token = free_port(), secrets.token_hex(16)
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0",
           "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    cmd += ["--allow-root"] if os.geteuid() == 0 else []  # CI runs as root
    proc = subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, env=lab_env(home),
                            cwd=root, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + TIMEOUT_S["server"]
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"jupyter lab exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5) as r:
                if r.status == 200:
                    return proc, url, token
        except OSError:
            time.sleep(0.5)
    stop(proc)
    pytest.fail(f"jupyter lab did not answer within {TIMEOUT_S['server']} s:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen) -> None:
    """Stop the server and its kernels (its own process group): SIGTERM, then SIGKILL after 15 s."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


KERNEL_IDLE = """() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!(k && w.sessionContext.isReady && k.status === 'idle'); }"""
RUN_ALL = """() => { window.__minasRunAll = undefined;
  window.jupyterapp.commands.execute('notebook:run-all-cells').then(
    r => { window.__minasRunAll = String(r); }, e => { window.__minasRunAll = 'error: ' + e; }); }"""
EXPLORER = ".widget-vbox:has(> .widget-hbox label.widget-label:text-is('method')):has(> .widget-output)"


def test_mi_widget_renders_and_redraws_in_jupyterlab(browser_ready, request, tmp_path):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect, sync_playwright

    src = executed_notebook(request)
    served = serve_copy(src, tmp_path / "served")
    shots = ROOT / "outputs" / "browser"
    shots.mkdir(parents=True, exist_ok=True)
    for old in shots.glob("*.png"):  # this run's screenshots only
        old.unlink()
    console: list[str] = []
    proc, url, token = start_lab(served.parent, tmp_path / "jupyter-home", tmp_path / "jupyter-lab.log")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type == "error" else None)
                page.goto(f"{url}/lab/tree/{served.name}?token={token}", timeout=TIMEOUT_S["page"] * 1000)
                page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=TIMEOUT_S["page"] * 1000)
                page.wait_for_function(KERNEL_IDLE, timeout=TIMEOUT_S["kernel"] * 1000)

                page.evaluate(RUN_ALL)
                page.wait_for_function("() => window.__minasRunAll !== undefined",
                                       timeout=TIMEOUT_S["run_all"] * 1000, polling=500)
                errors = page.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.error'], "
                                      ".jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']"
                                      ":has-text('Traceback')")
                if errors.count():
                    page.screenshot(path=str(tmp_path / "error.png"))
                    pytest.fail(f"a cell failed in the browser:\n{errors.first.inner_text()[-3000:]}")
                assert page.evaluate("() => window.__minasRunAll") == "true", "run-all-cells did not succeed"

                explorer = page.locator(EXPLORER).first
                try:
                    explorer.wait_for(state="visible", timeout=TIMEOUT_S["redraw"] * 1000)
                except PlaywrightTimeout:
                    page.screenshot(path=str(tmp_path / "no_widget.png"))
                    pytest.fail(f"{served.name} ran, but no MI explorer (task/arch/method dropdowns over an output) "
                                f"rendered within {TIMEOUT_S['redraw']} s; see outputs/browser/no_widget.png")
                image = explorer.locator(".widget-output img")
                image.wait_for(state="visible", timeout=TIMEOUT_S["redraw"] * 1000)
                before = image.get_attribute("src")
                marker = explorer.locator(".minas-redraw-marker")
                marked = marker.inner_text() if marker.count() else None
                explorer.scroll_into_view_if_needed()
                explorer.screenshot(path=str(tmp_path / "mi_widget_before.png"))

                selects = explorer.locator(".widget-dropdown select")
                assert selects.count() == 3, f"MI explorer shows {selects.count()} dropdowns, expected task/arch/method"
                choices = [selects.nth(i).locator("option").all_inner_texts() for i in range(3)]
                pick = next((i for i, c in enumerate(choices) if len(c) > 1), None)
                assert pick is not None, f"every MI explorer dropdown has one option ({choices}); nothing to change"
                current = selects.nth(pick).evaluate("s => s.options[s.selectedIndex].text")
                target = next(c for c in choices[pick] if c != current)
                selects.nth(pick).select_option(label=target)

                expect(image).not_to_have_attribute("src", before, timeout=TIMEOUT_S["redraw"] * 1000)
                after = image.get_attribute("src")
                assert after and after != before and after.startswith("data:image/png")
                if marked is not None:  # the visible "drawn N times: task / arch / method" line moved on too
                    expect(marker).not_to_have_text(marked, timeout=TIMEOUT_S["redraw"] * 1000)
                    assert target in marker.inner_text()
                explorer.scroll_into_view_if_needed()
                explorer.screenshot(path=str(tmp_path / "mi_widget_after.png"))
                page.screenshot(path=str(tmp_path / "lab_after.png"))
            finally:
                browser.close()
    finally:
        stop(proc)
        for png in tmp_path.glob("*.png"):
            shutil.copy(png, shots / png.name)
        print("browser console errors:", *console[-20:], sep="\n  ")  # shown by pytest when the test fails


IMAGES = """() => Array.from(document.images).map(i => ({alt: i.alt, ok: i.complete && i.naturalWidth > 0,
  width: i.getBoundingClientRect().width}))"""


def report_path(request) -> Path:
    """The report to open: MINAS_BROWSER_REPORT, else the session smoke run's report.html."""
    if os.environ.get("MINAS_BROWSER_REPORT"):
        return Path(os.environ["MINAS_BROWSER_REPORT"])
    out, _overrides, _done = request.getfixturevalue("smoke_run")
    return Path(out) / "report.html"


def test_report_shows_its_verdict_and_every_figure(browser_ready, request, tmp_path):
    from playwright.sync_api import sync_playwright

    path = report_path(request)
    if not path.is_file():
        pytest.fail(f"no report at {path}: notebook 06 writes it (python -m minas run --profile smoke --only 06)")
    n_embedded = path.read_text().count("data:image/png;base64,")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
            page.goto(path.resolve().as_uri(), timeout=TIMEOUT_S["page"] * 1000)
            verdict = page.locator("#verdict")
            assert verdict.is_visible() and len(verdict.inner_text()) > 100, "the report must open with its verdict"
            top = page.evaluate("() => document.querySelector('#verdict').getBoundingClientRect().top")
            assert top < 300, f"the verdict starts {top:.0f} px down the page; it must be the first thing a reader sees"
            page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
            page.wait_for_function("() => Array.from(document.images).every(i => i.complete)", timeout=TIMEOUT_S["page"] * 1000)
            images = page.evaluate(IMAGES)
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
            assert len(images) == n_embedded > 0, f"{len(images)} <img> elements for {n_embedded} embedded figures"
            broken = [i["alt"] for i in images if not i["ok"] or i["width"] < 50]
            assert not broken, f"broken or invisible figures in {path.name}: {broken}"
            assert page.locator("#provenance").is_visible() and "commit" in page.locator("#provenance").inner_text()
            lead = page.locator("#verdict table")  # the answer: numbered plain sentences, then the table of their numbers
            assert page.locator("#verdict ol li").count() >= 3 and lead.is_visible() and "95% CI" in lead.inner_text()
            assert not requests, f"the report fetched external resources: {requests[:5]}"
        finally:
            browser.close()
            shots = ROOT / "outputs" / "browser"
            shots.mkdir(parents=True, exist_ok=True)
            for png in tmp_path.glob("*.png"):
                shutil.copy(png, shots / png.name)


def test_front_page_shows_its_figure(browser_ready, tmp_path):
    """README.md rendered to HTML (mistune, which nbconvert brings), its links relative to the repository: the
    Table 3.1 figure loads, is wide enough to read and sits near the top."""
    import mistune
    from playwright.sync_api import sync_playwright

    body = mistune.html((ROOT / "README.md").read_text())
    page_file = tmp_path / "front.html"
    page_file.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><base href='{ROOT.as_uri()}/'></head>"
                         f"<body style='max-width:900px'>{body}</body></html>")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 900})
            page.goto(page_file.as_uri(), timeout=TIMEOUT_S["page"] * 1000)
            page.wait_for_function("() => Array.from(document.images).every(i => i.complete)", timeout=TIMEOUT_S["page"] * 1000)
            figures = [i for i in page.evaluate(IMAGES) if i["alt"].startswith("Table 3.1")]
            top = page.evaluate("() => document.images[0].getBoundingClientRect().top")
            page.screenshot(path=str(tmp_path / "front_page.png"), full_page=True)
            assert len(figures) == 1 and figures[0]["ok"], "README's Table 3.1 figure does not load"
            assert figures[0]["width"] >= 300 and top < 2000, f"the figure is {figures[0]['width']:.0f} px wide, {top:.0f} px down"
        finally:
            browser.close()
