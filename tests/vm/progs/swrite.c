// SPDX-License-Identifier: GPL-2.0
/*
 * swrite FILE: writes all of standard input to FILE with a single write(2)
 * and prints "OK" or the errno's name (EINVAL, EBUSY, ...). Exit status 0 on
 * success, 1 on a failed write, 2 on a usage or open error.
 *
 * Shell redirections cannot show which errno a sysfs store returned, and
 * echo appends a newline; tests use   printf 'bytes' | swrite FILE.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *errname(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case ERANGE: return "ERANGE";
	case EUSERS: return "EUSERS";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EADDRINUSE: return "EADDRINUSE";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case EAGAIN: return "EAGAIN";
	case ENXIO: return "ENXIO";
	case E2BIG: return "E2BIG";
	case EFAULT: return "EFAULT";
	}
	return "E?";
}

int main(int argc, char **argv)
{
	static char buf[65536];
	size_t len = 0;
	ssize_t n;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: swrite FILE < data\n");
		return 2;
	}
	while (len < sizeof(buf) && (n = read(0, buf + len, sizeof(buf) - len)) > 0)
		len += n;
	fd = open(argv[1], O_WRONLY);
	if (fd < 0) {
		printf("open:%s\n", errname(errno));
		return 2;
	}
	n = write(fd, buf, len);
	if (n < 0) {
		printf("%s\n", errname(errno));
		return 1;
	}
	if ((size_t)n != len) {
		printf("SHORT %zd/%zu\n", n, len);
		return 1;
	}
	printf("OK\n");
	return 0;
}
