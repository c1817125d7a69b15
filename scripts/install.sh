#!/bin/sh
# linkward installer: copies an extracted release into /usr/lib/linkward, adds /usr/bin/linkward, the systemd unit and a first config.
#
#   sudo ./install.sh [--dry-run] [--no-start] [--unit-dir DIR]
#   DESTDIR=/tmp/root ./install.sh      # stage into another root (never touches systemd)
#
# Idempotent: a second run changes nothing and says "no changes". Never overwrites
# /etc/linkward/config.yaml once it exists (the operator's file). Run it from the extracted
# release directory (linkward-<version>-linux-<arch>/), or from /usr/lib/linkward to repair.
set -eu

SRC=$(cd "$(dirname "$0")" && pwd)
DESTDIR=${DESTDIR:-}
LIBDIR=/usr/lib/linkward
BINDIR=/usr/bin
UNITDIR=/etc/systemd/system
CONFDIR=/etc/linkward
DRY=0
START=1
CHANGES=0

usage() {
  echo "usage: install.sh [--dry-run] [--no-start] [--unit-dir DIR]   (env DESTDIR=stage root)"
}

while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --no-start) START=0 ;;
    --unit-dir) [ $# -ge 2 ] || { usage >&2; exit 2; }; UNITDIR=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

say() { printf 'linkward install: %s\n' "$*"; }
die() { printf 'linkward install: error: %s\n' "$*" >&2; exit 1; }
# Counts a change and prints it ("would ..." in dry-run); returns 1 in dry-run so callers skip the action.
change() {
  CHANGES=$((CHANGES + 1))
  if [ "$DRY" = 1 ]; then say "would $*"; return 1; fi
  say "$*"
}

for f in node dist/linkward.mjs systemd/linkward.service config.example.yaml VERSION; do
  [ -e "$SRC/$f" ] || die "$SRC/$f missing: run install.sh from an extracted linkward release"
done
if [ -z "$DESTDIR" ] && [ "$DRY" = 0 ] && [ "$(id -u)" != 0 ]; then
  die "run as root (or set DESTDIR to stage into another directory)"
fi
VERSION=$(cat "$SRC/VERSION")
D_LIB=$DESTDIR$LIBDIR
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

# Installs $1 as $2 with mode $3 unless identical; replaces by rename, so a running node binary is never overwritten in place.
install_file() {
  if [ -f "$2" ] && cmp -s "$1" "$2" && [ "$(stat -c %a "$2")" = "$3" ]; then return 0; fi
  change "install $2" || return 0
  mkdir -p "$(dirname "$2")"
  cp "$1" "$2.lw-new"
  chmod "$3" "$2.lw-new"
  mv -f "$2.lw-new" "$2"
}

mode_of() { if [ -x "$1" ]; then echo 755; else echo 644; fi; }

# 1. The release tree → /usr/lib/linkward (when run from there, only the files outside it are checked).
if [ "$SRC" != "$D_LIB" ]; then
  (cd "$SRC" && find . -type f ! -name '*.lw-new' | sed 's|^\./||' | sort) > "$TMP/payload"
  while IFS= read -r rel; do
    install_file "$SRC/$rel" "$D_LIB/$rel" "$(mode_of "$SRC/$rel")"
  done < "$TMP/payload"
  # Files left over from an older release.
  if [ -d "$D_LIB" ]; then
    (cd "$D_LIB" && find . -type f | sed 's|^\./||' | sort) > "$TMP/installed"
    while IFS= read -r rel; do
      [ -e "$SRC/$rel" ] && continue
      change "remove stale $D_LIB/$rel" || continue
      rm -f "$D_LIB/$rel"
    done < "$TMP/installed"
  fi
fi

# 2. The CLI wrapper: the release's pinned Node on the bundle (the system's Node may be older).
cat > "$TMP/linkward" <<EOF
#!/bin/sh
# linkward CLI (installed by install.sh, release $VERSION): runs the pinned Node on the bundle.
exec $LIBDIR/node $LIBDIR/dist/linkward.mjs "\$@"
EOF
install_file "$TMP/linkward" "$DESTDIR$BINDIR/linkward" 755

# 3. The systemd unit (changes go in drop-ins: systemctl edit linkward).
before=$CHANGES
install_file "$SRC/systemd/linkward.service" "$DESTDIR$UNITDIR/linkward.service" 644
UNIT_CHANGED=$((CHANGES - before))

# 4. A first config, only if there is none: the operator's file is never overwritten.
if [ -e "$DESTDIR$CONFDIR/config.yaml" ]; then
  :
elif change "create $DESTDIR$CONFDIR/config.yaml (from config.example.yaml)"; then
  mkdir -p "$DESTDIR$CONFDIR"
  chmod 750 "$DESTDIR$CONFDIR"
  cp "$SRC/config.example.yaml" "$DESTDIR$CONFDIR/config.yaml.lw-new"
  chmod 640 "$DESTDIR$CONFDIR/config.yaml.lw-new"
  mv "$DESTDIR$CONFDIR/config.yaml.lw-new" "$DESTDIR$CONFDIR/config.yaml"
fi

# 5. systemd: only on the real root of a machine that runs it.
if [ -n "$DESTDIR" ] || [ ! -d /run/systemd/system ]; then
  say "systemd not in use here (DESTDIR set or not booted with systemd): skipping daemon-reload/enable"
else
  if [ "$UNIT_CHANGED" -gt 0 ] && change "systemctl daemon-reload"; then systemctl daemon-reload; fi
  if ! systemctl is-enabled --quiet linkward.service 2>/dev/null && change "systemctl enable linkward"; then
    systemctl enable --quiet linkward.service
  fi
  if [ "$START" = 1 ]; then
    if ! systemctl is-active --quiet linkward.service; then
      if change "systemctl start linkward"; then systemctl start linkward.service; fi
    elif [ "$CHANGES" -gt 0 ] && change "systemctl restart linkward (files changed)"; then
      systemctl restart linkward.service
    fi
  fi
fi

if [ "$CHANGES" = 0 ]; then
  say "no changes (linkward $VERSION already installed)"
elif [ "$DRY" = 1 ]; then
  say "dry run: $CHANGES changes would be made"
else
  say "done: $CHANGES changes (linkward $VERSION)"
fi

# The next step for a first install: the shipped config measures nothing until it names probe targets.
if [ "$DRY" != 1 ] && ! grep -q '^[[:space:]]*targets:[[:space:]]*\[[^]]' "$DESTDIR$CONFDIR/config.yaml" 2>/dev/null; then
  say "next: propose uplinks and probe targets from this machine: linkward init -o /etc/linkward/config.yaml --force (review it), then systemctl restart linkward"
fi
