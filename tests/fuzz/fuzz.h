/* fuzz.h: what the libFuzzer harnesses of tests/fuzz share: the entry point's prototype (so
 * -Wmissing-prototypes holds) and a check that aborts, which libFuzzer reports as a crash
 * with the input that caused it. Outside input must never trip an assert in the library;
 * these checks state the properties the harness adds on top (round trips, idempotence). */
#ifndef NW_FUZZ_H
#define NW_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "newswire/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz property failed: %s: ", #cond);                                  \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Library log lines (a torn spool tail, a refused page) would drown libFuzzer's own output;
 * crashes still print, from the sanitizers. */
__attribute__((constructor)) static void
fuzz_quiet(void)
{
    nw_log_init("fuzz", NW_LOG_OFF);
}

/* A NUL-terminated heap copy of the input (ASan sees reads past its end). Caller frees. */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        abort();
    for (size_t i = 0; i < size; i++)
        s[i] = (char)data[i];
    s[size] = 0;
    return s;
}

#endif
