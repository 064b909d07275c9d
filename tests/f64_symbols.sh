#!/bin/sh
# The float and double builds of models/ link into one binary; every public
# function of the double build must carry its own name (models/f64_names.h).
# Static archives do not report a name defined in both: the linker takes the
# first it meets, so double code can silently call a float function (a
# missing rename once sent `seqbench gradcheck`'s double forward through the
# float LM head). Usage: f64_symbols.sh BUILD_DIR
set -eu
build=$1
float_lib=$build/libseq_models.a
double_lib=$build/libseq_models_f64.a
for lib in "$float_lib" "$double_lib"; do
    [ -f "$lib" ] || { echo "FAIL $lib: no such archive"; exit 1; }
done
both=$(for lib in "$float_lib" "$double_lib"; do nm -g --defined-only "$lib" | awk '$2 == "T" || $2 == "D" || $2 == "R" || $2 == "B" { print $3 }' | sort -u; done | sort | uniq -d)
if [ -n "$both" ]; then
    echo "FAIL defined in both the float and the double build (add each to models/f64_names.h):"
    echo "$both" | sed 's/^/    /'
    exit 1
fi
echo "f64_symbols: no public name defined in both builds of models/"
