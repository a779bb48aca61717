#!/usr/bin/env bash
# Installs the Debian packages the project uses when they are missing and apt is usable:
# the Fashion-MNIST data set, and Chromium + ChromeDriver for the labeling page's browser test.
# Never fails the set-up: without apt, the demo falls back to digits and the browser test skips.
set -u
want=()
[ -d /usr/share/datasets/fashion-mnist ] || want+=(dataset-fashion-mnist)
command -v chromium >/dev/null 2>&1 || want+=(chromium)
command -v chromedriver >/dev/null 2>&1 || want+=(chromium-driver)
[ ${#want[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "note: apt-get not found; not installing ${want[*]}" >&2
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo -n"
if ! ($sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${want[@]}") >/tmp/autoal-apt.log 2>&1; then
  echo "note: could not install ${want[*]} with apt (see /tmp/autoal-apt.log); continuing" >&2
fi
exit 0
