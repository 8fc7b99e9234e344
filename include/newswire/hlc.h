/* hlc.h: the acceptance clock of newswire-fetch. Every document fetch accepts gets an
 * acceptance version (`av` in raw, article and enriched, proto/raw.md) that orders the
 * acceptances of one id: the store makes the revision with the highest version current, so a
 * late or redelivered older copy never replaces a newer one (store.h, nw_store_put).
 *
 * A version is a hybrid logical clock: version = max(wall clock in microseconds since the Unix
 * epoch, last version given + 1). It is the wall-clock time of the acceptance whenever the clock
 * moves forward, and still grows by one per acceptance when the clock stands still or steps
 * back (NTP correction, VM resume). The last version survives a restart through a lease kept
 * in a small file (NW_HLC_FILE in the spool directory, which one fetch owns: spool.h locks it):
 * before a version above the persisted ceiling is given out, the ceiling is raised to that
 * version + NW_HLC_LEASE_US and made durable (fdatasync). A restarted fetch starts above the
 * ceiling, so it never gives a version at or below one it gave before, whatever its clock
 * says; it costs one fdatasync per lease period under load.
 *
 * Several fetch instances: their versions are comparable as far as their clocks agree. We
 * assume fetch hosts keep their clocks within NW_HLC_SKEW_US of each other (NTP). Two
 * acceptances of one id on different instances further apart than the skew are ordered as
 * they happened; closer together they may be ordered either way (the later copy in real time
 * may lose). A clock running ahead makes its instance's acceptances win over the others' for
 * as long as it is ahead; a clock stepped back makes its instance lose until real time
 * catches up with its last version (it never goes backwards). Equal versions from two
 * instances are ordered by the store by content hash, the same way on every store, so every
 * store and every arrival order agree on the winner. A clock set far in the future (years)
 * would keep an instance's versions there after the clock is fixed: remove NW_HLC_FILE to
 * reset (only after every copy it accepted was stored). */
#ifndef NW_HLC_H
#define NW_HLC_H

#include <stddef.h>
#include <stdint.h>

/* The file in the spool directory that holds the ceiling (two checksummed slots). */
#define NW_HLC_FILE "CLOCK"
/* How far ahead of the versions given the persisted ceiling is set (1 s). */
#define NW_HLC_LEASE_US 1000000ull
/* The clock skew between fetch hosts the ordering promise assumes (documented, not checked). */
#define NW_HLC_SKEW_US 100000ull

typedef struct nw_hlc nw_hlc_t;

/* Open (creating) the clock file at path and read its ceiling: the largest of the two slots
 * whose checksum holds (a torn write breaks at most the slot being written, and the other
 * still holds a ceiling above every version given before). Returns the clock (caller closes)
 * or NULL with a message in err. */
nw_hlc_t *nw_hlc_open(const char *path, char *err, size_t errlen);
/* Close the file and free. NULL-safe; nulls *h. */
void nw_hlc_close(nw_hlc_t **h);

/* The next version for wall-clock time now_us (nw_hlc_now_us(), or a test's clock): max(now_us,
 * last + 1), after raising the persisted ceiling when the version would pass it. Returns 0
 * with *v set, or a negative errno when the ceiling could not be written or synced (then no
 * version is given: the caller refuses the item as it would on a spool write error). */
int nw_hlc_next(nw_hlc_t *h, uint64_t now_us, uint64_t *v);
/* The last version given (or, before the first, the ceiling read at open). */
uint64_t nw_hlc_last(const nw_hlc_t *h);
/* Wall clock (CLOCK_REALTIME) in microseconds since the Unix epoch. */
uint64_t nw_hlc_now_us(void);

#endif
