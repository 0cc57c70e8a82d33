/*
 * version.c — the build id, read once from the program's own ELF notes
 * (NT_GNU_BUILD_ID in a PT_NOTE segment of the main executable, found
 * through dl_iterate_phdr: no file is opened).
 */
#include "app/version.h"

#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define NOTE_ALIGN(n) (((n) + 3u) & ~(size_t)3u)
#define BUILD_ID_MAX 64            /* bytes of id kept (sha1: 20) */

static char id_hex[2 * BUILD_ID_MAX + 1] = "unknown";
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* The GNU build-id note among the notes p[0..n), hex into id_hex. */
static void scan_notes(const unsigned char *p, size_t n)
{
    while (n >= sizeof(ElfW(Nhdr))) {
        const ElfW(Nhdr) *h = (const ElfW(Nhdr) *)(const void *)p;
        size_t name = NOTE_ALIGN(h->n_namesz), desc = NOTE_ALIGN(h->n_descsz);
        size_t size = sizeof *h + name + desc;

        if (size > n)
            return;
        if (h->n_type == NT_GNU_BUILD_ID && h->n_namesz == 4 &&
            !memcmp(p + sizeof *h, "GNU", 4) && h->n_descsz > 0 &&
            h->n_descsz <= BUILD_ID_MAX) {
            const unsigned char *d = p + sizeof *h + name;

            for (size_t i = 0; i < h->n_descsz; i++)
                snprintf(id_hex + 2 * i, 3, "%02x", d[i]);
            return;
        }
        p += size;
        n -= size;
    }
}

/* The main executable is the first object dl_iterate_phdr reports. */
static int first_object(struct dl_phdr_info *info, size_t size, void *ctx)
{
    (void)size;
    (void)ctx;
    for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

        if (ph->p_type == PT_NOTE)
            scan_notes((const unsigned char *)(info->dlpi_addr + ph->p_vaddr), ph->p_memsz);
    }
    return 1;
}

static void read_build_id(void)
{
    dl_iterate_phdr(first_object, NULL);
}

const char *hh_build_id(void)
{
    pthread_once(&once, read_build_id);
    return id_hex;
}
