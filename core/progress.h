/* A progress line on stderr for long work ("train  1200/3000  40%  loss 0.512
 * 12.3 it/s  eta 2m26s"). It draws only when stderr is a terminal, so logs
 * and CI output stay clean, and redraws at most ten times a second. */
#ifndef SEQ_PROGRESS_H
#define SEQ_PROGRESS_H

typedef struct {
    const char *label;
    long total;
    double t_start, t_last;
    int enabled;
} Progress;

void progress_start(Progress *p, const char *label, long total);
void progress_update(Progress *p, long done, const char *extra); /* extra may be NULL */
void progress_finish(Progress *p);

#endif
