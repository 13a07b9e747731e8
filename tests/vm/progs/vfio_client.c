// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_client UUID CMDFIFO OUTFILE: a scripted stand-in for QEMU's vfio-ap
 * device (hw/vfio/ap.c) on the mediated device UUID, so that shell tests can
 * interleave its steps with sysfs checks.
 *
 * It reads commands, one per line, from the FIFO CMDFIFO (opened O_RDWR, so
 * it never sees EOF between writers: `echo info > CMDFIFO`) and appends one
 * line per command to OUTFILE:
 *
 *   <n> <command line> OK [details]
 *   <n> <command line> ERR <ERRNAME> [what]
 *
 * n counts the non-empty command lines from 1; the command line is echoed
 * with its words separated by single spaces. Errno names are the usual ones
 * (EPERM, EINVAL, ...), or E<number>. Commands:
 *
 *   open                 group from /sys/bus/mdev/devices/UUID/iommu_group,
 *                        container, group, VFIO_SET_IOMMU, device fd;
 *                        ERR <NAME> container|group|viable|set_container|
 *                        set_iommu|device names the failing step
 *   open_other UUID2     another mdev's device in the same container (a
 *                        second device of the same guest), closed again;
 *                        ERR <NAME> group|set_container|device
 *   info                 OK flags=0x<hex> regions=<n> irqs=<n> ap=<0|1> reset=<0|1>
 *   irqinfo <index>      OK index=<i> count=<c> flags=0x<hex>
 *   irqs                 two eventfds, SET_IRQS for the request then the
 *                        config-change index; ERR <NAME> eventfd|req|cfg
 *   realize              QEMU's sequence after the open: GET_INFO, then per
 *                        irq index (request, config change) the checks
 *                        num_irqs > index and GET_IRQ_INFO count >= 1 before
 *                        its eventfd and SET_IRQS; OK irqs=<n> req=<0|1>
 *                        cfg=<0|1> (1: registered); ERR <NAME>
 *                        info|req|cfg|eventfd
 *   irqs_off <index>     SET_IRQS DATA_NONE|ACTION_TRIGGER, count 0
 *   setirq_raw <index> <flags-hex> <start> <count> <fd>
 *                        raw SET_IRQS, one s32 of data if DATA_EVENTFD is set
 *   reset                VFIO_DEVICE_RESET
 *   events               OK req=<count> cfg=<count> (read since last time)
 *   wait <req|cfg> <ms>  OK <count>, or ERR ETIMEDOUT
 *   unplug_on_req <0|1>  what to do on a request interrupt, see below
 *   close                closes device, group and container fds
 *   ioctl_raw info_short|irqinfo_bad|unknown
 *                        GET_INFO with argsz 4, GET_IRQ_INFO for index 2,
 *                        ioctl VFIO_BASE + 99 on the device fd
 *   failnth <n>          the next command runs with its n-th allocation that
 *                        passes the failslab filters failing (failnth.h); its
 *                        result line ends in "injected" or "clean:<k>" (n - k
 *                        allocations were made)
 *   exit                 closes everything, writes "<n> exit OK", exits 0
 *
 * Anything else gives ERR EINVAL unknown-command; bad arguments give
 * ERR EINVAL usage. Ioctls on a closed device report EBADF.
 *
 * While idle the client also polls the request eventfd. When it fires, the
 * client appends "0 request seen <count>" (the count is also reported by the
 * next events or wait req), or with unplug_on_req 1 it does what QEMU's
 * unplug does: unregisters both irqs (eventfd -1), closes the eventfds, the
 * device, group and container, and appends "0 request unplugged".
 *
 * QEMU correspondence: vfio_ap_realize gets the device (the open sequence),
 * vfio_ap_register_irq_notifier runs for both irq indexes (realize; irqs is
 * the same registration without the checks),
 * vfio_ap_reset is VFIO_DEVICE_RESET (reset), and the request notifier
 * handler unplugs the device (unplug_on_req 1). Exits on SIGTERM and when
 * its parent dies.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/vfio.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "failnth.h"
#include "vfio_open.h"

#ifndef VFIO_DEVICE_FLAGS_AP
#define VFIO_DEVICE_FLAGS_AP	(1 << 5)
#endif
#ifndef VFIO_AP_REQ_IRQ_INDEX
#define VFIO_AP_REQ_IRQ_INDEX	0
#endif
#ifndef VFIO_AP_CFG_CHG_IRQ_INDEX
#define VFIO_AP_CFG_CHG_IRQ_INDEX	1
#endif
#ifndef VFIO_AP_NUM_IRQS
#define VFIO_AP_NUM_IRQS	2
#endif

#define LINE_MAX_LEN	256
#define MAX_ARGS	8

static const char *uuid;
static int out_fd = -1;
static int container = -1, group = -1, device = -1;
static int efd[2] = { -1, -1 };		/* req, cfg */
static int unplug_on_req;
static uint64_t pending_req;		/* seen while idle, not yet reported */
static long fail_nth;			/* armed for the next command if > 0 */
static char res[256];

static const char *errname(int e)
{
	static const struct { int e; const char *n; } t[] = {
		{ EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { EINTR, "EINTR" },
		{ EIO, "EIO" }, { ENXIO, "ENXIO" }, { EBADF, "EBADF" },
		{ EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" }, { EACCES, "EACCES" },
		{ EFAULT, "EFAULT" }, { EBUSY, "EBUSY" }, { EEXIST, "EEXIST" },
		{ ENODEV, "ENODEV" }, { EINVAL, "EINVAL" }, { ENOTTY, "ENOTTY" },
		{ ENOSPC, "ENOSPC" }, { ERANGE, "ERANGE" }, { ENOSYS, "ENOSYS" },
		{ EOPNOTSUPP, "EOPNOTSUPP" }, { ETIMEDOUT, "ETIMEDOUT" },
	};
	static char buf[16];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].e == e)
			return t[i].n;
	snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
}

/* Sets the result to "ERR <NAME> [what]"; returns -1 for convenience. */
static int err(int e, const char *what)
{
	snprintf(res, sizeof(res), "ERR %s%s%s", errname(e), what ? " " : "",
		 what ? what : "");
	return -1;
}

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
	char line[LINE_MAX_LEN + sizeof(res) + 32];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(out_fd, line, n) != n)
		perror("vfio_client: write");
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void close_device(void)
{
	close_fd(&device);
	close_fd(&group);
	close_fd(&container);
}

static void on_sigterm(int sig __attribute__((unused)))
{
	_exit(0);	/* the kernel closes the fds */
}

/* Parses a whole number in base; -1 if str is missing or not a number. */
static int parse(const char *str, int base, long *val)
{
	char *end;

	if (!str || !*str)
		return -1;
	errno = 0;
	*val = strtol(str, &end, base);
	return (errno || *end) ? -1 : 0;
}

static int cmd_open(void)
{
	const char *step;
	int fds[3], e;

	e = vfio_open_device(uuid, fds, &step);
	if (e)
		return err(e, step);
	close_device();		/* a second successful open replaces the first */
	container = fds[0];
	group = fds[1];
	device = fds[2];
	return 0;
}

/* SET_IRQS with one s32 of eventfd data if DATA_EVENTFD is in flags. */
static int set_irqs(unsigned int index, unsigned int flags, unsigned int start,
		    unsigned int count, int32_t fd)
{
	union {
		struct vfio_irq_set s;
		char buf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	} u;

	memset(&u, 0, sizeof(u));
	u.s.argsz = sizeof(u.s);
	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		u.s.argsz += sizeof(fd);
		memcpy(u.buf + sizeof(u.s), &fd, sizeof(fd));
	}
	u.s.flags = flags;
	u.s.index = index;
	u.s.start = start;
	u.s.count = count;
	return ioctl(device, VFIO_DEVICE_SET_IRQS, &u);
}

/* Reads an eventfd's counter without blocking: 0 if nothing is pending. */
static uint64_t drain(int fd)
{
	uint64_t v;

	if (fd < 0 || read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static int cmd_irqs(void)
{
	int i;

	for (i = 0; i < 2; i++) {
		close_fd(&efd[i]);
		efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (efd[i] < 0)
			return err(errno, "eventfd");
	}
	if (set_irqs(VFIO_AP_REQ_IRQ_INDEX, VFIO_IRQ_SET_DATA_EVENTFD |
		     VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, efd[0]) < 0)
		return err(errno, "req");
	if (set_irqs(VFIO_AP_CFG_CHG_IRQ_INDEX, VFIO_IRQ_SET_DATA_EVENTFD |
		     VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, efd[1]) < 0)
		return err(errno, "cfg");
	return 0;
}

/*
 * QEMU's realize after the device is attached: GET_INFO, then for each of the
 * two irq indexes what vfio_ap_register_irq_notifier does: skip it unless
 * num_irqs > index, GET_IRQ_INFO and skip it unless count >= 1, then an
 * eventfd and SET_IRQS(DATA_EVENTFD|ACTION_TRIGGER, start 0, count 1).
 * Result: OK irqs=<num_irqs> req=<0|1> cfg=<0|1> (1: registered).
 */
static int cmd_realize(void)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	static const char *const what[2] = { "req", "cfg" };
	int reg[2] = { 0, 0 };
	unsigned int i;

	if (ioctl(device, VFIO_DEVICE_GET_INFO, &info) < 0)
		return err(errno, "info");
	for (i = 0; i < 2; i++) {
		struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = i };

		if (info.num_irqs <= i)
			continue;
		if (ioctl(device, VFIO_DEVICE_GET_IRQ_INFO, &ii) < 0)
			return err(errno, what[i]);
		if (ii.count < 1)
			continue;
		close_fd(&efd[i]);
		efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (efd[i] < 0)
			return err(errno, "eventfd");
		if (set_irqs(i, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
			     0, 1, efd[i]) < 0)
			return err(errno, what[i]);
		reg[i] = 1;
	}
	snprintf(res, sizeof(res), "OK irqs=%u req=%d cfg=%d", info.num_irqs, reg[0], reg[1]);
	return 0;
}

static int cmd_wait(int i, long ms)
{
	struct pollfd p = { .fd = efd[i], .events = POLLIN };
	uint64_t v;
	int r;

	if (i == 0 && pending_req) {
		snprintf(res, sizeof(res), "OK %llu", (unsigned long long)pending_req);
		pending_req = 0;
		return 0;
	}
	if (efd[i] < 0)
		return err(EBADF, "no-eventfd");
	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return err(errno, NULL);
	if (r == 0 || !(v = drain(efd[i])))
		return err(ETIMEDOUT, NULL);
	snprintf(res, sizeof(res), "OK %llu", (unsigned long long)v);
	return 0;
}

static int cmd_ioctl_raw(const char *name)
{
	if (name && !strcmp(name, "info_short")) {
		struct vfio_device_info info = { .argsz = 4 };

		return ioctl(device, VFIO_DEVICE_GET_INFO, &info) < 0 ? err(errno, NULL) : 0;
	}
	if (name && !strcmp(name, "irqinfo_bad")) {
		struct vfio_irq_info info = { .argsz = sizeof(info), .index = VFIO_AP_NUM_IRQS };

		return ioctl(device, VFIO_DEVICE_GET_IRQ_INFO, &info) < 0 ? err(errno, NULL) : 0;
	}
	if (name && !strcmp(name, "unknown"))
		return ioctl(device, _IO(VFIO_TYPE, VFIO_BASE + 99)) < 0 ? err(errno, NULL) : 0;
	return err(EINVAL, "usage");
}

/*
 * open_other UUID2: opens another mdev's device in the same container, as QEMU
 * does for a second vfio-ap device of the same guest, then closes it again.
 */
static int cmd_open_other(const char *other)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *grp;
	int g, d;

	if (!other || container < 0)
		return err(EINVAL, "usage");
	grp = vfio_group_of(other, link, sizeof(link));
	if (!grp)
		return err(errno, "group");
	snprintf(path, sizeof(path), "/dev/vfio/%.64s", grp);
	g = open(path, O_RDWR | O_CLOEXEC);
	if (g < 0)
		return err(errno, "group");
	if (ioctl(g, VFIO_GROUP_SET_CONTAINER, &container) < 0) {
		err(errno, "set_container");
		close(g);
		return -1;
	}
	d = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, other);
	if (d < 0) {
		err(errno, "device");
		close(g);
		return -1;
	}
	close(d);
	close(g);
	return 0;
}

/* Runs one command (argv[0..argc-1]), leaving its result in res. */
static void run(int argc, char **argv)
{
	const char *c = argv[0];
	long a[5];
	int i;

	strcpy(res, "OK");
	if (!strcmp(c, "open")) {
		cmd_open();
	} else if (!strcmp(c, "open_other")) {
		cmd_open_other(argc > 1 ? argv[1] : NULL);
	} else if (!strcmp(c, "info")) {
		struct vfio_device_info info = { .argsz = sizeof(info) };

		if (ioctl(device, VFIO_DEVICE_GET_INFO, &info) < 0)
			err(errno, NULL);
		else
			snprintf(res, sizeof(res), "OK flags=0x%x regions=%u irqs=%u ap=%d reset=%d",
				 info.flags, info.num_regions, info.num_irqs,
				 !!(info.flags & VFIO_DEVICE_FLAGS_AP),
				 !!(info.flags & VFIO_DEVICE_FLAGS_RESET));
	} else if (!strcmp(c, "irqinfo")) {
		struct vfio_irq_info info = { .argsz = sizeof(info) };

		if (argc != 2 || parse(argv[1], 0, &a[0]) < 0) {
			err(EINVAL, "usage");
			return;
		}
		info.index = a[0];
		if (ioctl(device, VFIO_DEVICE_GET_IRQ_INFO, &info) < 0)
			err(errno, NULL);
		else
			snprintf(res, sizeof(res), "OK index=%u count=%u flags=0x%x",
				 info.index, info.count, info.flags);
	} else if (!strcmp(c, "irqs")) {
		cmd_irqs();
	} else if (!strcmp(c, "realize")) {
		cmd_realize();
	} else if (!strcmp(c, "irqs_off")) {
		if (argc != 2 || parse(argv[1], 0, &a[0]) < 0)
			err(EINVAL, "usage");
		else if (set_irqs(a[0], VFIO_IRQ_SET_DATA_NONE |
				  VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, -1) < 0)
			err(errno, NULL);
	} else if (!strcmp(c, "setirq_raw")) {
		if (argc != 6 || parse(argv[1], 0, &a[0]) < 0 ||
		    parse(argv[2], 16, &a[1]) < 0 || parse(argv[3], 0, &a[2]) < 0 ||
		    parse(argv[4], 0, &a[3]) < 0 || parse(argv[5], 0, &a[4]) < 0)
			err(EINVAL, "usage");
		else if (set_irqs(a[0], a[1], a[2], a[3], a[4]) < 0)
			err(errno, NULL);
	} else if (!strcmp(c, "reset")) {
		if (ioctl(device, VFIO_DEVICE_RESET) < 0)
			err(errno, NULL);
	} else if (!strcmp(c, "events")) {
		uint64_t req = pending_req + drain(efd[0]), cfg = drain(efd[1]);

		pending_req = 0;
		snprintf(res, sizeof(res), "OK req=%llu cfg=%llu",
			 (unsigned long long)req, (unsigned long long)cfg);
	} else if (!strcmp(c, "wait")) {
		i = argc == 3 ? (!strcmp(argv[1], "req") ? 0 : !strcmp(argv[1], "cfg") ? 1 : -1) : -1;
		if (i < 0 || parse(argv[2], 0, &a[0]) < 0 || a[0] < 0 || a[0] > INT_MAX)
			err(EINVAL, "usage");
		else
			cmd_wait(i, a[0]);
	} else if (!strcmp(c, "unplug_on_req")) {
		if (argc != 2 || parse(argv[1], 0, &a[0]) < 0 || (a[0] != 0 && a[0] != 1))
			err(EINVAL, "usage");
		else
			unplug_on_req = a[0];
	} else if (!strcmp(c, "close")) {
		close_device();
	} else if (!strcmp(c, "ioctl_raw")) {
		cmd_ioctl_raw(argc == 2 ? argv[1] : NULL);
	} else {
		err(EINVAL, "unknown-command");
	}
}

/* The request eventfd fired while idle: what QEMU's request notifier does. */
static void on_request(void)
{
	uint64_t v = drain(efd[0]);

	if (!v)
		return;
	if (unplug_on_req && device >= 0) {
		/* vfio_ap_unrealize: unregister both notifiers, detach. */
		set_irqs(VFIO_AP_REQ_IRQ_INDEX, VFIO_IRQ_SET_DATA_EVENTFD |
			 VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, -1);
		set_irqs(VFIO_AP_CFG_CHG_IRQ_INDEX, VFIO_IRQ_SET_DATA_EVENTFD |
			 VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, -1);
		close_fd(&efd[0]);
		close_fd(&efd[1]);
		close_device();
		pending_req = 0;
		out("0 request unplugged");
	} else {
		pending_req += v;
		out("0 request seen %llu", (unsigned long long)v);
	}
}

/* Runs one command line; n counts the non-empty ones. */
static void handle(char *line, int *n)
{
	char *save, *args[MAX_ARGS], echo[LINE_MAX_LEN + 1] = "";
	int nargs = 0, i;

	for (line = strtok_r(line, " \t\r", &save); line && nargs < MAX_ARGS;
	     line = strtok_r(NULL, " \t\r", &save))
		args[nargs++] = line;
	if (!nargs)
		return;
	for (i = 0; i < nargs; i++) {
		if (i)
			strcat(echo, " ");
		strcat(echo, args[i]);
	}
	++*n;
	if (!strcmp(args[0], "exit")) {
		close_fd(&efd[0]);
		close_fd(&efd[1]);
		close_device();
		out("%d exit OK", *n);
		exit(0);
	}
	if (!strcmp(args[0], "failnth")) {
		long v;

		strcpy(res, "OK");
		if (nargs != 2 || parse(args[1], 0, &v) < 0 || v < 1)
			err(EINVAL, "usage");
		else
			fail_nth = v;
	} else if (fail_nth > 0) {
		int fd = failnth_arm(fail_nth), fired;
		long left = 0;
		size_t l;

		fail_nth = 0;
		run(nargs, args);
		fired = fd < 0 ? -1 : failnth_done(fd, &left);
		l = strlen(res);
		if (fired)
			snprintf(res + l, sizeof(res) - l, fired > 0 ? " injected" : " fail-nth?");
		else
			snprintf(res + l, sizeof(res) - l, " clean:%ld", left);
	} else {
		run(nargs, args);
	}
	out("%d %s %s", *n, echo, res);
}

int main(int argc, char **argv)
{
	static char buf[LINE_MAX_LEN + 1];
	struct sigaction sa = { .sa_handler = on_sigterm };
	pid_t ppid = getppid();
	int skip = 0, n = 0, cmd_fd;
	size_t len = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: vfio_client UUID CMDFIFO OUTFILE\n");
		return 2;
	}
	uuid = argv[1];
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != ppid)
		return 0;
	cmd_fd = open(argv[2], O_RDWR | O_CLOEXEC);
	if (cmd_fd < 0) {
		fprintf(stderr, "vfio_client: %s: %s\n", argv[2], strerror(errno));
		return 2;
	}
	out_fd = open(argv[3], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (out_fd < 0) {
		fprintf(stderr, "vfio_client: %s: %s\n", argv[3], strerror(errno));
		return 2;
	}

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = cmd_fd, .events = POLLIN },
			{ .fd = efd[0], .events = POLLIN },	/* ignored if -1 */
		};
		char *nl = memchr(buf, '\n', len);
		ssize_t r;

		if (nl) {
			/* A complete line, or the tail of an overlong one. */
			*nl = 0;
			if (!skip)
				handle(buf, &n);
			skip = 0;
			len -= nl + 1 - buf;
			memmove(buf, nl + 1, len);
			continue;
		}
		if (len == LINE_MAX_LEN) {
			/* Overlong line: run its start, drop the rest. */
			buf[len] = 0;
			if (!skip)
				handle(buf, &n);
			skip = 1;
			len = 0;
		}
		if (poll(p, 2, -1) < 0)
			continue;	/* EINTR */
		if (p[1].revents & POLLIN)
			on_request();
		if (!(p[0].revents & POLLIN))
			continue;
		r = read(cmd_fd, buf + len, LINE_MAX_LEN - len);
		if (r > 0)
			len += r;
	}
}
