#!/usr/bin/env bash
# Creates (once) and prints the path of the cached virtualenv with a current torch 2.x,
# omegaconf 2.4, safetensors, huggingface_hub and numpy from PyPI, for the tests that need
# what Debian's torch 1.13 cannot give (torch 2.x FSDP resume, huggingface_hub's own shard
# output, torch 2.x casts and loaders).
#
#   launch/torch2-venv.sh            # prints the venv's python on stdout (installs if needed)
#
# The venv lives outside the checkout (FSDPSHARD_TORCH2_VENV, default
# ~/.cache/fsdpshard/venv-torch2) so fresh clones and CI reuse it; a stamp file records
# the requirement set, and a changed set rebuilds it. The torch wheel on PyPI is the CUDA
# build (~5.6 GB with its libraries): the first run takes minutes.
set -euo pipefail

VENV=${FSDPSHARD_TORCH2_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/fsdpshard/venv-torch2}
REQUIREMENTS=("torch>=2.1" "omegaconf>=2.4" "numpy" "safetensors" "huggingface_hub")
STAMP="$VENV/.fsdpshard-requirements"
WANT=$(printf '%s\n' "${REQUIREMENTS[@]}")

log() { echo "torch2-venv: $*" >&2; }

ready() {
  [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]] &&
    "$VENV/bin/python" -c 'import torch, omegaconf, numpy, safetensors, huggingface_hub' 2>/dev/null
}

if ! ready; then
  # Debian's interpreter: its venv module is there (python3-venv comes with python3-torch's
  # dependencies on Debian 12 only as ensurepip; install it when missing).
  BASE=/usr/bin/python3
  if ! "$BASE" -c 'import ensurepip' 2>/dev/null; then
    log "installing python3-venv"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-venv >&2
  fi
  log "creating $VENV (torch 2.x from PyPI: minutes the first time)"
  rm -rf "$VENV.tmp"
  mkdir -p "$(dirname "$VENV")"
  "$BASE" -m venv "$VENV.tmp" >&2
  "$VENV.tmp/bin/pip" install -q --disable-pip-version-check --no-cache-dir "${REQUIREMENTS[@]}" >&2
  printf '%s\n' "${REQUIREMENTS[@]}" >"$VENV.tmp/.fsdpshard-requirements"
  rm -rf "$VENV"
  mv "$VENV.tmp" "$VENV"
  # A venv records its own path in bin/ scripts; python itself is found by path, which is
  # all the tests use.
  if ! ready; then
    log "the venv at $VENV does not import torch/omegaconf/numpy/safetensors/huggingface_hub"
    exit 1
  fi
  log "ready: $("$VENV/bin/python" -c 'import torch, omegaconf; print("torch", torch.__version__, "omegaconf", omegaconf.__version__)')"
fi
echo "$VENV/bin/python"
