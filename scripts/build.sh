#!/usr/bin/env bash
# Configures and compiles kbt. `build/` is the optimised build; `build-asan/`
# the AddressSanitizer + UndefinedBehaviorSanitizer one.
# Usage: scripts/build.sh [release|asan|all]   (default: release)
set -euo pipefail
cd "$(dirname "$0")/.."

which=${1:-release}
case "$which" in
  release|asan|all) ;;
  -h|--help) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "build.sh: unknown build '$which' (use release, asan or all)" >&2; exit 2 ;;
esac

setup() {  # dir, meson options...
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson configure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@" >/dev/null
  fi
  ninja -C "$dir"
}

if [ "$which" = release ] || [ "$which" = all ]; then
  setup build -Dbuildtype=release -Dsanitizers=false
fi
if [ "$which" = asan ] || [ "$which" = all ]; then
  # -O1 and line tables only (-g1): what sanitizer reports need (function,
  # file, line), at half the compile time of -O2 -g.
  setup build-asan -Doptimization=1 -Ddebug=true -Dcpp_args=-g1 -Db_ndebug=false \
    -Dsanitizers=true -Dbench=false
fi
