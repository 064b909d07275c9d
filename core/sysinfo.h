/* What a result file records about where and how it was produced. */
#ifndef SEQ_SYSINFO_H
#define SEQ_SYSINFO_H

#include <stddef.h>

const char *sysinfo_version(void);        /* git describe at build time */
const char *sysinfo_compiler(void);       /* "gcc 12.2.0" */
const char *sysinfo_compiler_flags(void); /* release flags */
void sysinfo_cpu_model(char *buf, size_t cap); /* /proc/cpuinfo "model name" */

#endif
