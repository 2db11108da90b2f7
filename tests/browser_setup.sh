#!/usr/bin/env bash
# Installs what tests/test_browser.py needs, and nothing when it is already there (idempotent):
#   - Debian's Chromium at /usr/bin/chromium (apt; needs root, or passwordless sudo);
#   - the Python package `playwright` in the interpreter given as $1 (default: python3), from PyPI.
# Playwright drives Debian's browser (executable_path=/usr/bin/chromium); `playwright install`
# (its own browser download) is never run. Usage: tests/browser_setup.sh [/path/to/python]
set -euo pipefail
PY="${1:-python3}"
CHROMIUM="${MINAS_CHROMIUM:-/usr/bin/chromium}"  # overridable for tests/test_browser_setup.py

if [ ! -x "$CHROMIUM" ]; then
    if [ "$(id -u)" -eq 0 ]; then
        SUDO=""
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "browser_setup: $CHROMIUM is missing and installing it needs root;" \
             "run 'apt-get install chromium' as root, or set MINAS_SKIP_BROWSER=1" >&2
        exit 3  # tests/test_browser.py skips on this code (cannot install), fails on any other
    fi
    echo "browser_setup: installing Debian's chromium (apt-get)" >&2
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
"$CHROMIUM" --version >/dev/null 2>&1 || { echo "browser_setup: $CHROMIUM does not run" >&2; exit 1; }

if ! "$PY" -c "import playwright.sync_api" 2>/dev/null; then
    echo "browser_setup: pip install playwright into $PY" >&2
    "$PY" -m pip install --quiet playwright
fi
"$PY" -c "import playwright.sync_api" || { echo "browser_setup: playwright does not import in $PY" >&2; exit 1; }
echo "browser_setup: ready ($("$CHROMIUM" --version 2>/dev/null), playwright in $PY)" >&2
