#include "progress.h"

#include <stdio.h>
#include <unistd.h>

#include "timer.h"

void progress_start(Progress *p, const char *label, long total)
{
    p->label = label;
    p->unit = "it";
    p->total = total;
    p->t_start = p->t_last = now_seconds();
    p->tty = isatty(STDERR_FILENO);
    p->next_tenth = 1;
    p->work_total = p->work_done = 0;
}

void progress_set_work(Progress *p, double total) { p->work_total = total > 0 ? total : 0; }

/* The fraction of the run's cost that is done: of its work when the caller
 * weighs the units, else of its units. */
static double fraction_done(const Progress *p, long done)
{
    if (p->work_total > 0) return p->work_done < p->work_total ? p->work_done / p->work_total : 1;
    return p->total > 0 ? (double)done / p->total : 1;
}

double progress_eta(const Progress *p, long done, double now)
{
    double f = fraction_done(p, done);
    return f > 0 ? (now - p->t_start) * (1 - f) / f : -1;
}

static void fmt_duration(double s, char *buf, size_t cap)
{
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, cap, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60) snprintf(buf, cap, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, cap, "%lds", t);
}

void progress_update_work(Progress *p, long done, double work_done, const char *extra)
{
    p->work_done = work_done;
    double t = now_seconds();
    if (p->tty) {
        if (t - p->t_last < 0.1 && done < p->total) return;
    } else {
        /* a log gets a whole line at each tenth of a run longer than a minute */
        if (p->next_tenth > 10 || done * 10 < p->next_tenth * p->total) return;
        while (p->next_tenth <= 10 && done * 10 >= p->next_tenth * p->total) p->next_tenth++;
        double f = fraction_done(p, done);
        if (f > 0 && t - p->t_start < 60.0 * f) return;
    }
    p->t_last = t;
    double rate = done / (t - p->t_start + 1e-9), left = progress_eta(p, done, t);
    char eta[32] = "?";
    if (left >= 0) fmt_duration(left, eta, sizeof eta);
    fprintf(stderr, "%s%s %6ld/%ld %3d%%  %s  %.1f %s/s  eta %s%s", p->tty ? "\r" : "", p->label, done, p->total,
            p->total ? (int)(100 * done / p->total) : 100, extra ? extra : "", rate, p->unit, eta,
            p->tty ? "\033[K" : "\n");
    fflush(stderr);
}

void progress_update(Progress *p, long done, const char *extra)
{
    progress_update_work(p, done, p->work_total > 0 ? p->work_done : (double)done, extra);
}

void progress_finish(Progress *p)
{
    if (p->tty) fputc('\n', stderr);
}
