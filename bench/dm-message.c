// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-message: `dmsetup message NAME 0 MSG` for every line MSG of stdin, in
 * one process. Under qemu TCG each dmsetup run costs ~0.2 s of process
 * start-up, so 100,000 single-block `remap` messages would take hours; one
 * DM_TARGET_MSG ioctl each takes milliseconds.
 *
 * Usage: dm-message NAME < MESSAGES
 * Stops at the first message the target refuses (its errno is printed) and
 * prints the number of messages sent. Replies are not printed.
 *
 * The guest has no compiler: `npm run bench:kmod` builds it on the host,
 * into .cache/bench/ (the guest runs the host's binaries and C library).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define MSG_MAX 4096

int main(int argc, char **argv)
{
	static char buf[sizeof(struct dm_ioctl) + sizeof(struct dm_target_msg) + MSG_MAX];
	struct dm_ioctl *dmi = (struct dm_ioctl *)buf;
	struct dm_target_msg *tmsg = (struct dm_target_msg *)(dmi + 1);
	char line[MSG_MAX];
	unsigned long sent = 0;
	int fd;

	if (argc != 2 || strlen(argv[1]) >= DM_NAME_LEN) {
		fprintf(stderr, "usage: %s NAME < MESSAGES\n", argv[0]);
		return 2;
	}
	fd = open("/dev/mapper/control", O_RDWR);
	if (fd < 0) {
		perror("/dev/mapper/control");
		return 1;
	}
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (!line[0])
			continue;
		memset(buf, 0, sizeof(struct dm_ioctl) + sizeof(struct dm_target_msg));
		dmi->version[0] = DM_VERSION_MAJOR;
		dmi->version[1] = 0;
		dmi->version[2] = 0;
		dmi->data_size = sizeof(buf);
		dmi->data_start = sizeof(struct dm_ioctl);
		strcpy(dmi->name, argv[1]);
		tmsg->sector = 0;
		strcpy(tmsg->message, line);
		if (ioctl(fd, DM_TARGET_MSG, dmi) < 0) {
			fprintf(stderr, "dm-message: '%s' after %lu messages: %s\n",
				line, sent, strerror(errno));
			return 1;
		}
		sent++;
	}
	printf("%lu\n", sent);
	return 0;
}
