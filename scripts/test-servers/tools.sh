#!/usr/bin/env bash
# Debian's headless Chromium for the dashboard test and tmux for the console test.
#
#   source scripts/test-servers/tools.sh
#   tools_prepare      # installs chromium and tmux if missing, exports CQ_TEST_CHROMIUM

tools_prepare() {
  local missing=()
  [[ -x /usr/bin/chromium ]] || missing+=(chromium)
  command -v tmux >/dev/null || missing+=(tmux)
  if (( ${#missing[@]} > 0 )); then
    echo "installing ${missing[*]}" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } \
      || { echo "could not install ${missing[*]}" >&2; return 1; }
  fi
  export CQ_TEST_CHROMIUM=/usr/bin/chromium
}
