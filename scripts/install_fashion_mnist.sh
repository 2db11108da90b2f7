#!/usr/bin/env bash
# Installs Debian's dataset-fashion-mnist (Fashion-MNIST as IDX files under /usr/share/datasets/fashion-mnist)
# where apt is usable: as root, or with passwordless sudo. Elsewhere it says how to get the files and exits 0:
# `minas run` then stops before any work with the same three ways if the default profile needs them.
set -u
DIR=/usr/share/datasets/fashion-mnist
[ -f "$DIR/train-images-idx3-ubyte.gz" ] && exit 0
. "$(dirname "$0")/_apt.sh"
apt_where_usable dataset-fashion-mnist \
  "minas: Fashion-MNIST is not installed and apt needs root here. Get it one of three ways:
  (1) sudo apt-get install dataset-fashion-mnist; (2) --set data.download=true on a machine with internet;
  (3) copy the four *-ubyte.gz files into <data.root>/fashion-mnist (data.root: ~/.cache/minas/data)." \
  "minas: apt-get could not install dataset-fashion-mnist; see docs/data.md for the other two ways"
exit 0
