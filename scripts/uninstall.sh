#!/bin/sh
# linkward uninstaller: stops the service and removes what install.sh added; config and state stay unless --purge.
#
#   sudo /usr/lib/linkward/uninstall.sh [--dry-run] [--purge] [--unit-dir DIR]   (env DESTDIR=stage root)
#
# --purge also deletes /etc/linkward (config, token) and /var/lib/linkward (state.db, buffered data).
set -eu

DESTDIR=${DESTDIR:-}
LIBDIR=/usr/lib/linkward
UNITDIR=/etc/systemd/system
DRY=0
PURGE=0

while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --purge) PURGE=1 ;;
    --unit-dir) [ $# -ge 2 ] || { echo "usage: uninstall.sh [--dry-run] [--purge] [--unit-dir DIR]" >&2; exit 2; }; UNITDIR=$2; shift ;;
    -h|--help) echo "usage: uninstall.sh [--dry-run] [--purge] [--unit-dir DIR]"; exit 0 ;;
    *) echo "uninstall.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

say() { printf 'linkward uninstall: %s\n' "$*"; }
# Prints the step ("would ..." in dry-run); returns 1 in dry-run so callers skip it.
step() {
  if [ "$DRY" = 1 ]; then say "would $*"; return 1; fi
  say "$*"
}

if [ -z "$DESTDIR" ] && [ "$DRY" = 0 ] && [ "$(id -u)" != 0 ]; then
  echo "linkward uninstall: error: run as root (or set DESTDIR)" >&2
  exit 1
fi

if [ -z "$DESTDIR" ] && [ -d /run/systemd/system ] && [ -e "$UNITDIR/linkward.service" ]; then
  if step "systemctl disable --now linkward"; then systemctl disable --now --quiet linkward.service || true; fi
fi

for p in "$DESTDIR$UNITDIR/linkward.service" "$DESTDIR/usr/bin/linkward" "$DESTDIR$LIBDIR"; do
  [ -e "$p" ] || continue
  if step "remove $p"; then rm -rf "$p"; fi
done

if [ -z "$DESTDIR" ] && [ -d /run/systemd/system ]; then
  if step "systemctl daemon-reload"; then systemctl daemon-reload; fi
fi

if [ "$PURGE" = 1 ]; then
  for p in "$DESTDIR/etc/linkward" "$DESTDIR/var/lib/linkward"; do
    [ -e "$p" ] || continue
    if step "remove $p (--purge)"; then rm -rf "$p"; fi
  done
else
  say "kept /etc/linkward (config) and /var/lib/linkward (state); --purge removes them"
fi
