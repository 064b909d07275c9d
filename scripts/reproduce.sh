#!/bin/sh
# make reproduce: every experiments/*.json at PROFILE (quick by default),
# cells as make targets, then RESULTS/REPORT.md and the gnuplot plots.
#
#   scripts/reproduce.sh SEQBENCH BUILD     (what `make reproduce` runs)
#
# From `seqbench experiment --list-cells` of each spec it writes
# BUILD/reproduce/cells.mk, one target per result file
# RESULTS/<experiment>/<cell>.seed<k>.json, and runs it with make: a cell
# whose file exists is skipped, so an interrupted run resumes where it
# stopped and nothing besides the result files is needed. Cells run JOBS at
# a time with cores/JOBS threads each: JOBS is make's -j (`make -j 2
# reproduce`), and plain `make reproduce` runs one cell per core, one thread
# each (the models are too small for a second thread to pay). The cells of an
# "exclusive" spec (timing experiments) run after all the others, one at a
# time, with every core. Each cell's output goes to BUILD/reproduce/logs/.
# Environment: PROFILE, ONLY (experiment names, comma-separated), RESULTS, SEEDS (e.g. 4,5,6: every
# training cell's seeds instead of the profile's, for an independent second run; timing specs keep theirs).
#
#   scripts/reproduce.sh cell ...           (one cell: what cells.mk runs)
set -eu
cd "$(dirname "$0")/.."
# waiting OpenMP threads sleep instead of spinning: a busy machine otherwise
# slows training ~10x (docs/failures.md, Threads)
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"

# "45 s", "12 min", "1 h 05 min"
duration() {
    awk -v s="$1" 'BEGIN { if (s < 90) printf "%.0f s", s; else if (s < 5400) printf "%.0f min", s / 60;
                           else printf "%d h %02d min", int(s / 3600), int((s % 3600) / 60) }'
}

# One cell: run it with its output in a log, then one progress line with the
# overall ETA: the estimate of the cells left, scaled by the time the cells
# finished so far took against theirs (gen/todo.tsv: path, estimate, exclusive).
# Cells finish side by side (make -j): each appends itself to gen/done.tsv and
# prints its line under one lock, so every finished cell (ok or failed) counts
# once and the lines count up in order. Counting the result files that exist
# instead, two cells ending together both said "2 of 79" and none "1 of 79".
if [ "${1:-}" = cell ]; then
    shift
    bin=$1 gen=$2 profile=$3 results=$4 jobs=$5 spec=$6 exp=$7 cell=$8 seed=$9
    shift 9
    threads=$1 out=$2 seeds=${3:-}
    log="$gen/logs/$exp.$cell.seed$seed.log"
    mkdir -p "$gen/logs"
    rc=0
    "$bin" experiment --spec "$spec" --profile "$profile" --results "$results" --cell "$cell" --seed "$seed" \
        --threads "$threads" ${seeds:+--seeds "$seeds"} >"$log" 2>&1 || rc=$?
    # the runner's own line for the cell: "ok in 83 s: token_acc 0.99 at 16, ..."
    outcome=$(sed -n "s/^\[[0-9]*\/[0-9]*\] $exp\/$cell seed $seed: \(.*\); [0-9]* of [0-9]* done.*/\1/p" "$log" | tail -n 1)
    [ $rc -eq 0 ] || outcome="failed (status $rc; $log)"
    (
        flock 8
        printf '%s\t%s\n' "$out" "$rc" >>"$gen/done.tsv"
        progress=$(awk -F '\t' -v now="$(date +%s.%N)" -v start="$(cat "$gen/start")" -v jobs="$jobs" '
            function fmt(s) {
                if (s < 90) return sprintf("%.0f s", s)
                if (s < 5400) return sprintf("%.0f min", s / 60)
                return sprintf("%d h %02d min", int(s / 3600), int((s % 3600) / 60))
            }
            FILENAME == ARGV[1] { fin[$1] = 1; next }
            { w = $3 ? $2 : $2 / jobs; n++
              if ($1 in fin) { done++; wdone += w } else left += w }
            END { printf "%d of %d done, ETA %s", done, n, fmt(wdone > 0 ? left * (now - start) / wdone : 0) }' \
            "$gen/done.tsv" "$gen/todo.tsv")
        echo "reproduce: $exp/$cell seed $seed: ${outcome:-done}; $progress" >&2
        [ $rc -eq 0 ] || tail -n 3 "$log" >&2
    ) 8>>"$gen/progress.lock"
    exit $rc
fi

bin=${1:-build/seqbench}
build=${2:-build}
if [ ! -x "$bin" ] || [ -d "$bin" ]; then
    echo "seqbench: reproduce.sh: \"$bin\" is not the seqbench program (usage: scripts/reproduce.sh SEQBENCH BUILD; make reproduce runs it)" >&2
    exit 2
fi
profile=${PROFILE:-quick}
results=${RESULTS:-results}
only=${ONLY:-}
seeds=${SEEDS:-}
case $seeds in
*[!0-9,]* | ,* | *, | *,,*)
    echo "seqbench: SEEDS=$seeds: a comma-separated list of seeds, e.g. SEEDS=4,5,6" >&2
    exit 2
    ;;
esac
# the plot scripts take RESULTS inside a quoted gnuplot string
case $results in
*\'* | *\"* | *\\*)
    echo "seqbench: RESULTS=$results: a folder name without quotes or backslashes" >&2
    exit 2
    ;;
esac
# the run's own files (generated makefile, logs, ETA clock) sit beside the build, one directory per results
# folder, so two runs into different folders never share them
case $results in
results) gen="$build/reproduce" ;;
*) gen="$build/reproduce-$(printf '%s' "$results" | tr -c 'A-Za-z0-9_.-' '_')" ;;
esac
cores=$(nproc 2>/dev/null || echo 1)
jobs=$cores
for w in ${MAKEFLAGS:-}; do
    case $w in
    -j) jobs=$cores ;;                # make -j: no limit; one cell per core
    -j[0-9]*) jobs=${w#-j} ;;
    esac
done
threads=$((cores / jobs))
[ "$threads" -ge 1 ] || threads=1

# the experiments: all, or those ONLY names; a wrong name stops here, before anything runs
known=$(for s in experiments/*.json; do basename "$s" .json; done | paste -sd, - | sed 's/,/, /g')
specs=
if [ -n "$only" ]; then
    for n in $(echo "$only" | tr ',' ' '); do
        if [ ! -f "experiments/$n.json" ]; then
            echo "seqbench: ONLY=$only: no experiment \"$n\" (known: $known)" >&2
            exit 2
        fi
        specs="$specs experiments/$n.json"
    done
else
    specs=$(echo experiments/*.json)
fi

# every cell, from the specs themselves; a bad PROFILE or spec is one line and status 2
mkdir -p "$gen"
# one run at a time per results folder: a second would start the same cells again
exec 9>"$gen/lock"
if ! flock -n 9; then
    echo "seqbench: RESULTS=$results: another make reproduce is running into it (lock $gen/lock)" >&2
    exit 2
fi
: >"$gen/cells.tsv"
# --list-cells first moves aside each result made under other settings than its cell's now (another profile,
# a changed spec or thread count: FILE.stale), saying so, so make sees it missing and runs the cell again
for s in $specs; do
    if ! "$bin" experiment --spec "$s" --profile "$profile" --results "$results" ${seeds:+--seeds "$seeds"} \
        --threads "$threads" --list-cells --move-stale >"$gen/list.tsv" 2>"$gen/list.err"; then
        grep "^seqbench: " "$gen/list.err" | head -n 1 >&2
        exit 2
    fi
    grep "running it again" "$gen/list.err" >&2 || true
    sed "s|^|$s	|" "$gen/list.tsv" >>"$gen/cells.tsv"
done
# each spec's unfinished cells pass their command's --dry-run before any cell runs
for s in $specs; do
    if ! "$bin" experiment --spec "$s" --profile "$profile" --results "$results" ${seeds:+--seeds "$seeds"} --dry-run \
        >/dev/null 2>"$gen/dry.err"; then
        grep -E "would fail|^seqbench: " "$gen/dry.err" | head -n 5 >&2
        exit 2
    fi
done

# The makefile, the cells still to run with their estimates (a cell without one counts as the mean of
# those with one; with none at all every cell counts 1 for the ETA) and the summary line.
summary=$(awk -F '\t' -v gen="$gen" -v bin="$bin" -v profile="$profile" -v results="$results" -v jobs="$jobs" \
    -v threads="$threads" -v seeds="$seeds" '
    function q(s) { gsub(/\047/, "\047\\\047\047", s); return "\047" s "\047" }
    { spec[NR] = $1; xname[NR] = $2; cell[NR] = $3; seed[NR] = $4; path[NR] = $5; est[NR] = $6; ex[NR] = $7
      todo[NR] = (getline line < $5) < 0; if (!todo[NR]) close($5)
      if (todo[NR] && $6 != "-") { known += $6; nk++ } else if (todo[NR]) nu++ }
    END {
        mk = gen "/cells.mk"
        print "# generated by scripts/reproduce.sh from seqbench experiment --list-cells; remade by every run" > mk
        printf "RUN = scripts/reproduce.sh cell %s %s %s %s %s\n", q(bin), q(gen), q(profile), q(results), jobs > mk
        print ".SUFFIXES:\n.PHONY: shared exclusive" > mk
        # longest first (make -j starts prerequisites in their order): a long cell started last would leave a
        # core idle while it finishes; cells without an estimate count as the mean, ties keep the specs order
        mean = nk ? known / nk : 1
        for (i = 1; i <= NR; i++) {
            w[i] = est[i] != "-" ? est[i] : mean
            for (j = i; j > 1 && w[order[j - 1]] < w[i]; j--) order[j] = order[j - 1]
            order[j] = i
        }
        for (p = 0; p < 2; p++) {
            printf "%s:", p ? "exclusive" : "shared" > mk
            for (k = 1; k <= NR; k++) if (ex[order[k]] == p) printf " %s", path[order[k]] > mk
            print "\n\t@:" > mk
        }
        printf ".PRECIOUS:" > mk
        for (i = 1; i <= NR; i++) printf " %s", path[i] > mk
        print "" > mk
        for (i = 1; i <= NR; i++)
            printf "%s:\n\t@$(RUN) %s %s %s %s %s %s %s\n", path[i], q(spec[i]), q(xname[i]), q(cell[i]), q(seed[i]),
                   ex[i] ? 0 : threads, q(path[i]), q(seeds) > mk
        tsv = gen "/todo.tsv"
        printf "" > tsv
        for (i = 1; i <= NR; i++) if (todo[i]) {
            e = w[i]; n++
            if (ex[i]) { exs += e; nex++ } else sh += e
            printf "%s\t%s\t%d\n", path[i], nk ? e : 1, ex[i] > tsv
        }
        printf "%d %d %d %.0f %d %.0f", NR, n, nex, sh / jobs + exs, nk ? nu : -1, mean
    }' "$gen/cells.tsv")
set -- $summary
total=$1 to_run=$2 n_excl=$3 est=$4 unknown=$5 mean=$6
excl_note=
[ "$n_excl" -eq 0 ] || excl_note=" ($n_excl exclusive: after the others, one at a time, all $cores cores)"
if [ "$to_run" -eq 0 ]; then
    est_note="nothing to run"
elif [ "$unknown" -lt 0 ]; then
    est_note="no estimate (no cell has \"seconds\" for $profile)"
elif [ "$unknown" -gt 0 ]; then
    est_note="estimated $(duration "$est") ($unknown without an estimate counted as the mean, $mean s)"
else
    est_note="estimated $(duration "$est")"
fi
echo "reproduce: profile $profile${seeds:+, seeds $seeds}, $total cells, $((total - to_run)) done, $to_run to run, $jobs at once with" \
    "$threads thread(s) each$excl_note; $est_note" >&2
# results/ in the repository holds a shipped run's report, tables and plots: say that this run replaces them
if [ "$results" = results ] && git ls-files --error-unmatch results/REPORT.md >/dev/null 2>&1; then
    echo "reproduce: results/ holds the shipped report ($(sed -n 's/^- seqbench version: //p' results/REPORT.md | head -n 1));" \
        "this run rewrites it: git diff results/ compares the two, git checkout results/ brings the shipped one back" \
        "(RESULTS=DIR writes elsewhere)" >&2
fi
date +%s.%N >"$gen/start"
: >"$gen/done.tsv" # the cells this run finishes, one line each (the progress lines count them)

# the sub-makes get their own -j, not the caller's jobserver
status=0
if [ "$to_run" -gt 0 ]; then
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "${MAKE:-make}" --no-print-directory -k -j "$jobs" -f "$gen/cells.mk" shared ||
        status=1
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "${MAKE:-make}" --no-print-directory -k -j 1 -f "$gen/cells.mk" exclusive ||
        status=1
fi

# the images go to RESULTS/plots/, beside the report that links them
"$bin" report --experiments experiments --results "$results" --profile "$profile" ${seeds:+--seeds "$seeds"} \
    --plots plots || status=1
# The plot scripts read the tables from RESULTS and write the images to RESULTS/plots/ (plots/lib/common.gp's
# variables). With ONLY, only the plots named after those experiments (plots/NAME*.gp): the others have no data.
plots=
for gp in plots/*.gp; do
    [ -e "$gp" ] || continue
    keep=${only:+no}
    for n in $(echo "$only" | tr ',' ' '); do
        case $(basename "$gp") in "$n"*) keep= ;; esac
    done
    [ -n "$keep" ] || plots="$plots $gp"
done
if command -v gnuplot >/dev/null 2>&1; then
    mkdir -p "$results/plots"
    for gp in $plots; do gnuplot -e "results='$results'; outdir='$results/plots'" "$gp" || status=1; done
else
    echo "seqbench: gnuplot not found; plots not rendered (scripts/install-deps.sh installs it)" >&2
fi
echo "report: $results/REPORT.md" >&2
exit $status
