/* refdir.h: where the read-only reference data lives (data/ in the sources, share/newswire
 * once installed: NER models, gazetteer, themes, tone, web assets). One function answers it
 * for every executable, so an installed or packaged binary never depends on a path of the
 * machine that built it. */
#ifndef NW_REFDIR_H
#define NW_REFDIR_H

#include <stddef.h>

/* Find the reference data directory that holds the file `probe` (a path relative to it, e.g.
 * "ner/model.bin"), trying in order:
 *   1. $NEWSWIRE_REF_DIR (when set, the only candidate: an operator's choice is not second-
 *      guessed),
 *   2. <directory of the running executable>/../share/newswire (an install: /usr/bin ->
 *      /usr/share/newswire, also inside an unpacked package or a container),
 *   3. the source tree's data/, only when the executable runs from the build tree it was
 *      built in (tests, benches, `newswire up` from a build).
 * Writes the directory to buf (n bytes; on failure the last candidate tried) and returns 0,
 * or -ENOENT when no candidate holds probe. */
int nw_refdir_find(const char *probe, char *buf, size_t n);

/* The directory of the running executable (/proc/self/exe without its last component) into
 * buf. Returns 0 or -errno. */
int nw_refdir_exe_dir(char *buf, size_t n);

#endif
