// SPDX-License-Identifier: GPL-2.0
/*
 * apbench: the measurements of `make bench` (scripts/bench.sh), in one process
 * in the test VM, after ap.ko (on the machine the script asks for) and
 * vfio_ap.ko simguest=1 are loaded. A measurement, not a test: it fails (exit
 * status 2, "bench error: ...") only when the set-up cannot be made.
 *
 * Every timed write goes to a file held open (under TCG with lockdep and
 * kmemleak, opening a sysfs file costs about a millisecond, more than most of
 * what is measured), as one pwrite(2) at offset 0, timed with
 * clock_gettime(CLOCK_MONOTONIC) around it. Each item has a warm-up, then
 * samples until it has its count or its time budget is spent (at least
 * MIN_SAMPLES); it reports the median, the 90th percentile and the count.
 * Writes that alternate (+200/-200, assign/unassign) are timed separately.
 *
 * Output: one line per figure, "bench <what> key=value ...", read by
 * scripts/bench.sh:
 *
 *   bench noop name=<N> median_ns= p90_ns= max_ns= n=
 *                          writes that change nothing, timed round-robin
 *   bench baseline name=<N> median_ns= p90_ns= max_ns= n=   (the one chosen)
 *   bench write item=<I> mdevs=<M> median_ns= p90_ns= max_ns= n=
 *   bench commits kind=<K> expect=<E> ops= commits= bad=
 *                          commit count deltas of the simulated guest
 *   bench reset reset_ms=<R> queues=<Q> median_ns= p90_ns= max_ns= n=
 *   bench notice reset_ms=<R> queues=<Q> resets= seen= median_ns= p90_ns= max_ns=
 *                          how long after a reset's deadline the first TAPQ saw
 *                          it complete (the simulator's "notices"): per reset,
 *                          the queue's delay (one queue) or the mean of the
 *                          queues' (256), over the resets in which a TAPQ saw
 *                          each queue complete once ("seen"; the others are
 *                          printed as "bench anomaly ..."); max_ns is the
 *                          largest single delay
 *   bench mdevs created= total= ms= mem_kib=
 *   bench klog reports=<n>
 *   bench end
 *
 * The machine (scripts/bench.sh): cards=0-16:cex8 doms=0-15 cdoms=0-15, so
 * 17 x 16 = 272 queues exist; adapters 32-63 and 200 do not.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "vfio_open.h"

#define BUS		"/sys/bus/ap"
#define MATRIX		"/sys/devices/vfio_ap/matrix"
#define CREATE		MATRIX "/mdev_supported_types/vfio_ap-passthrough/create"
#define SIM		"/sys/kernel/debug/ap_sim/control"
#define GUESTS		"/sys/kernel/debug/vfio_ap/guests"
#define M0		"b0000000-0000-4000-8000-000000000000"
#define MAX_SAMPLES	4000
#define MIN_SAMPLES	11
#define MDEVS		1000
#define ABSENT		"200"	/* an adapter the machine does not have */
/*
 * The baseline: /sys/bus/ap/poll_thread written "0" while it is 0, the
 * cheapest write of ap.ko and vfio_ap.ko that changes nothing (kstrtobool, one
 * mutex, a flag; C stops a poll thread that does not run). Two others are
 * timed in the same rounds for comparison: an unassign of an adapter that is
 * not assigned (vfio_ap: its two locks) and an apmask write that clears a bit
 * already clear (ap.ko: the mask parser, "unchanged").
 */
#define BASELINE	"poll_thread_rewrite"

static char buf[1 << 16];

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	printf("bench error: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int xopen(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		die("open %s: %s", path, strerror(errno));
	return fd;
}

/* One write of s to fd at offset 0 (debugfs files of the modules do not seek): 0 or the errno. */
static int put(int fd, const char *s)
{
	size_t len = strlen(s);
	ssize_t n = pwrite(fd, s, len, 0);

	if (n < 0 && errno == ESPIPE)
		n = write(fd, s, len);

	if (n == (ssize_t)len)
		return 0;
	return n < 0 ? errno : EIO;
}

/* Writes s to path, which must succeed. */
static void wr(const char *path, const char *s)
{
	int fd = xopen(path, O_WRONLY), e = put(fd, s);

	close(fd);
	if (e)
		die("write '%s' to %s: %s", s, path, strerror(e));
}

/* Writes s to path; 0 or the errno. */
static int try_wr(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), e;

	if (fd < 0)
		return errno;
	e = put(fd, s);
	close(fd);
	return e;
}

/* Reads fd from offset 0 into buf (NUL-terminated). */
static void rd(int fd, const char *what)
{
	size_t len = 0;
	ssize_t n;

	while (len < sizeof(buf) - 1 &&
	       (n = pread(fd, buf + len, sizeof(buf) - 1 - len, len)) != 0) {
		if (n < 0)
			die("read %s: %s", what, strerror(errno));
		len += n;
	}
	buf[len] = 0;
}

/* Reads path into buf (NUL-terminated), for files that do not seek. */
static void rd_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		die("open %s: %s", path, strerror(errno));
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (n < 0)
			die("read %s: %s", path, strerror(errno));
		len += n;
	}
	buf[len] = 0;
	close(fd);
}

static void mdev_path(char *out, size_t size, const char *uuid, const char *file)
{
	snprintf(out, size, MATRIX "/%s/%s", uuid, file);
}

/* A mask as ap_config and the bus print it: ids lo..hi set, except skip (-1: none). */
static void mask_str(char out[67], int lo, int hi, int skip)
{
	unsigned char m[32] = { 0 };
	int i;

	for (i = lo; i <= hi && i < 256; i++)
		if (i >= 0 && i != skip)
			m[i / 8] |= 0x80 >> (i % 8);
	out[0] = '0';
	out[1] = 'x';
	for (i = 0; i < 32; i++)
		sprintf(out + 2 + 2 * i, "%02x", m[i]);
}

/* An ap_config text: adapters alo..ahi (but askip), domains dlo..dhi, control domains clo..chi. */
static void ap_config_str(char *out, size_t size, int alo, int ahi, int askip, int dlo, int dhi,
			  int clo, int chi)
{
	char a[67], d[67], c[67];

	mask_str(a, alo, ahi, askip);
	mask_str(d, dlo, dhi, -1);
	mask_str(c, clo, chi, -1);
	snprintf(out, size, "%s,%s,%s\n", a, d, c);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct stats {
	uint64_t median, p90, max;
	int n;
};

static struct stats stats_of(uint64_t *s, int n)
{
	struct stats st = { 0, 0, 0, n };

	if (n == 0)
		return st;
	qsort(s, n, sizeof(*s), cmp_u64);
	st.median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	st.p90 = s[(n * 9 + 9) / 10 - 1];
	st.max = s[n - 1];
	return st;
}

/*
 * Times k writes (vals[j] to fds[j]) round-robin: warm rounds first, then up
 * to max rounds or until budget_ms is spent (at least MIN_SAMPLES rounds), so
 * that writes measured together share the machine's ups and downs. Every
 * write must succeed. The samples of write j land in samples[j]; returns the
 * number of rounds.
 */
static uint64_t samples[3][MAX_SAMPLES];

static int time_writes(int k, const int *fds, const char *const *vals, int warm, int max,
		       int budget_ms, const char *what)
{
	uint64_t t0, t1, end = 0;
	int i, j, n = 0, e;

	if (max > MAX_SAMPLES)
		max = MAX_SAMPLES;
	for (i = -warm; i < max; i++) {
		if (i == 0)
			end = now_ns() + (uint64_t)budget_ms * 1000000;
		else if (i >= MIN_SAMPLES && now_ns() > end)
			break;
		for (j = 0; j < k; j++) {
			t0 = now_ns();
			e = put(fds[j], vals[j]);
			t1 = now_ns();
			if (e)
				die("%s: write '%s': %s", what, vals[j], strerror(e));
			if (i >= 0)
				samples[j][n] = t1 - t0;
		}
		if (i >= 0)
			n++;
	}
	return n;
}

static void print_stats(const char *prefix, struct stats st)
{
	printf("%s median_ns=%llu p90_ns=%llu max_ns=%llu n=%d\n", prefix,
	       (unsigned long long)st.median, (unsigned long long)st.p90,
	       (unsigned long long)st.max, st.n);
	fflush(stdout);
}

/*
 * The candidates for the baseline, writes that change nothing, timed
 * round-robin; returns the first one's figures.
 */
static struct stats noops(const char *const *names, const char *const *files,
			  const char *const *vals, int k)
{
	char prefix[256];
	struct stats st, first = { 0, 0, 0, 0 };
	int fds[3], j, n;

	for (j = 0; j < k; j++)
		fds[j] = xopen(files[j], O_WRONLY);
	n = time_writes(k, fds, vals, 50, 2000, 3000, "no-op writes");
	for (j = 0; j < k; j++) {
		close(fds[j]);
		st = stats_of(samples[j], n);
		if (j == 0)
			first = st;
		snprintf(prefix, sizeof(prefix), "bench noop name=%s", names[j]);
		print_stats(prefix, st);
	}
	return first;
}

/* Times a and b alternately on one file each; prints both as items. */
static void pair(const char *file_a, const char *a, const char *item_a, const char *file_b,
		 const char *b, const char *item_b, int mdevs, int max, int budget_ms)
{
	char prefix[256];
	int fds[2] = { xopen(file_a, O_WRONLY), xopen(file_b, O_WRONLY) };
	const char *vals[2] = { a, b };
	int n = time_writes(2, fds, vals, 3, max, budget_ms, item_a);

	close(fds[0]);
	close(fds[1]);
	snprintf(prefix, sizeof(prefix), "bench write item=%s mdevs=%d", item_a, mdevs);
	print_stats(prefix, stats_of(samples[0], n));
	snprintf(prefix, sizeof(prefix), "bench write item=%s mdevs=%d", item_b, mdevs);
	print_stats(prefix, stats_of(samples[1], n));
}

/* ---- the simulated guest's commit count */

static int guests_fd = -1;

static unsigned long commits(void)
{
	char *l;
	unsigned long c;

	rd(guests_fd, GUESTS);
	for (l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, M0 " commits ", strlen(M0 " commits ")) &&
		    sscanf(l + strlen(M0), " commits %lu", &c) == 1)
			return c;
	die("no guest line for " M0 " in " GUESTS);
}

/*
 * Runs ops (file/value pairs, each expecting `expect` commits) `rounds` times
 * and prints the kind's figures: how many writes, commits, and writes whose
 * commit count was not `expect`.
 */
struct op {
	const char *file, *value;
	int expect;
};

static void commit_kind(const char *kind, const struct op *ops, int nops, int rounds)
{
	unsigned long ops_done = 0, total = 0, bad = 0, before, d;
	int r, i, e, expect = -1;
	char path[256];

	for (r = 0; r < rounds; r++) {
		for (i = 0; i < nops; i++) {
			if (ops[i].file[0] == '/')
				snprintf(path, sizeof(path), "%s", ops[i].file);
			else
				mdev_path(path, sizeof(path), M0, ops[i].file);
			before = commits();
			e = try_wr(path, ops[i].value);
			if (e)
				die("%s: write '%s' to %s: %s", kind, ops[i].value, path, strerror(e));
			d = commits() - before;
			ops_done++;
			total += d;
			if ((long)d != ops[i].expect)
				bad++;
			if (expect == -1)
				expect = ops[i].expect;
			else if (expect != ops[i].expect)
				expect = -2;
		}
	}
	printf("bench commits kind=%s expect=%d ops=%lu commits=%lu bad=%lu\n", kind, expect,
	       ops_done, total, bad);
	fflush(stdout);
}

/* ---- resets */

struct notices {
	unsigned long long count, sum, max, last;
};

static int sim_fd = -1;

static struct notices notices(void)
{
	struct notices n;
	char *l;

	rd_path(SIM);
	l = strstr(buf, "\nnotices ");
	if (!l || sscanf(l, "\nnotices %llu sum_ns %llu max_ns %llu last_ns %llu", &n.count,
			 &n.sum, &n.max, &n.last) != 4)
		die("no notices line in " SIM);
	return n;
}

static void sim(const char *cmd)
{
	int e = put(sim_fd, cmd);

	if (e)
		die("simulator command '%s': %s", cmd, strerror(e));
}

/*
 * VFIO_DEVICE_RESET on device, `queues` queues linked: times `max` resets
 * (after 3 unrecorded ones) and records, per reset, the simulator's notice
 * delays: each queue's for one queue, the mean and the largest for more.
 */
static void resets(int device, int reset_ms, int queues, int max)
{
	static uint64_t lat[MAX_SAMPLES * 2];
	char cmd[64], prefix[128];
	struct notices nt;
	uint64_t t0, t1, worst = 0;
	int i, n = 0, nl = 0, seen_ok = 0;

	snprintf(cmd, sizeof(cmd), "reset_ms %d\n", reset_ms);
	sim(cmd);
	for (i = -3; i < max && n < MAX_SAMPLES; i++) {
		sim("notices clear\n");
		t0 = now_ns();
		if (ioctl(device, VFIO_DEVICE_RESET) < 0)
			die("VFIO_DEVICE_RESET (%d queues): %s", queues, strerror(errno));
		t1 = now_ns();
		nt = notices();
		if (i < 0)
			continue;
		samples[0][n++] = t1 - t0;
		if (nt.count == (unsigned long long)queues)
			seen_ok++;
		else
			printf("bench anomaly reset_ms=%d queues=%d reset=%d time_ns=%llu notices=%llu "
			       "sum_ns=%llu max_ns=%llu last_ns=%llu\n", reset_ms, queues, i,
			       (unsigned long long)(t1 - t0), nt.count, nt.sum, nt.max, nt.last);
		if (nt.count == (unsigned long long)queues) {
			lat[nl++] = queues == 1 ? nt.last : nt.sum / nt.count;
			if (nt.max > worst)
				worst = nt.max;
		}
	}
	snprintf(prefix, sizeof(prefix), "bench reset reset_ms=%d queues=%d", reset_ms, queues);
	print_stats(prefix, stats_of(samples[0], n));
	{
		struct stats st = stats_of(lat, nl);

		printf("bench notice reset_ms=%d queues=%d resets=%d seen=%d median_ns=%llu "
		       "p90_ns=%llu max_ns=%llu\n", reset_ms, queues, n, seen_ok,
		       (unsigned long long)st.median, (unsigned long long)st.p90,
		       (unsigned long long)worst);
		fflush(stdout);
	}
}

static long mem_available_kib(void)
{
	int fd = xopen("/proc/meminfo", O_RDONLY);
	char *l;
	long kib = -1;

	rd(fd, "/proc/meminfo");
	close(fd);
	l = strstr(buf, "MemAvailable:");
	if (l)
		sscanf(l, "MemAvailable: %ld", &kib);
	return kib;
}

int main(void)
{
	char path[256], path2[256], cfg_a[256], cfg_b[256], cfg_c[256], cfg_d[256];
	char uuid[40], num[16];
	struct stats base;
	int fds[3] = { -1, -1, -1 }, e, i;
	const char *step;
	uint64_t t0;
	long mem0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	sim_fd = xopen(SIM, O_WRONLY);
	guests_fd = open(GUESTS, O_RDONLY | O_CLOEXEC);
	if (guests_fd < 0)
		die("open " GUESTS ": %s (vfio_ap simguest=1 loaded?)", strerror(errno));

	/* No periodic scan in the middle (the longest period, 120 s); every queue to vfio_ap. */
	wr(BUS "/config_time", "120\n");
	wr(BUS "/apmask", "-0-255\n");
	wr(CREATE, M0);

	/* The baseline: writes that change nothing. */
	mdev_path(path, sizeof(path), M0, "unassign_adapter");
	{
		const char *names[3] = { BASELINE, "unassign_adapter_unassigned",
					 "apmask_rewrite" };
		const char *files[3] = { BUS "/poll_thread", path, BUS "/apmask" };
		const char *vals[3] = { "0\n", ABSENT "\n", "-" ABSENT "\n" };

		base = noops(names, files, vals, 3);
	}
	print_stats("bench baseline name=" BASELINE, base);

	/* apmask: the host gains and gives back an adapter no mdev holds (one mdev, empty). */
	pair(BUS "/apmask", "+" ABSENT "\n", "apmask_give_host", BUS "/apmask", "-" ABSENT "\n",
	     "apmask_take_back", 1, 1000, 3000);
	/*
	 * The CHANGE uevent of /sys/devices/ap that each of those writes sends (APMASK=..., as
	 * C's apmask_store does), alone: the kernel's own cost of a uevent of the root device,
	 * asked for through its uevent file, between no-op writes.
	 */
	pair("/sys/devices/ap/uevent", "change\n", "root_uevent", BUS "/poll_thread", "0\n",
	     "root_uevent_between", 1, 1000, 3000);

	/* assign_adapter at 256 x 256: all domains and all adapters but 200 assigned. */
	mdev_path(path, sizeof(path), M0, "ap_config");
	ap_config_str(cfg_a, sizeof(cfg_a), 0, 255, 200, 0, 255, -1, -1);
	wr(path, cfg_a);
	mdev_path(path, sizeof(path), M0, "assign_adapter");
	mdev_path(path2, sizeof(path2), M0, "unassign_adapter");
	pair(path, ABSENT "\n", "assign_adapter_256x256", path2, ABSENT "\n",
	     "unassign_adapter_256x256", 1, 200, 4000);

	/* ap_config: the full matrix, with and without adapter 200, all control domains. */
	mdev_path(path, sizeof(path), M0, "ap_config");
	ap_config_str(cfg_a, sizeof(cfg_a), 0, 255, -1, 0, 255, 0, 255);
	ap_config_str(cfg_b, sizeof(cfg_b), 0, 255, 200, 0, 255, 0, 255);
	pair(path, cfg_a, "ap_config_full_add", path, cfg_b, "ap_config_full_remove", 1, 200,
	     4000);

	/* Commits: the simulated guest is this process (vfio_ap simguest=1). */
	ap_config_str(cfg_a, sizeof(cfg_a), 1, 1, -1, 4, 4, 3, 3);
	wr(path, cfg_a);
	e = vfio_open_device(M0, fds, &step);
	if (e)
		die("open the VFIO device of " M0 ": %s (%s)", strerror(e), step);
	if (commits() != 1)
		die("the guest's first commit at open: %lu commits", commits());
	{
		static const struct op eff[] = {
			{ "assign_domain", "5\n", 1 }, { "unassign_domain", "5\n", 1 },
			{ "assign_adapter", "2\n", 1 }, { "unassign_adapter", "2\n", 1 },
			{ "assign_control_domain", "7\n", 1 },
			{ "unassign_control_domain", "7\n", 1 },
		};
		static const struct op noop_assign[] = {
			{ "assign_domain", "4\n", 0 }, { "assign_adapter", "1\n", 0 },
			{ "assign_control_domain", "3\n", 0 },
		};
		static const struct op absent[] = {
			{ "assign_adapter", ABSENT "\n", 0 }, { "unassign_adapter", ABSENT "\n", 0 },
		};
		static const struct op noop_unassign[] = {
			{ "unassign_domain", "9\n", 0 }, { "unassign_adapter", "9\n", 0 },
		};
		static const struct op apmask[] = {
			{ BUS "/apmask", "+" ABSENT "\n", 0 }, { BUS "/apmask", "-" ABSENT "\n", 0 },
		};
		static const struct op host_cfg[] = {
			{ SIM, "rdom 4\n", 1 }, { SIM, "adom 4\n", 1 },
		};
		struct op cfg_change[2] = { { "ap_config", cfg_b, 1 }, { "ap_config", cfg_a, 1 } };
		struct op cfg_same[1] = { { "ap_config", cfg_a, 0 } };
		struct op cfg_swap[2] = { { "ap_config", cfg_d, 1 }, { "ap_config", cfg_c, 1 } };

		ap_config_str(cfg_b, sizeof(cfg_b), 1, 2, -1, 4, 5, 3, 3);
		ap_config_str(cfg_c, sizeof(cfg_c), 1, 2, -1, 4, 4, 3, 3);
		ap_config_str(cfg_d, sizeof(cfg_d), 1, 3, 2, 5, 5, 3, 3);
		commit_kind("effective_assign_unassign", eff, 6, 10);
		commit_kind("assign_already_assigned", noop_assign, 3, 10);
		commit_kind("assign_unassign_absent_adapter", absent, 2, 10);
		commit_kind("unassign_not_assigned", noop_unassign, 2, 10);
		commit_kind("ap_config_change", cfg_change, 2, 10);
		commit_kind("ap_config_same", cfg_same, 1, 20);
		/* Adapter 2 and domain 4 out, adapter 3 and domain 5 in, and back: one write each. */
		commit_kind("ap_config_swap", cfg_swap, 2, 10);
		commit_kind("apmask_unrelated", apmask, 2, 10);
		commit_kind("host_config_change", host_cfg, 2, 10);
	}

	/* Resets: one queue (01.0004), then 256 (adapters 1-16 x domains 0-15). */
	mdev_path(path, sizeof(path), M0, "ap_config");
	ap_config_str(cfg_a, sizeof(cfg_a), 1, 1, -1, 4, 4, -1, -1);
	ap_config_str(cfg_b, sizeof(cfg_b), 1, 16, -1, 0, 15, -1, -1);
	/*
	 * Let the bus settle first: the host configuration change above made it
	 * create queues and reset them on its own, and a TAPQ of its queue state
	 * machines may still see one of those resets complete. reset_ms 0: a reset
	 * is over at once, so the batch costs what its instructions cost.
	 */
	usleep(500000);
	for (i = 0; i < 3; i++) {
		static const int reset_ms[3] = { 0, 5, 20 };

		wr(path, cfg_a);
		resets(fds[2], reset_ms[i], 1, 40);
		wr(path, cfg_b);
		resets(fds[2], reset_ms[i], 256, 40);
	}
	sim("reset_ms 5\n");
	close(fds[2]);
	close(fds[1]);
	close(fds[0]);

	/* 1,000 mdevs, each with one APQN of adapters 32-63 x domains 32-63 (no queues exist). */
	mem0 = mem_available_kib();
	t0 = now_ns();
	{
		int create = xopen(CREATE, O_WRONLY);

		for (i = 1; i < MDEVS; i++) {
			snprintf(uuid, sizeof(uuid), "b0000000-0000-4000-8000-%012d", i);
			e = put(create, uuid);
			if (e)
				die("create mdev %d: %s", i, strerror(e));
			mdev_path(path, sizeof(path), uuid, "assign_adapter");
			snprintf(num, sizeof(num), "%d\n", 32 + (i - 1) / 32);
			wr(path, num);
			mdev_path(path, sizeof(path), uuid, "assign_domain");
			snprintf(num, sizeof(num), "%d\n", 32 + (i - 1) % 32);
			wr(path, num);
		}
		close(create);
	}
	printf("bench mdevs created=%d total=%d ms=%llu mem_kib=%ld\n", MDEVS - 1, MDEVS,
	       (unsigned long long)((now_ns() - t0) / 1000000), mem0 - mem_available_kib());
	/* The mdevs are there: the host cannot take adapter 32 back. */
	e = try_wr(BUS "/apmask", "+32\n");
	if (e != EBUSY)
		die("apmask +32 with 1,000 mdevs: %s, expected EBUSY", e ? strerror(e) : "OK");
	pair(BUS "/apmask", "+" ABSENT "\n", "apmask_give_host", BUS "/apmask", "-" ABSENT "\n",
	     "apmask_take_back", MDEVS, 1000, 3000);

	/* The baseline again, as a check of drift. */
	{
		const char *names[1] = { BASELINE "_end" };
		const char *files[1] = { BUS "/poll_thread" };
		const char *vals[1] = { "0\n" };

		noops(names, files, vals, 1);
	}
	printf("bench end\n");
	return 0;
}
