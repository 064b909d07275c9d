#!/bin/sh
# The folders are layers (docs/design.md §1): a file includes only from its
# own folder and the folders below it, so reading the program bottom-up never
# meets a name defined higher up. This checks every project #include against
# the table below; a new folder needs a row.
# usage: layers.sh SOURCE_DIR
set -u
cd "${1:-.}" || exit 2
pass=0
fail=0
# folder: the folders it may include from
allowed() {
    case $1 in
    core) echo "core" ;;
    models) echo "core models" ;;
    tasks) echo "core models tasks" ;;
    bench) echo "core models bench" ;;
    reproduce) echo "core reproduce" ;;
    cli) echo "core models tasks bench reproduce cli" ;;
    # the tests call the layers directly and the command line through the binary, never cli/'s functions
    tests) echo "core models tasks bench reproduce" ;;
    *) echo "" ;;
    esac
}
for dir in core models tasks bench reproduce cli tests; do
    [ -d "$dir" ] || continue
    ok=$(allowed "$dir")
    for f in $(find "$dir" -name '*.[ch]' | sort); do
        # includes naming a layer: "models/model.h"; others ("x.h", "layers/x.h") are relative to the file
        for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([a-z_]*\)\/.*"/\1/p' "$f" | sort -u); do
            [ -n "$(allowed "$inc")" ] || continue
            case " $ok " in
            *" $inc "*) pass=$((pass + 1)) ;;
            *) fail=$((fail + 1)); echo "FAIL: $f includes from $inc/ (a $dir/ file may include from: $ok)" ;;
            esac
        done
    done
done
# the test can fail: a folder missing from the table is an error, not a pass
for dir in */; do
    dir=${dir%/}
    if find "$dir" -maxdepth 2 -name '*.c' | grep -q . && [ -z "$(allowed "$dir")" ]; then
        case $dir in build* | scripts) ;; *) fail=$((fail + 1)); echo "FAIL: $dir/ holds C sources but has no row in tests/layers.sh" ;; esac
    fi
done
echo "layers: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
