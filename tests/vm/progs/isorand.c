// SPDX-License-Identifier: GPL-2.0
/*
 * isorand [-v] SEED STEPS: seeded random operations on the AP bus and vfio_ap,
 * with the isolation invariant checked after every one of them.
 *
 * tests/vm/tests/isolation_random.sh runs it. It does in one process what
 * that script once did with a fork or two per step: the operations, their
 * weights and the pseudo-random generator are the script's (RS = (RS *
 * 1103515245 + 12345) & 0x7fffffff, a value (RS >> 8) % N), so a seed picks
 * the same sequence as it did there. Out of ten:
 *
 *   2  apmask/aqmask: +id, -id, a raw byte, -id,+id', or junk
 *   1  create or remove one of three mdevs (not while a guest has it)
 *   2  assign/unassign an adapter, domain or control domain (0..17)
 *   1  ap_config with random first bytes
 *   1  a guest opens or closes an mdev
 *   1  a simulator event: adapters 2 and 4 and domain 14 come and go,
 *      checkstop, deconfigure, slow resets
 *   2  unbind a queue, or bind an unbound one to vfio_ap or a test driver
 *
 * Writes go to sysfs in one write(2) each, the simulator's commands as
 * "<command>\n" as lib.sh's sim_cmd sends them; a failing write is part of
 * the mix and only counted. After each step the view (apview.h) is written to
 * /sys/kernel/debug/ap_test/invariant and the report read back. The view is
 * a kept one; after the first and the last step and every FULL_EVERY steps a
 * full one follows, and the two must agree.
 *
 * vfio_ap simguest=1 makes the opening process the guest, and a process can
 * be the guest of one mdev only: each open mdev has a child process of its
 * own that opens the VFIO device (vfio_open.h) and then waits on a pipe until
 * it is told to close it and exit.
 *
 * Before the first step: apmask -1-3, aqmask -0-9, mdev 0 with adapters 1-2
 * and domains 4-5, opened by a guest.
 *
 * With -v every operation is printed as it is done, with its outcome.
 *
 * Exit status 0 with the figures: the first line
 *
 *   isorand: seed S, N operations, 0 violations, G steps with a guest using queues, T ms
 *
 * then where the time went and how the writes ended. 1 for a violation,
 * printed with the seed, the step, the checker's report, the host and mdev
 * lines of the view and the last operations; 2 for anything unexpected (a
 * prelude write that fails, the checker missing or refusing the view, a
 * guest process dying, a kept view that is not the full one).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "apview.h"
#include "vfio_open.h"

#define SIM_CONTROL	"/sys/kernel/debug/ap_sim/control"
#define MATRIX		"/sys/devices/vfio_ap/matrix"
#define CREATE		"mdev_supported_types/vfio_ap-passthrough/create"
#define SLOTS		3
#define HISTORY		8
#define MAX_ERRNO	256
#define FULL_EVERY	500	/* every so many steps a full view checks the kept one */

static struct apview v;
static unsigned long long seed;
static uint64_t rs;
static unsigned long step, steps;
static int verbose;
static char op[256];
static char history[HISTORY][320];
static unsigned long recorded;		/* the last step in history */

/* A guest process per mdev slot; pid 0 when the slot has none. */
static struct {
	pid_t pid;
	int cmd;
} guests[SLOTS];

/* How the writes ended: tally[0] by the write's errno, tally[1] failed opens. */
static unsigned long writes_ok, tally[2][MAX_ERRNO];
static unsigned long opens, opens_failed;

static unsigned int rnd(unsigned int n)
{
	rs = (rs * 1103515245 + 12345) & 0x7fffffff;
	return (rs >> 8) % n;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

static void set_op(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void set_op(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(op, sizeof(op), fmt, ap);
	va_end(ap);
}

/* Appends ": <what>" to the current operation (its outcome). */
static void op_result(const char *what, const char *detail)
{
	size_t n = strlen(op);

	snprintf(op + n, sizeof(op) - n, ": %s%s%s", what, detail ? " " : "", detail ? detail : "");
}

static void print_history(void)
{
	unsigned long s = recorded > HISTORY ? recorded - HISTORY + 1 : 1;

	printf("isorand: the last operations:\n");
	for (; s <= recorded; s++)
		printf("  %s\n", history[s % HISTORY]);
}

static void close_guests(void);

/* Something that should not happen: report it and stop (exit status 2). */
static void unexpected(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void unexpected(const char *fmt, ...)
{
	va_list ap;

	printf("isorand: seed %llu, step %lu", seed, step);
	printf(op[0] ? " (%s): " : ": ", op);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (recorded)
		print_history();
	fflush(stdout);
	close_guests();
	exit(2);
}

/*
 * One write(2) of text to path (relative to dir), the outcome appended to the
 * operation: 0 or the errno.
 */
static int put(int dir, const char *path, const char *text)
{
	size_t len = strlen(text);
	ssize_t n;
	int fd, e = 0;

	fd = openat(dir, path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		tally[1][e < MAX_ERRNO ? e : 0]++;
		op_result("open", ename(e));
		return e;
	}
	n = write(fd, text, len);
	if (n < 0)
		e = errno;
	else if ((size_t)n != len)
		e = EIO;	/* a short write: counted as an error */
	close(fd);
	if (e) {
		tally[0][e < MAX_ERRNO ? e : 0]++;
		op_result(ename(e), NULL);
	} else {
		writes_ok++;
		op_result("OK", NULL);
	}
	return e;
}

static int matrix_dir(void)
{
	return dirfd(v.matrix);
}

static void uuid_of(unsigned int slot, char *uu)
{
	sprintf(uu, "5e1f0000-0000-4000-8000-00000000000%u", slot);
}

static int mdev_exists(const char *uu)
{
	struct stat st;

	return !fstatat(matrix_dir(), uu, &st, 0) && S_ISDIR(st.st_mode);
}

/* Closes every fd from 3 up except a and b. */
static void close_others(int a, int b)
{
	int lo = a < b ? a : b, hi = a < b ? b : a;

	if (lo > 3)
		close_range(3, lo - 1, 0);
	if (hi > lo + 1)
		close_range(lo + 1, hi - 1, 0);
	close_range(hi + 1, ~0U, 0);
}

/*
 * A guest: opens the device of mdev uu, sends "<errno> <step>\n" on res, then
 * waits for commands on cmd: 'c' closes the device, 'x' (or the end of the
 * pipe) exits.
 */
static void __attribute__((noreturn)) guest_main(const char *uu, int cmd, int res, pid_t parent)
{
	const char *what = "-";
	int fds[3], e, i, held;
	ssize_t n;
	char c;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(3);
	close_others(cmd, res);
	e = vfio_open_device(uu, fds, &what);
	held = !e;
	dprintf(res, "%d %s\n", e, e ? what : "-");
	close(res);
	for (;;) {
		n = read(cmd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || c == 'x')
			break;
		if (c == 'c' && held) {
			for (i = 2; i >= 0; i--)
				close(fds[i]);
			held = 0;
		}
	}
	_exit(0);
}

/* A new guest (a child process) opens mdev slot s: 0 or the errno of the open. */
static int guest_open(unsigned int s)
{
	char uu[40], buf[64], what[32] = "?";
	int cmd[2], res[2], e = -1;
	pid_t pid, self = getpid();
	ssize_t n;

	uuid_of(s, uu);
	if (pipe(cmd) < 0 || pipe(res) < 0)
		unexpected("pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		unexpected("fork: %s", strerror(errno));
	if (!pid)
		guest_main(uu, cmd[0], res[1], self);
	close(cmd[0]);
	close(res[1]);
	do
		n = read(res[0], buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	close(res[0]);
	guests[s].pid = pid;
	guests[s].cmd = cmd[1];
	if (n <= 0)
		unexpected("the guest of mdev %u (pid %d) ended before it opened the device", s, pid);
	buf[n] = 0;
	if (sscanf(buf, "%d %31s", &e, what) != 2)
		unexpected("the guest of mdev %u said '%s'", s, buf);
	opens++;
	if (e) {
		opens_failed++;
		op_result(ename(e), what);
	} else {
		op_result("OK", NULL);
	}
	return e;
}

/* The guest of slot s closes the device and exits: 0, or -1 if it did not do so cleanly. */
static int guest_close(unsigned int s)
{
	pid_t pid = guests[s].pid;
	int st, told;

	guests[s].pid = 0;
	told = write(guests[s].cmd, "cx", 2) == 2;
	close(guests[s].cmd);
	if (!told)
		kill(pid, SIGKILL);
	if (waitpid(pid, &st, 0) != pid || !told || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	return 0;
}

static void close_guests(void)
{
	unsigned int s;

	for (s = 0; s < SLOTS; s++)
		if (guests[s].pid)
			guest_close(s);
}

/* Fails if a guest process has ended on its own. */
static void check_guests(void)
{
	unsigned int s;
	pid_t pid;
	int st;

	pid = waitpid(-1, &st, WNOHANG);
	if (pid <= 0)
		return;
	for (s = 0; s < SLOTS; s++)
		if (guests[s].pid == pid)
			guests[s].pid = 0;
	unexpected("guest process %d ended (wait status 0x%x)", pid, st);
}

static void sim(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sim(const char *fmt, ...)
{
	char cmd[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	set_op("sim %s", cmd);
	strcat(cmd, "\n");
	put(AT_FDCWD, SIM_CONTROL, cmd);
}

static void op_mask(void)
{
	const char *f;
	unsigned int id;
	char val[32];

	f = rnd(2) ? "aqmask" : "apmask";
	id = rnd(6);
	switch (rnd(5)) {
	case 0:
		sprintf(val, "+%u", id);
		break;
	case 1:
		sprintf(val, "-%u", id);
		break;
	case 2:
		sprintf(val, "0x%02x", (unsigned int)(rs & 255));
		break;
	case 3:
		sprintf(val, "-%u,+%u", id, (id + 1) % 6);
		break;
	default:
		sprintf(val, "junk%u", id);
		break;
	}
	set_op("%s %s", f, val);
	put(v.bus, f, val);
}

static void op_create_remove(void)
{
	unsigned int s = rnd(3);
	char uu[40], path[64];

	uuid_of(s, uu);
	if (!mdev_exists(uu)) {
		set_op("create mdev %u", s);
		put(matrix_dir(), CREATE, uu);
	} else if (guests[s].pid) {
		set_op("remove %u (open: skipped)", s);
	} else {
		set_op("remove mdev %u", s);
		snprintf(path, sizeof(path), "%s/remove", uu);
		put(matrix_dir(), path, "1");
	}
}

static void op_assign(void)
{
	static const char *const files[] = {
		"assign_adapter", "assign_domain", "assign_control_domain",
		"unassign_adapter", "unassign_domain", "unassign_control_domain",
	};
	unsigned int s = rnd(3), f, id;
	char uu[40], path[80], val[8];

	uuid_of(s, uu);
	if (!mdev_exists(uu)) {
		set_op("assign on missing mdev %u", s);
		return;
	}
	f = rnd(6);
	id = rnd(18);
	set_op("mdev %u %s %u", s, files[f], id);
	snprintf(path, sizeof(path), "%s/%s", uu, files[f]);
	sprintf(val, "%u", id);
	put(matrix_dir(), path, val);
}

static void op_ap_config(void)
{
	unsigned int s = rnd(3), a, q, d;
	char uu[40], path[64], val[256];

	uuid_of(s, uu);
	if (!mdev_exists(uu)) {
		set_op("ap_config on missing mdev %u", s);
		return;
	}
	a = rnd(64);
	q = rnd(64);
	d = rnd(64);
	set_op("mdev %u ap_config %u %u %u", s, a, q, d);
	/* Each mask: its first byte, then zeros to 64 hex digits. */
	snprintf(val, sizeof(val), "0x%02x%062d,0x%02x%062d,0x%02x%062d\n",
		 a << 2, 0, q << 2, 0, d << 2, 0);
	snprintf(path, sizeof(path), "%s/ap_config", uu);
	put(matrix_dir(), path, val);
}

static void op_open_close(void)
{
	unsigned int s = rnd(3);
	char uu[40];

	uuid_of(s, uu);
	if (!mdev_exists(uu)) {
		set_op("open on missing mdev %u", s);
	} else if (guests[s].pid) {
		set_op("close mdev %u", s);
		if (guest_close(s))
			unexpected("the guest of mdev %u did not close and exit cleanly", s);
	} else {
		set_op("open mdev %u", s);
		guest_open(s);
	}
}

static void op_sim(void)
{
	unsigned int e, a;

	e = rnd(12);
	a = rnd(4);
	switch (e) {
	case 0:
		sim("add 4 cex8");
		break;
	case 1:
		sim("remove 4");
		break;
	case 2:
		sim("rdom 14");
		break;
	case 3:
		sim("adom 14");
		break;
	case 4:
		sim("remove 2");
		break;
	case 5:
		sim("add 2 cex8");
		break;
	case 6:
		sim("chkstop %u 1", a);
		break;
	case 7:
		sim("chkstop %u 0", a);
		break;
	case 8:
		sim("config %u 0", a);
		break;
	case 9:
		sim("config %u 1", a);
		break;
	case 10:
		sim("reset_ms 200");
		break;
	default:
		sim("reset_ms 0");
		break;
	}
}

static void op_bind(void)
{
	char qn[16], path[300], link[256];
	unsigned int a, q;
	const char *drv;
	struct stat st;
	ssize_t n;

	a = rnd(5);
	q = rnd(16);
	snprintf(qn, sizeof(qn), "%02x.00%02x", a, q);
	if (fstatat(dirfd(v.devices), qn, &st, 0)) {
		set_op("unbind/bind missing %s", qn);
		return;
	}
	snprintf(path, sizeof(path), "%s/driver", qn);
	n = readlinkat(dirfd(v.devices), path, link, sizeof(link) - 1);
	if (n <= 0) {
		drv = rnd(2) ? "aptest_queue" : "vfio_ap";
		set_op("bind %s to %s", qn, drv);
		snprintf(path, sizeof(path), "drivers/%s/bind", drv);
	} else {
		link[n] = 0;
		drv = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
		set_op("unbind %s from %s", qn, drv);
		snprintf(path, sizeof(path), "drivers/%s/unbind", drv);
	}
	put(v.bus, path, qn);
}

static const struct {
	const char *name;
	void (*fn)(void);
} kinds[] = {
	{ "mask", op_mask }, { "mdev", op_create_remove }, { "assign", op_assign },
	{ "ap_config", op_ap_config }, { "guest", op_open_close }, { "sim", op_sim },
	{ "bind", op_bind },
};
#define KINDS	(sizeof(kinds) / sizeof(kinds[0]))

/* The kind of operation for each of the ten values of the first draw. */
static const unsigned char kind_of_draw[10] = { 0, 0, 1, 2, 2, 3, 4, 5, 6, 6 };
static double kind_ms[KINDS];
static unsigned long kind_n[KINDS];

static void do_op(void)
{
	unsigned int k = kind_of_draw[rnd(10)];
	double t = now_ms();

	kinds[k].fn();
	kind_ms[k] += now_ms() - t;
	kind_n[k]++;
}

/* A write of the prelude that must succeed. */
static void must(int dir, const char *path, const char *text)
{
	set_op("prelude: %s %s", path, text);
	if (put(dir, path, text))
		unexpected("the prelude write failed");
}

static void prelude(void)
{
	static const char *const assign[][2] = {
		{ "assign_adapter", "1" }, { "assign_adapter", "2" },
		{ "assign_domain", "4" }, { "assign_domain", "5" },
	};
	char uu[40], path[80];
	unsigned int i;

	must(v.bus, "apmask", "-1-3");
	must(v.bus, "aqmask", "-0-9");
	uuid_of(0, uu);
	must(matrix_dir(), CREATE, uu);
	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/%s", uu, assign[i][0]);
		must(matrix_dir(), path, assign[i][1]);
	}
	set_op("prelude: open mdev 0");
	if (guest_open(0))
		unexpected("the guest of mdev 0 could not open it");
}

/* The host and mdev lines of the view. */
static void print_view(void)
{
	const char *l = v.text, *nl;

	printf("isorand: the host and mdev lines of the view:\n");
	for (; *l; l = nl + 1) {
		nl = strchr(l, '\n');
		if (!nl)
			break;
		if (!strncmp(l, "host ", 5) || !strncmp(l, "mdev ", 5))
			printf("  %.*s\n", (int)(nl - l), l);
	}
}

static void print_tally(void)
{
	int k, e;

	printf("isorand: writes: %lu OK", writes_ok);
	for (k = 0; k < 2; k++)
		for (e = 0; e < MAX_ERRNO; e++)
			if (tally[k][e])
				printf(", %s%s %lu", k ? "open " : "", ename(e), tally[k][e]);
	printf("; guests opened %lu (%lu failed)\n", opens, opens_failed);
}

/* Prints the lines of text a that text b does not have. */
static void print_missing(const char *what, const char *a, const char *b)
{
	const char *l, *nl, *m;
	int len;

	for (l = a; *l && (nl = strchr(l, '\n')); l = nl + 1) {
		len = nl - l + 1;
		for (m = b; m && *m; m = strchr(m, '\n') ? strchr(m, '\n') + 1 : NULL)
			if (!strncmp(m, l, len))
				break;
		if (!m || !*m)
			printf("  %s %.*s\n", what, len - 1, l);
	}
}

/*
 * The view after a step. After the first and the last step and every
 * FULL_EVERY steps the kept view (apview.h) is followed by a full one, which
 * must say the same.
 */
static void collect_view(void)
{
	static char kept[sizeof(v.text)];

	v.full = 0;
	av_collect(&v);
	if (step != 1 && step != steps && step % FULL_EVERY)
		return;
	memcpy(kept, v.text, v.len + 1);
	v.full = 1;
	av_collect(&v);
	v.full = 0;
	if (strcmp(kept, v.text)) {
		printf("isorand: the kept view and the full view differ:\n");
		print_missing("kept only:", kept, v.text);
		print_missing("full only:", v.text, kept);
		unexpected("the kept view is not the full view");
	}
}

int main(int argc, char **argv)
{
	unsigned long with_queues = 0;
	double t0, t1, t2, t3, start, t_op = 0, t_view = 0, t_check = 0, total;
	unsigned int k;
	char *end;
	int n;

	if (argc == 4 && !strcmp(argv[1], "-v")) {
		verbose = 1;
		argc--;
		argv++;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: isorand [-v] SEED STEPS\n");
		return 2;
	}
	seed = strtoull(argv[1], &end, 10);
	if (*end || !*argv[1])
		unexpected("bad seed '%s'", argv[1]);
	steps = strtoul(argv[2], &end, 10);
	if (*end || !*argv[2])
		unexpected("bad step count '%s'", argv[2]);
	rs = seed;
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (av_open(&v) < 0)
		unexpected("/sys/bus/ap: %s", strerror(errno));
	if (!v.matrix)
		unexpected(MATRIX ": %s (vfio_ap not loaded?)", strerror(errno));
	if (access(AV_CHECKER, W_OK))
		unexpected(AV_CHECKER ": %s (ap_test_drv not loaded?)", strerror(errno));
	prelude();

	start = now_ms();
	for (step = 1; step <= steps; step++) {
		set_op("before its operation");
		check_guests();
		t0 = now_ms();
		do_op();
		t1 = now_ms();
		snprintf(history[step % HISTORY], sizeof(history[0]), "%lu %s", step, op);
		recorded = step;
		if (verbose)
			printf("%s\n", history[step % HISTORY]);
		collect_view();
		t2 = now_ms();
		n = av_check(&v, AV_CHECKER);
		t3 = now_ms();
		if (n < 0)
			unexpected("the checker: %s (report '%s')", strerror(errno), v.report);
		if (n > 0) {
			printf("isorand: seed %llu, step %lu (%s): the invariant is violated\n",
			       seed, step, op);
			printf("%s\n", v.report);
			print_view();
			print_history();
			close_guests();
			return 1;
		}
		if (v.guests_with_queues)
			with_queues++;
		t_op += t1 - t0;
		t_view += t2 - t1;
		t_check += t3 - t2;
	}
	total = now_ms() - start;
	close_guests();
	printf("isorand: seed %llu, %lu operations, 0 violations, %lu steps with a guest using queues, %.0f ms\n",
	       seed, steps, with_queues, total);
	if (steps)
		printf("isorand: per step %.2f ms: operation %.2f, view %.2f, check %.2f\n",
		       total / steps, t_op / steps, t_view / steps, t_check / steps);
	printf("isorand: ms per operation:");
	for (k = 0; k < KINDS; k++)
		if (kind_n[k])
			printf(" %s %.2f (%lu)", kinds[k].name, kind_ms[k] / kind_n[k], kind_n[k]);
	printf("\n");
	print_tally();
	return 0;
}
