# Sourced by scripts/install-*.sh: installs one of Debian's packages with apt-get when we are root
# on a Debian-like system; otherwise prints what to do instead and exits 1.
#   install_debian_package PACKAGE PURPOSE OTHERWISE [apt-get install options…]
install_debian_package() {
  local package=$1 purpose=$2 otherwise=$3
  shift 3
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "$otherwise" >&2
    exit 1
  fi
  echo "Installing Debian's $package for $purpose …" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" "$package" >/dev/null
}
