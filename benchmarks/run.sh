#!/usr/bin/env bash
# Benchmarks fsdpshard gather against the Python way (torch.load + torch.save) on
# synthetic MusicGen checkpoints and rewrites benchmarks/RESULTS.md.
#   benchmarks/run.sh [scale] [bench.py options]     scale: xsmall | small (default) | medium | large
# Needs a built fsdpshard (launch/build.sh) and Debian's python3-torch.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
scale=${1:-small}
shift || true
exec /usr/bin/python3 "$here/bench.py" --scale "$scale" "$@"
