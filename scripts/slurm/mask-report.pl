#!/usr/bin/perl
# REPORT.md with what depends on the wall clock replaced by "#", so two
# reports of the same results can be compared (scripts/slurm/local-cluster.sh):
# - the results directory's path;
# - in every table, the columns whose header names a time or a rate
#   ("train time (s)", "ms/step", "length: ms", tok/s, GFLOP/s, GB/s);
# - everything numeric in the sections of the timing experiments (TIMING, a
#   comma-separated list of names): their tables, their prose and their
#   verdicts are all measured against the clock; and their verdicts in the
#   summary table;
# - elsewhere, a number followed by a unit of time or rate ("12 s", "3.1 ms",
#   "850 tok/s", "12.5 GFLOP/s", "4.2×").
# Training figures are left alone: with the same threads they are identical.
#   usage: mask-report.pl RESULTS_DIR TIMING < REPORT.md
use strict;
use warnings;

my ($results, $timing) = @ARGV;
die "usage: mask-report.pl RESULTS_DIR TIMING < REPORT.md\n" unless defined $timing;
@ARGV = ();
my %timing = map { $_ => 1 } grep { length } split /,/, $timing;
# a number in prose: not part of a name ("mamba_n16") or a range's end
my $num = qr/(?<!\w)(?<!\d\.)\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?!\w)(?!\.\d)/;
# any run of digits, for what is masked whole
my $digits = qr/\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/;
my $unit = qr/(?:ms|s|us|µs|ns|min|h|tok\/s|tokens\/s|GFLOP\/s|GB\/s|×|x)(?![\w\/])/;
my $timed_header = qr/time|seconds|\(s\)|\bms\b|tok\/s|tokens\/s|GFLOP|GB\/s|latency|throughput/i;

my ($in_timing, $in_table, @masked) = (0, 0);
while (my $line = <STDIN>) {
    $line =~ s/\Q$results\E/<RESULTS>/g;
    $in_timing = 0 if $line =~ /^## /;
    $in_timing = $timing{$1} ? 1 : 0 if $line =~ /^Experiment `([^`]+)`/;
    if ($line =~ /^\|/) {
        my @f = split /\|/, $line, -1;
        if (!$in_table) {
            @masked = map { $f[$_] =~ $timed_header ? 1 : 0 } 0 .. $#f;
        } elsif ($line !~ /^[|\s:-]+$/) {
            for my $j (1 .. $#f) {
                $f[$j] =~ s/$digits/#/g if $masked[$j] || $in_timing;
            }
            # the summary: | `name` | claim | **verdict** |
            $f[-2] =~ s/\*\*[^*]+\*\*/**#**/ if $f[1] =~ /`([^`]+)`/ && $timing{$1} && @f > 2;
            $line = join '|', @f;
        }
        $in_table = 1;
    } else {
        $in_table = 0;
        if ($in_timing) {
            $line =~ s/$digits/#/g;
            $line =~ s/^- \*\*[^*]+\*\*/- **#**/;
        } else {
            $line =~ s/$num\s?$unit/#/g;
        }
    }
    print $line;
}
