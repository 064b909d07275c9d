/* A progress line on stderr for long work ("train  1200/3000  40%  loss 0.512
 * 12.3 it/s  eta 2m26s"). On a terminal it redraws in place at most ten
 * times a second; into a log (make reproduce, nohup) it writes a whole line
 * at each tenth of the run, and only for runs projected to take a minute or
 * more, so short runs and test output stay clean.
 *
 * The ETA assumes each remaining unit costs what the finished ones did on
 * average, unless the caller gives each unit's cost (progress_set_work):
 * a training length curriculum's first steps are several times cheaper than
 * its last, and an ETA from them alone came out about 3x too low. */
#ifndef SEQ_PROGRESS_H
#define SEQ_PROGRESS_H

typedef struct {
    const char *label;
    const char *unit;   /* of the rate: "it" unless the caller sets another ("tok") */
    long total;
    double t_start, t_last;
    int tty, next_tenth;
    double work_total, work_done; /* progress_set_work; 0: every unit costs the same */
} Progress;

void progress_start(Progress *p, const char *label, long total);
/* The total cost of the run in any unit (FLOPs, tokens): the ETA is then the
 * elapsed time scaled by the cost left over the cost done, which
 * progress_update_work reports. */
void progress_set_work(Progress *p, double total);
void progress_update(Progress *p, long done, const char *extra); /* extra may be NULL */
void progress_update_work(Progress *p, long done, double work_done, const char *extra);
/* Seconds left at `now` (now_seconds()), -1 before anything is done. */
double progress_eta(const Progress *p, long done, double now);
void progress_finish(Progress *p);

#endif
