# Helpers shared by the CI scripts, which `source` this file.

# A clean clone gains nothing from incremental builds, which add two thirds to target/'s size.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

have() { command -v "$1" >/dev/null 2>&1; }

# Prints a step's heading, with the seconds since the calling script started.
step() { printf '\n=== %s (%s at %ss)\n' "$*" "${0##*/}" "$SECONDS"; }

# Runs a command as root: directly when root, through sudo when it is there.
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif have sudo; then sudo -n "$@"
  else return 1
  fi
}

# Installs Debian packages with apt-get, or says which to install and fails.
apt_install() {
  if have apt-get && as_root true; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" &&
      return 0
  fi
  echo "Could not install $* (no apt-get, or no root or sudo). Install them, or your" \
    "system's equivalents, then run this again." >&2
  return 1
}
