#!/usr/bin/env bash
# Installs Debian's fonts-noto-core (the fonts of the glyphs-noto data family, ~50 writing systems, under
# /usr/share/fonts/truetype/noto) when the profile's data.source names glyphs-noto, where apt is usable: as root,
# or with passwordless sudo. Elsewhere it says how to get them and exits 0: `minas run` then stops before any
# work with the same fix. Usage: install_noto_fonts.sh PROFILE [PYTHON]
set -u
PROFILE=${1:-default}
PY=${2:-.venv/bin/python}
SOURCE=$("$PY" -c "import sys; from minas.core import config; print(config.load(sys.argv[1]).data.source)" "$PROFILE" 2>/dev/null) || exit 0
case "+$SOURCE+" in *+glyphs-noto+*) ;; *) exit 0 ;; esac
ls /usr/share/fonts/truetype/noto/NotoSans-*.tt[fc] >/dev/null 2>&1 && exit 0
. "$(dirname "$0")/_apt.sh"
apt_where_usable fonts-noto-core \
  "minas: profile $PROFILE renders glyphs from fonts-noto-core, which is not installed and apt needs root here:
  sudo apt-get install fonts-noto-core   (or set data.source to glyphs: matplotlib's DejaVu/STIX fonts)" \
  "minas: apt-get could not install fonts-noto-core; install it by hand or use data.source glyphs"
exit 0
