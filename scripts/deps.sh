#!/bin/sh
# deps.sh: installs the Debian packages sift builds and tests with, when missing.
pkgs="libmsgpack-dev libutf8proc-dev libopenblas-dev libjansson-dev pkg-config
bats bats-assert bats-support mandoc jq shellcheck bsdextrautils clang libclang-rt-14-dev python3-pip
openmpi-bin libopenmpi-dev parallel libdnnl-dev"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "sift: installing$missing"
sudo=
[ "$(id -u)" -ne 0 ] && sudo=sudo
$sudo apt-get update -qq || exit 1
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null || exit 1
