#!/usr/bin/env bash
# `make test`: install what is missing, then run every test. The integration
# tests start their own stack (state in .state/test, its own ports and topic
# prefix, so a dev stack can keep running) through scripts/stack.sh, and stop it.
set -euo pipefail
LW_SERVICE=test
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$LW_ROOT"
"$LW_SCRIPTS/python.sh"
"$LW_SCRIPTS/services.sh" install
"$LW_SCRIPTS/nginx.sh" install
# The runtime images need a Docker engine before any test stack is up: start
# one (or join the running one) as a user of its own, and leave it at exit;
# scripts/docker.sh stops a daemon only if it started it and no stack uses it.
# Only these two calls carry the name: the test stack registers as its own user.
as_user=(env LEDGERWHISK_DOCKER_USER="$LW_STATE/make-test")
trap '"${as_user[@]}" "$LW_SCRIPTS/docker.sh" stop || true' EXIT
"${as_user[@]}" "$LW_SCRIPTS/docker.sh" start
"$LW_ROOT/runtimes/build.sh"
status=0
.venv/bin/python -m pytest tests "$@" || status=$?
if ((status == 5)); then
  lw_log "pytest collected no tests: that is a failure here"
  exit 1
fi
exit "$status"
