#!/bin/sh
# `make install` / `cmake --install`: the installed binary runs from any
# directory, links the same OpenBLAS as the build tree's, and finds the data it
# reads at run time (configs/paper) in PREFIX/share/seqbench before the source
# tree; SEQBENCH_DATA_DIR overrides both.
# usage: install.sh CMAKE BUILD_DIR
set -u
cmake=$1
build=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/seqbench-install-XXXXXX")
trap 'rm -rf "$dir"' EXIT
prefix=$dir/prefix
pass=0
fail=0
check() { # check NAME COMMAND...: the command's status decides
    name=$1
    shift
    if "$@" >"$dir/out.txt" 2>&1; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $name"
        cat "$dir/out.txt"
    fi
}

check "cmake --install" "$cmake" --install "$build" --prefix "$prefix"
bin=$prefix/bin/seqbench
mkdir -p "$dir/elsewhere"
cd "$dir/elsewhere" || exit 1

check "--version" sh -c '"$1" --version | grep -q "^seqbench "' sh "$bin"
check "params --paper from a directory without configs/" "$bin" params --paper llama2-7b --json
check "experiment specs installed" test -f "$prefix/share/seqbench/experiments/copy_length.json"
# --help points at docs/commands.md: installed beside the README
check "the reference pages installed" test -f "$prefix/share/doc/seqbench/commands.md" -a -f "$prefix/share/doc/seqbench/design.md"
# the installed data, not the source tree's, answers: a config only it has is listed
cp "$prefix/share/seqbench/configs/paper/llama2-7b.json" "$prefix/share/seqbench/configs/paper/only-installed.json"
check "installed configs/paper is the one read" sh -c '"$1" params --paper list | grep -q "^only-installed "' sh "$bin"
mkdir -p "$dir/alt/configs/paper"
cp "$prefix/share/seqbench/configs/paper/llama2-7b.json" "$dir/alt/configs/paper/only-alt.json"
check "SEQBENCH_DATA_DIR overrides" sh -c \
    'SEQBENCH_DATA_DIR="$2" "$1" params --paper list >"$3" && grep -q "^only-alt " "$3" && ! grep -q "^only-installed " "$3"' \
    sh "$bin" "$dir/alt" "$dir/list.txt"
# RUNPATH kept: the installed binary loads the OpenBLAS the build tree's does (the OpenMP build)
check "same OpenBLAS as the build tree" sh -c \
    '[ "$(ldd "$1" | grep -o "libopenblas[^ ]* => [^ ]*")" = "$(ldd "$2" | grep -o "libopenblas[^ ]* => [^ ]*")" ]' \
    sh "$bin" "$build/seqbench"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
