#include "sysinfo.h"

#include <stdio.h>
#include <string.h>

#include "seq_version.h" /* generated in the build directory at every build */
#ifndef SEQ_COMPILER_FLAGS
#define SEQ_COMPILER_FLAGS ""
#endif

const char *sysinfo_version(void) { return SEQ_VERSION; }

const char *sysinfo_compiler(void)
{
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "gcc " __VERSION__;
#else
    return "unknown";
#endif
}

const char *sysinfo_compiler_flags(void) { return SEQ_COMPILER_FLAGS; }

void sysinfo_cpu_model(char *buf, size_t cap)
{
    snprintf(buf, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (!strncmp(line, "model name", 10) && colon) {
            colon++;
            while (*colon == ' ' || *colon == '\t') colon++;
            colon[strcspn(colon, "\n")] = '\0';
            snprintf(buf, cap, "%s", colon);
            break;
        }
    }
    fclose(f);
}
