#!/usr/bin/env bash
# Run pytest inside a fresh network namespace whose only interface is loopback, so that the
# local Ray clusters of the tests marked `ray` bind to 127.0.0.1 and nothing else.
#   scripts/netns-pytest.sh [pytest args]      e.g. scripts/netns-pytest.sh -m ray
# Needs root (as on CI) or unprivileged user namespaces (then it maps you to root inside).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
if [ "$(id -u)" -eq 0 ]; then ns=(unshare -n); else ns=(unshare -rn); fi
if "${ns[@]}" -- true 2>/dev/null; then
  exec "${ns[@]}" -- bash -c 'ip link set lo up && exec "$0" -m pytest "$@"' "$PY" "$@"
fi
# No namespace here: the tests run as they are and skip with the reason where Ray cannot start.
echo "note: cannot create a loopback-only network namespace here; Ray tests may be skipped" >&2
exec "$PY" -m pytest "$@"
