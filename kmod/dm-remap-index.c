// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-remap: the in-memory remap index, main block -> spare slot.
 *
 * Why not an xarray: real bad sectors are scattered, and an xarray spends a
 * 576-byte node on each isolated index (hundreds of bytes per remap). The
 * index keeps sorted arrays of runs instead, 16 bytes per run: a run maps
 * blocks [block, block + len) to slots [slot, slot + len) (slot and len
 * share one u64, 40 + 24 bits). A scattered remap costs one run; a dense
 * stretch remapped in order (a proactive remap, or single blocks whose slots
 * follow each other, as slots are handed out in order) costs one run in all.
 *
 * Layout. The runs live in two sorted arrays, a large "base" and a small
 * "delta". A commit copies the delta with the new run put in (a single-block
 * insert stays cheap: the delta holds at most delta_limit() runs). When the
 * delta is full, the next preparation merges base and delta into a new base
 * and the commit starts a fresh delta with its run. With the limit at
 * sqrt(base), an insert copies O(sqrt(n)) runs on average, merges included.
 *
 * Publication. One immutable "view" holds the delta and points to the base:
 * a reader rcu_dereference()s the view once and sees a consistent pair, never
 * a base without its delta. A writer builds a new view completely, publishes
 * it with rcu_assign_pointer() (which orders the contents of the view and of
 * a new base before the pointer), then hands the old view to kvfree_rcu(),
 * and the old base too when a merge replaced it. A base is shared by every
 * view published since the merge that built it, and goes with the view that
 * the next merge retires. Nothing published is ever changed. kvfree_rcu()
 * frees through the kernel's own callback: no RCU callback points into this
 * module, so unloading it needs no rcu_barrier().
 *
 * Invariants, true of every published view:
 *  - base and delta are each sorted by block and their runs disjoint, and no
 *    block is in both (the caller never adds a block that is present);
 *  - a run is 1 to RUN_LEN_MAX blocks long and ends below U64_MAX;
 *  - nr_blocks is the number of blocks in base and delta;
 *  - the view pointer is NULL exactly when the index is empty.
 *
 * Memory. A base is allocated to its exact size, from vmalloc above a page
 * (kmalloc would round a large array up to a power of two); views are small
 * and come from kmalloc. Every allocation is made in a memalloc_noio scope:
 * inserting runs on the I/O error path of a device that may be the one being
 * swapped to, and loading may run while the device is suspended.
 */
#include "dm-remap-index.h"

#include <linux/bug.h>
#include <linux/math.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#define RUN_LEN_BITS (64 - REMAP_INDEX_SLOT_BITS)
#define RUN_LEN_MAX ((u64)REMAP_INDEX_MAX_COMMIT)

/* Bounds of the delta, in runs: see delta_limit(). */
#define DELTA_MIN 64
#define DELTA_MAX 4096

/* Blocks [block, block + len) -> slots [slot, slot + len). */
struct remap_index_run {
	u64 block;
	u64 slot_len;		/* slot << RUN_LEN_BITS | len */
};

struct remap_index_base {
	struct rcu_head rcu;
	size_t bytes;		/* as allocated */
	size_t nr;
	struct remap_index_run runs[];
};

struct remap_index_view {
	struct rcu_head rcu;
	size_t bytes;		/* as allocated, without the base */
	struct remap_index_base *base;	/* NULL before the first merge */
	u64 nr_blocks;
	unsigned int nr_delta;
	struct remap_index_run delta[];
};

static inline u64 run_len(const struct remap_index_run *r)
{
	return r->slot_len & RUN_LEN_MAX;
}

static inline u64 run_slot(const struct remap_index_run *r)
{
	return r->slot_len >> RUN_LEN_BITS;
}

static inline u64 run_last(const struct remap_index_run *r)
{
	return r->block + run_len(r) - 1;
}

static inline struct remap_index_run run_make(u64 block, u64 slot, u64 len)
{
	return (struct remap_index_run) {
		.block = block,
		.slot_len = slot << RUN_LEN_BITS | len,
	};
}

/* Whether b continues a, in blocks and in slots, within the length limit. */
static bool run_joins(const struct remap_index_run *a,
		      const struct remap_index_run *b)
{
	u64 len = run_len(a);

	return b->block - a->block == len && run_slot(b) - run_slot(a) == len &&
	       len + run_len(b) <= RUN_LEN_MAX;
}

/* ---- searching one sorted array ---- */

/* Number of runs whose first block is <= block. */
static size_t runs_upper(const struct remap_index_run *runs, size_t nr,
			 u64 block)
{
	size_t lo = 0, hi = nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (runs[mid].block <= block)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Index of the first run that ends at or after block (nr if none). */
static size_t runs_from(const struct remap_index_run *runs, size_t nr,
			u64 block)
{
	size_t i = runs_upper(runs, nr, block);

	return i && block <= run_last(&runs[i - 1]) ? i - 1 : i;
}

static s64 runs_lookup(const struct remap_index_run *runs, size_t nr,
		       u64 block)
{
	size_t i = runs_upper(runs, nr, block);

	if (!i || block > run_last(&runs[i - 1]))
		return -1;
	return run_slot(&runs[i - 1]) + (block - runs[i - 1].block);
}

/* Like runs_lookup(), and *len: the blocks from block to the end of its run. */
static s64 runs_lookup_run(const struct remap_index_run *runs, size_t nr,
			   u64 block, u64 *len)
{
	size_t i = runs_upper(runs, nr, block);

	if (!i || block > run_last(&runs[i - 1]))
		return -1;
	*len = run_last(&runs[i - 1]) - block + 1;
	return run_slot(&runs[i - 1]) + (block - runs[i - 1].block);
}

/* Smallest block >= first held by runs[], or U64_MAX. */
static u64 runs_next(const struct remap_index_run *runs, size_t nr, u64 first)
{
	size_t i = runs_from(runs, nr, first);

	if (i == nr)
		return U64_MAX;
	return max(runs[i].block, first);
}

/*
 * Merge two sorted, disjoint arrays into dst, joining runs that continue each
 * other. With dst NULL only count: the result's length is the return value.
 */
static size_t merge_runs(struct remap_index_run *dst,
			 const struct remap_index_run *a, size_t na,
			 const struct remap_index_run *b, size_t nb)
{
	struct remap_index_run cur;
	size_t n = 0, i = 0, j = 0;

	while (i < na || j < nb) {
		const struct remap_index_run *r;

		if (j == nb || (i < na && a[i].block < b[j].block))
			r = &a[i++];
		else
			r = &b[j++];
		if (n && run_joins(&cur, r)) {
			cur.slot_len += run_len(r);
			continue;
		}
		if (n && dst)
			dst[n - 1] = cur;
		cur = *r;
		n++;
	}
	if (n && dst)
		dst[n - 1] = cur;
	return n;
}

/*
 * Copy the delta src[] to dst[] with one more run, joined to its neighbours
 * when it continues them: two memcpy()s, as this runs on every insert.
 */
static unsigned int insert_run(struct remap_index_run *dst,
			       const struct remap_index_run *src,
			       unsigned int nr, const struct remap_index_run *run)
{
	unsigned int i = runs_upper(src, nr, run->block), n = i;

	memcpy(dst, src, i * sizeof(*src));
	if (n && run_joins(&dst[n - 1], run))
		dst[n - 1].slot_len += run_len(run);
	else
		dst[n++] = *run;
	if (i < nr && run_joins(&dst[n - 1], &src[i]))
		dst[n - 1].slot_len += run_len(&src[i++]);
	memcpy(dst + n, src + i, (nr - i) * sizeof(*src));
	return n + nr - i;
}

/* ---- allocation ---- */

/* What an allocation of size bytes made by kvmalloc() or vmalloc() holds. */
static size_t alloc_bytes(const void *p, size_t size)
{
	return is_vmalloc_addr(p) ? PAGE_ALIGN(size) : kmalloc_size_roundup(size);
}

/*
 * A view is replaced on every insert and holds at most DELTA_MAX runs (64
 * KiB): kmalloc is cheaper than vmalloc, and its rounding up is bounded.
 */
static struct remap_index_view *view_alloc(size_t nr_delta)
{
	size_t size = struct_size_t(struct remap_index_view, delta, nr_delta);
	struct remap_index_view *v = kvmalloc(size, GFP_KERNEL);

	if (v)
		v->bytes = alloc_bytes(v, size);
	return v;
}

/*
 * A base holds nearly everything and lives long: vmalloc above a page, as
 * kmalloc would round a large base up to a power of two.
 */
static struct remap_index_base *base_alloc(size_t nr)
{
	size_t size = struct_size_t(struct remap_index_base, runs, nr);
	struct remap_index_base *b;

	b = size <= PAGE_SIZE ? kmalloc(size, GFP_KERNEL) : vmalloc(size);
	if (b) {
		b->bytes = alloc_bytes(b, size);
		b->nr = nr;
	}
	return b;
}

/* Free a view that was replaced, with its base, once no reader can see it. */
static void view_retire(struct remap_index_view *v)
{
	if (!v)
		return;
	if (v->base)
		kvfree_rcu(v->base, rcu);
	kvfree_rcu(v, rcu);
}

/* The current view, for a writer: the caller serialises writers. */
static struct remap_index_view *writer_view(struct remap_index *ix)
{
	return rcu_dereference_protected(ix->view, true);
}

/*
 * The most runs the delta may hold before the next insert merges it into the
 * base. A merge copies the whole base once per delta_limit() inserts, an
 * insert copies the delta: sqrt(base) balances the two.
 */
static unsigned int delta_limit(size_t nr_base)
{
	return clamp_t(unsigned long, int_sqrt(nr_base), DELTA_MIN, DELTA_MAX);
}

/* ---- life cycle ---- */

/**
 * remap_index_init - make an empty index.
 * @ix: the index (usually embedded in the target's context).
 *
 * Allocates nothing and cannot fail.
 */
void remap_index_init(struct remap_index *ix)
{
	RCU_INIT_POINTER(ix->view, NULL);
}

/**
 * remap_index_destroy - empty the index and release its memory.
 * @ix: the index.
 *
 * The caller excludes writers. The memory is freed after an RCU grace
 * period, so a reader still inside a lookup is harmless; the index reads as
 * empty afterwards and may be reused.
 */
void remap_index_destroy(struct remap_index *ix)
{
	view_retire(rcu_replace_pointer(ix->view, NULL, true));
}

/* ---- readers: no lock, RCU only ---- */

/**
 * remap_index_lookup - the slot of a remapped block.
 * @ix: the index.
 * @block: main block number.
 *
 * Takes rcu_read_lock() itself: callable from the bio map path with no lock
 * held. O(log n).
 *
 * Return: the slot @block is remapped to, or -1 if it is not remapped.
 */
s64 remap_index_lookup(struct remap_index *ix, u64 block)
{
	const struct remap_index_view *v;
	s64 slot = -1;

	rcu_read_lock();
	v = rcu_dereference(ix->view);
	if (v) {
		slot = runs_lookup(v->delta, v->nr_delta, block);
		if (slot < 0 && v->base)
			slot = runs_lookup(v->base->runs, v->base->nr, block);
	}
	rcu_read_unlock();
	return slot;
}

/**
 * remap_index_lookup_run - the slot of a block, and how far its slots go on.
 * @ix: the index.
 * @block: main block number.
 * @len: when @block is remapped, set to the number of blocks from @block on
 *	whose slots follow its slot one by one (at least 1): blocks
 *	[@block, @block + *@len) are on slots [slot, slot + *@len).
 *
 * Lets the map path send a bio over a stretch of remapped blocks to the spare
 * as one bio instead of one per block. *@len may stop short of where the
 * blocks' slots really stop following each other (a stretch can be split
 * between base and delta until the next merge); it is never too long.
 * Takes rcu_read_lock() itself. O(log n).
 *
 * Return: the slot @block is remapped to, or -1 if it is not remapped.
 */
s64 remap_index_lookup_run(struct remap_index *ix, u64 block, u64 *len)
{
	const struct remap_index_view *v;
	s64 slot = -1;

	rcu_read_lock();
	v = rcu_dereference(ix->view);
	if (v) {
		slot = runs_lookup_run(v->delta, v->nr_delta, block, len);
		if (slot < 0 && v->base)
			slot = runs_lookup_run(v->base->runs, v->base->nr, block, len);
	}
	rcu_read_unlock();
	return slot;
}

/**
 * remap_index_next - the first remapped block of a range.
 * @ix: the index.
 * @first: first block of the range.
 * @last: last block of the range (inclusive), below U64_MAX.
 *
 * Takes rcu_read_lock() itself. O(log n).
 *
 * Return: the smallest remapped block in [@first, @last], or @last + 1.
 */
u64 remap_index_next(struct remap_index *ix, u64 first, u64 last)
{
	const struct remap_index_view *v;
	u64 found = U64_MAX;

	rcu_read_lock();
	v = rcu_dereference(ix->view);
	if (v) {
		found = runs_next(v->delta, v->nr_delta, first);
		if (v->base)
			found = min(found, runs_next(v->base->runs, v->base->nr, first));
	}
	rcu_read_unlock();
	return found <= last ? found : last + 1;
}

/**
 * remap_index_empty - whether no block is remapped.
 * @ix: the index.
 *
 * One pointer test, no lock needed: the fast path of a device with no remaps.
 *
 * Return: true when no block is remapped.
 */
bool remap_index_empty(struct remap_index *ix)
{
	return !rcu_access_pointer(ix->view);
}

/**
 * remap_index_count - number of remapped blocks.
 * @ix: the index.
 *
 * Takes rcu_read_lock() itself.
 *
 * Return: the number of blocks in the index.
 */
u64 remap_index_count(struct remap_index *ix)
{
	const struct remap_index_view *v;
	u64 n;

	rcu_read_lock();
	v = rcu_dereference(ix->view);
	n = v ? v->nr_blocks : 0;
	rcu_read_unlock();
	return n;
}

/**
 * remap_index_bytes - memory the index holds now.
 * @ix: the index.
 *
 * The allocated size of the current view and base (kmalloc bucket or whole
 * pages), not counting views and bases still waiting for a grace period or
 * an update that was prepared and not yet committed. Takes rcu_read_lock().
 *
 * Return: bytes held.
 */
size_t remap_index_bytes(struct remap_index *ix)
{
	const struct remap_index_view *v;
	size_t bytes = 0;

	rcu_read_lock();
	v = rcu_dereference(ix->view);
	if (v)
		bytes = v->bytes + (v->base ? v->base->bytes : 0);
	rcu_read_unlock();
	return bytes;
}

/**
 * remap_index_iter_start - start an ascending walk over a range of blocks.
 * @ix: the index.
 * @it: the iterator to set up.
 * @first: first block of the range.
 * @last: last block of the range (inclusive).
 *
 * The caller holds rcu_read_lock() from here until it stops calling
 * remap_index_iter_next(): the walk reads the view current at this call and
 * sees no later change. It may stop at any point (a reply buffer is full).
 */
void remap_index_iter_start(struct remap_index *ix, struct remap_index_iter *it,
			    u64 first, u64 last)
{
	const struct remap_index_view *v = rcu_dereference(ix->view);

	it->view = v;
	it->next = first;
	it->last = last;
	it->done = !v || first > last;
	if (it->done)
		return;
	it->pos[0] = v->base ? runs_from(v->base->runs, v->base->nr, first) : 0;
	it->pos[1] = runs_from(v->delta, v->nr_delta, first);
}

/**
 * remap_index_iter_next - the next remapped block of a walk.
 * @it: an iterator set up by remap_index_iter_start().
 * @block: set to the block.
 * @slot: set to its slot.
 *
 * Return: false when the range holds no more remapped block.
 */
bool remap_index_iter_next(struct remap_index_iter *it, u64 *block, u64 *slot)
{
	const struct remap_index_view *v = it->view;
	const struct remap_index_run *rb = NULL, *rd = NULL, *r;
	size_t *pos;
	u64 b;

	if (it->done)
		return false;
	if (v->base && it->pos[0] < v->base->nr)
		rb = &v->base->runs[it->pos[0]];
	if (it->pos[1] < v->nr_delta)
		rd = &v->delta[it->pos[1]];
	if (!rb && !rd) {
		it->done = true;
		return false;
	}
	/* The two arrays are disjoint: the lower run holds the next block. */
	if (!rd || (rb && rb->block < rd->block)) {
		r = rb;
		pos = &it->pos[0];
	} else {
		r = rd;
		pos = &it->pos[1];
	}
	/* Both positions point at runs ending at or after it->next. */
	b = max(r->block, it->next);
	if (b > it->last) {
		it->done = true;
		return false;
	}
	*block = b;
	*slot = run_slot(r) + (b - r->block);
	if (b == run_last(r))
		(*pos)++;
	if (b == it->last)
		it->done = true;
	else
		it->next = b + 1;
	return true;
}

/* ---- writers: serialised by the caller ---- */

/**
 * remap_index_prepare - allocate what adding one run of blocks needs.
 * @ix: the index.
 * @up: filled with the preparation, for remap_index_commit() or
 *	remap_index_cancel().
 * @count: blocks the commit will add, 1 to REMAP_INDEX_MAX_COMMIT.
 *
 * May sleep; allocates in a memalloc_noio scope, so it may be called on the
 * I/O path of the device itself. When the delta is full, this is also where
 * base and delta are merged into a new base (the one O(n) step, once every
 * delta_limit() inserts), so that the commit only copies the delta.
 *
 * The caller holds its writer lock from here to the commit or cancel and
 * changes the index in no other way meanwhile: the preparation is valid only
 * for the index as it is now.
 *
 * Return: 0, -ENOMEM (nothing changed), or -EINVAL for a bad @count.
 */
int remap_index_prepare(struct remap_index *ix, struct remap_index_update *up,
			unsigned int count)
{
	const struct remap_index_view *old = writer_view(ix);
	const struct remap_index_base *base = old ? old->base : NULL;
	size_t nr_base = base ? base->nr : 0;
	unsigned int nr_delta = old ? old->nr_delta : 0;
	unsigned int noio;

	memset(up, 0, sizeof(*up));
	if (WARN_ON(!count || count > REMAP_INDEX_MAX_COMMIT))
		return -EINVAL;

	noio = memalloc_noio_save();
	if (nr_delta < delta_limit(nr_base)) {
		up->view = view_alloc(nr_delta + 1);
	} else {
		const struct remap_index_run *runs = base ? base->runs : NULL;
		size_t nr = merge_runs(NULL, runs, nr_base, old->delta, nr_delta);

		up->base = base_alloc(nr);
		if (up->base) {
			merge_runs(up->base->runs, runs, nr_base, old->delta, nr_delta);
			up->view = view_alloc(1);
		}
	}
	memalloc_noio_restore(noio);

	if (!up->view) {
		kvfree(up->base);
		up->base = NULL;
		return -ENOMEM;
	}
	up->old = old;
	up->count = count;
	return 0;
}

/**
 * remap_index_commit - add blocks and publish them to readers.
 * @ix: the index.
 * @up: a preparation made by remap_index_prepare() on this index as it is.
 * @first_block: the first block to add.
 * @first_slot: its slot.
 * @count: blocks to add (at most the prepared count): blocks
 *	@first_block .. @first_block + @count - 1 map to slots @first_slot ..
 *	@first_slot + @count - 1.
 *
 * None of the blocks may be in the index already, and the last slot may not
 * exceed REMAP_INDEX_MAX_SLOT. Cannot fail and never allocates: safe to call
 * after the remap was persisted. Readers see the new blocks once this
 * returns. Consumes @up.
 */
void remap_index_commit(struct remap_index *ix, struct remap_index_update *up,
			u64 first_block, u64 first_slot, unsigned int count)
{
	struct remap_index_view *old = writer_view(ix), *v = up->view;
	struct remap_index_run run = run_make(first_block, first_slot, count);

	/* Misuse would lose remaps: say so loudly. */
	WARN_ON_ONCE(old != up->old || !count || count > up->count ||
		     first_slot + count - 1 > REMAP_INDEX_MAX_SLOT ||
		     first_block + count - 1 >= U64_MAX);

	if (up->base || !old) {
		/* A fresh delta, on the merged base or on nothing. */
		v->base = up->base;
		v->delta[0] = run;
		v->nr_delta = 1;
	} else {
		v->base = old->base;
		v->nr_delta = insert_run(v->delta, old->delta, old->nr_delta, &run);
	}
	v->nr_blocks = (old ? old->nr_blocks : 0) + count;

	rcu_assign_pointer(ix->view, v);
	if (old) {
		/* A merge retired the old base; otherwise v shares it. */
		if (up->base && old->base)
			kvfree_rcu(old->base, rcu);
		kvfree_rcu(old, rcu);
	}
	up->view = NULL;
	up->base = NULL;
}

/**
 * remap_index_cancel - drop a preparation that will not be committed.
 * @up: a preparation from remap_index_prepare() (or one already consumed).
 */
void remap_index_cancel(struct remap_index_update *up)
{
	kvfree(up->view);
	kvfree(up->base);
	up->view = NULL;
	up->base = NULL;
}

/* ---- bulk load ---- */

/**
 * remap_index_load_begin - start collecting a whole table.
 * @ld: the loader.
 *
 * Entries are then given with remap_index_load_add() in any block order
 * (slot order makes dense stretches one run) and installed at once by
 * remap_index_load_end(). Allocates nothing.
 */
void remap_index_load_begin(struct remap_index_loader *ld)
{
	memset(ld, 0, sizeof(*ld));
	ld->sorted = true;
}

/**
 * remap_index_load_add - add one entry of the table.
 * @ld: the loader.
 * @block: main block, below U64_MAX (the caller checks it against the
 *	device size).
 * @slot: its slot, at most REMAP_INDEX_MAX_SLOT.
 *
 * May sleep (the collection grows by doubling). A block given twice is
 * found by remap_index_load_end().
 *
 * Return: 0, -ERANGE for a block or slot out of range, or -ENOMEM. On an
 * error the caller calls remap_index_load_abort().
 */
int remap_index_load_add(struct remap_index_loader *ld, u64 block, u64 slot)
{
	struct remap_index_run run = run_make(block, slot, 1), *last;

	if (block == U64_MAX || slot > REMAP_INDEX_MAX_SLOT)
		return -ERANGE;
	if (ld->nr) {
		last = &ld->runs[ld->nr - 1];
		if (run_joins(last, &run)) {
			last->slot_len++;
			ld->nr_blocks++;
			return 0;
		}
		if (block <= run_last(last))
			ld->sorted = false;
	}
	if (ld->nr == ld->cap) {
		size_t cap = max_t(size_t, 256, ld->cap * 2);
		struct remap_index_run *runs;
		unsigned int noio = memalloc_noio_save();

		runs = kvmalloc_array(cap, sizeof(*runs), GFP_KERNEL);
		memalloc_noio_restore(noio);
		if (!runs)
			return -ENOMEM;
		if (ld->nr)
			memcpy(runs, ld->runs, ld->nr * sizeof(*runs));
		kvfree(ld->runs);
		ld->runs = runs;
		ld->cap = cap;
	}
	ld->runs[ld->nr++] = run;
	ld->nr_blocks++;
	return 0;
}

/* End of the ascending stretch of a[] that starts at i. */
static size_t stretch_end(const struct remap_index_run *a, size_t i, size_t n)
{
	for (i++; i < n; i++) {
		if (a[i].block < a[i - 1].block)
			break;
	}
	return i;
}

/*
 * Sort a[] by block with a bottom-up natural merge sort: each pass merges
 * neighbouring ascending stretches into tmp[], and the two buffers swap
 * roles. O(n log s) for s stretches, sequential memory access, no indirect
 * calls. Returns the buffer that holds the result.
 */
static struct remap_index_run *sort_runs(struct remap_index_run *a,
					 struct remap_index_run *tmp, size_t n)
{
	for (;;) {
		size_t i = 0, merged = 0;

		while (i < n) {
			size_t mid = stretch_end(a, i, n);
			size_t end = mid < n ? stretch_end(a, mid, n) : n;
			size_t j = i, k = mid, o = i;

			while (j < mid && k < end)
				tmp[o++] = a[k].block < a[j].block ? a[k++] : a[j++];
			memcpy(tmp + o, a + j, (mid - j) * sizeof(*a));
			o += mid - j;
			memcpy(tmp + o, a + k, (end - k) * sizeof(*a));
			i = end;
			merged++;
		}
		swap(a, tmp);
		if (merged <= 1)
			return a;
		cond_resched();
	}
}

/*
 * Join runs of sorted runs[] that continue each other, in place. Two runs
 * sharing a block mean the table remaps that block twice.
 */
static int coalesce_runs(struct remap_index_run *runs, size_t *nr,
			 u64 *duplicate)
{
	size_t i, n = 0;

	for (i = 0; i < *nr; i++) {
		if (n && runs[i].block <= run_last(&runs[n - 1])) {
			*duplicate = runs[i].block;
			return -EILSEQ;
		}
		if (n && run_joins(&runs[n - 1], &runs[i]))
			runs[n - 1].slot_len += run_len(&runs[i]);
		else
			runs[n++] = runs[i];
	}
	*nr = n;
	return 0;
}

/**
 * remap_index_load_end - replace the whole index by the collected table.
 * @ix: the index; the caller excludes other writers.
 * @ld: the loader; always released (load_begin() starts it again).
 *
 * Sorts only when the entries did not come in ascending block order
 * (O(n log n), else O(n)), joins continuing runs, then publishes the result
 * at once: readers see the old content or the new one. The previous content
 * is freed after a grace period. May sleep.
 *
 * Return: 0; -EILSEQ if a block was given twice (@ld->duplicate names it)
 * or -ENOMEM. On an error the index is unchanged.
 */
int remap_index_load_end(struct remap_index *ix, struct remap_index_loader *ld)
{
	struct remap_index_run *runs = ld->runs, *tmp = NULL;
	struct remap_index_view *v = NULL;
	struct remap_index_base *base = NULL;
	size_t nr = ld->nr;
	unsigned int noio;
	int r = -ENOMEM;

	noio = memalloc_noio_save();
	if (!ld->sorted) {
		tmp = kvmalloc_array(nr, sizeof(*tmp), GFP_KERNEL);
		if (!tmp)
			goto out;
		runs = sort_runs(runs, tmp, nr);
	}
	r = coalesce_runs(runs, &nr, &ld->duplicate);
	if (r)
		goto out;
	if (nr) {
		r = -ENOMEM;
		v = view_alloc(0);
		base = base_alloc(nr);
		if (!v || !base)
			goto out;
		memcpy(base->runs, runs, nr * sizeof(*runs));
		v->base = base;
		v->nr_delta = 0;
		v->nr_blocks = ld->nr_blocks;
	}
	view_retire(rcu_replace_pointer(ix->view, v, true));
	v = NULL;
	base = NULL;
	r = 0;
out:
	memalloc_noio_restore(noio);
	kvfree(base);
	kvfree(v);
	kvfree(tmp);
	kvfree(ld->runs);
	ld->runs = NULL;
	ld->nr = 0;
	ld->cap = 0;
	return r;
}

/**
 * remap_index_load_abort - release a loader without touching the index.
 * @ld: the loader.
 */
void remap_index_load_abort(struct remap_index_loader *ld)
{
	kvfree(ld->runs);
	ld->runs = NULL;
	ld->nr = 0;
	ld->cap = 0;
}
