#!/usr/bin/env bash
# Installs Debian's dataset-fashion-mnist (Fashion-MNIST as IDX files under /usr/share/datasets/fashion-mnist)
# where apt is usable: as root, or with passwordless sudo. Elsewhere it says how to get the files and exits 0:
# `minas run` then stops before any work with the same three ways if the default profile needs them.
set -u
DIR=/usr/share/datasets/fashion-mnist
[ -f "$DIR/train-images-idx3-ubyte.gz" ] && exit 0
if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
  echo "minas: Fashion-MNIST is not installed and apt needs root here. Get it one of three ways:" >&2
  echo "  (1) sudo apt-get install dataset-fashion-mnist; (2) --set data.download=true on a machine with internet;" >&2
  echo "  (3) copy the four *-ubyte.gz files into <data.root>/fashion-mnist (data.root: ~/.cache/minas/data)." >&2
  exit 0
fi
if command -v apt-get >/dev/null; then
  $SUDO apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 \
    || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1; } \
    || echo "minas: apt-get could not install dataset-fashion-mnist; see README for the other two ways" >&2
fi
exit 0
