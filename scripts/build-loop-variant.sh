#!/usr/bin/env bash
# Builds the loop driver of the lab VM's kernel with one of gate/loop_variants/*.diff applied (or none:
# "stock") and lays out a lib/modules/<release> tree in which that loop.ko replaces Debian's, ready for
# `torn gate --modules DIR` (docs/gate.md, "Mutants").
#
#   scripts/build-loop-variant.sh VARIANT OUTDIR [KERNEL_MODULES_DIR]
#
# VARIANT             "stock", a name in gate/loop_variants/ (without .diff), or a path to a .diff
# OUTDIR              where to build; OUTDIR/lib/modules/<release> is printed on stdout (the last line)
# KERNEL_MODULES_DIR  the lab kernel's lib/modules/<release> (default: the one torn's cache holds,
#                     $TORN_CACHE_DIR or ${XDG_CACHE_HOME:-~/.cache}/torn, kernels/<release>/root/...)
#
# Needs Debian's linux-source-6.1 (/usr/src/linux-source-6.1.tar.xz) and linux-headers-<release> of the
# same release as the lab kernel (scripts/install-deps.sh installs both). loop.c is taken from the
# source tarball, patched, and built out of tree (`obj-m := loop.o`, make -C the headers M=DIR modules);
# the kernel's module tree is hard-linked (copied when another file system) with loop.ko replaced and
# indexed by `depmod -b`. The module is unsigned: the guest loads it and taints the kernel (OE); its
# MODULE_VERSION is "torn-VARIANT", so torn gate's loop_module names the variant the guest ran.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 2 ] && [ $# -le 3 ] || { sed -n '6,12p' "$0" >&2; exit 2; }
variant=$1
out=$2
mods=${3:-}

if [ -z "$mods" ]; then
  cache=${TORN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/torn}
  for d in "$cache"/kernels/*/root/lib/modules/*; do
    rel=$(basename "$d")
    if [ -d "/usr/src/linux-headers-$rel" ]; then mods=$d; fi
  done
  [ -n "$mods" ] || { echo "build-loop-variant: no lab kernel with installed headers in $cache/kernels" \
                           "(run torn gate once to fetch it; install linux-headers-<release>)" >&2; exit 2; }
fi
[ -f "$mods/modules.dep" ] || { echo "build-loop-variant: $mods: no modules.dep" >&2; exit 2; }
mods=$(cd "$mods" && pwd)
release=$(basename "$mods")
headers=/usr/src/linux-headers-$release
[ -d "$headers" ] || { echo "build-loop-variant: $headers missing: apt-get install linux-headers-$release" >&2; exit 2; }
tarball=/usr/src/linux-source-6.1.tar.xz
[ -f "$tarball" ] || { echo "build-loop-variant: $tarball missing: apt-get install linux-source-6.1" >&2; exit 2; }

case "$variant" in
  stock) patch_file="" ;;
  */*|*.diff) patch_file=$variant ;;
  *) patch_file=$here/gate/loop_variants/$variant.diff ;;
esac
[ -z "$patch_file" ] || [ -f "$patch_file" ] || { echo "build-loop-variant: no variant $variant ($patch_file)" >&2; exit 2; }

mkdir -p "$out"
out=$(cd "$out" && pwd)
src=$out/src
rm -rf "$src" "$out/lib"
mkdir -p "$src"
# loop.c of Debian's source package, cached beside the tarball's mtime (extracting takes ~8 s).
cache_c=$out/loop.c.orig
if [ ! -f "$cache_c" ] || [ "$cache_c" -ot "$tarball" ]; then
  tar -xJOf "$tarball" linux-source-6.1/drivers/block/loop.c > "$cache_c.tmp"
  mv "$cache_c.tmp" "$cache_c"
fi
mkdir -p "$src/drivers/block"
cp "$cache_c" "$src/drivers/block/loop.c"
if [ -n "$patch_file" ]; then
  (cd "$src" && patch -s -p1 < "$patch_file") >&2
fi
mv "$src/drivers/block/loop.c" "$src/loop.c"
# Named in the guest's /sys/module/loop/version, which torn gate reports (loop_module).
printf '\nMODULE_VERSION("torn-%s");\n' "$(basename "${variant%.diff}")" >> "$src/loop.c"
rm -rf "$src/drivers"
echo 'obj-m := loop.o' > "$src/Kbuild"
make -s -C "$headers" M="$src" modules >"$out/build.log" 2>&1 || { cat "$out/build.log" >&2; exit 1; }

tree=$out/lib/modules/$release
mkdir -p "$tree"
for f in "$mods"/*; do
  name=$(basename "$f")
  case "$name" in
    modules.*) ;;   # depmod -b writes these anew
    *) cp -al "$f" "$tree/" 2>/dev/null || cp -a "$f" "$tree/" ;;
  esac
done
rel_ko=$(awk -F: '$1 ~ /\/loop\.ko(\.[a-z]+)?$/ {print $1; exit}' "$mods/modules.dep")
[ -n "$rel_ko" ] || { echo "build-loop-variant: no loop module in $mods/modules.dep" >&2; exit 1; }
rm -f "$tree/$rel_ko"
cp "$src/loop.ko" "$tree/${rel_ko%.ko*}.ko"
for f in modules.order modules.builtin modules.builtin.modinfo; do
  [ -f "$mods/$f" ] && cp "$mods/$f" "$tree/$f"
done
depmod -b "$out" "$release"
echo "$tree"
