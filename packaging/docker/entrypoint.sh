#!/bin/sh
# Container entry point: root-only setup, then drop to the app user for good.
set -eu
APP_USER=${APP_USER:-app}
if [ "$(id -u)" = 0 ]; then
  # Volumes mounted at run time arrive owned by root; hand the data over.
  if [ -d /app/data ]; then
    chown "$APP_USER:" /app/data
  fi
  exec runas --user "$APP_USER" --no-new-privs -- "$@"
fi
# Already unprivileged (docker run --user ...): nothing to drop.
exec "$@"
