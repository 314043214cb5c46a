/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Counts of live things keyed by (protocol, host, destination address,
 * destination port), for NAT limits: connections of one inside host to one
 * destination, connections to one destination. A hash table over a pool of
 * entries allocated by tally_new(); an entry goes back to the pool when its
 * count falls to 0. O(1) per call, nothing allocated after tally_new().
 */
#ifndef IDLEGATE_TALLY_H
#define IDLEGATE_TALLY_H

#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

struct tally_key {
	union addr host;        /* all zero when not part of the key */
	union addr dst;
	uint16_t dport;
	uint8_t proto;
};

struct tally;

/* Room for n distinct keys at once. NULL with errno ENOMEM or EINVAL. */
struct tally *tally_new(uint32_t n, uint64_t seed);
/* Accepts NULL. */
void tally_free(struct tally *t);
/* The count of key (0 if it has no entry). */
uint32_t tally_get(const struct tally *t, const struct tally_key *k);
/* Add one to key. Returns its entry (>= 1, for tally_dec()), or 0 when the
 * pool is empty (no new key fits). */
uint32_t tally_inc(struct tally *t, const struct tally_key *k);
/* Take one from the entry tally_inc() returned; 0 is ignored. */
void tally_dec(struct tally *t, uint32_t entry);
/* Forget every count. */
void tally_clear(struct tally *t);
size_t tally_memory(const struct tally *t);

#endif
