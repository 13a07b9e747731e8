/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fault injection for one operation of the calling thread, through
 * /proc/thread-self/fail-nth (Documentation/fault-injection/fault-injection.rst):
 * arming it with N makes the N-th allocation that passes the failslab filters
 * (tests/vm/tests/faults.sh aims them at one module's code) fail; afterwards
 * the file reads 0 if that happened and the remaining count if the operation
 * made fewer allocations.
 */
#ifndef APRS_FAILNTH_H
#define APRS_FAILNTH_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Arms fail-nth with n; returns an fd for failnth_done, or -1. */
static int failnth_arm(long n)
{
	char num[32];
	int fd = open("/proc/thread-self/fail-nth", O_RDWR);
	int len = snprintf(num, sizeof(num), "%ld", n);

	if (fd < 0)
		return -1;
	if (write(fd, num, len) != len) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Disarms fail-nth: returns 1 if the armed allocation failed, 0 if the
 * operation made fewer allocations (*left: how many fewer), -1 if the file
 * could not be read.
 */
static int failnth_done(int fd, long *left)
{
	char num[32];
	ssize_t len = pread(fd, num, sizeof(num) - 1, 0);
	int fired;

	if (len <= 0) {
		close(fd);
		return -1;
	}
	num[len] = 0;
	*left = strtol(num, NULL, 10);
	fired = *left == 0;
	if (pwrite(fd, "0", 1, 0) != 1)
		fired = -1;
	close(fd);
	return fired;
}

#endif
