#!/bin/sh
# Checks that the Debian packages named as arguments are installed. As root
# it installs the missing ones with apt-get; otherwise it prints the exact
# command to run and fails.
missing=""
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "medula needs these Debian/Ubuntu packages (or your system's equivalents):$missing" >&2
  exit 1
fi
if [ "$(id -u)" = 0 ]; then
  echo "installing:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null 2>&1 || true
  apt-get install -y -qq $missing >/dev/null || { echo "apt-get install failed for:$missing" >&2; exit 1; }
else
  echo "missing packages; run:" >&2
  echo "  sudo apt-get install$missing" >&2
  exit 1
fi
