/* A progress line on stderr for long work ("train  1200/3000  40%  loss 0.512
 * 12.3 it/s  eta 2m26s"). On a terminal it redraws in place at most ten
 * times a second; into a log (make reproduce, nohup) it writes a whole line
 * at each tenth of the run, and only for runs projected to take a minute or
 * more, so short runs and test output stay clean. */
#ifndef SEQ_PROGRESS_H
#define SEQ_PROGRESS_H

typedef struct {
    const char *label;
    const char *unit;   /* of the rate: "it" unless the caller sets another ("tok") */
    long total;
    double t_start, t_last;
    int tty, next_tenth;
} Progress;

void progress_start(Progress *p, const char *label, long total);
void progress_update(Progress *p, long done, const char *extra); /* extra may be NULL */
void progress_finish(Progress *p);

#endif
