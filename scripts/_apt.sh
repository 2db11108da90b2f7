# Sourced by the data installers (install_fashion_mnist.sh, install_noto_fonts.sh): one way to install a Debian
# package where apt is usable (as root, or with passwordless sudo), saying how to get it elsewhere. Never fails:
# `minas run` stops before any work, naming the same fix, when the data is still missing.
# apt_where_usable PACKAGE NO_ROOT_MESSAGE APT_FAILED_MESSAGE
apt_where_usable() {
  local pkg=$1 no_root=$2 failed=$3 sudo
  if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
    printf '%s\n' "$no_root" >&2
    return 0
  fi
  command -v apt-get >/dev/null || return 0
  $sudo apt-get install -y -q "$pkg" >/dev/null 2>&1 \
    || { $sudo apt-get update -q >/dev/null 2>&1 && $sudo apt-get install -y -q "$pkg" >/dev/null 2>&1; } \
    || printf '%s\n' "$failed" >&2
  return 0
}
