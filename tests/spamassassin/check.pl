#!/usr/bin/perl
# SpamAssassin over many messages in one process (its rules compile once; the
# spamassassin command would spend ~2 s per message starting up). Local rules
# only: no DNS, no Razor/Pyzor, no Bayes, so the answer depends on the message
# alone. Prints one line per file: path, score, rules hit, subrules hit.
use strict;
use warnings;
use Mail::SpamAssassin;

my $sa = Mail::SpamAssassin->new({
    local_tests_only => 1,
    dont_copy_prefs => 1,
    userstate_dir => $ENV{SA_STATE_DIR} || "/tmp",
    userprefs_filename => "/dev/null",
    post_config_text => "use_bayes 0\nbayes_auto_learn 0\nuse_pyzor 0\nuse_razor2 0\n",
});
$sa->compile_now(0);
for my $path (@ARGV) {
    open(my $fh, "<", $path) or die "$path: $!";
    my $text = do { local $/; <$fh> };
    close $fh;
    my $mail = $sa->parse($text);
    my $status = $sa->check($mail);
    my @rules = sort split(/,/, $status->get_names_of_tests_hit);
    my %subrules = map { $_ => 1 } split(/,/, $status->get_names_of_subtests_hit);
    printf "%s\t%.3f\t%s\t%s\n", $path, $status->get_score, join(" ", @rules), join(" ", sort keys %subrules);
    $status->finish;
    $mail->finish;
}
$sa->finish;
