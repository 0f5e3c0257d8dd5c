# shellcheck shell=bash
# Sourced by bench/kbt_side.sh and bench/linux_side.sh: the arguments both
# take, WORKLOAD SECONDS [RATE], checked the same way. Sets `workload`,
# `secs` (a whole number, 1-3600) and `rate` (empty or a number, for latency
# and syncookies only). --help prints lines 2..$usage_last of the caller's
# header; a bad argument is one line on stderr and exit 2.
# Usage: side_args NAME USAGE_LAST "$@"
side_args() {
  local name=$1 usage_last=$2
  shift 2
  case "${1:-}" in
    -h|--help) sed -n "2,${usage_last}p" "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    cps|keepalive|bulk|latency|syncookies) ;;
    "") sed -n "2,${usage_last}p" "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    *) echo "$name: unknown workload '$1' (cps, keepalive, bulk, latency, syncookies)" >&2; exit 2 ;;
  esac
  workload=$1
  secs=${2:-}
  if ! [[ "$secs" =~ ^[0-9]+$ ]] || [ "$secs" -lt 1 ] || [ "$secs" -gt 3600 ]; then
    echo "$name: SECONDS must be a whole number from 1 to 3600, not '$secs'" >&2
    exit 2
  fi
  rate=${3:-}
  if [ -n "$rate" ]; then
    [[ "$rate" =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "$name: RATE must be a number, not '$rate'" >&2; exit 2; }
    case "$workload" in
      latency|syncookies) ;;
      *) echo "$name: RATE is for latency and syncookies only" >&2; exit 2 ;;
    esac
  fi
}
