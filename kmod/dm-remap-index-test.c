// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-remap: self-test of the remap index (dm-remap-index.c).
 *
 * The index has no user-space interface of its own, so this test drives it
 * from inside the kernel when the module is loaded with index_selftest=1
 * (compiled in always, off by default). Every change is mirrored in an
 * xarray, the structure the index replaces, which serves as the reference:
 * after random and structured inserts, cancelled preparations, bulk loads
 * (sorted, shuffled, with a duplicate) and runs at the length limit, every
 * lookup, next, walk and count must agree with it. It logs "PASS" or "FAIL";
 * on FAIL the module refuses to load. It also logs memory and timing figures
 * of the index (bytes per remap, load and lookup times).
 */
#define pr_fmt(fmt) "dm-remap: index selftest: " fmt

#include "dm-remap-index.h"

#include <linux/bits.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/xarray.h>

#define SCATTERED_BLOCKS BIT_ULL(30)
#define RUNS_FIRST BIT_ULL(31)
#define RUNS_SPAN BIT_ULL(24)
#define MAX_LOG 40000

/* One remap_index_commit(), kept so a load can replay them in slot order. */
struct added {
	u64 block;
	u64 slot;
	unsigned int count;
};

struct selftest {
	struct remap_index ix;
	struct xarray ref;		/* block -> xa_mk_value(slot) */
	u64 nr;				/* blocks in ref */
	u64 next_slot;
	struct added *log;
	unsigned int nr_log;
	u64 rng;
	unsigned long checks;
	unsigned int failures;
};

static bool expect(struct selftest *st, bool ok, const char *what, u64 a, u64 b)
{
	st->checks++;
	if (!ok && st->failures++ < 20)
		pr_err("FAIL: %s (%llu, %llu)\n", what, a, b);
	return ok;
}

/* xorshift64*: reproducible, so a failure can be replayed. */
static u64 rnd(struct selftest *st)
{
	st->rng ^= st->rng >> 12;
	st->rng ^= st->rng << 25;
	st->rng ^= st->rng >> 27;
	return st->rng * 0x2545f4914f6cdd1dULL;
}

static u64 rnd_below(struct selftest *st, u64 n)
{
	u64 rem;

	div64_u64_rem(rnd(st), n, &rem);
	return rem;
}

/* Whether none of blocks [block, block + count) is in the reference. */
static bool ref_free(struct selftest *st, u64 block, u64 count)
{
	unsigned long idx = block;

	return !xa_find(&st->ref, &idx, block + count - 1, XA_PRESENT);
}

/* Enter a run in the reference and the log. */
static int record(struct selftest *st, u64 block, unsigned int count, u64 slot)
{
	unsigned int i;
	int r;

	for (i = 0; i < count; i++) {
		r = xa_err(xa_store(&st->ref, block + i, xa_mk_value(slot + i),
				    GFP_KERNEL));
		if (r)
			return r;
	}
	st->nr += count;
	if (st->nr_log < MAX_LOG)
		st->log[st->nr_log] = (struct added){ block, slot, count };
	st->nr_log++;
	return 0;
}

/* Add a run through prepare and commit, and to the reference. */
static int add(struct selftest *st, u64 block, unsigned int count, u64 slot)
{
	struct remap_index_update up;
	int r;

	r = remap_index_prepare(&st->ix, &up, count);
	if (r)
		return r;
	remap_index_commit(&st->ix, &up, block, slot, count);
	return record(st, block, count, slot);
}

/*
 * The run lookup agrees with the plain one, and every block it says follows
 * is on the next slot (the first 64 and the last are checked). Returns the
 * run's length (0 when block is not remapped).
 */
static u64 check_run(struct selftest *st, struct remap_index *ix, u64 block,
		     s64 want)
{
	u64 len = 0, k;
	s64 slot = remap_index_lookup_run(ix, block, &len);
	void *entry;

	if (!expect(st, slot == want, "lookup_run", block, want) || slot < 0)
		return 0;
	if (!expect(st, len >= 1, "lookup_run length", block, len))
		return 0;
	for (k = 1; k < len; k = k < 64 ? k + 1 : max(k + 1, len - 1)) {
		entry = xa_load(&st->ref, block + k);
		if (!expect(st, entry && xa_to_value(entry) == slot + k,
			    "lookup_run: a block of the run off its slot", block, k))
			break;
	}
	return len;
}

static void check_block(struct selftest *st, struct remap_index *ix, u64 block)
{
	void *entry = xa_load(&st->ref, block);
	s64 want = entry ? (s64)xa_to_value(entry) : -1;

	expect(st, remap_index_lookup(ix, block) == want, "lookup", block, want);
	check_run(st, ix, block, want);
}

static void check_next(struct selftest *st, struct remap_index *ix, u64 first,
		       u64 last)
{
	unsigned long idx = first;
	u64 want = xa_find(&st->ref, &idx, last, XA_PRESENT) ? idx : last + 1;

	expect(st, remap_index_next(ix, first, last) == want, "next", first, want);
}

/* A walk of [first, last] stopped after max entries, against the reference. */
static void check_walk(struct selftest *st, struct remap_index *ix, u64 first,
		       u64 last, u64 max)
{
	struct remap_index_iter it;
	unsigned long idx;
	u64 block, slot, n = 0;
	void *entry;

	rcu_read_lock();
	remap_index_iter_start(ix, &it, first, last);
	xa_for_each_range(&st->ref, idx, entry, first, last) {
		if (n++ == max)
			break;
		if (!expect(st, remap_index_iter_next(&it, &block, &slot) &&
			    block == idx && slot == xa_to_value(entry),
			    "walk", idx, block))
			break;
	}
	if (n <= max)
		expect(st, !remap_index_iter_next(&it, &block, &slot),
		       "walk past the end", last, block);
	rcu_read_unlock();
}

/* Compare ix with the reference: count, a whole walk, and random probes. */
static void verify(struct selftest *st, struct remap_index *ix)
{
	unsigned int logged = min_t(unsigned int, st->nr_log, MAX_LOG), i;

	expect(st, remap_index_count(ix) == st->nr, "count", st->nr,
	       remap_index_count(ix));
	expect(st, remap_index_empty(ix) == !st->nr, "empty", st->nr, 0);
	check_walk(st, ix, 0, U64_MAX - 1, U64_MAX);
	for (i = 0; i < 2000; i++) {
		u64 b = rnd_below(st, i & 1 ? SCATTERED_BLOCKS : RUNS_SPAN) +
			(i & 1 ? 0 : RUNS_FIRST);

		check_block(st, ix, b);
		check_next(st, ix, b, b + rnd_below(st, 1 << (i % 20)));
		if (!(i % 16))
			check_walk(st, ix, b, b + rnd_below(st, RUNS_SPAN),
				   1 + rnd_below(st, 64));
	}
	/* Around the edges of what was added. */
	for (i = 0; i < min(logged, 2000U); i++) {
		const struct added *a = &st->log[rnd_below(st, logged)];

		check_block(st, ix, a->block - 1);
		/* Runs only ever join: a commit's blocks stay in one run. */
		expect(st, check_run(st, ix, a->block, a->slot) >= a->count,
		       "lookup_run shorter than a commit", a->block, a->count);
		check_block(st, ix, a->block + a->count - 1);
		check_block(st, ix, a->block + a->count);
		check_next(st, ix, a->block + 1, a->block + a->count + 1);
	}
	cond_resched();
}

static int test_inserts(struct selftest *st)
{
	struct remap_index_update up;
	unsigned int i;
	u64 b, len;
	size_t bytes;
	int r;

	/* Empty. */
	expect(st, remap_index_empty(&st->ix) && !remap_index_bytes(&st->ix),
	       "empty index", 0, 0);
	check_next(st, &st->ix, 0, 100);
	verify(st, &st->ix);

	/* Scattered single blocks, many merges of base and delta. */
	for (i = 0; i < 20000; i++) {
		b = rnd_below(st, SCATTERED_BLOCKS);
		if (!ref_free(st, b, 1))
			continue;
		r = add(st, b, 1, st->next_slot++);
		if (r)
			return r;
		if (!(i % 4000))
			verify(st, &st->ix);
	}
	verify(st, &st->ix);

	/* Runs of 1..256 blocks; every other one leaves a gap in the slots. */
	for (i = 0; i < 1000; i++) {
		unsigned long idx;

		b = RUNS_FIRST + rnd_below(st, RUNS_SPAN);
		len = 1 + rnd_below(st, 256);
		idx = b;
		if (xa_find(&st->ref, &idx, b + len - 1, XA_PRESENT))
			len = idx - b;
		if (!len)
			continue;
		st->next_slot += i & 1;
		r = add(st, b, len, st->next_slot);
		if (r)
			return r;
		st->next_slot += len;
		/* Sometimes continue it at once, with the next slots. */
		if (!(i % 3) && ref_free(st, b + len, 8)) {
			r = add(st, b + len, 8, st->next_slot);
			if (r)
				return r;
			st->next_slot += 8;
		}
	}
	verify(st, &st->ix);

	/* Ascending single blocks that continue each other: one run. */
	bytes = remap_index_bytes(&st->ix);
	for (i = 0; i < 5000; i++) {
		r = add(st, (1ULL << 33) + i, 1, st->next_slot++);
		if (r)
			return r;
	}
	expect(st, remap_index_bytes(&st->ix) <= bytes + 8192,
	       "5000 continuing blocks cost one run", bytes,
	       remap_index_bytes(&st->ix));

	/* Filling the gap between two runs joins all three. */
	b = 1ULL << 34;
	r = add(st, b, 10, st->next_slot);
	if (!r)
		r = add(st, b + 20, 10, st->next_slot + 20);
	if (!r)
		r = add(st, b + 10, 10, st->next_slot + 10);
	if (r)
		return r;
	st->next_slot += 30;
	for (i = 0; i < 32; i++)
		check_block(st, &st->ix, b - 1 + i);

	/* Preparations dropped, some of them merges. */
	for (i = 0; i < 600; i++) {
		r = remap_index_prepare(&st->ix, &up, 1);
		if (r)
			return r;
		b = (1ULL << 35) + 2 * i;
		if (i % 3) {
			remap_index_cancel(&up);
			continue;
		}
		remap_index_commit(&st->ix, &up, b, st->next_slot, 1);
		r = record(st, b, 1, st->next_slot++);
		if (r)
			return r;
	}

	/* The ends of the block space. */
	r = add(st, 0, 1, st->next_slot++);
	if (!r)
		r = add(st, U64_MAX - 3, 2, st->next_slot);
	if (!r)
		r = add(st, U64_MAX - 1, 1, REMAP_INDEX_MAX_SLOT);
	if (r)
		return r;
	st->next_slot += 2;
	check_next(st, &st->ix, U64_MAX - 10, U64_MAX - 1);
	check_next(st, &st->ix, U64_MAX - 2, U64_MAX - 2);
	check_walk(st, &st->ix, U64_MAX - 10, U64_MAX - 1, U64_MAX);
	verify(st, &st->ix);
	return 0;
}

/* Load ix from the reference, replaying the log: slot order, or shuffled. */
static int load_from_log(struct selftest *st, struct remap_index *ix,
			 bool shuffle, u64 duplicate)
{
	struct remap_index_loader ld;
	struct added *pairs = NULL;
	unsigned long idx;
	u64 n = 0, i;
	void *entry;
	int r = 0;

	remap_index_load_begin(&ld);
	if (!shuffle) {
		for (i = 0; i < st->nr_log && !r; i++) {
			const struct added *a = &st->log[i];
			unsigned int j;

			for (j = 0; j < a->count && !r; j++)
				r = remap_index_load_add(&ld, a->block + j, a->slot + j);
		}
	} else {
		pairs = vmalloc_array(st->nr + 1, sizeof(*pairs));
		if (!pairs) {
			remap_index_load_abort(&ld);
			return -ENOMEM;
		}
		xa_for_each(&st->ref, idx, entry)
			pairs[n++] = (struct added){ idx, xa_to_value(entry), 1 };
		for (i = n - 1; i > 0; i--) {
			u64 j = rnd_below(st, i + 1);

			swap(pairs[i], pairs[j]);
		}
		for (i = 0; i < n && !r; i++)
			r = remap_index_load_add(&ld, pairs[i].block, pairs[i].slot);
	}
	/* A slot no neighbour continues, so the duplicate stays its own run. */
	if (!r && duplicate != U64_MAX)
		r = remap_index_load_add(&ld, duplicate, REMAP_INDEX_MAX_SLOT - 1);
	vfree(pairs);
	if (r) {
		remap_index_load_abort(&ld);
		return r;
	}
	r = remap_index_load_end(ix, &ld);
	if (r == -EILSEQ)
		expect(st, ld.duplicate == duplicate, "duplicate named", duplicate,
		       ld.duplicate);
	return r;
}

static int test_loads(struct selftest *st)
{
	struct remap_index ix2;
	struct remap_index_loader ld;
	u64 i, max = REMAP_INDEX_MAX_COMMIT;
	int r;

	/* The log holds every insert only when it did not overflow. */
	if (!expect(st, st->nr_log < MAX_LOG, "log size", st->nr_log, MAX_LOG))
		return 0;
	remap_index_init(&ix2);
	r = load_from_log(st, &ix2, false, U64_MAX);
	if (r)
		goto out;
	verify(st, &ix2);
	r = load_from_log(st, &ix2, true, U64_MAX);
	if (r)
		goto out;
	verify(st, &ix2);

	/* A block given twice: refused, and ix2 keeps what it had. */
	r = load_from_log(st, &ix2, true, st->log[st->nr_log / 2].block);
	expect(st, r == -EILSEQ, "duplicate refused (shuffled)", 0, -r);
	r = load_from_log(st, &ix2, false, st->log[st->nr_log - 1].block);
	expect(st, r == -EILSEQ, "duplicate refused (in order)", 0, -r);
	verify(st, &ix2);
	remap_index_load_begin(&ld);
	r = remap_index_load_add(&ld, 5, 0);
	if (!r)
		r = remap_index_load_add(&ld, 5, 1);
	if (r) {
		remap_index_load_abort(&ld);
		goto out;
	}
	expect(st, remap_index_load_end(&ix2, &ld) == -EILSEQ,
	       "same block twice in a row", 5, 5);
	verify(st, &ix2);

	/* One stretch longer than a run can be: split, and still exact. */
	remap_index_load_begin(&ld);
	for (i = 0; i < max + 100 && !r; i++) {
		r = remap_index_load_add(&ld, 1000 + i, 7 + i);
		if (!(i & 0xffff))
			cond_resched();
	}
	if (r) {
		remap_index_load_abort(&ld);
		goto out;
	}
	r = remap_index_load_end(&ix2, &ld);
	if (r)
		goto out;
	expect(st, remap_index_count(&ix2) == max + 100, "long count", max + 100,
	       remap_index_count(&ix2));
	for (i = max - 2; i < max + 2; i++)
		expect(st, remap_index_lookup(&ix2, 1000 + i) == 7 + i,
		       "long lookup", i, remap_index_lookup(&ix2, 1000 + i));
	expect(st, remap_index_lookup(&ix2, 1000 + max + 100) == -1, "long end",
	       max + 100, 0);
	expect(st, remap_index_lookup(&ix2, 999) == -1, "long start", 999, 0);
	expect(st, remap_index_next(&ix2, 1000 + max, 1000 + max + 5) == 1000 + max,
	       "long next", max, 0);

	/* Loading nothing empties the index. */
	remap_index_load_begin(&ld);
	r = remap_index_load_end(&ix2, &ld);
	expect(st, !r && remap_index_empty(&ix2), "empty load", 0, -r);
out:
	remap_index_destroy(&ix2);
	return r;
}

/* Bytes per remap printed with two decimals. */
static void figure(const char *what, size_t bytes, u64 n, u64 ns)
{
	u32 frac;
	u64 whole = div_u64_rem(div64_u64((u64)bytes * 100, n), 100, &frac);

	pr_info("%s: %llu remaps, %zu bytes, %llu.%02u bytes/remap, %llu ms\n",
		what, n, bytes, whole, frac, div64_u64(ns, NSEC_PER_MSEC));
}

/* 0 .. n - 1, shuffled or not. */
static u32 *permutation(struct selftest *st, u64 n, bool shuffle)
{
	u32 *perm = vmalloc_array(n, sizeof(*perm));
	u64 i, j;

	if (!perm)
		return NULL;
	for (i = 0; i < n; i++)
		perm[i] = i;
	for (i = n - 1; shuffle && i > 0; i--) {
		j = rnd_below(st, i + 1);
		swap(perm[i], perm[j]);
	}
	return perm;
}

/* Load n remaps: slot i remaps block perm[i] * stride. */
static int load_figure(struct selftest *st, const char *what, u64 n, u64 stride,
		       bool shuffle)
{
	struct remap_index ix;
	struct remap_index_loader ld;
	u32 *perm;
	u64 i, t0;
	int r = 0;

	perm = permutation(st, n, shuffle);
	if (!perm)
		return -ENOMEM;
	remap_index_init(&ix);
	t0 = ktime_get_ns();
	remap_index_load_begin(&ld);
	/* Slot order, as on disk. */
	for (i = 0; i < n && !r; i++) {
		r = remap_index_load_add(&ld, (u64)perm[i] * stride, i);
		if (!(i & 0xffff))
			cond_resched();
	}
	if (r)
		remap_index_load_abort(&ld);
	else
		r = remap_index_load_end(&ix, &ld);
	if (!r) {
		figure(what, remap_index_bytes(&ix), n, ktime_get_ns() - t0);
		expect(st, remap_index_count(&ix) == n, what, n, remap_index_count(&ix));
		expect(st, remap_index_lookup(&ix, perm[n / 2] * stride) == n / 2,
		       what, n / 2, 0);
	}
	remap_index_destroy(&ix);
	vfree(perm);
	return r;
}

/*
 * The figures the index is for: 100,000 remaps one per 1,000 blocks, found
 * in random order (inserted one by one, and loaded), and 1,000,000 dense.
 * Then lookups against an xarray holding the same scattered remaps.
 */
static int test_figures(struct selftest *st)
{
	const u64 n = 100000, stride = 1000;
	struct remap_index_update up;
	struct remap_index ix;
	u64 i, t0, t_index, t_xa, sum = 0;
	struct xarray xa;
	u32 *perm;
	int r = 0;

	r = load_figure(st, "100000 scattered, loaded", n, stride, true);
	if (!r)
		r = load_figure(st, "1000000 dense, loaded", 1000000, 1, false);
	if (!r)
		r = load_figure(st, "1000000 scattered, loaded (sorted first)",
				1000000, stride, true);
	if (r)
		return r;

	perm = permutation(st, n, true);
	if (!perm)
		return -ENOMEM;
	remap_index_init(&ix);
	xa_init(&xa);
	t0 = ktime_get_ns();
	for (i = 0; i < n && !r; i++) {
		r = remap_index_prepare(&ix, &up, 1);
		if (!r)
			remap_index_commit(&ix, &up, (u64)perm[i] * stride, i, 1);
		if (!(i % 1024))
			cond_resched();
	}
	if (r)
		goto out;
	figure("100000 scattered, inserted one by one", remap_index_bytes(&ix),
	       n, ktime_get_ns() - t0);
	for (i = 0; i < n && !r; i++)
		r = xa_err(xa_store(&xa, (u64)perm[i] * stride, xa_mk_value(i),
				    GFP_KERNEL));
	if (r)
		goto out;

	t0 = ktime_get_ns();
	for (i = 0; i < 1000000; i++) {
		sum += remap_index_lookup(&ix, rnd_below(st, n * stride));
		if (!(i & 0xffff))
			cond_resched();
	}
	t_index = ktime_get_ns() - t0;
	t0 = ktime_get_ns();
	for (i = 0; i < 1000000; i++) {
		sum += (unsigned long)xa_load(&xa, rnd_below(st, n * stride));
		if (!(i & 0xffff))
			cond_resched();
	}
	t_xa = ktime_get_ns() - t0;
	pr_info("1000000 lookups in 100000 scattered remaps: index %llu ns, xarray %llu ns each (%llu)\n",
		div64_u64(t_index, 1000000), div64_u64(t_xa, 1000000), sum & 1);
out:
	xa_destroy(&xa);
	remap_index_destroy(&ix);
	vfree(perm);
	return r;
}

/**
 * remap_index_selftest - test the remap index against an xarray.
 *
 * Return: 0 when every check passed, -EINVAL on a failed check, or the
 * error (-ENOMEM) that stopped the test.
 */
int remap_index_selftest(void)
{
	struct selftest *st;
	u64 t0 = ktime_get_ns();
	int r;

	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	st->log = vmalloc_array(MAX_LOG, sizeof(*st->log));
	if (!st->log) {
		kfree(st);
		return -ENOMEM;
	}
	st->rng = 0x9e3779b97f4a7c15ULL;
	remap_index_init(&st->ix);
	xa_init(&st->ref);

	r = test_inserts(st);
	if (!r)
		r = test_loads(st);
	if (!r)
		r = test_figures(st);

	if (r)
		pr_err("FAIL: stopped by error %d after %lu checks\n", r, st->checks);
	else if (st->failures)
		pr_err("FAIL: %u of %lu checks failed\n", st->failures, st->checks);
	else
		pr_info("PASS: %lu checks, %llu remaps in the reference, %llu ms\n",
			st->checks, st->nr,
			div64_u64(ktime_get_ns() - t0, NSEC_PER_MSEC));
	if (!r && st->failures)
		r = -EINVAL;
	remap_index_destroy(&st->ix);
	xa_destroy(&st->ref);
	vfree(st->log);
	kfree(st);
	return r;
}

static bool index_selftest;

/* Runs while the module loads, before its init: see remap_index_selftest(). */
static int index_selftest_set(const char *val, const struct kernel_param *kp)
{
	int r = param_set_bool(val, kp);

	if (r || !index_selftest)
		return r;
	return remap_index_selftest();
}

static const struct kernel_param_ops index_selftest_ops = {
	.set = index_selftest_set,
	.get = param_get_bool,
};

module_param_cb(index_selftest, &index_selftest_ops, &index_selftest, 0444);
MODULE_PARM_DESC(index_selftest,
		 "Test the remap index while loading; log PASS or FAIL and refuse to load on FAIL");
