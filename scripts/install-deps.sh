#!/usr/bin/env bash
# Installs what InferPi's build and tests need on Debian 12 (bookworm):
#   qemu-system-arm (>= 9, from bookworm-backports) for the firmware tests,
#   qemu-user for running arm64 kernel tests on an x86 host,
#   mtools and dosfstools for FAT disk images.
# The backports mirror is derived from the machine's existing apt sources; no host name
# is written here. Safe to run repeatedly: it does nothing when everything is present.
set -euo pipefail

need_qemu_system() {
	command -v qemu-system-aarch64 >/dev/null 2>&1 || return 0
	local major
	major=$(qemu-system-aarch64 --version | sed -n 's/.*version \([0-9]*\)\..*/\1/p' | head -n1)
	[ "${major:-0}" -lt 9 ]
}

missing=()
need_qemu_system && missing+=(qemu-system-arm)
command -v qemu-aarch64 >/dev/null 2>&1 || command -v qemu-aarch64-static >/dev/null 2>&1 || missing+=(qemu-user-static)
command -v mcopy >/dev/null 2>&1 || missing+=(mtools)
command -v mkfs.fat >/dev/null 2>&1 || missing+=(dosfstools)
command -v sfdisk >/dev/null 2>&1 || missing+=(fdisk)
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

# The first URI of the main Debian archive from the existing sources (deb822 or one-line).
mirror=""
if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
	mirror=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources)
fi
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
	mirror=$(awk '$1=="deb" && $0 !~ /security/ {for(i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list)
fi
if [ -z "$mirror" ]; then
	echo "install-deps: cannot find a Debian mirror in /etc/apt/sources.list*" >&2
	exit 1
fi

list=/etc/apt/sources.list.d/inferpi-backports.list
if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
	echo "deb $mirror bookworm-backports main" | $SUDO tee "$list" >/dev/null
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# -t bookworm-backports lets QEMU's own dependencies (qemu-system-common, -data) come from
# backports too; packages that exist only in bookworm still come from bookworm.
$SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports "${missing[@]}" >/dev/null
