#include "preset.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/datadir.h"
#include "core/jsonio.h"

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The preset names (file names without .json), sorted; returns the count. */
static int preset_names(char names[][64], int cap, char *dir, size_t dcap)
{
    data_path("configs/presets", dir, dcap);
    DIR *d = opendir(dir);
    if (!d) return 0;
    char *tmp[256];
    int n = 0;
    for (struct dirent *ent; (ent = readdir(d)) && n < cap && n < 256;) {
        size_t len = strlen(ent->d_name);
        if (len <= 5 || len - 5 >= 64 || strcmp(ent->d_name + len - 5, ".json")) continue;
        tmp[n] = malloc(len - 4);
        if (!tmp[n]) break;
        memcpy(tmp[n], ent->d_name, len - 5);
        tmp[n][len - 5] = '\0';
        n++;
    }
    closedir(d);
    qsort(tmp, (size_t)n, sizeof *tmp, cmp_str);
    for (int i = 0; i < n; i++) {
        snprintf(names[i], 64, "%s", tmp[i]);
        free(tmp[i]);
    }
    return n;
}

cJSON *preset_load(const char *name, Err *e)
{
    char names[128][64], dir[1024], known[2048] = "";
    int n = preset_names(names, 128, dir, sizeof dir);
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i], name)) continue;
        char path[1200];
        snprintf(path, sizeof path, "%s/%s.json", dir, name);
        cJSON *p = json_read_file(path, e);
        if (!p) return NULL;
        const cJSON *opts = cJSON_GetObjectItemCaseSensitive(p, "options");
        const cJSON *by = cJSON_GetObjectItemCaseSensitive(p, "by_arch");
        if (!cJSON_IsObject(p) || !cJSON_IsObject(opts) || (by && !cJSON_IsObject(by))) {
            cJSON_Delete(p);
            err_set(e, "%s: a preset is an object with an \"options\" object (and optionally \"by_arch\")", path);
            return NULL;
        }
        return p;
    }
    size_t k = 0;
    for (int i = 0; i < n && k < sizeof known; i++)
        k += (size_t)snprintf(known + k, sizeof known - k, "%s%s", i ? ", " : "", names[i]);
    if (!n) snprintf(known, sizeof known, "none found in %s", dir);
    err_set(e, "--preset %s: no such preset (known: %s; --preset list describes them)", name, known);
    return NULL;
}

void preset_list(FILE *f)
{
    char names[128][64], dir[1024];
    int n = preset_names(names, 128, dir, sizeof dir);
    if (!n) fprintf(f, "no presets in %s\n", dir);
    for (int i = 0; i < n; i++) {
        Err e;
        cJSON *p = preset_load(names[i], &e);
        char desc[600] = "", source[512] = "";
        if (p) {
            json_get_string(p, "description", 0, desc, sizeof desc, names[i], &e);
            json_get_string(p, "source", 0, source, sizeof source, names[i], &e);
        } else
            snprintf(desc, sizeof desc, "(unreadable: %s)", e.msg);
        fprintf(f, "%-18s %s [%s]\n", names[i], desc, *source ? source : "no source given");
        cJSON_Delete(p);
    }
}
