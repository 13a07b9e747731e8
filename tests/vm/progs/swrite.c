// SPDX-License-Identifier: GPL-2.0
/*
 * swrite FILE: writes all of standard input to FILE with a single write(2)
 * and prints "OK" or the errno's name (EINVAL, EBUSY, ...). Exit status 0 on
 * success, 1 on a failed write, 2 on a usage or open error.
 *
 * Shell redirections cannot show which errno a sysfs store returned, and
 * echo appends a newline; tests use   printf 'bytes' | swrite FILE.
 *
 * swrite -s PREFIX PPID: the request server of tests/vm/lib.sh. Under s390
 * TCG every fork costs about 0.1 s, so the test helpers do not run a program
 * per assertion: they write a request to the FIFO PREFIX.req and read a
 * one-line reply from the FIFO PREFIX.rsp, both kept open by the shell (fds 7
 * and 8) and by the server (O_RDWR), so no open ever waits for the other side:
 * an open of a FIFO that waits can fail with EINTR when a child of the shell
 * exits, and a lost request or reply would leave both sides waiting. A request
 * is a command line, then the payload, then a NUL byte:
 *   w FILE\n<bytes>     one write(2) of <bytes>; reply OK or the errno name
 *   f FILE N\n<bytes>   as w, with the N-th allocation that passes the failslab
 *                       filters failing (failnth.h); reply "<result> injected"
 *                       or "<result> clean:<k>" (N - k allocations were made)
 *   m FILE N\n<params>  loads the module FILE with finit_module(2) and the
 *                       parameters <params> (N=0: no fault; else as f, the N-th
 *                       allocation failing); reply as f
 *   u NAME              unloads module NAME (delete_module(2)); reply OK or errno
 *   c FILE\n<bytes>     compare FILE's contents with <bytes>; reply "=" or
 *                       "!<expected>\t<actual>" (C-escaped)
 *   s FILE...           the state of the files in 16 hex digits (FNV-1a of
 *                       their contents; an unreadable file counts as "-"), a
 *                       word "commits" and the word after it left out (the
 *                       commit counts of vfio_ap's guests file grow with every
 *                       change and its undo)
 *   wait FILE MS        wait until FILE exists; reply OK or TIMEOUT
 *   sleep MS            reply OK after MS milliseconds
 * The server exits when its parent (the test shell, PPID) does.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "failnth.h"

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

#define BUF_SIZE 65536

/* Reads all of fd into buf (at most BUF_SIZE bytes); the length, or -1. */
static ssize_t read_all(int fd, char *buf)
{
	size_t len = 0;
	ssize_t n;

	while (len < BUF_SIZE && (n = read(fd, buf + len, BUF_SIZE - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		len += n;
	}
	return len;
}

/* Appends the C-escaped form of in[0..len) to out (of size BUF_SIZE * 4 + 64). */
static size_t escape(char *out, size_t pos, const char *in, size_t len)
{
	size_t i;

	for (i = 0; i < len && pos + 8 < BUF_SIZE * 4; i++) {
		unsigned char c = in[i];

		if (c == '\n')
			pos += sprintf(out + pos, "\\n");
		else if (c == '\t')
			pos += sprintf(out + pos, "\\t");
		else if (c == '\\')
			pos += sprintf(out + pos, "\\\\");
		else if (c < 0x20 || c >= 0x7f)
			pos += sprintf(out + pos, "\\%03o", c);
		else
			out[pos++] = c;
	}
	return pos;
}

static void msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* FNV-1a over buf[0..len), skipping each word "commits" and the word after it. */
static unsigned long long state_hash(unsigned long long h, const char *buf, size_t len)
{
	size_t i = 0, w;

	while (i < len) {
		if ((i == 0 || buf[i - 1] == ' ' || buf[i - 1] == '\n') &&
		    len - i > 8 && !memcmp(buf + i, "commits ", 8)) {
			for (w = i + 8; w < len && buf[w] != ' ' && buf[w] != '\n'; w++)
				;
			i = w;
			continue;
		}
		h = (h ^ (unsigned char)buf[i++]) * 0x100000001b3ULL;
	}
	return h;
}

/* The "s" request: the state of the files named in req (space separated). */
static size_t state(char *files, char *out)
{
	static char got[BUF_SIZE];
	unsigned long long h = 0xcbf29ce484222325ULL;
	char *save, *f;
	ssize_t glen;
	int fd;

	for (f = strtok_r(files, " ", &save); f; f = strtok_r(NULL, " ", &save)) {
		fd = open(f, O_RDONLY);
		glen = fd < 0 ? -1 : read_all(fd, got);
		if (fd >= 0)
			close(fd);
		h = glen < 0 ? state_hash(h, "-", 1) : state_hash(h, got, glen);
		h = state_hash(h, "\n", 1);
	}
	return sprintf(out, "%016llx\n", h);
}

/* Handles one request of len bytes in req; the reply (with its newline) in out. */
static size_t handle(char *req, size_t len, char *out)
{
	static char got[BUF_SIZE];
	char *nl = memchr(req, '\n', len);
	char *payload = nl ? nl + 1 : req + len;
	size_t plen = req + len - payload;
	char cmd[16], path[PATH_MAX];
	long ms = 0;
	ssize_t glen;
	size_t pos;
	int fd, fields;

	if (nl)
		*nl = 0;
	else
		req[len < BUF_SIZE ? len : BUF_SIZE - 1] = 0;
	if (!strncmp(req, "s ", 2))
		return state(req + 2, out);
	fields = sscanf(req, "%15s %4095s %ld", cmd, path, &ms);
	if (fields == 2 && !strcmp(cmd, "u"))
		return sprintf(out, "%s\n", syscall(SYS_delete_module, path, O_NONBLOCK) ?
				errname(errno) : "OK");
	if ((fields >= 2 && !strcmp(cmd, "w")) || (fields == 3 && !strcmp(cmd, "f")) ||
	    (fields == 3 && !strcmp(cmd, "m"))) {
		int armed = -1, fired = 0, e;
		long left = 0;

		fd = open(path, cmd[0] == 'm' ? O_RDONLY | O_CLOEXEC : O_WRONLY);
		if (fd < 0)
			return sprintf(out, "open:%s\n", errname(errno));
		if ((cmd[0] == 'f' || cmd[0] == 'm') && ms > 0) {
			armed = failnth_arm(ms);
			if (armed < 0) {
				close(fd);
				return sprintf(out, "fail-nth:%s\n", errname(errno));
			}
		}
		if (cmd[0] == 'm') {
			/* The parameters are a C string: the payload, NUL-terminated. */
			char params[1024];

			snprintf(params, sizeof(params), "%.*s", (int)plen, payload);
			glen = syscall(SYS_finit_module, fd, params, 0) ? -1 : (ssize_t)plen;
		} else {
			glen = write(fd, payload, plen);
		}
		e = errno;
		if (armed >= 0)
			fired = failnth_done(armed, &left);
		if (glen < 0)
			pos = sprintf(out, "%s", errname(e));
		else if ((size_t)glen != plen)
			pos = sprintf(out, "SHORT %zd/%zu", glen, plen);
		else
			pos = sprintf(out, "OK");
		if (armed >= 0 && fired)
			pos += sprintf(out + pos, fired > 0 ? " injected" : " fail-nth?");
		else if (armed >= 0)
			pos += sprintf(out + pos, " clean:%ld", left);
		out[pos++] = '\n';
		close(fd);
		return pos;
	}
	if (fields >= 2 && !strcmp(cmd, "c")) {
		fd = open(path, O_RDONLY);
		glen = fd < 0 ? -1 : read_all(fd, got);
		if (fd >= 0)
			close(fd);
		if (glen >= 0 && (size_t)glen == plen && !memcmp(got, payload, plen))
			return sprintf(out, "=\n");
		pos = sprintf(out, "!");
		pos = escape(out, pos, payload, plen);
		out[pos++] = '\t';
		if (glen < 0)
			pos += sprintf(out + pos, "<unreadable: %s>", errname(errno));
		else
			pos = escape(out, pos, got, glen);
		out[pos++] = '\n';
		return pos;
	}
	if (fields == 3 && !strcmp(cmd, "wait")) {
		for (; ms > 0; ms--) {
			if (access(path, F_OK) == 0)
				return sprintf(out, "OK\n");
			msleep(1);
		}
		return sprintf(out, access(path, F_OK) == 0 ? "OK\n" : "TIMEOUT\n");
	}
	if (fields >= 2 && !strcmp(cmd, "sleep")) {
		msleep(strtol(path, NULL, 10));
		return sprintf(out, "OK\n");
	}
	return sprintf(out, "BADREQUEST\n");
}

static int serve(const char *prefix, pid_t parent)
{
	static char req[BUF_SIZE + 1], out[BUF_SIZE * 4 + 64];
	char reqpath[PATH_MAX], rsppath[PATH_MAX], *nul;
	size_t have = 0, olen, len;
	ssize_t n;
	int in, rsp;

	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		return 2;
	snprintf(reqpath, sizeof(reqpath), "%s.req", prefix);
	snprintf(rsppath, sizeof(rsppath), "%s.rsp", prefix);
	in = open(reqpath, O_RDWR);
	rsp = open(rsppath, O_RDWR);
	if (in < 0 || rsp < 0)
		return 2;
	for (;;) {
		nul = memchr(req, 0, have);
		if (!nul && have < BUF_SIZE) {
			n = read(in, req + have, BUF_SIZE - have);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return 2;
			have += n;
			continue;
		}
		/* One request: up to the NUL (or a full buffer). */
		len = nul ? (size_t)(nul - req) : have;
		olen = handle(req, len, out);
		if (write(rsp, out, olen) != (ssize_t)olen)
			return 2;
		if (nul)
			len++;
		have -= len;
		memmove(req, req + len, have);
	}
}

int main(int argc, char **argv)
{
	static char buf[BUF_SIZE];
	size_t len = 0;
	ssize_t n;
	int fd;

	if (argc == 4 && !strcmp(argv[1], "-s"))
		return serve(argv[2], atoi(argv[3]));
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
