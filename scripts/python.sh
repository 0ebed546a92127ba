#!/usr/bin/env bash
# Ensure the project's virtualenv (.venv) exists with its dependencies installed.
# Idempotent: reinstalls only when pyproject.toml changed. pip's cache makes a
# fresh clone's install fast.
set -euo pipefail
LW_SERVICE=python
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

venv="$LW_ROOT/.venv"
stamp="$venv/.ledgerwhisk-installed"
want="$(sha256sum "$LW_ROOT/pyproject.toml" | cut -d' ' -f1)"

pick_python() {
  local candidate
  for candidate in python3.11 python3; do
    if lw_have "$candidate" && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$venv/bin/python" ]]; then
  exit 0
fi
py="$(pick_python)" || {
  lw_log "no Python 3.11 found; installing Debian's python3 (bookworm ships 3.11)"
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3 python3-venv >/dev/null
  py="$(pick_python)" || lw_die "Python 3.11 is required; install python3.11 and python3.11-venv"
}
if [[ ! -x "$venv/bin/python" ]]; then
  lw_log "creating $venv with $py"
  "$py" -m venv "$venv" || lw_die "could not create the virtualenv; on Debian: apt-get install python3-venv"
fi
lw_log "installing Python dependencies (pip, cached) ..."
start="$(lw_now_ms)"
"$venv/bin/pip" install -q --disable-pip-version-check -e "$LW_ROOT[dev]" \
  || lw_die "pip install failed; see the output above (PyPI must be reachable)"
echo "$want" >"$stamp"
lw_log "dependencies installed in $(( ($(lw_now_ms) - start) / 1000 )) s"
