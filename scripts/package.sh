#!/usr/bin/env bash
# npm run package: builds the Debian package dm-remap_<version>_all.deb from
# the checkout, into dist/package/ (staging under .cache/package/). No
# debhelper: the layout is small and explicit, assembled here and packed with
# dpkg-deb; the maintainer scripts are debian/postinst, prerm and postrm.
#
#   /usr/bin/dm-remap                  sh wrapper: exec node on the bundle
#   /usr/share/dm-remap/dm-remap.mjs   the CLI bundled by esbuild into one file
#                                      (target node18: Debian 12's nodejs)
#   /usr/share/dm-remap/remapdevice.schema.json
#   /usr/src/dm-remap-<ver>/           the module's source for DKMS + dkms.conf
#   /etc/dm-remap.d/README, example.yaml.disabled   (conffiles)
#   /etc/default/dm-remap              unit options (conffile)
#   /lib/systemd/system/dm-remap-activate.service, dm-remap.service
#   /usr/lib/modules-load.d/dm-remap.conf
#   /usr/share/initramfs-tools/hooks/dm-remap, scripts/local-top/dm-remap
#                                      a root or /usr on a dm-remap device;
#                                      DEBIAN/triggers: update-initramfs
#   /usr/share/man/man8/dm-remap.8.gz, man5/dm-remap.d.5.gz   (generated)
#   /usr/share/bash-completion/completions/dm-remap           (generated)
#
# Usage: npm run package [-- --version V] [-- --no-lintian | --check]
#   --version V    package version (default: package.json's); a test builds
#                  a "newer" package with e.g. 0.1.0+test1
#   --no-lintian   skip lintian (it is run when installed)
#   --check        fail unless lintian reports no error and no warning
#                  (README.md, "Lintian", explains each remaining info tag);
#                  ends with "package: 1 passed, 0 failed" (scripts/test-all.sh)
# Prints the path of the .deb on stdout; progress on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

version=""
run_lintian=1
check=0
while (($#)); do
	case "$1" in
	--version) version="${2:?--version needs a value}" && shift ;;
	--no-lintian) run_lintian=0 ;;
	--check) check=1 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' && exit 0 ;;
	*) echo "package: unknown argument $1" >&2 && exit 64 ;;
	esac
	shift
done
version="${version:-$(node -p 'require("./package.json").version')}"
[[ "$version" =~ ^[0-9][A-Za-z0-9.+~]*$ ]] || { echo "package: bad version '$version'" >&2 && exit 64; }

log() { printf 'package: %s\n' "$*" >&2; }
for tool in dpkg-deb gzip; do
	command -v "$tool" >/dev/null || { log "$tool not found (apt-get install dpkg-dev)" && exit 69; }
done

work="$ROOT/.cache/package"
stage="$work/root"
rm -rf "$stage" "$work/gen"
mkdir -p "$stage/DEBIAN" "$work/gen" "$ROOT/dist/package"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
# Reproducible: the commit's date, not the clock's.
epoch="$(git log -1 --format=%ct 2>/dev/null || date +%s)"
export SOURCE_DATE_EPOCH="$epoch"
date_rfc="$(date -u -R -d "@$epoch")"
date_man="$(date -u +%Y-%m-%d -d "@$epoch")"

log "bundling the CLI (esbuild, target node18)"
# scripts/bundle.ts is the one bundling definition, shared with npm run build.
node_modules/.bin/tsx scripts/bundle.ts --target node18 --outfile "$work/gen/dm-remap.mjs" --metafile "$work/gen/meta.json"
# main.ts's #! line: the bundle is not run directly (/usr/bin/dm-remap execs node on it).
sed -i '1{/^#!/d}' "$work/gen/dm-remap.mjs"

log "checking the bundle runs (host node $(node --version))"
node "$work/gen/dm-remap.mjs" --help >/dev/null
node "$work/gen/dm-remap.mjs" validate examples/ >/dev/null

log "generating man pages, bash completion and the bundled-packages list"
node --import=tsx/esm scripts/package/docs.ts "$work/gen" "$version" "$date_man" "$work/gen/meta.json"

subst() {
	sed -e "s|@VERSION@|$version|g" -e "s|@COMMIT@|$commit|g" -e "s|@DATE@|$date_rfc|g" "$@"
}

# --- the file tree
install -d "$stage/usr/bin" "$stage/usr/share/dm-remap" "$stage/usr/src/dm-remap-$version" \
	"$stage/etc/dm-remap.d" "$stage/etc/default" "$stage/lib/systemd/system" \
	"$stage/usr/lib/modules-load.d" "$stage/lib/udev/rules.d" "$stage/usr/share/man/man8" "$stage/usr/share/man/man5" \
	"$stage/usr/share/bash-completion/completions" "$stage/usr/share/doc/dm-remap" \
	"$stage/usr/share/initramfs-tools/hooks" "$stage/usr/share/initramfs-tools/scripts/local-top"
cat >"$stage/usr/bin/dm-remap" <<'EOF'
#!/bin/sh
# dm-remap: the bundled CLI on the system's node (Debian's nodejs, 18 or newer).
exec /usr/bin/node /usr/share/dm-remap/dm-remap.mjs "$@"
EOF
chmod 755 "$stage/usr/bin/dm-remap"
install -m 644 "$work/gen/dm-remap.mjs" "$stage/usr/share/dm-remap/dm-remap.mjs"
install -m 644 schemas/remapdevice.schema.json "$stage/usr/share/dm-remap/"
install -m 644 kmod/*.c kmod/*.h kmod/Kbuild kmod/Makefile "$stage/usr/src/dm-remap-$version/"
subst debian/dkms.conf >"$stage/usr/src/dm-remap-$version/dkms.conf"
install -m 644 etc/dm-remap.d/README etc/dm-remap.d/example.yaml.disabled "$stage/etc/dm-remap.d/"
install -m 644 etc/default/dm-remap "$stage/etc/default/dm-remap"
install -m 644 etc/systemd/dm-remap-activate.service etc/systemd/dm-remap.service "$stage/lib/systemd/system/"
install -m 644 debian/modules-load.conf "$stage/usr/lib/modules-load.d/dm-remap.conf"
install -m 644 etc/udev/rules.d/69-dm-remap.rules "$stage/lib/udev/rules.d/"
install -m 755 etc/initramfs-tools/hooks/dm-remap "$stage/usr/share/initramfs-tools/hooks/dm-remap"
install -m 755 etc/initramfs-tools/scripts/local-top/dm-remap "$stage/usr/share/initramfs-tools/scripts/local-top/dm-remap"
gzip -9n <"$work/gen/dm-remap.8" >"$stage/usr/share/man/man8/dm-remap.8.gz"
gzip -9n <"$work/gen/dm-remap.d.5" >"$stage/usr/share/man/man5/dm-remap.d.5.gz"
install -m 644 "$work/gen/dm-remap.bash-completion" "$stage/usr/share/bash-completion/completions/dm-remap"

# copyright: ours, then the npm packages inside the bundle with their licenses.
licenses="$(paste -sd, "$work/gen/licenses.txt" | sed 's/,/ and /g')"
{
	subst debian/copyright.in | sed "s|@LICENSES@|$licenses|" | sed '/@BUNDLED@/,$d'
	sed 's/^/ /' "$work/gen/bundled.txt"
	while read -r license; do
		[[ -f "debian/licenses/$license" ]] || { log "no text for license $license in debian/licenses/" && exit 1; }
		printf '\nLicense: %s\n' "$license"
		sed 's/^/ /' "debian/licenses/$license"
	done <"$work/gen/licenses.txt"
} >"$stage/usr/share/doc/dm-remap/copyright"
subst debian/changelog.in | gzip -9n >"$stage/usr/share/doc/dm-remap/changelog.gz"

# --- control files
find "$stage" -path "$stage/DEBIAN" -prune -o -type f -print | sort | while read -r file; do
	case "$file" in "$stage/etc/"*) printf '%s\n' "${file#"$stage"}" ;; esac
done >"$stage/DEBIAN/conffiles"
installed_size="$(du -sk --exclude=DEBIAN "$stage" | cut -f1)"
subst debian/control.in | sed "s|@INSTALLED_SIZE@|$installed_size|" >"$stage/DEBIAN/control"
for script in postinst prerm postrm; do
	subst "debian/$script" >"$stage/DEBIAN/$script"
	chmod 755 "$stage/DEBIAN/$script"
done
# Rebuilds the initramfs (when initramfs-tools is installed) whenever this
# package is installed, upgraded or removed, as dh_installinitramfs does.
install -m 644 debian/triggers "$stage/DEBIAN/triggers"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -print0 | sort -z | xargs -0 md5sum |
	sed 's|  \./|  |') >"$stage/DEBIAN/md5sums"
find "$stage" -exec touch -h -d "@$epoch" {} +

deb="$ROOT/dist/package/dm-remap_${version}_all.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
log "built $deb ($(du -k "$deb" | cut -f1) KiB)"

if ((check)); then
	command -v lintian >/dev/null || { log "lintian not installed (sudo bash scripts/setup.sh)" && exit 69; }
	log "lintian --pedantic --display-info (each remaining tag is explained in README.md, \"Lintian\")"
	lintian --pedantic --display-info "$deb" 2>&1 | grep -v 'running with root privileges' | tee "$work/lintian.txt" >&2 || true
	if grep -qE '^[EW]: ' "$work/lintian.txt"; then
		echo "package: 0 passed, 1 failed (lintian errors or warnings above)"
		exit 1
	fi
	echo "package: 1 passed, 0 failed"
	exit 0
elif ((run_lintian)); then
	if command -v lintian >/dev/null; then
		log "lintian --pedantic --info (each remaining tag is explained in README.md, \"Lintian\")"
		lintian --pedantic --info "$deb" 2>&1 | grep -v 'running with root privileges' >&2 || true
	else
		log "lintian not installed: skipped (apt-get install lintian)"
	fi
fi
printf '%s\n' "$deb"
