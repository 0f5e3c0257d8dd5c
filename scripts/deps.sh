#!/usr/bin/env bash
# Installs, once, every Debian package the build, the tests, the demo and the
# benchmarks need. Idempotent: does nothing (not even apt-get update) when all
# are present. Needs root, as on the project's machines.
set -euo pipefail

packages=(
  # build
  g++ meson ninja-build pkg-config
  dpdk dpdk-dev libdpdk-dev
  libboost-dev libsodium-dev libcli11-dev libhttp-parser-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # tests and demo: Linux peers, namespaces, packet crafting
  iproute2 iputils-ping iputils-arping iptables nftables
  curl wrk netcat-openbsd tcpdump python3-scapy nginx-light ethtool
  # reference programs for the apps (issue 15): servers kbt-load is checked
  # against, clients kbt-httpd is checked with, traceroute for ICMP
  lighttpd apache2-utils nghttp2-client traceroute
  # fuzzing and sanitizers
  clang libclang-rt-14-dev
  # benchmarks (scripts/bench.sh): the Linux side's peers, the chart
  iperf3 gnuplot-nox
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: missing packages (${missing[*]}) and not root: run as root or install them" >&2
  exit 1
fi

echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
