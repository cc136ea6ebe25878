#!/bin/sh
# Install the Debian 12 packages hotline needs to build, test and run.
# As root it installs what is missing; otherwise it lists what is missing
# and says how to install it.  A no-op when everything is there.
set -eu

PKGS="gcc make pkg-config meson ninja-build clang libclang-rt-14-dev llvm
clang-format libsodium-dev libssl-dev libvpx-dev libopus-dev libjansson-dev
libwebsockets-dev libsqlite3-dev libnice-dev libsrtp2-dev libsdl2-dev coturn
time python3 iproute2 nftables"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "hotline: missing Debian packages:$missing" >&2
	echo "hotline: run 'make deps' as root (or: sudo apt-get install$missing)" >&2
	exit 1
fi
echo "hotline: installing missing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >&2
