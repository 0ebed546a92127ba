#!/usr/bin/env bash
# Debian's chromium and its chromedriver, for the dashboard's browser test
# (tests/integration/test_dashboard.py drives them with Selenium).
#
#   scripts/browser.sh install
set -euo pipefail

LW_SERVICE=browser
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

browser_install() {
  if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
    lw_log "chromium and chromedriver already installed"
    return 0
  fi
  local t0
  t0=$(lw_now_ms)
  lw_apt_install chromium chromium-driver
  lw_log "installed chromium and chromium-driver ($(($(lw_now_ms) - t0)) ms)"
}

case "${1:-}" in
  install) browser_install ;;
  *) echo "usage: $(basename "$0") install" >&2; exit 2 ;;
esac
