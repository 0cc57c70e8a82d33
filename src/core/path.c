/*
 * path.c — `mkdir -p` (path.h).  This is edge code: it touches the file
 * system, and only the commands call it, before a run starts.
 */
#include "core/path.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

int hh_path_mkdirs(const char *dir, struct hh_diag *d)
{
    char tmp[PATH_MAX];
    size_t n = strlen(dir);
    struct stat st;

    if (n == 0 || n >= sizeof tmp)
        return hh_diag_set(d, HH_EINVAL, "bad output directory '%s'", dir);
    memcpy(tmp, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (tmp[i] != '/' && tmp[i] != '\0')
            continue;
        tmp[i] = '\0';
        if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
            return hh_diag_set(d, HH_EIO, "%s: cannot create directory: %s", tmp,
                               strerror(errno));
        tmp[i] = dir[i];
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return hh_diag_set(d, HH_EIO, "%s: not a directory", dir);
    return HH_OK;
}
