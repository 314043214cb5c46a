/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The free outside ports of one protocol, for NAT port allocation in O(1):
 * a three-level bitmap over the port range (a set bit is a usable port;
 * finding the next usable port at or after any point reads at most a few
 * words) and a FIFO of released ports waiting out their hold-down. The
 * hold is the same for every port, so the FIFO is in release-time order
 * and the ports whose hold has ended are always at its head. Everything is
 * allocated by portset_new(); no call after it allocates.
 */
#ifndef IDLEGATE_PORTSET_H
#define IDLEGATE_PORTSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct portset;

/*
 * Ports lo..hi (1 <= lo <= hi <= 65535), all usable; a released port
 * becomes usable again `hold` ms after portset_release(). Returns NULL with
 * errno ENOMEM or EINVAL. Free with portset_free().
 */
struct portset *portset_new(uint16_t lo, uint16_t hi, uint64_t hold);
/* Accepts NULL. */
void portset_free(struct portset *ps);

/* Make the ports whose hold ended at or before `now` usable. Amortised
 * O(1): each released port is moved once. */
void portset_tick(struct portset *ps, uint64_t now);
/* Whether port is in the range and usable now (after portset_tick). */
bool portset_usable(const struct portset *ps, uint16_t port);
/*
 * The first usable port at or after `from`, wrapping from hi to lo; `from`
 * outside the range starts at lo. Returns the port, or 0 when none is
 * usable. Does not take it.
 */
uint16_t portset_next(const struct portset *ps, uint16_t from);
/* Take a usable port (portset_usable() must be true). */
void portset_take(struct portset *ps, uint16_t port);
/* Give a taken port back at time now: usable again at now + hold, or with
 * the port released before it if that was stamped later (releases must
 * come in time order; one stamped out of order waits a little longer). */
void portset_release(struct portset *ps, uint16_t port, uint64_t now);
/* Every held port usable again at once (a NAT that reboots forgets). */
void portset_unhold(struct portset *ps);
/* Usable ports now, and ports waiting out their hold. */
uint32_t portset_count(const struct portset *ps);
uint32_t portset_held(const struct portset *ps);
/* Bytes allocated. */
size_t portset_memory(const struct portset *ps);

#endif
