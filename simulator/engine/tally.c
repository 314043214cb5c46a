// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Keyed counts for NAT limits: chained hashing with 32-bit links into one
 * preallocated pool; see tally.h.
 */
#include "simulator/engine/tally.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	struct tally_key key;
	uint32_t count;
	uint32_t next;          /* chain, or free list; 0 ends */
	uint32_t bucket;
};

struct tally {
	struct entry *pool;     /* entries 1..n at pool[i - 1] */
	uint32_t *buckets;
	uint32_t n, mask, free_head;
	uint64_t seed;
};

static uint32_t key_hash(const struct tally *t, const struct tally_key *k)
{
	uint64_t h = t->seed, v[5] = { k->host.q[0], k->host.q[1], k->dst.q[0], k->dst.q[1],
				       (uint64_t)k->dport << 8 | k->proto };

	for (int i = 0; i < 5; i++) {
		h ^= v[i];
		h *= 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	return (uint32_t)(h >> 32) & t->mask;
}

static bool key_eq(const struct tally_key *a, const struct tally_key *b)
{
	return a->proto == b->proto && a->dport == b->dport &&
	       !memcmp(&a->host, &b->host, sizeof(a->host)) &&
	       !memcmp(&a->dst, &b->dst, sizeof(a->dst));
}

struct tally *tally_new(uint32_t n, uint64_t seed)
{
	struct tally *t;
	uint32_t nb = 1;

	if (n == 0 || n > (1u << 28)) {
		errno = EINVAL;
		return NULL;
	}
	while (nb < n)
		nb <<= 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		goto nomem;
	t->n = n;
	t->mask = nb - 1;
	t->seed = seed;
	t->pool = calloc(n, sizeof(*t->pool));
	t->buckets = calloc(nb, sizeof(*t->buckets));
	if (!t->pool || !t->buckets)
		goto nomem;
	tally_clear(t);
	return t;
nomem:
	tally_free(t);
	errno = ENOMEM;
	return NULL;
}

void tally_free(struct tally *t)
{
	if (!t)
		return;
	free(t->pool);
	free(t->buckets);
	free(t);
}

void tally_clear(struct tally *t)
{
	memset(t->buckets, 0, ((size_t)t->mask + 1) * sizeof(*t->buckets));
	t->free_head = 0;
	for (uint32_t i = t->n; i >= 1; i--) {
		t->pool[i - 1].count = 0;
		t->pool[i - 1].next = t->free_head;
		t->free_head = i;
	}
}

static uint32_t find(const struct tally *t, const struct tally_key *k, uint32_t b)
{
	for (uint32_t s = t->buckets[b]; s; s = t->pool[s - 1].next)
		if (key_eq(&t->pool[s - 1].key, k))
			return s;
	return 0;
}

uint32_t tally_get(const struct tally *t, const struct tally_key *k)
{
	uint32_t s = find(t, k, key_hash(t, k));

	return s ? t->pool[s - 1].count : 0;
}

uint32_t tally_inc(struct tally *t, const struct tally_key *k)
{
	uint32_t b = key_hash(t, k), s = find(t, k, b);
	struct entry *en;

	if (!s) {
		if (!t->free_head)
			return 0;
		s = t->free_head;
		en = &t->pool[s - 1];
		t->free_head = en->next;
		en->key = *k;
		en->count = 0;
		en->bucket = b;
		en->next = t->buckets[b];
		t->buckets[b] = s;
	}
	t->pool[s - 1].count++;
	return s;
}

void tally_dec(struct tally *t, uint32_t s)
{
	struct entry *en;
	uint32_t *pp;

	if (!s || s > t->n || !t->pool[s - 1].count)
		return;
	en = &t->pool[s - 1];
	if (--en->count)
		return;
	for (pp = &t->buckets[en->bucket]; *pp; pp = &t->pool[*pp - 1].next) {
		if (*pp == s) {
			*pp = en->next;
			break;
		}
	}
	en->next = t->free_head;
	t->free_head = s;
}

size_t tally_memory(const struct tally *t)
{
	return sizeof(*t) + (size_t)t->n * sizeof(struct entry) +
	       ((size_t)t->mask + 1) * sizeof(uint32_t);
}
