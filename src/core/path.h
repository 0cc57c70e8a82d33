/*
 * path.h — directories at the edge: `mkdir -p` for the commands' output
 * directories (one implementation for every writer of files).
 */
#ifndef HH_PATH_H
#define HH_PATH_H

#include "core/err.h"

/*
 * Create dir and every missing parent (mode 0777 before the umask), like
 * `mkdir -p`; an existing directory is fine.  HH_EINVAL for an empty or
 * over-long path, HH_EIO when a component cannot be created or dir is not
 * a directory; d names the path and the reason.
 */
int hh_path_mkdirs(const char *dir, struct hh_diag *d);

#endif
