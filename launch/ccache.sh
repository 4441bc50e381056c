# Sourced by build.sh, sanitize.sh and fuzz.sh with ROOT set: when ccache is installed,
# CCACHE_LAUNCHER holds the CMake options that compile through it, and paths are hashed
# relative to the checkout, so every checkout (worktrees, CI's fresh clone elsewhere)
# shares compiled objects. Without ccache it is empty and nothing changes.
CCACHE_LAUNCHER=()
if command -v ccache >/dev/null 2>&1; then
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$ROOT}
  # Debug info names the build folder; hashing it would defeat sharing between checkouts.
  export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-true}
  CCACHE_LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
