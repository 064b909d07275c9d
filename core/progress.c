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
}

static void fmt_duration(double s, char *buf, size_t cap)
{
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, cap, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60) snprintf(buf, cap, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, cap, "%lds", t);
}

void progress_update(Progress *p, long done, const char *extra)
{
    double t = now_seconds();
    if (p->tty) {
        if (t - p->t_last < 0.1 && done < p->total) return;
    } else {
        /* a log gets a whole line at each tenth of a run longer than a minute */
        if (p->next_tenth > 10 || done * 10 < p->next_tenth * p->total) return;
        while (p->next_tenth <= 10 && done * 10 >= p->next_tenth * p->total) p->next_tenth++;
        if ((t - p->t_start) * p->total < 60.0 * done) return;
    }
    p->t_last = t;
    double rate = done / (t - p->t_start + 1e-9);
    char eta[32] = "?";
    if (rate > 0) fmt_duration((p->total - done) / rate, eta, sizeof eta);
    fprintf(stderr, "%s%s %6ld/%ld %3d%%  %s  %.1f %s/s  eta %s%s", p->tty ? "\r" : "", p->label, done, p->total,
            p->total ? (int)(100 * done / p->total) : 100, extra ? extra : "", rate, p->unit, eta,
            p->tty ? "\033[K" : "\n");
    fflush(stderr);
}

void progress_finish(Progress *p)
{
    if (p->tty) fputc('\n', stderr);
}
