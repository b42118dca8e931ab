#!/usr/bin/env bash
# Assembles a ready-to-copy Raspberry Pi 4 boot partition for InferPi in build/sdcard/:
# the GPU firmware (start4.elf, fixup4.dat) from Debian's raspi-firmware package
# (non-free-firmware component, fetched from the mirror this machine's apt already
# uses, without changing its apt configuration), sdcard/config.txt, kernel8.img and
# the two demo models (each top-level directory with a model.bin is a model the
# firmware offers). Copy the folder's contents to a FAT32-formatted SD card.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/sdcard
[ -f build/kernel8.img ] || { echo "sdcard: build/kernel8.img missing: run 'make firmware' first" >&2; exit 1; }

mirror=""
if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
	mirror=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources)
fi
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
	mirror=$(awk '$1=="deb" && $0 !~ /security/ {for(i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list)
fi
[ -n "$mirror" ] || { echo "sdcard: no Debian mirror found in /etc/apt/sources.list*" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "deb $mirror bookworm non-free-firmware" >"$work/sources.list"
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
apt_opts=(-o Dir::Etc::SourceList="$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o Dir::State::Lists="$work/lists" -o Dir::Cache="$work/cache" -o APT::Sandbox::User=root)
apt-get -qq "${apt_opts[@]}" update
(cd "$work" && apt-get -qq "${apt_opts[@]}" download raspi-firmware)
dpkg-deb -x "$work"/raspi-firmware_*.deb "$work/pkg"

rm -rf "$out"
mkdir -p "$out"
cp "$work/pkg/usr/lib/raspi-firmware/start4.elf" "$work/pkg/usr/lib/raspi-firmware/fixup4.dat" "$out/"
cp sdcard/config.txt build/kernel8.img "$out/"
cp -r models/llama-demo models/nanochat-demo "$out/"
version=$(dpkg-deb -f "$work"/raspi-firmware_*.deb Version)
echo "raspi-firmware $version" >"$out/FIRMWARE-VERSION.txt"
echo "Boot partition ready in $out/ (firmware $version):"
ls -l "$out"
