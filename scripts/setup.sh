#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for adversarial-lab: the Debian packages that run notebooks
# headlessly (Jupyter's nbconvert/nbclient, ipykernel), serve them untrusted (Jupyter Notebook 6, for
# the browser test), export them with formulas offline (MathJax) and draw them in Chromium, and
# compile the native kernels (g++, make); then the npm packages from package-lock.json, whose
# install step builds the native kernels (or says why not and leaves the WebAssembly ones).
# Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(jupyter-nbconvert python3-nbclient jupyter-client python3-ipykernel chromium jupyter-notebook libjs-mathjax g++ make)

missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: run as root, or install: apt-get install -y --no-install-recommends ${missing[*]}" >&2; exit 1; }
    SUDO="sudo"
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error("setup: Node >= 20.19 is needed, found "+process.versions.node); process.exit(1) }'
echo "setup: npm ci"
npm ci --no-audit --no-fund
