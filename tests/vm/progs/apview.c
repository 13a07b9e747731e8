// SPDX-License-Identifier: GPL-2.0
/*
 * apview [CHECKFILE]: the view of the AP bus and vfio_ap that the isolation
 * invariant (vfio_ap/src/invariant.rs, ViewLine) checks, collected from sysfs
 * and debugfs as root sees them:
 *
 *   host <apmask> <aqmask> <adapter mask> <usage domain mask> <control domain mask>
 *   queue <apid> <apqi> vfio|host|none|other -|unassigned|assigned|in_use
 *   mdev <assigned apm aqm adm> <shadow apm aqm adm> [<guest apm aqm adm>]
 *
 * The assigned masks come from the mdev's ap_config, the shadow's adapters and
 * domains from guest_matrix (its control domains are not in sysfs: the
 * assigned ones within the host configuration, what the filter computes), the
 * guest's masks from /sys/kernel/debug/vfio_ap/guests. A queue bound to a
 * driver whose name starts with "aptest_" other than aptest_nondef counts as
 * a host (default) driver.
 *
 * Without CHECKFILE the view goes to standard output. With it (the test
 * module's ap_test/invariant) the view is written there in one write and the
 * checker's report is printed; the exit status is 0 only for "violations 0".
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MASK_HEX 66	/* "0x" and 64 hex digits */

static char view[1 << 20];
static size_t vlen;

static void add(const char *fmt, const char *a)
{
	int n = snprintf(view + vlen, sizeof(view) - vlen, fmt, a);

	if (n > 0 && vlen + n < sizeof(view))
		vlen += n;
}

/* Reads a small file into buf without the trailing newline; "" if unreadable. */
static char *slurp(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = 0, r;

	buf[0] = 0;
	if (fd < 0)
		return buf;
	while ((size_t)n < size - 1 && (r = read(fd, buf + n, size - 1 - n)) > 0)
		n += r;
	close(fd);
	buf[n] = 0;
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = 0;
	return buf;
}

static void mask_hex(const unsigned char *m, char *out)
{
	int i;

	strcpy(out, "0x");
	for (i = 0; i < 32; i++)
		sprintf(out + 2 + 2 * i, "%02x", m[i]);
}

static void set_bit(unsigned char *m, unsigned int bit)
{
	if (bit < 256)
		m[bit / 8] |= 0x80 >> (bit % 8);
}

/* Parses "0x" and 64 hex digits into a mask. */
static void parse_mask(const char *s, unsigned char *m)
{
	unsigned int i, v;

	memset(m, 0, 32);
	if (strncmp(s, "0x", 2))
		return;
	for (i = 0; i < 32 && sscanf(s + 2 + 2 * i, "%2x", &v) == 1; i++)
		m[i] = v;
}

static void host(void)
{
	static const char *const files[] = {
		"/sys/bus/ap/apmask", "/sys/bus/ap/aqmask", "/sys/bus/ap/ap_adapter_mask",
		"/sys/bus/ap/ap_usage_domain_mask", "/sys/bus/ap/ap_control_domain_mask",
	};
	char buf[128];
	unsigned int i;

	add("%s", "host");
	for (i = 0; i < 5; i++)
		add(" %s", slurp(files[i], buf, sizeof(buf)));
	add("%s", "\n");
}

static void queues(void)
{
	DIR *d = opendir("/sys/bus/ap/devices");
	struct dirent *e;
	char path[512], link[512], buf[64], line[128];
	unsigned int apid, apqi;
	const char *drv, *status;
	ssize_t n;

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (sscanf(e->d_name, "%2x.%4x", &apid, &apqi) != 2)
			continue;
		snprintf(path, sizeof(path), "/sys/bus/ap/devices/%s/driver", e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		drv = "none";
		if (n > 0) {
			link[n] = 0;
			drv = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
			if (!strcmp(drv, "vfio_ap"))
				drv = "vfio";
			else if (!strncmp(drv, "aptest_", 7) && strcmp(drv, "aptest_nondef"))
				drv = "host";
			else
				drv = "other";
		}
		snprintf(path, sizeof(path), "/sys/bus/ap/devices/%s/status", e->d_name);
		slurp(path, buf, sizeof(buf));
		status = !buf[0] ? "-" : !strcmp(buf, "in use") ? "in_use" : buf;
		snprintf(line, sizeof(line), "queue %02x %04x %s %s\n", apid, apqi, drv, status);
		add("%s", line);
	}
	closedir(d);
}

/* The guest masks of mdev uuid from the vfio_ap guests file, as text; 0 if none. */
static int guest_of(const char *uuid, char *out, size_t size)
{
	FILE *f = fopen("/sys/kernel/debug/vfio_ap/guests", "r");
	static char line[2048];
	char apm[80], aqm[80], adm[80];
	int found = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, uuid, 36))
			continue;
		if (sscanf(line + 36, " commits %*u apm %79s aqm %79s adm %79s", apm, aqm, adm) == 3) {
			snprintf(out, size, " %s %s %s", apm, aqm, adm);
			found = 1;
		}
	}
	fclose(f);
	return found;
}

static void mdevs(const char *cfg_adm)
{
	const char *base = "/sys/devices/vfio_ap/matrix";
	DIR *d = opendir(base);
	struct dirent *e;
	static char buf[8192];
	char path[512], a[3][MASK_HEX + 1], g[256];
	unsigned char apm[32], aqm[32], adm[32], cadm[32];
	char *p, *tok;
	unsigned int apid, apqi, i;

	if (!d)
		return;
	parse_mask(cfg_adm, cadm);
	while ((e = readdir(d))) {
		if (strlen(e->d_name) != 36)
			continue;
		snprintf(path, sizeof(path), "%s/%s/ap_config", base, e->d_name);
		slurp(path, buf, sizeof(buf));
		tok = strtok(buf, ",");
		for (i = 0; i < 3; i++) {
			snprintf(a[i], sizeof(a[i]), "%s", tok ? tok : "");
			tok = strtok(NULL, ",");
		}
		add("mdev %s", a[0]);
		add(" %s", a[1]);
		add(" %s", a[2]);
		/* The shadow: guest_matrix lines "AA.QQQQ", "AA." or ".QQQQ". */
		memset(apm, 0, 32);
		memset(aqm, 0, 32);
		snprintf(path, sizeof(path), "%s/%s/guest_matrix", base, e->d_name);
		slurp(path, buf, sizeof(buf));
		for (p = strtok(buf, "\n"); p; p = strtok(NULL, "\n")) {
			if (p[0] == '.') {
				if (sscanf(p + 1, "%x", &apqi) == 1)
					set_bit(aqm, apqi);
			} else if (sscanf(p, "%x.%x", &apid, &apqi) == 2) {
				set_bit(apm, apid);
				set_bit(aqm, apqi);
			} else if (sscanf(p, "%x.", &apid) == 1) {
				set_bit(apm, apid);
			}
		}
		parse_mask(a[2], adm);
		for (i = 0; i < 32; i++)
			adm[i] &= cadm[i];
		mask_hex(apm, a[0]);
		mask_hex(aqm, a[1]);
		mask_hex(adm, a[2]);
		add(" %s", a[0]);
		add(" %s", a[1]);
		add(" %s", a[2]);
		if (guest_of(e->d_name, g, sizeof(g)))
			add("%s", g);
		add("%s", "\n");
	}
	closedir(d);
}

int main(int argc, char **argv)
{
	char cdm[128], report[4096];
	int fd;

	host();
	queues();
	mdevs(slurp("/sys/bus/ap/ap_control_domain_mask", cdm, sizeof(cdm)));
	if (argc < 2) {
		fwrite(view, 1, vlen, stdout);
		return 0;
	}
	fd = open(argv[1], O_WRONLY);
	if (fd < 0 || write(fd, view, vlen) != (ssize_t)vlen) {
		perror("apview: write");
		return 2;
	}
	close(fd);
	slurp(argv[1], report, sizeof(report));
	puts(report);
	return strncmp(report, "violations 0 ", 13) ? 1 : 0;
}
