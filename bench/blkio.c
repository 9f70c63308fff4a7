// SPDX-License-Identifier: GPL-2.0-only
/*
 * blkio: a fixed, repeatable O_DIRECT workload on one block device, timed
 * from inside one process (the guest has no fio). Two shapes, each read or
 * write:
 *   randread / randwrite   COUNT 4 KiB I/Os at random 4 KiB-aligned offsets
 *                          over the whole device (fixed seed: every run, on
 *                          every device of the same size, touches the same
 *                          blocks in the same order)
 *   seqread / seqwrite     COUNT 1 MiB I/Os one after the other from offset
 *                          0, wrapping at the end of the device
 *
 * Usage: blkio MODE DEVICE COUNT [SEED]
 * Prints one line "BYTES SECONDS": the bytes moved and the wall time of the
 * I/O loop alone (opening the device and filling the buffer are outside it),
 * so the caller divides and compares without process start-up in the figure.
 * Exits non-zero on any short or failed I/O.
 *
 * The guest has no compiler: bench/guest.sh builds it on the host into
 * .cache/bench/ (the guest runs the host's binaries and C library).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define SMALL_IO 4096UL
#define LARGE_IO (1024UL * 1024UL)

/* xorshift64*: fast, and the same sequence on every run for one seed. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(const char *self)
{
	fprintf(stderr, "usage: %s randread|randwrite|seqread|seqwrite DEVICE COUNT [SEED]\n", self);
	return 2;
}

int main(int argc, char **argv)
{
	unsigned long count, i, io_size;
	uint64_t device_bytes, units, offset, state;
	int random_offsets, writing, fd;
	double started, elapsed;
	char *end;
	void *buf;

	if (argc < 4 || argc > 5)
		return usage(argv[0]);
	random_offsets = !strncmp(argv[1], "rand", 4);
	if (!strcmp(argv[1], "randread") || !strcmp(argv[1], "seqread"))
		writing = 0;
	else if (!strcmp(argv[1], "randwrite") || !strcmp(argv[1], "seqwrite"))
		writing = 1;
	else
		return usage(argv[0]);
	errno = 0;
	count = strtoul(argv[3], &end, 10);
	if (errno || *end || !count)
		return usage(argv[0]);
	state = argc == 5 ? strtoull(argv[4], NULL, 10) : 1;
	if (!state)
		state = 1;
	io_size = random_offsets ? SMALL_IO : LARGE_IO;

	fd = open(argv[2], (writing ? O_WRONLY : O_RDONLY) | O_DIRECT);
	if (fd < 0) {
		perror(argv[2]);
		return 1;
	}
	if (ioctl(fd, BLKGETSIZE64, &device_bytes) < 0) {
		perror("BLKGETSIZE64");
		return 1;
	}
	units = device_bytes / io_size;
	if (!units) {
		fprintf(stderr, "%s: smaller than one %lu-byte I/O\n", argv[2], io_size);
		return 1;
	}
	if (posix_memalign(&buf, SMALL_IO, io_size)) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	/* Data that no layer can treat as zeros or compress away. */
	for (i = 0; i < io_size / sizeof(uint64_t); i++)
		((uint64_t *)buf)[i] = next_random(&(uint64_t){ i + 7 });

	started = now_seconds();
	for (i = 0; i < count; i++) {
		ssize_t done;

		offset = (random_offsets ? next_random(&state) % units : i % units) * io_size;
		done = writing ? pwrite(fd, buf, io_size, (off_t)offset) :
				 pread(fd, buf, io_size, (off_t)offset);
		if (done != (ssize_t)io_size) {
			fprintf(stderr, "blkio: %s at %llu: %s\n", argv[1], (unsigned long long)offset,
				done < 0 ? strerror(errno) : "short transfer");
			return 1;
		}
	}
	elapsed = now_seconds() - started;
	printf("%lu %.6f\n", count * io_size, elapsed);
	return 0;
}
