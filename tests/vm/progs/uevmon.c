// SPDX-License-Identifier: GPL-2.0
/*
 * uevmon LOG DIR PPID KEY...: records every kernel uevent from the
 * NETLINK_KOBJECT_UEVENT multicast group as one line of LOG:
 *
 *   <SEQNUM> <ACTION> <DEVPATH> KEY=value ...
 *
 * with those of the KEYs that are set, in the order given; a value's trailing
 * newline shows as the two characters \n. The kernel sends the messages in
 * SEQNUM order, so LOG is ordered. For a uevent with SYNTH_ARG_ULOG=<n> (the
 * markers of tests/vm/lib.sh) it then creates DIR/mark.<n> holding the
 * marker's SEQNUM and a newline: once that file exists, every earlier uevent is in LOG.
 * DIR/ready appears when the socket is bound; DIR/overflow if the socket ever
 * dropped messages (then LOG is incomplete and the tests say so).
 *
 * This replaces a hotplug helper, which would cost a process per uevent
 * (about 0.1 s each under s390 TCG). Exits when its parent (PPID) does.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/netlink.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define MSG_SIZE 16384

/* The value of KEY in the message's NUL-separated KEY=value list, or NULL. */
static const char *value_of(const char *msg, size_t len, const char *key)
{
	size_t klen = strlen(key);
	const char *p = msg, *end = msg + len;

	while (p < end) {
		size_t l = strnlen(p, end - p);

		if (l > klen && !strncmp(p, key, klen) && p[klen] == '=')
			return p + klen + 1;
		p += l + 1;
	}
	return NULL;
}

static void touch(const char *dir, const char *name, const char *content)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int fd;

	/* Written under a temporary name first: the file appears complete. */
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s", dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return;
	if (write(fd, content, strlen(content)) < 0)
		perror("uevmon: write");
	close(fd);
	rename(tmp, path);
}

int main(int argc, char **argv)
{
	static char msg[MSG_SIZE + 1], line[4 * MSG_SIZE];
	struct sockaddr_nl addr = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	int rcvbuf = 8 << 20;
	const char *dir;
	int sock, log, i;

	if (argc < 4) {
		fprintf(stderr, "usage: uevmon LOG DIR PPID KEY...\n");
		return 2;
	}
	dir = argv[2];
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != atoi(argv[3]))
		return 2;
	log = open(argv[1], O_WRONLY | O_APPEND | O_CREAT, 0644);
	sock = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	if (log < 0 || sock < 0) {
		perror("uevmon");
		return 2;
	}
	if (setsockopt(sock, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		perror("uevmon: bind");
		return 2;
	}
	touch(dir, "ready", "");
	for (;;) {
		const char *seq, *action, *devpath, *mark;
		ssize_t n = recv(sock, msg, MSG_SIZE, 0);
		size_t pos;

		if (n < 0) {
			if (errno == ENOBUFS)
				touch(dir, "overflow", "");
			else if (errno != EINTR)
				return 2;
			continue;
		}
		msg[n] = 0;
		/* Kernel messages start with "action@devpath"; udev's with "libudev". */
		if (!strchr(msg, '@'))
			continue;
		seq = value_of(msg, n, "SEQNUM");
		action = value_of(msg, n, "ACTION");
		devpath = value_of(msg, n, "DEVPATH");
		if (!seq || !action || !devpath)
			continue;
		pos = snprintf(line, sizeof(line), "%s %s %s", seq, action, devpath);
		for (i = 4; i < argc; i++) {
			const char *v = value_of(msg, n, argv[i]);
			size_t vl;

			if (!v)
				continue;
			vl = strlen(v);
			if (vl && v[vl - 1] == '\n')
				pos += snprintf(line + pos, sizeof(line) - pos, " %s=%.*s\\n", argv[i],
						(int)(vl - 1), v);
			else
				pos += snprintf(line + pos, sizeof(line) - pos, " %s=%s", argv[i], v);
			if (pos >= sizeof(line) - 2)
				pos = sizeof(line) - 2;
		}
		line[pos++] = '\n';
		if (write(log, line, pos) != (ssize_t)pos)
			perror("uevmon: log");
		mark = value_of(msg, n, "SYNTH_ARG_ULOG");
		if (mark) {
			char name[64], content[64];

			snprintf(name, sizeof(name), "mark.%s", mark);
			snprintf(content, sizeof(content), "%s\n", seq);
			touch(dir, name, content);
		}
	}
}
