#!/bin/sh
# Submits the cells of experiments/*.json to Slurm: one job array of training
# cells (task i runs line i of its list, scripts/slurm/cell.sh), the timing
# cells that must run alone as a second array of whole nodes after it, and a
# report job after both. Every task writes into the same results directory
# (a shared filesystem; results are written atomically, so tasks never see a
# half-written file), and finished cells are skipped: rerunning this script
# resumes. Run it from a clone on the cluster's shared filesystem, where the
# compute nodes see the same paths.
#   usage: scripts/slurm/submit.sh [--profile P] [--only NAME,...] [--results DIR]
#          [--threads T] [options below] [-- extra sbatch args]
set -eu
die() { echo "submit.sh: $*" >&2; exit 2; }
usage() {
    cat <<'USAGE'
usage: scripts/slurm/submit.sh [options] [-- extra sbatch args, e.g. --partition=P --account=A]

  --profile P       profile of every spec (default quick)
  --seeds 4,5,6     replace every training cell's seeds (an independent second run,
                    into another --results; as make reproduce SEEDS=...)
  --only A,B        only these experiments (A.json, ... of --experiments)
  --experiments DIR the specs (default experiments)
  --results DIR     results directory, shared by all tasks (default results)
  --threads T       threads of every cell; training tasks ask for T CPUs
                    (default: --cpus for training cells, the whole node for timing cells)
  --cpus N          CPUs per training task (default 1)
  --mem SIZE        memory per training task (default 2G; timing cells get the node's)
  --time T          wall-clock limit of every task, Slurm's format (default: from the
                    cells' estimates: the longest x --time-margin, at least --min-time)
  --time-margin X   factor on the estimates (default 3)
  --min-time S      floor of a task's limit in seconds (default 600)
  --limit N         at most N tasks of an array at once (default: no limit)
  --seqbench PATH   the binary (default build/seqbench)
  --no-plots        the report job does not run gnuplot
  --dry-run         print the sbatch commands, submit nothing
USAGE
}

cd "$(dirname "$0")/../.."
repo=$(pwd)
again="scripts/slurm/submit.sh $*"   # to print how to resume
profile=quick seeds="" only="" experiments=experiments results=results threads="" cpus=1 mem=2G time=""
margin=3 min_time=600 limit="" bin=build/seqbench plots=1 dry=""
need_arg() { [ $# -ge 2 ] || die "option $1 needs a value"; }
while [ $# -gt 0 ]; do
    case $1 in
        --profile) need_arg "$@"; profile=$2; shift 2 ;;
        --only) need_arg "$@"; only=$2; shift 2 ;;
        --seeds) need_arg "$@"; seeds=$2; shift 2 ;;
        --results) need_arg "$@"; results=$2; shift 2 ;;
        --experiments) need_arg "$@"; experiments=$2; shift 2 ;;
        --threads) need_arg "$@"; threads=$2; shift 2 ;;
        --cpus) need_arg "$@"; cpus=$2; shift 2 ;;
        --mem) need_arg "$@"; mem=$2; shift 2 ;;
        --time) need_arg "$@"; time=$2; shift 2 ;;
        --time-margin) need_arg "$@"; margin=$2; shift 2 ;;
        --min-time) need_arg "$@"; min_time=$2; shift 2 ;;
        --limit) need_arg "$@"; limit=$2; shift 2 ;;
        --seqbench) need_arg "$@"; bin=$2; shift 2 ;;
        --no-plots) plots=""; shift ;;
        --dry-run) dry=1; shift ;;
        -h|--help) usage; exit 0 ;;
        --) shift; break ;;
        *) die "unknown option \"$1\" (--help lists them)" ;;
    esac
done
# what is left are sbatch's own options, given to every job

is_count() { case $1 in ''|*[!0-9]*) return 1 ;; *) [ "$1" -gt 0 ] ;; esac; }
[ -z "$threads" ] || is_count "$threads" || die "--threads \"$threads\": not a positive integer"
is_count "$cpus" || die "--cpus \"$cpus\": not a positive integer"
case $seeds in *[!0-9,]*|,*|*,|*,,*) die "--seeds \"$seeds\": a comma-separated list of seeds, e.g. 4,5,6" ;; esac
[ -z "$limit" ] || is_count "$limit" || die "--limit \"$limit\": not a positive integer"
is_count "$min_time" || die "--min-time \"$min_time\": not a positive number of seconds"
awk -v m="$margin" 'BEGIN { exit !(m + 0 > 0 && m ~ /^[0-9.]+$/) }' ||
    die "--time-margin \"$margin\": not a positive number"
[ -n "$dry" ] || command -v sbatch >/dev/null 2>&1 ||
    die "sbatch not found: run this on a Slurm login node (make test-slurm starts a local one)"
case $bin in /*) ;; *) bin=$repo/$bin ;; esac
[ -x "$bin" ] || die "seqbench binary \"$bin\" not found (make first, or --seqbench PATH)"
# absolute, as every task and the list need it; made only once all is checked
case $results in /*) ;; *) results=$repo/$results ;; esac
[ ! -e "$results" ] || [ -d "$results" ] || die "--results \"$results\": not a directory"

[ -d "$experiments" ] || die "--experiments \"$experiments\": not a directory"
experiments=$(cd "$experiments" && pwd)
specs=""
if [ -n "$only" ]; then
    for name in $(echo "$only" | tr ',' ' '); do
        [ -f "$experiments/$name.json" ] ||
            die "--only: no experiment \"$name\" (known: $(cd "$experiments" && ls -- *.json | sed 's/\.json$//' | paste -sd ' ' -))"
        specs="$specs $experiments/$name.json"
    done
else
    specs=$(ls "$experiments"/*.json 2>/dev/null) || die "no specs in \"$experiments\" (*.json)"
fi

# every (cell, seed) of the chosen specs, the spec's path first:
# spec experiment cell seed result_path est_seconds exclusive; and each
# spec's cells checked by their command's --dry-run, so that a bad profile or
# option stops here in one line rather than in every task
cells=$(mktemp "${TMPDIR:-/tmp}/seqbench-cells.XXXXXX")
err=$cells.err
trap 'rm -f "$cells" "$err"' EXIT
trap 'exit 1' HUP INT TERM PIPE
# a result made under other settings than its cell's now (another profile, thread count or spec) is moved aside
# (FILE.stale) so its cell is submitted again; a dry run moves nothing (the runner's --dry-run below names them)
move=--move-stale
[ -z "$dry" ] || move=
for spec in $specs; do
    if ! out=$("$bin" experiment --spec "$spec" --profile "$profile" --results "$results" --list-cells $move \
               --threads "${threads:-$cpus}" ${seeds:+--seeds "$seeds"} 2>"$err") ||
        ! "$bin" experiment --spec "$spec" --profile "$profile" --results "$results" ${seeds:+--seeds "$seeds"} \
            --dry-run >/dev/null 2>>"$err"; then
        # seqbench's own line says what is wrong
        grep -m 1 -E "would fail|^seqbench" "$err" >&2 || head -n 1 "$err" >&2
        exit 2
    fi
    [ -z "$out" ] || printf '%s\n' "$out" | awk -v spec="$spec" '{ print spec "\t" $0 }' >>"$cells"
done

sd=$results/.slurm
mkdir -p "$sd" || die "cannot create \"$sd\""
# an earlier submission into this directory with jobs still queued would run
# its unfinished cells a second time beside the new one's: wait for it
if [ -z "$dry" ]; then
    queued=$(squeue -h -o %i 2>/dev/null | sed 's/_.*//' | sort -u)
    for f in "$sd"/*/jobs; do
        [ -f "$f" ] || continue
        for id in $(cat "$f"); do
            if printf '%s\n' "$queued" | grep -qx "$id"; then
                die "job $id of the submission in $(dirname "$f") is still queued or running: wait for it (squeue --me), or scancel $(paste -sd ' ' - <"$f"), then rerun"
            fi
        done
    done
fi
list=$sd/cells-$profile.tsv
cp "$cells" "$list.tmp" && mv "$list.tmp" "$list"

# the unfinished ones, frozen for this submission: tasks read their line from
# these files, so a later run of this script cannot shift them
stamp=$(date -u +%Y%m%dT%H%M%SZ)-$$
jd=$sd/$stamp
mkdir -p "$jd/logs"
awk -F '\t' -v jd="$jd" '
    system("test -f \"" $5 "\"") != 0 { print > (jd ($7 == 1 ? "/timing.tsv" : "/train.tsv")) }' "$list"
total=$(wc -l <"$list")
ntrain=0 ntiming=0
[ -f "$jd/train.tsv" ] && ntrain=$(wc -l <"$jd/train.tsv")
[ -f "$jd/timing.tsv" ] && ntiming=$(wc -l <"$jd/timing.tsv")
report_cmd="$bin report --experiments $experiments --results $results --profile $profile${seeds:+ --seeds $seeds}"
if [ $((ntrain + ntiming)) = 0 ]; then
    rmdir "$jd/logs" "$jd"
    echo "all $total cells of profile $profile are finished in $results; nothing submitted"
    echo "report:  $report_cmd"
    exit 0
fi
echo "$total cells of profile $profile${seeds:+ (seeds $seeds)}, $((total - ntrain - ntiming)) finished: submitting $ntrain training and $ntiming timing cells"

# a task's limit: its array's longest estimate x margin, at least min_time
# ("-", no estimate: one hour, said once before anything is submitted: a
# spec without "seconds" for this profile may hold cells that take hours)
if [ -z "$time" ]; then
    unknown=$(cat "$jd/train.tsv" "$jd/timing.tsv" 2>/dev/null | awk -F '\t' '$6 == "-"' | wc -l)
    [ "$unknown" -eq 0 ] || echo "submit.sh: warning: $unknown cells have no \"seconds\" estimate for profile $profile: their tasks get 1 hour; give --time for longer" >&2
fi
limit_of() {
    [ -n "$time" ] && { echo "$time"; return; }
    awk -F '\t' -v m="$margin" -v floor="$min_time" '
        { e = ($6 == "-" ? 3600 : $6 * m); if (e > t) t = e }
        END { if (t < floor) t = floor; t = int(t + 59); t -= t % 60
              printf "%d-%02d:%02d:00\n", t / 86400, t % 86400 / 3600, t % 3600 / 60 }' "$1"
}
array_of() { echo "0-$(($1 - 1))${limit:+%$limit}"; }

# sbatch, or its command line with --dry-run; prints the job id (with
# --dry-run, $1 stands for it)
submit() {
    what=$1
    shift
    if [ -n "$dry" ]; then
        echo "sbatch $*" >&2
        echo "$what"
    else
        # --parsable prints "id" or "id;cluster"
        id=$(sbatch --parsable "$@") || return 1
        [ -n "$id" ] || return 1
        echo "${id%%;*}"
    fi
}

name=seqbench-$profile
train_id="" timing_id="" after=""
if [ "$ntrain" -gt 0 ]; then
    t_threads=${threads:-$cpus}
    train_id=$(submit TRAIN --job-name="$name" --array="$(array_of "$ntrain")" \
        --cpus-per-task="$t_threads" --mem="$mem" --time="$(limit_of "$jd/train.tsv")" \
        --output="$jd/logs/train-%A_%a.out" --chdir="$repo" "$@" \
        "$repo/scripts/slurm/cell.sh" "$jd/train.tsv" "$bin" "$profile" "$results" "$t_threads" "${seeds:--}") ||
        die "sbatch failed for the training array"
    after=$train_id
fi
if [ "$ntiming" -gt 0 ]; then
    # all of a node, nothing else on it; threads: every CPU Slurm gives it
    timing_id=$(submit TIMING --job-name="$name-timing" --array="$(array_of "$ntiming")" \
        --exclusive --mem=0 --time="$(limit_of "$jd/timing.tsv")" \
        ${train_id:+--dependency=afterany:$train_id} \
        --output="$jd/logs/timing-%A_%a.out" --chdir="$repo" "$@" \
        "$repo/scripts/slurm/cell.sh" "$jd/timing.tsv" "$bin" "$profile" "$results" "${threads:-node}" "${seeds:--}") ||
        die "sbatch failed for the timing array"
    after=${after:+$after:}$timing_id
fi
report_id=$(submit REPORT --job-name="$name-report" --dependency="afterany:$after" \
    --cpus-per-task=1 --mem="$mem" --time=00:30:00 \
    --output="$jd/logs/report-%j.out" --chdir="$repo" "$@" \
    "$repo/scripts/slurm/report.sh" "$bin" "$experiments" "$profile" "$results" "${plots:-0}" "${seeds:--}") ||
    die "sbatch failed for the report job"

if [ -n "$dry" ]; then
    rm -rf "$jd"
    echo "dry run: nothing submitted"
    exit 0
fi
ids="${train_id:+$train_id }${timing_id:+$timing_id }$report_id"
echo "$ids" | tr ' ' '\n' >"$jd/jobs"
echo "jobs: ${train_id:+training array $train_id, }${timing_id:+timing array $timing_id, }report $report_id"
echo "cells: $list (this submission: $jd)"
echo "watch:   squeue --me    (or: squeue -j $(echo "$ids" | tr ' ' ','))"
echo "         sacct -j $(echo "$ids" | tr ' ' ',') --format=JobID,JobName%30,State,Elapsed,MaxRSS"
echo "logs:    $jd/logs/"
echo "resume:  $again    (once these jobs have left the queue; finished cells are skipped)"
echo "report:  $results/REPORT.md, when job $report_id has run"
