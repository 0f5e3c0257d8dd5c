# shellcheck shell=bash
# Sourced, not run. stop_process PID SIGNAL SECONDS: sends SIGNAL to PID (a
# child of the calling shell), gives it SECONDS to exit, then SIGKILL, and
# reaps it. Nothing is left running, and a PID already gone is no error.
stop_process() {
  local pid=$1 signal=$2 seconds=$3
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill "-$signal" "$pid" 2>/dev/null || true
  for _ in $(seq $((seconds * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
