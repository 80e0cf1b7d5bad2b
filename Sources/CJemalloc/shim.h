#ifndef RETRACE_CJEMALLOC_SHIM_H
#define RETRACE_CJEMALLOC_SHIM_H
// Linked by the executables only, in place of glibc's malloc (Sources/ProcessAllocator). Nothing
// calls jemalloc's allocation functions by name: linking it is what makes every malloc and free of
// the process its own. Only its control interface is declared here, to report what runs.
#include <stddef.h>
int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);
#endif
