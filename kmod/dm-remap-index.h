/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-remap: the in-memory remap index, main block -> spare slot.
 *
 * Readers (the bio map path) take no lock: every lookup runs under RCU.
 * Writers are serialised by the caller (the target's remap_lock). Adding
 * remaps is two-phase so that nothing needs memory once a remap is on disk:
 * remap_index_prepare() allocates, the caller persists, then
 * remap_index_commit() publishes (it cannot fail) or remap_index_cancel()
 * drops the preparation.
 *
 * Slots are limited to REMAP_INDEX_MAX_SLOT (2^40 - 1: a spare of 512 TiB
 * with 512-byte blocks) and blocks to U64_MAX - 1.
 */
#ifndef DM_REMAP_INDEX_H
#define DM_REMAP_INDEX_H

#include <linux/rcupdate.h>
#include <linux/types.h>

#define REMAP_INDEX_SLOT_BITS 40
#define REMAP_INDEX_MAX_SLOT ((1ULL << REMAP_INDEX_SLOT_BITS) - 1)
/* Most blocks one remap_index_commit() adds (one run, see the .c file). */
#define REMAP_INDEX_MAX_COMMIT ((1U << (64 - REMAP_INDEX_SLOT_BITS)) - 1)

struct remap_index_run;
struct remap_index_base;
struct remap_index_view;

/* Embeddable; all-zero (or remap_index_init()) is an empty index. */
struct remap_index {
	struct remap_index_view __rcu *view;	/* NULL while empty */
};

/* What remap_index_prepare() set aside for one remap_index_commit(). */
struct remap_index_update {
	struct remap_index_view *view;		/* to publish */
	struct remap_index_base *base;		/* its new base, or NULL: keep */
	const struct remap_index_view *old;	/* the view it was prepared on */
	unsigned int count;
};

/* Collects the on-disk table before it replaces the index at once. */
struct remap_index_loader {
	struct remap_index_run *runs;
	size_t nr;
	size_t cap;
	u64 nr_blocks;
	bool sorted;
	u64 duplicate;		/* set when remap_index_load_end() says -EILSEQ */
};

/* A walk in ascending block order over one snapshot; see iter_start. */
struct remap_index_iter {
	const struct remap_index_view *view;
	size_t pos[2];		/* next run of the base and of the delta */
	u64 next;		/* smallest block not returned yet */
	u64 last;
	bool done;
};

void remap_index_init(struct remap_index *ix);
void remap_index_destroy(struct remap_index *ix);

s64 remap_index_lookup(struct remap_index *ix, u64 block);
s64 remap_index_lookup_run(struct remap_index *ix, u64 block, u64 *len);
u64 remap_index_next(struct remap_index *ix, u64 first, u64 last);
bool remap_index_empty(struct remap_index *ix);
u64 remap_index_count(struct remap_index *ix);
size_t remap_index_bytes(struct remap_index *ix);

int remap_index_prepare(struct remap_index *ix, struct remap_index_update *up,
			unsigned int count);
void remap_index_commit(struct remap_index *ix, struct remap_index_update *up,
			u64 first_block, u64 first_slot, unsigned int count);
void remap_index_cancel(struct remap_index_update *up);

void remap_index_load_begin(struct remap_index_loader *ld);
int remap_index_load_add(struct remap_index_loader *ld, u64 block, u64 slot);
int remap_index_load_end(struct remap_index *ix, struct remap_index_loader *ld);
void remap_index_load_abort(struct remap_index_loader *ld);

void remap_index_iter_start(struct remap_index *ix, struct remap_index_iter *it,
			    u64 first, u64 last);
bool remap_index_iter_next(struct remap_index_iter *it, u64 *block, u64 *slot);

/* dm-remap-index-test.c: run by the index_selftest module parameter. */
int remap_index_selftest(void);

#endif /* DM_REMAP_INDEX_H */
