#!/usr/bin/env bash
# Downloads and unpacks the Debian kernels the guest rig boots and kmod/ is
# built against: Debian 12's default kernel (alias 6.1) and the newest one
# Debian 12 offers (alias 6.12). Nothing is installed into the host: the
# packages are fetched with `apt-get download` and unpacked with `dpkg -x`
# under .cache/vm/kernels/<release>/. Idempotent: a kernel already unpacked is
# kept, so a second run only asks apt-cache for the current package names.
#
# Usage: scripts/vm/fetch-kernels.sh [ALIAS...]   (default: all aliases)
# Prints one line "ALIAS RELEASE" per kernel on stdout.
set -euo pipefail
RIG_LOG_PREFIX=fetch-kernels
# shellcheck source=scripts/vm/lib.sh
source "$(dirname "$0")/lib.sh"

# The package a metapackage depends on first, e.g. linux-image-amd64 ->
# linux-image-6.1.0-56-amd64. The ABI number moves with every security
# update, so it is resolved each run rather than written down.
resolve_dependency() {
	local package="$1" pattern="$2"
	apt-cache depends "$package" 2>/dev/null |
		awk -v pat="$pattern" '$1 ~ /^\|?Depends:$/ && $2 ~ pat { print $2; exit }'
}

# Downloads PACKAGE at apt's candidate version into the deb cache unless that
# version's .deb is already there; prints the .deb's path. The version is part
# of the match: a package whose name does not carry the ABI (linux-kbuild-6.1)
# moves on with every kernel update, and a cached older build of it would not
# match the newer headers that need it.
download_deb() {
	local package="$1" version deb
	version="$(apt-cache policy "$package" 2>/dev/null | awk '$1 == "Candidate:" { print $2; exit }')"
	[[ -n "$version" && "$version" != "(none)" ]] ||
		rig_die "apt has no candidate for $package (run apt-get update?)"
	# apt-get download writes an epoch's colon as %3a.
	deb="$(find "$RIG_DEBS" -maxdepth 1 -name "${package}_${version//:/%3a}_*.deb" -print -quit)"
	if [[ -z "$deb" ]]; then
		rig_log "downloading $package $version"
		(cd "$RIG_DEBS" && apt-get download -q "$package=$version" 2>&1 | { grep -v 'unsandboxed as root' || true; } >&2) ||
			rig_die "apt-get download $package=$version failed (run apt-get update?)"
		deb="$(find "$RIG_DEBS" -maxdepth 1 -name "${package}_${version//:/%3a}_*.deb" -print -quit)"
		[[ -n "$deb" ]] || rig_die "apt-get download $package=$version produced no .deb"
	fi
	printf '%s\n' "$deb"
}

# The compressed payloads a bzImage may carry: magic bytes (as grep -P
# escapes) and the tool that decompresses each from stdin.
PAYLOADS=(
	'\xFD7zXZ\x00 xz' # CONFIG_KERNEL_XZ (Debian's 6.1)
	'\x28\xB5\x2F\xFD zstd' # CONFIG_KERNEL_ZSTD (Debian's 6.12)
	'\x1F\x8B\x08 gzip'
)

# Writes KDIR/vmlinux, the uncompressed kernel that qemu boots through its PVH
# entry point (the ELF note XEN_ELFNOTE_PHYS32_ENTRY, type 0x12; Debian builds
# with CONFIG_PVH). Under TCG the bzImage path spends about 3 s per boot in
# the firmware and the kernel's own decompressor; the kernel that then runs is
# the same binary either way. Leaves no vmlinux when no payload decompresses
# to an ELF image with that note: guests then boot vmlinuz as before.
stage_pvh_image() {
	local kdir="$1" vmlinuz="$1/vmlinuz" out="$1/vmlinux" tmp="$1/vmlinux.partial" entry magic tool offset
	for entry in "${PAYLOADS[@]}"; do
		read -r magic tool <<<"$entry"
		command -v "$tool" >/dev/null || continue
		while read -r offset; do
			# Each tool stops at its stream's end and complains about the
			# bytes after it (the bzImage's trailer); only the output counts.
			tail -c "+$((offset + 1))" "$vmlinuz" | "$tool" -dc 2>/dev/null >"$tmp" || true
			if [[ "$(head -c 4 "$tmp" | od -An -tx1 | tr -d ' ')" == 7f454c46 ]] &&
				readelf -n "$tmp" 2>/dev/null | grep -q 'Xen .*(0x00000012)'; then
				mv "$tmp" "$out"
				return 0
			fi
		done < <(LC_ALL=C grep -obUaP "$magic" "$vmlinuz" | cut -d: -f1)
	done
	rm -f "$tmp"
	rig_log "no PVH-bootable image in $vmlinuz: guests boot the bzImage"
}

# Unpacks the image, headers, headers-common and kbuild packages of RELEASE
# into a fresh directory, then moves it into place in one rename so a run
# interrupted half-way never leaves a kernel that looks complete.
unpack_kernel() {
	local release="$1" kdir staging headers_pkg package
	kdir="$(rig_kernel_dir "$release")"
	staging="$kdir.partial"
	headers_pkg="linux-headers-$release"
	local -a packages=("linux-image-$release" "$headers_pkg")
	while read -r package; do
		packages+=("$package")
	done < <(apt-cache depends "$headers_pkg" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^(linux-headers-.*-common|linux-kbuild-.*)$/ { print $2 }')
	[[ ${#packages[@]} -eq 4 ]] ||
		rig_die "could not resolve the headers' dependencies of $headers_pkg (got: ${packages[*]})"

	rm -rf "$staging"
	mkdir -p "$staging/root"
	for package in "${packages[@]}"; do
		dpkg -x "$(download_deb "$package")" "$staging/root"
	done

	# The arch headers' Makefile includes the common headers by absolute path
	# (/usr/src/linux-headers-X-common/Makefile); point it at the unpacked copy
	# so `make -C .../headers M=kmod` works without installing anything.
	local makefile="$staging/root/usr/src/linux-headers-$release/Makefile"
	[[ -f "$makefile" ]] || rig_die "$makefile missing from $headers_pkg"
	sed -i "s|^include /usr/src/|include $kdir/root/usr/src/|" "$makefile"
	grep -q "^include $kdir/root/usr/src/.*-common/Makefile" "$makefile" ||
		rig_die "unexpected headers Makefile in $headers_pkg: $(cat "$makefile")"

	ln -s "root/boot/vmlinuz-$release" "$staging/vmlinuz"
	ln -s "root/usr/src/linux-headers-$release" "$staging/headers"
	[[ -f "$staging/vmlinuz" ]] || rig_die "no vmlinuz in linux-image-$release"
	stage_pvh_image "$staging"
	printf '%s\n' "$release" >"$staging/release"

	rm -rf "$kdir"
	mv "$staging" "$kdir"
}

fetch_alias() {
	local alias="$1" meta release
	meta="linux-image-${RIG_KERNEL_META[$alias]:?unknown kernel alias $alias}"
	release="$(resolve_dependency "$meta" '^linux-image-')"
	release="${release#linux-image-}"
	if [[ -z "$release" ]]; then
		# No package lists (offline, or apt-get update never ran): keep using
		# what was fetched before rather than failing.
		release="$(rig_kernel_release "$alias")" ||
			rig_die "cannot resolve $meta (run apt-get update) and nothing cached for $alias"
		rig_log "apt-cache cannot resolve $meta; using cached $release"
	fi
	if [[ ! -f "$(rig_kernel_dir "$release")/release" ]]; then
		rig_log "fetching kernel $alias = $release"
		unpack_kernel "$release"
	elif [[ ! -f "$(rig_kernel_dir "$release")/vmlinux" ]]; then
		# A kernel fetched before the rig booted through PVH.
		stage_pvh_image "$(rig_kernel_dir "$release")"
	fi
	ln -sfn "$release" "$RIG_KERNELS/$alias"
	printf '%s %s\n' "$alias" "$release"
}

main() {
	mkdir -p "$RIG_DEBS" "$RIG_KERNELS"
	local aliases=("$@")
	[[ ${#aliases[@]} -gt 0 ]] || aliases=("${RIG_KERNEL_ALIASES[@]}")
	local alias
	for alias in "${aliases[@]}"; do
		fetch_alias "$alias"
	done
}

main "$@"
