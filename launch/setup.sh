#!/usr/bin/env bash
# Installs the Debian 12 packages fsdpshard needs to build and test. Idempotent: does
# nothing (no apt-get update) when every package is already installed.
# Needs root (or password-less sudo) only when something is missing.
set -euo pipefail

PACKAGES=(
  libtorch-dev python3-torch python3-omegaconf
  libopenmpi-dev openmpi-bin
  libyaml-cpp-dev libcli11-dev libgtest-dev libdeflate-dev nlohmann-json3-dev libre2-dev
  cmake g++ make unzip pkg-config
)

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "setup: dpkg-query not found: this script installs Debian packages (Debian 12 / bookworm)." >&2
  echo "setup: install the equivalents of: ${PACKAGES[*]}" >&2
  exit 1
fi

# One dpkg-query for all packages (quick when everything is there).
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null \
            | awk '$NF == "installed" && $(NF-1) == "ok" { print $1 }' || true)
missing=()
for p in "${PACKAGES[@]}"; do
  if ! grep -qx -- "$p" <<<"$installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  [[ "${FSDPSHARD_QUIET_SETUP:-0}" == 1 ]] || echo "setup: all ${#PACKAGES[@]} Debian packages present"
  exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo)
  else
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "setup: run as root:  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
