#!/usr/bin/perl
# REPORT.md with what depends on the wall clock replaced by "#", so two
# reports of the same results can be compared (scripts/slurm/local-cluster.sh):
# - the results directory's path;
# - in every table, the columns whose header names a time or a rate
#   ("train time (s)", "ms/step", "length: ms", tok/s, GFLOP/s, GB/s), a
#   "mean (min..max)" there reduced to one "#" (equal seeds drop the range);
# - everything numeric in the sections of the timing experiments (the specs
#   given; a section is theirs by its "## title" or its "Experiment `name`"
#   line): their tables, their prose and their verdicts are all measured
#   against the clock (a verdict's detail line whole: whether a rule held
#   decides which rules it goes on to show); and their verdicts in the
#   summary table;
# - the header's "- run:" line (when the results were made);
# - elsewhere, a number followed by a unit of time or rate ("12 s", "3.1 ms",
#   "850 tok/s", "12.5 GFLOP/s", "4.2×").
# Training figures are left alone: with the same threads they are identical.
#   usage: mask-report.pl RESULTS_DIR [TIMING_SPEC.json ...] < REPORT.md
use strict;
use warnings;

die "usage: mask-report.pl RESULTS_DIR [TIMING_SPEC.json ...] < REPORT.md\n" unless @ARGV;
my ($results, @specs) = @ARGV;
@ARGV = ();
# a spec's name and title: its first "name" and "title" keys (the top level's
# come first); perl-base has no JSON module
my (%timing, %timing_title);
for my $spec (@specs) {
    open my $fh, '<', $spec or die "mask-report.pl: cannot read $spec: $!\n";
    my $text = do { local $/; <$fh> };
    my $str = qr/"((?:[^"\\]|\\.)*)"/;
    my ($name) = $text =~ /"name"\s*:\s*$str/;
    my ($title) = $text =~ /"title"\s*:\s*$str/;
    die "mask-report.pl: $spec has no \"name\"\n" unless defined $name;
    if (defined $title) {   # the JSON escapes a title may use
        $title =~ s/\\u([0-9a-fA-F]{4})/chr(hex $1)/ge;
        $title =~ s/\\(["\\\/])/$1/g;
        utf8::encode($title);
    }
    $timing{$name} = 1;
    $timing_title{$title} = 1 if defined $title;
}
# a number in prose: not part of a name ("mamba_n16") or a range's end
my $num = qr/(?<!\w)(?<!\d\.)\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?!\w)(?!\.\d)/;
# any run of digits, for what is masked whole
my $digits = qr/\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/;
my $unit = qr/(?:ms|s|us|µs|ns|min|h|tok\/s|tokens\/s|GFLOP\/s|GB\/s|×|x)(?![\w\/])/;
my $timed_header = qr/time|seconds|\(s\)|\bms\b|tok\/s|tokens\/s|GFLOP|GB\/s|latency|throughput/i;

my ($in_timing, $in_table, @masked) = (0, 0);
while (my $line = <STDIN>) {
    $line =~ s/\Q$results\E/<RESULTS>/g;
    $in_timing = $timing_title{$1} ? 1 : 0 if $line =~ /^## (.*?)\s*$/;
    $in_timing = $timing{$1} ? 1 : 0 if $line =~ /^Experiment `([^`]+)`/;
    # when the results were made (the header's "- run:" line)
    $line = "- run: #\n" if $line =~ /^- run: /;
    if ($line =~ /^\|/) {
        my @f = split /\|/, $line, -1;
        if (!$in_table) {
            @masked = map { $f[$_] =~ $timed_header ? 1 : 0 } 0 .. $#f;
        } elsif ($line !~ /^[|\s:-]+$/) {
            for my $j (1 .. $#f) {
                next unless $masked[$j] || $in_timing;
                $f[$j] =~ s/$digits/#/g;
                # "mean (min..max)" prints as the mean alone when the seeds'
                # times happen to round alike
                $f[$j] =~ s/#\s*\(#\.\.#\)/#/g;
            }
            # the summary: | `name` | claim | paper | ours | seeds holding | **verdict** |: a timing claim's
            # figures, seeds and verdict follow the clock
            if ($f[1] =~ /`([^`]+)`/ && $timing{$1} && @f > 2) {
                $f[-2] =~ s/\*\*[^*]+\*\*/**#**/;
                @f[4, 5] = (' # ', ' # ') if @f >= 8;
            }
            $line = join '|', @f;
        }
        $in_table = 1;
    } else {
        $in_table = 0;
        if ($in_timing) {
            $line =~ s/$digits/#/g;
            $line =~ s/^- \*\*[^*]+\*\*/- **#**/;
            # a timing verdict's detail ("seeds #; check ...: holds on the mean ... (<= #: yes)"): which rules
            # held, and so which came next, follow the clock as much as its figures
            $line = "  # (a timing verdict's rules and figures)\n" if $line =~ /^\s+seeds?\b/;
        } else {
            $line =~ s/$num\s?$unit/#/g;
        }
    }
    print $line;
}
