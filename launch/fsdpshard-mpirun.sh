#!/usr/bin/env bash
# Runs fsdpshard on NP ranks of this machine with Open MPI:
#   launch/fsdpshard-mpirun.sh NP COMMAND ARGS...
#   e.g. launch/fsdpshard-mpirun.sh 2 gather ckpt/checkpoint.th -o best.th
# FSDPSHARD_BIN overrides the binary (default build/fsdpshard); MPIRUN_ARGS adds mpirun options.
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: $0 NP COMMAND [ARGS...]" >&2
  exit 2
fi
NP=$1
shift
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${FSDPSHARD_BIN:-$ROOT/build/fsdpshard}

flags=(--oversubscribe --bind-to none)
if [[ $(id -u) -eq 0 ]]; then
  flags+=(--allow-run-as-root)
fi
export OMPI_MCA_btl_vader_single_copy_mechanism=${OMPI_MCA_btl_vader_single_copy_mechanism:-none}
# shellcheck disable=SC2086
exec mpirun "${flags[@]}" ${MPIRUN_ARGS:-} -np "$NP" "$BIN" "$@"
