#!/bin/sh
# Container entry point: root-only setup, then drop to the app user for good.
#
# Root must never act through a path the app user controls: if the app
# could write /app, it could swap /app/data for a link to /etc between two
# starts, and root's chown would hand /etc over. So /app must be root-owned
# and writable by root alone (the Dockerfile makes it so), /app/data must be
# a real directory, and chown -h changes that one directory, never what a
# link points to, and nothing below it.
set -eu
APP_USER=${APP_USER:-app}
DATA=/app/data
if [ "$(id -u)" = 0 ]; then
  # Volumes mounted at run time arrive owned by root; hand the data over.
  if [ -e "$DATA" ] || [ -L "$DATA" ]; then
    owner=$(stat -c %u /app)
    mode=$(stat -c %a /app)
    if [ "$owner" != 0 ] || [ $((0$mode & 022)) != 0 ]; then
      echo "entrypoint: /app must be root-owned and writable by root alone (chown root: /app; chmod go-w /app) before root changes $DATA" >&2
      exit 1
    fi
    if [ -L "$DATA" ] || [ ! -d "$DATA" ]; then
      echo "entrypoint: $DATA is not a directory (a symbolic link?): not changing its owner" >&2
      exit 1
    fi
    if ! failed=$(chown -h "$APP_USER:" "$DATA" 2>&1); then
      # Most often a container without the capabilities a switch needs
      # (--cap-drop=ALL): let runas say what is missing and how to fix it,
      # rather than chown's bare "Operation not permitted". (Captured, not
      # sent to /dev/null: a minimal image may have no /dev.)
      plan=$(runas --dry-run --user "$APP_USER" --no-new-privs -- "$@") || exit $?
      echo "$failed" >&2
      exit 1
    fi
  fi
  exec runas --user "$APP_USER" --no-new-privs -- "$@"
fi
# Already unprivileged (docker run --user ...): nothing to drop.
exec "$@"
