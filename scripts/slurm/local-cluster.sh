#!/bin/bash
# make test-slurm: starts a one-node Slurm (munged, slurmctld, slurmd from
# Debian's packages) on this machine, loopback only, everything under one
# temporary directory, and checks that scripts/slurm/submit.sh run on it gives
# the same results and REPORT.md as `make reproduce`, at the smoke profile.
# Needs root: apt installs the packages and slurmd starts jobs as their user.
# No systemd: the daemons run in the foreground as children of this script and
# the EXIT trap stops them. The last line is "N passed, N failed".
#   usage: scripts/slurm/local-cluster.sh [path/to/seqbench]
set -u
cd "$(dirname "$0")/../.." || exit 2
repo=$(pwd)
bin=${1:-build/seqbench}
case $bin in /*) ;; *) bin=$repo/$bin ;; esac
# its own name: make puts a command line's PROFILE=... in the environment
profile=${SLURM_TEST_PROFILE:-smoke}
# seconds for the submitted jobs to leave the queue
timeout=${SLURM_TEST_TIMEOUT:-1200}

passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
# before the cluster exists: one line, and the summary line all the same
die() { echo "local-cluster.sh: $*" >&2; echo "$passed passed, $((failed + 1)) failed"; exit 2; }

[ "$(id -u)" = 0 ] || die "must run as root (apt installs slurm; slurmd starts jobs as their user)"
[ -x "$bin" ] || die "seqbench binary \"$bin\" not found (run make first)"
scripts/install-deps.sh slurm || die "could not install slurm and munge (scripts/install-deps.sh slurm)"
for cmd in munged munge slurmctld slurmd sbatch squeue sinfo scancel; do
    command -v "$cmd" >/dev/null || die "\"$cmd\" not found after installing slurm-wlm and munge"
done

# a short path: the munge socket's must fit a sockaddr_un (108 bytes)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sbslurm.XXXXXX") || die "mktemp failed"
conf=$tmp/etc/slurm.conf
mkdir -p "$tmp/etc" "$tmp/munge" "$tmp/state" "$tmp/spool" "$tmp/log"
chmod 700 "$tmp/munge"
daemons=""   # pids, in the order to stop them: slurmd, slurmctld, munged

# Slurm's client commands find this cluster only through SLURM_CONF, set on
# each call rather than exported, so the leftover scan below can tell this
# script's processes from the jobs'.
sl() { SLURM_CONF=$conf "$@"; }

stop_pid() {
    kill "$1" 2>/dev/null || return 0
    for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.2; done
    kill -9 "$1" 2>/dev/null
}

# processes the jobs left: anything whose environment names this cluster's
# configuration (sbatch passes SLURM_CONF on to every task) or whose working
# directory is in the temporary directory
leftovers() {
    local d p
    for d in /proc/[0-9]*; do
        p=${d#/proc/}
        [ "$p" = $$ ] && continue
        if tr '\0' '\n' 2>/dev/null <"$d/environ" | grep -qxF "SLURM_CONF=$conf" ||
            case $(readlink "$d/cwd" 2>/dev/null) in "$tmp"|"$tmp"/*) true ;; *) false ;; esac; then
            echo "$p"
        fi
    done
}

cleanup() {
    trap - EXIT INT TERM
    if [ -n "$daemons" ]; then
        # cancel what is left and let slurmd's step daemons end their tasks
        ids=$(sl squeue -h -o %i 2>/dev/null)
        if [ -n "$ids" ]; then
            # shellcheck disable=SC2086
            sl scancel $ids 2>/dev/null
            for _ in $(seq 30); do [ -z "$(sl squeue -h -o %i 2>/dev/null)" ] && break; sleep 1; done
        fi
        for p in $daemons; do stop_pid "$p"; done
        wait 2>/dev/null
        left=$(leftovers)
        if [ -n "$left" ]; then
            fail "processes left behind after the daemons stopped: $(printf '%s\n' "$left" | paste -sd ' ' -)"
            for p in $left; do kill -9 "$p" 2>/dev/null; done
        fi
    fi
    if [ "$failed" = 0 ] && [ -z "${SLURM_TEST_KEEP:-}" ]; then
        rm -rf "$tmp"
    else
        echo "kept for inspection: $tmp"
    fi
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
    exit
}
trap cleanup EXIT
trap 'fail "interrupted"; exit 1' INT TERM

log_tails() {
    for f in "$tmp"/log/*.log; do
        [ -f "$f" ] || continue
        echo "--- last lines of $f"
        tail -n "${1:-15}" "$f"
    done
}

# a TCP port nothing listens on, from $1 upwards
free_port() {
    local p=$1
    while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
    echo "$p"
}
base=$((20000 + ($$ % 4000) * 2))
ctld_port=$(free_port "$base")
slurmd_port=$(free_port $((ctld_port + 1)))

# --- munge: a fresh key, its own socket
sock=$tmp/munge/sock
head -c 1024 /dev/urandom >"$tmp/munge/key"
chmod 400 "$tmp/munge/key"
# --force: munged otherwise refuses a socket in a directory that not every
# user can enter (a check for a system-wide daemon; this one serves root only)
munged --foreground --force --socket="$sock" --key-file="$tmp/munge/key" \
    --log-file="$tmp/log/munged.log" --pid-file="$tmp/munge/pid" --seed-file="$tmp/munge/seed" \
    >>"$tmp/log/munged.out" 2>&1 &
daemons=$!
up=""
for _ in $(seq 50); do
    if munge -n -S "$sock" 2>/dev/null | unmunge -S "$sock" >/dev/null 2>&1; then up=1; break; fi
    sleep 0.2
done
if [ -z "$up" ]; then fail "munged did not start"; log_tails; cat "$tmp/log/munged.out"; exit 1; fi

# --- slurm.conf for one node: this machine as "localhost" on 127.0.0.1
cpus=$(nproc)
mem_mb=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
# leave the system and this script some memory: a tenth, at least 512 MB
margin=$((mem_mb / 10 > 512 ? mem_mb / 10 : 512))
real_mb=$((mem_mb - margin))
cat >"$conf" <<CONF
# written by scripts/slurm/local-cluster.sh for one test run
ClusterName=seqbench-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
# a job that asks for no memory gets its share per CPU, not the whole node
DefMemPerCPU=$((real_mb / cpus))
# the node as configured here, whatever slurmd finds (nproc may be fewer CPUs
# than the hardware has, in a container)
SlurmdParameters=config_overrides
ReturnToService=2
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
MinJobAge=60
NodeName=localhost NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$real_mb State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF

slurmctld -D -f "$conf" >>"$tmp/log/slurmctld.out" 2>&1 &
daemons="$! $daemons"
slurmd -D -f "$conf" -N localhost >>"$tmp/log/slurmd.out" 2>&1 &
daemons="$! $daemons"
state=""
for _ in $(seq 60); do
    state=$(sl sinfo -h -N -n localhost -o %t 2>/dev/null)
    [ "$state" = idle ] && break
    sleep 1
done
if [ "$state" = idle ]; then
    ok "one-node cluster up: localhost, $cpus CPUs, ${real_mb} MB, ports $ctld_port/$slurmd_port"
else
    fail "the node is \"$state\" after 60 s, not idle"
    log_tails 20
    exit 1
fi

# waits until nothing of this cluster is queued or running; $1 names what
wait_queue() {
    local start=$SECONDS n
    while :; do
        n=$(sl squeue -h -o %i 2>/dev/null | wc -l)
        [ "$n" = 0 ] && return 0
        if [ $((SECONDS - start)) -ge "$timeout" ]; then
            fail "$1: $n jobs still queued after $timeout s (SLURM_TEST_TIMEOUT)"
            sl squeue
            log_tails 20
            return 1
        fi
        sleep 5
    done
}

# --- a trivial array first: if this fails, the cluster is at fault, not seqbench
mkdir -p "$tmp/hello"
if sl sbatch --parsable --array=0-1 --output="$tmp/hello/%a.out" \
    --wrap 'echo "task $SLURM_ARRAY_TASK_ID on $(hostname -s)"' >/dev/null &&
    wait_queue "the 2-task hello array" && [ "$(cat "$tmp"/hello/*.out 2>/dev/null | wc -l)" = 2 ]; then
    ok "a 2-task array ran: $(cat "$tmp"/hello/*.out | tr '\n' ' ')"
else
    fail "a 2-task array did not run"
    log_tails 20
    exit 1
fi

# --- submit.sh refuses, in one line and before submitting anything: no sbatch
# on PATH (a PATH of only the tools it needs before that check), a bad profile
nobin=$tmp/nosbatch
mkdir -p "$nobin"
for c in sh dirname awk; do ln -s "$(command -v "$c")" "$nobin/$c"; done
err=$(PATH=$nobin SLURM_CONF=$conf scripts/slurm/submit.sh --seqbench "$bin" 2>&1 >/dev/null)
st=$?
if [ "$st" = 2 ] && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] && printf '%s' "$err" | grep -q sbatch; then
    ok "no sbatch: exit 2, \"$err\""
else
    fail "no sbatch: exit $st, stderr \"$err\" (want exit 2 and one line naming sbatch)"
fi
err=$(sl scripts/slurm/submit.sh --seqbench "$bin" --profile no-such --results "$tmp/bad" 2>&1 >/dev/null)
st=$?
queued=$(sl squeue -h -o %i | wc -l)
if [ "$st" = 2 ] && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] && [ "$queued" = 0 ]; then
    ok "bad profile: exit 2, nothing queued, \"$err\""
else
    fail "bad profile: exit $st, $queued jobs queued, stderr \"$err\" (want exit 2, one line, none queued)"
fi

# --- the smoke profile through Slurm
sres=$tmp/slurm-results
if sl scripts/slurm/submit.sh --seqbench "$bin" --profile "$profile" --results "$sres" \
    >"$tmp/submit.out" 2>&1; then
    ok "submit.sh --profile $profile: $(grep '^jobs:' "$tmp/submit.out")"
else
    fail "submit.sh --profile $profile failed:"
    cat "$tmp/submit.out"
    exit 1
fi
cat "$tmp/submit.out"
# a second submission while the first one's jobs are queued is refused
err=$(sl scripts/slurm/submit.sh --seqbench "$bin" --profile "$profile" --results "$sres" 2>&1 >/dev/null)
st=$?
if [ "$st" = 2 ] && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] && printf '%s' "$err" | grep -q "still queued"; then
    ok "resubmitting while the jobs are queued: exit 2, \"$err\""
else
    fail "resubmitting while the jobs are queued: exit $st, \"$err\" (want exit 2, one line)"
fi
start=$SECONDS
wait_queue "submit.sh's jobs" || exit 1
ok "every job left the queue after $((SECONDS - start)) s"
list=$sres/.slurm/cells-$profile.tsv
ncells=$(wc -l <"$list")
missing=$(awk -F '\t' 'system("test -f \"" $5 "\"") != 0 { print $2 "/" $3 ".seed" $4 }' "$list")
if [ -n "$missing" ] || [ "$ncells" = 0 ]; then
    fail "through Slurm: $(echo "$missing" | wc -w) of $ncells results missing: $(printf '%s\n' "$missing" | paste -sd ' ' -)"
    for f in "$sres"/.slurm/*/logs/*; do echo "--- $f"; tail -n 5 "$f"; done
else
    ok "through Slurm: all $ncells results written"
fi
if [ -s "$sres/REPORT.md" ]; then ok "the report job wrote REPORT.md"; else fail "no $sres/REPORT.md"; fi

# --- resume: with two results gone (the first and the last cell), a new
# submission runs those two alone and leaves the others' files untouched
first=$(head -n 1 "$list" | cut -f 5)
last=$(tail -n 1 "$list" | cut -f 5)
stamps() { awk -F '\t' '{ print $5 }' "$list" | while read -r f; do [ "$f" = "$first" ] || [ "$f" = "$last" ] || ls -l --time-style=+%s.%N "$f"; done; }
before=$(stamps)
rm -f "$first" "$last"
if out=$(sl scripts/slurm/submit.sh --seqbench "$bin" --profile "$profile" --results "$sres" 2>&1) &&
    wait_queue "the resubmission" && [ -f "$first" ] && [ -f "$last" ] && [ "$(stamps)" = "$before" ]; then
    ok "resuming after two results were lost: $(printf '%s\n' "$out" | head -n 1); both rewritten, the other $((ncells - 2)) untouched"
else
    fail "resuming after two results were lost: $out"
fi

# --- resume: a second submission finds everything done and submits nothing
out=$(sl scripts/slurm/submit.sh --seqbench "$bin" --profile "$profile" --results "$sres" 2>&1)
st=$?
queued=$(sl squeue -h -o %i | wc -l)
if [ "$st" = 0 ] && [ "$queued" = 0 ] && printf '%s' "$out" | grep -q "nothing submitted"; then
    ok "resubmitting: $(printf '%s' "$out" | head -n 1)"
else
    fail "resubmitting: exit $st, $queued jobs queued: $out"
fi

# --- --seeds replaces every training cell's seeds, as make reproduce SEEDS=... does: an independent second
# run into its own directory, each task running its cell at the new seed and the report reading those seeds
err=$(sl scripts/slurm/submit.sh --seqbench "$bin" --profile "$profile" --seeds 4,,5 --results "$tmp/bad" 2>&1 >/dev/null)
st=$?
if [ "$st" = 2 ] && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ]; then
    ok "bad --seeds: exit 2, \"$err\""
else
    fail "bad --seeds: exit $st, stderr \"$err\" (want exit 2, one line)"
fi
kres=$tmp/seeds-results
if sl scripts/slurm/submit.sh --seqbench "$bin" --profile "$profile" --only needle_cpu --seeds 7 --results "$kres" \
    >"$tmp/seeds.out" 2>&1 && wait_queue "the --seeds 7 submission"; then
    n7=$(ls "$kres"/needle_cpu/*.seed7.json 2>/dev/null | wc -l)
    nother=$(ls "$kres"/needle_cpu/*.json 2>/dev/null | grep -cv '\.seed7\.json$')
    if [ "$n7" -gt 0 ] && [ "$nother" = 0 ] && grep -Eq "seeds? 7[^0-9]" "$kres/REPORT.md" 2>/dev/null; then
        ok "--seeds 7: $n7 results at seed 7, none at the spec's seeds, and the report reads seed 7"
    else
        fail "--seeds 7: $n7 results at seed 7, $nother at other seeds, report: $(grep -m 1 'seeds' "$kres/REPORT.md" 2>&1)"
        cat "$tmp/seeds.out"
    fi
else
    fail "--seeds 7 submission failed:"
    cat "$tmp/seeds.out"
fi

# --- the same profile through make reproduce's driver, into another directory
# (its generated makefile and logs in the temporary directory too). Its
# training cells run one per core with one thread each, as the Slurm tasks
# did (one CPU each); its timing cells, like Slurm's whole-node ones, with
# every core. MAKEFLAGS from a `make -j N test-slurm` would change that.
lres=$tmp/local-results
start=$SECONDS
if env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL PROFILE="$profile" RESULTS="$lres" ONLY= \
    scripts/reproduce.sh "$bin" "$tmp/build" >"$tmp/reproduce.out" 2>&1; then
    ok "make reproduce's driver, PROFILE=$profile: $((SECONDS - start)) s"
else
    fail "make reproduce's driver, PROFILE=$profile, failed:"
    tail -n 20 "$tmp/reproduce.out"
fi
missing=$(awk -F '\t' -v s="$sres" -v l="$lres" '
    { p = $5; sub("^" s, l, p); if (system("test -f \"" p "\"") != 0) print $2 "/" $3 ".seed" $4 }' "$list")
if [ -z "$missing" ]; then
    ok "through make reproduce: all $ncells results written"
else
    fail "through make reproduce: $(echo "$missing" | wc -w) of $ncells results missing: $(printf '%s\n' "$missing" | paste -sd ' ' -)"
fi

# --- the results themselves: every training (not timing) cell's file the same
# on both sides but for the clock (start time, load, seconds, rates) and the
# results directory, loss curve and evaluation included
strip_clock() {
    sed "s|$2|<RESULTS>|g" "$1" |
        grep -vE '^[[:space:]]*"(started_at|load_average[a-z_0-9]*|[a-z_]*seconds[a-z_]*|[a-z_]*_s|ms_[a-z_]*|[a-z_]*per_s[a-z_]*)":'
}
differ=""
nsame=0
while IFS=$(printf '\t') read -r _ exp cell seed path _ excl; do
    [ "$excl" = 1 ] && continue
    other=$lres${path#"$sres"}
    if [ ! -f "$path" ] || [ ! -f "$other" ]; then continue; fi
    if [ "$(strip_clock "$path" "$sres")" = "$(strip_clock "$other" "$lres")" ]; then
        nsame=$((nsame + 1))
    else
        differ="$differ $exp/$cell.seed$seed"
    fi
done <"$list"
if [ -z "$differ" ] && [ "$nsame" -gt 0 ]; then
    ok "$nsame training results identical through Slurm and make reproduce (loss curves, evaluations; clock fields aside)"
else
    fail "training results that differ between Slurm and make reproduce:$differ"
    # shellcheck disable=SC2086
    set -- $differ
    [ $# -gt 0 ] && diff <(strip_clock "$sres/${1%.seed*}.seed${1##*.seed}.json" "$sres") \
        <(strip_clock "$lres/${1%.seed*}.seed${1##*.seed}.json" "$lres") | head -n 20
fi

# --- the two reports, timing figures masked (scripts/slurm/mask-report.pl)
timing_specs=$(awk -F '\t' '$7 == 1 { print $1 }' "$list" | sort -u)
timing=$(awk -F '\t' '$7 == 1 { print $2 }' "$list" | sort -u | paste -sd ' ' -)
# shellcheck disable=SC2086
perl scripts/slurm/mask-report.pl "$sres" $timing_specs <"$sres/REPORT.md" >"$tmp/slurm.md" 2>&1
# shellcheck disable=SC2086
perl scripts/slurm/mask-report.pl "$lres" $timing_specs <"$lres/REPORT.md" >"$tmp/local.md" 2>&1
lines=$(wc -l <"$tmp/local.md")
masked=$(diff "$sres/REPORT.md" "$tmp/slurm.md" | grep -c '^>')
if [ -s "$lres/REPORT.md" ] && cmp -s "$tmp/slurm.md" "$tmp/local.md"; then
    ok "REPORT.md through Slurm = REPORT.md of make reproduce ($lines lines, $masked with timing figures masked${timing:+; timing experiments: $timing})"
else
    fail "REPORT.md through Slurm differs from make reproduce's (timing figures masked):"
    diff -u "$tmp/local.md" "$tmp/slurm.md" | head -n 60
fi
if command -v gnuplot >/dev/null 2>&1; then
    a=$(cd "$sres" && ls plots 2>/dev/null | paste -sd ' ' -)
    b=$(cd "$lres" && ls plots 2>/dev/null | paste -sd ' ' -)
    if [ -n "$a" ] && [ "$a" = "$b" ]; then
        ok "the report job rendered the plots make reproduce renders: $a"
    else
        fail "plots through Slurm \"$a\", through make reproduce \"$b\""
    fi
fi
