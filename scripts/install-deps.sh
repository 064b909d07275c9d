#!/bin/sh
# Installs what seqbench needs to build and run from Debian's packages, when
# something is missing. As root it runs apt-get; otherwise it prints the
# command to run and stops.
set -eu

need=""
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
# `install-deps.sh fuzz` (make fuzz): also clang-14 with libFuzzer and its OpenMP
fuzz=""
[ "${1:-}" = fuzz ] && fuzz="clang-14 libclang-rt-14-dev libomp-14-dev"
# `install-deps.sh slurm` (make test-slurm): a one-node Slurm, controller and
# node daemon, with munge for its authentication
slurm=""
[ "${1:-}" = slurm ] && slurm="slurm-wlm slurmctld slurmd slurm-client munge"
# bible-kjv-text and its reader bible-kjv: the King James Bible, the text the
# lm task trains on by default (--data debian:bible-kjv, tasks/corpus.c)
for pkg in cmake make gcc libopenblas-openmp-dev libcjson-dev gnuplot-nox bible-kjv bible-kjv-text $fuzz $slurm; do
    have_pkg "$pkg" || need="$need $pkg"
done
[ -z "$need" ] && exit 0

cmd="apt-get install -y --no-install-recommends$need"
if [ "$(id -u)" != 0 ]; then
    echo "seqbench: missing packages:$need" >&2
    echo "run as root:  apt-get update && $cmd" >&2
    exit 1
fi
echo "seqbench: installing$need" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $need
