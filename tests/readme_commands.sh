#!/bin/sh
# The shell blocks of README.md and docs/*.md, run the way a reader runs them,
# so that a renamed option, a moved file or a changed default fails here and
# not in a newcomer's terminal (issue 27). Also: README.md stays within 250
# lines, and every relative link between the pages names a file that exists
# and, with #anchor, a heading in it.
#
#   sh tests/readme_commands.sh [-v] [FILE.md ...]   (default: README.md docs/*.md)
#
# SEQ_SOURCE_DIR (the source tree) and SEQ_BINARY (the seqbench program) come
# from make test; by hand they default to this tree and its build/seqbench.
#
# The convention (README.md's source states it too):
#  ```sh        every command runs as written, in order, from the root of a
#               scratch "fresh clone" (build/seqbench and experiments/,
#               configs/, plots/, scripts/, tests/ linked from the source
#               tree), one scratch per page, so a page may use what its own
#               earlier blocks made (runs/copy16) but not another page's.
#  ```sh slow   too slow for a test (long training, make, benchmarks, cluster
#               jobs); GitHub shows it as plain sh. Its build/seqbench
#               commands are still checked, so a renamed option fails:
#               with --dry-run appended where the subcommand has one, except
#               `train ... --save DIR`, which runs with --steps 20 appended
#               so that later blocks find a checkpoint; the others (eval,
#               sample, logits, pattern, gradcheck, report) by their option
#               names against `CMD --help`. mkdir, cat and echo run as
#               written (they make files later commands read); anything else
#               (make, git, scripts/...) is not run.
# A command is a line, with its `\` continuations and here-document. Lines
# starting with # are comments or printed output. Another shell fence
# (bash, console, shell) is an error: its commands would go untested. So is
# a bare `seqbench` command, which a fresh clone does not have on PATH.
set -u

verbose=0
if [ "${1:-}" = -v ]; then verbose=1; shift; fi
src=${SEQ_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
bin=${SEQ_BINARY:-$src/build/seqbench}
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
if [ ! -x "$bin" ]; then
    echo "readme_commands: $bin is not the seqbench program (run make first)" >&2
    exit 2
fi
cd "$src" || exit 2
if [ $# -eq 0 ]; then set -- README.md docs/*.md; fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/readme_commands.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
tab=$(printf '\t')
fails=0 ran=0 checked=0 skipped=0

fail() {
    echo "FAIL $*" >&2
    fails=$((fails + 1))
}

# ---------------------------------------------------------------- README length
lines=$(wc -l <README.md)
[ "$lines" -le 250 ] || fail "README.md: $lines lines, more than the 250 a first page may have (move reference material to docs/)"

# ---------------------------------------------------------------- links
# GitHub's heading anchors: lower case, punctuation dropped (non-ASCII too,
# which none of our linked headings has), spaces to hyphens, -1, -2 for
# repeats. Headings inside code fences are not headings.
anchors() {
    awk '
        incomment { if (/-->/) incomment = 0; next }
        /^[ \t]*<!--/ && !fence && !inb { if (!/-->/) incomment = 1; next }
        /^[ \t]*```/ { fence = !fence; next }
        fence || !/^#+ / { next }
        {
            h = $0; sub(/^#+ +/, "", h); sub(/ +#* *$/, "", h)
            h = tolower(h); gsub(/[^a-z0-9 _-]/, "", h); gsub(/ /, "-", h)
            if (h in seen) { seen[h]++; print h "-" seen[h] } else { seen[h] = 0; print h }
        }' "$1"
}
for page in "$@"; do
    dir=$(dirname "$page")
    # every ](target) outside code fences and inline code
    awk '
        incomment { if (/-->/) incomment = 0; next }
        /^[ \t]*<!--/ && !fence && !inb { if (!/-->/) incomment = 1; next }
        /^[ \t]*```/ { fence = !fence; next }
        fence { next }
        {
            line = $0; gsub(/`[^`]*`/, "", line)
            while (match(line, /\]\([^) ]+\)/)) {
                print NR "\t" substr(line, RSTART + 2, RLENGTH - 3)
                line = substr(line, RSTART + RLENGTH)
            }
        }' "$page" >"$tmp/links"
    while IFS="$tab" read -r n target; do
        case $target in http:* | https:* | mailto:*) continue ;; esac
        file=${target%%#*}
        anchor=
        case $target in *'#'*) anchor=${target#*#} ;; esac
        if [ -n "$file" ]; then
            path=$dir/$file
            if [ ! -e "$path" ]; then
                fail "$page:$n: link to $target: $path does not exist"
                continue
            fi
        else
            path=$page
        fi
        if [ -n "$anchor" ]; then
            case $path in
            *.md) anchors "$path" | grep -qx -- "$anchor" ||
                fail "$page:$n: link to $target: $path has no heading with anchor #$anchor" ;;
            esac
        fi
    done <"$tmp/links"
done

# ---------------------------------------------------------------- the commands
# Splits one page's tested blocks into commands: $2/NNNN the command as
# written, $2/NNNN.flat one line, continuations joined and trailing comments
# dropped (to append an option to), and $2/index "NNNN <tab> quick|slow <tab>
# line". A wrong fence goes to the index as "bad <tab> message <tab> line".
split_commands() {
    awk -v out="$2" '
        function strip(s,    i, c, q, r) {          # drop an unquoted " #..." comment
            q = ""; r = ""
            for (i = 1; i <= length(s); i++) {
                c = substr(s, i, 1)
                if (q == "" && c == "#" && (i == 1 || substr(s, i - 1, 1) ~ /[ \t]/)) break
                if (q == "" && (c == "\"" || c == "\047")) q = c
                else if (c == q) q = ""
                r = r c
            }
            sub(/[ \t]+$/, "", r)
            return r
        }
        function emit(    f) {
            n++; f = sprintf("%s/%04d", out, n)
            printf "%s\n", cmd > f; close(f)
            printf "%s\n", flat > (f ".flat"); close(f ".flat")
            printf "%04d\t%s\t%d\n", n, class, start > (out "/index")
            cmd = ""; flat = ""
        }
        incomment { if (/-->/) incomment = 0; next }
        /^[ \t]*<!--/ && !fence && !inb { if (!/-->/) incomment = 1; next }
        !inb && /^[ \t]*```/ {
            info = $0; sub(/^[ \t]*```[ \t]*/, "", info); split(info, w, /[ \t]+/)
            inb = 1; tested = 0
            if (w[1] == "sh") { tested = 1; class = (w[2] == "slow") ? "slow" : "quick" }
            else if (w[1] ~ /^(bash|console|shell|zsh|shell-session)$/)
                printf "bad\t```%s: write a shell block as ```sh or ```sh slow, or it is never tested\t%d\n", w[1], NR > (out "/index")
            next
        }
        !inb { next }
        heredoc != "" {
            cmd = cmd "\n" $0
            if ($0 == heredoc) { heredoc = ""; emit() }
            next
        }
        /^[ \t]*```[ \t]*$/ { if (cmd != "") emit(); inb = 0; next }
        !tested { next }
        cmd == "" && (/^[ \t]*$/ || /^[ \t]*#/) { next }
        {
            if (cmd == "") { start = NR; cmd = $0 } else cmd = cmd "\n" $0
            piece = $0
            cont = sub(/\\$/, "", piece)
            piece = strip(piece); sub(/^[ \t]+/, "", piece)
            flat = (flat == "") ? piece : flat " " piece
            if (cont) next
            if (match($0, /<<-?[ \t]*[\047"]?[A-Za-z_]+/)) {
                heredoc = substr($0, RSTART, RLENGTH); gsub(/<<-?[ \t]*|[\047"]/, "", heredoc)
                next
            }
            emit()
        }
        END { if (cmd != "") emit() }
    ' "$1"
}

# Runs $2 (a command) in scratch $1; on failure names page, line and command.
run() {
    ran=$((ran + 1))
    [ $verbose -eq 1 ] && echo "run   $page:$3: $2"
    (cd "$1" && timeout 300 sh -c "$2") </dev/null >"$tmp/out" 2>&1
    rc=$?
    if [ $rc -ne 0 ]; then
        fail "$page:$3: exit status $rc from the block's command (${4:-as written}):"
        printf '    %s\n' "$2" >&2
        tail -n 5 "$tmp/out" | sed 's/^/    | /' >&2
    fi
}

# A slow build/seqbench command: its options against --help, then a dry run.
check_slow() {    # scratch, flat command, line
    checked=$((checked + 1))
    scratch=$1 flat=$2 at=$3
    set -f
    # shellcheck disable=SC2086  # split the flat command into its words, as sh would (no globbing)
    set -- $2
    set +f
    shift    # build/seqbench
    sub=${1:-}
    helpcmd=$sub
    if [ "$sub" = bench ] && [ $# -ge 2 ]; then
        case $2 in -*) ;; *) helpcmd="bench $2" ;; esac
    fi
    # shellcheck disable=SC2086
    if ! "$bin" $helpcmd --help >"$tmp/help" 2>&1; then
        fail "$page:$at: build/seqbench $helpcmd: no such subcommand (its --help fails)"
        return
    fi
    save=0
    for w in "$@"; do
        case $w in
        --save | --save=*) save=1 ;;
        esac
        case $w in
        --help) ;;
        --*)
            opt=${w%%=*}
            grep -qE -- "^  $opt( |\$)" "$tmp/help" ||
                fail "$page:$at: build/seqbench $helpcmd has no option $opt (see build/seqbench $helpcmd --help)"
            ;;
        esac
    done
    if grep -qE -- '^  --dry-run( |$)' "$tmp/help"; then
        if [ "$sub" = train ] && [ $save -eq 1 ]; then
            run "$scratch" "$flat --steps 20" "$at" "with --steps 20, to make its checkpoint"
        else
            run "$scratch" "$flat --dry-run" "$at" "with --dry-run"
        fi
    fi
}

for page in "$@"; do
    work=$tmp/$(echo "$page" | tr '/.' '__')
    clone=$work/clone
    mkdir -p "$work/cmds" "$clone/build"
    ln -s "$bin" "$clone/build/seqbench"
    for d in experiments configs plots scripts tests; do ln -s "$src/$d" "$clone/$d"; done
    : >"$work/cmds/index"
    split_commands "$page" "$work/cmds"
    while IFS="$tab" read -r id class line; do
        if [ "$id" = bad ]; then
            fail "$page:$line: $class"
            continue
        fi
        cmd=$(cat "$work/cmds/$id")
        flat=$(cat "$work/cmds/$id.flat")
        # the program: the first word after any VAR=value settings
        prog=$(printf '%s\n' "$flat" | awk '{ for (i = 1; i <= NF && $i ~ /^[A-Za-z_][A-Za-z_0-9]*=/; i++); print $i }')
        if [ "$prog" = seqbench ]; then
            fail "$page:$line: \"seqbench ...\": a fresh clone has build/seqbench, not seqbench on PATH"
            continue
        fi
        if [ "$class" = quick ]; then
            run "$clone" "$cmd" "$line"
            continue
        fi
        case $prog in
        build/seqbench) check_slow "$clone" "$flat" "$line" ;;
        mkdir | cat | echo) run "$clone" "$cmd" "$line" ;;
        *)
            skipped=$((skipped + 1))
            [ $verbose -eq 1 ] && echo "skip  $page:$line: $flat"
            ;;
        esac
    done <"$work/cmds/index"
done

echo "readme_commands: $# pages; $ran commands run (slow ones as dry runs), $checked slow seqbench commands checked, $skipped not run (make, scripts, git); $fails failed"
[ $fails -eq 0 ]
