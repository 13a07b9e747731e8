/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The view of the AP bus and vfio_ap that the isolation invariant
 * (vfio_ap/src/invariant.rs, ViewLine) checks, collected from sysfs and
 * debugfs as root sees them, one line per item:
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
 * Shared by apview.c (one view) and isorand.c (a view after every step).
 *
 * Under TCG with lockdep and kmemleak, opening and closing a sysfs file costs
 * about a millisecond and reading one that is open a few microseconds, and a
 * view has about 70 queues. So struct apview keeps what it opened: the
 * directories (rewound for each view), the host files, each queue's status
 * file and each mdev's files, read again from offset 0 (sysfs and debugfs
 * make the text afresh for every read from the start). A file held open that
 * has gone reads as ENODEV and is opened again. What is kept is keyed by the
 * inode number of the directory entry, so a queue or mdev that goes and comes
 * back under the same name is opened afresh. Such a "kept" view learns the
 * queues' drivers from the drivers' directories (each lists its devices), and
 * tries to open a status file only for a queue bound to vfio_ap, one seen
 * for the first time, or one whose status file it still holds.
 *
 * A "full" view (av->full) opens every file afresh, reads every queue's
 * driver link and tries every queue's status file: what apview does, and
 * isorand now and then.
 */
#ifndef APVIEW_H
#define APVIEW_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define AV_MASK_HEX	66	/* "0x" and 64 hex digits */
#define AV_CHECKER	"/sys/kernel/debug/ap_test/invariant"
#define AV_GUESTS	"/sys/kernel/debug/vfio_ap/guests"
#define AV_DRIVERS	16
#define AV_MDEVS	16

/* A queue device, by APQN (apid * 256 + apqi). */
struct av_queue {
	ino_t ino;		/* its entry in /sys/bus/ap/devices; 0 until seen */
	int status;		/* its status file held open, or -1 */
	unsigned int listed;	/* the view in which a driver listed it */
	const char *drv;	/* that driver: vfio, host or other */
};

struct av_driver {
	char name[64];		/* "" for a free slot */
	ino_t ino;
	DIR *dir;		/* /sys/bus/ap/drivers/<name> */
	const char *kind;	/* vfio, host or other */
	unsigned int seen;	/* the last view that found it */
};

struct av_mdev {
	char name[40];		/* "" for a free slot */
	ino_t ino;
	int ap_config, guest_matrix;
	unsigned int seen;
};

struct apview {
	int full;			/* open everything afresh for the next view */
	int guests_with_queues;		/* guests whose CRYCB has adapters and domains */
	size_t len;
	char text[1 << 20];		/* the view */
	char guests[1 << 16];		/* the guests file */
	char report[4096];		/* the checker's answer */
	/* What is kept between views. */
	unsigned int views;
	int bus;			/* /sys/bus/ap */
	DIR *devices;			/* /sys/bus/ap/devices */
	DIR *drivers;			/* /sys/bus/ap/drivers */
	DIR *matrix;			/* /sys/devices/vfio_ap/matrix, NULL without vfio_ap */
	int host[5], guests_fd, checker;
	struct av_driver drv[AV_DRIVERS];
	struct av_mdev mdev[AV_MDEVS];
	struct av_queue q[256 * 256];
};

static inline void av_add(struct apview *v, const char *fmt, const char *a)
{
	int n = snprintf(v->text + v->len, sizeof(v->text) - v->len, fmt, a);

	if (n > 0 && v->len + n < sizeof(v->text))
		v->len += n;
}

/* Appends n bytes of s. */
static inline void av_addn(struct apview *v, const char *s, size_t n)
{
	if (v->len + n < sizeof(v->text)) {
		memcpy(v->text + v->len, s, n);
		v->len += n;
		v->text[v->len] = 0;
	}
}

/*
 * Hand-made hex parsing and printing: the view is made after every step, and
 * under TCG sscanf and snprintf cost more than the system calls around them.
 */
static inline int av_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parses up to max hex digits at *s, advancing it; how many there were. */
static inline int av_hex(const char **s, int max, unsigned int *val)
{
	int n, d;

	*val = 0;
	for (n = 0; n < max && (d = av_hexval(**s)) >= 0; n++, (*s)++)
		*val = *val * 16 + d;
	return n;
}

/* A queue device's name, "AA.QQQQ": 1 and its ids, or 0. */
static inline int av_queue_name(const char *s, unsigned int *apid, unsigned int *apqi)
{
	return av_hex(&s, 2, apid) && *s++ == '.' && av_hex(&s, 4, apqi);
}

/* Appends val as digits hex digits. */
static inline void av_addhex(struct apview *v, unsigned int val, int digits)
{
	static const char hex[] = "0123456789abcdef";
	char buf[8];
	int i;

	for (i = digits - 1; i >= 0; i--, val >>= 4)
		buf[i] = hex[val & 15];
	av_addn(v, buf, digits);
}

static inline void av_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * Reads an open file from its start: the length, or -1. sysfs and debugfs
 * files are seq_files, whose reads come back short only at the end.
 */
static inline ssize_t av_pread(int fd, char *buf, size_t size)
{
	ssize_t n = 0, r;

	while ((size_t)n < size - 1) {
		r = pread(fd, buf + n, size - 1 - n, n);
		if (r < 0)
			return n ? n : -1;
		if (r == 0)
			break;
		n += r;
		if ((size_t)n < size - 1)
			break;
	}
	return n;
}

/*
 * Reads the file held in *fd into buf, dropping trailing newlines. If there
 * is none, or it has gone, and may_open is set, path (relative to dir) is
 * opened and kept in *fd. buf is "" if the file cannot be read.
 */
static inline char *av_read(int *fd, int dir, const char *path, int may_open, char *buf,
			    size_t size)
{
	ssize_t n = -1;

	if (*fd >= 0) {
		n = av_pread(*fd, buf, size);
		if (n < 0)
			av_close(fd);
	}
	if (n < 0 && may_open) {
		*fd = openat(dir, path, O_RDONLY | O_CLOEXEC);
		if (*fd >= 0) {
			n = av_pread(*fd, buf, size);
			if (n < 0)
				av_close(fd);
		}
	}
	if (n < 0)
		n = 0;
	buf[n] = 0;
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = 0;
	return buf;
}

static inline void av_mask_hex(const unsigned char *m, char *out)
{
	static const char hex[] = "0123456789abcdef";
	int i;

	out[0] = '0';
	out[1] = 'x';
	for (i = 0; i < 32; i++) {
		out[2 + 2 * i] = hex[m[i] >> 4];
		out[3 + 2 * i] = hex[m[i] & 15];
	}
	out[AV_MASK_HEX] = 0;
}

static inline void av_set_bit(unsigned char *m, unsigned int bit)
{
	if (bit < 256)
		m[bit / 8] |= 0x80 >> (bit % 8);
}

/* Parses "0x" and 64 hex digits into a mask. */
static inline void av_parse_mask(const char *s, unsigned char *m)
{
	unsigned int i, v;

	memset(m, 0, 32);
	if (strncmp(s, "0x", 2))
		return;
	for (i = 0, s += 2; i < 32 && av_hex(&s, 2, &v); i++)
		m[i] = v;
}

/* Whether a printed mask has a bit set. */
static inline int av_mask_nonzero(const char *s)
{
	if (strncmp(s, "0x", 2))
		return 0;
	for (s += 2; *s; s++)
		if (*s != '0')
			return 1;
	return 0;
}

/* What a driver counts as in the view. */
static inline const char *av_kind(const char *drv)
{
	if (!strcmp(drv, "vfio_ap"))
		return "vfio";
	if (!strncmp(drv, "aptest_", 7) && strcmp(drv, "aptest_nondef"))
		return "host";
	return "other";
}

static inline DIR *av_opendir(int dir, const char *path)
{
	int fd = openat(dir, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);

	if (fd >= 0 && !d)
		close(fd);
	return d;
}

/* Opens the directories; -1 if the bus is missing. */
static inline int av_open(struct apview *v)
{
	unsigned int i;

	v->checker = -1;
	v->guests_fd = -1;
	for (i = 0; i < 5; i++)
		v->host[i] = -1;
	for (i = 0; i < AV_MDEVS; i++)
		v->mdev[i].ap_config = v->mdev[i].guest_matrix = -1;
	for (i = 0; i < 256 * 256; i++)
		v->q[i].status = -1;
	v->bus = open("/sys/bus/ap", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (v->bus < 0)
		return -1;
	v->devices = av_opendir(v->bus, "devices");
	v->drivers = av_opendir(v->bus, "drivers");
	if (!v->devices || !v->drivers)
		return -1;
	v->matrix = av_opendir(AT_FDCWD, "/sys/devices/vfio_ap/matrix");
	return 0;
}

/* The host line; the control domain mask goes to cdm as well. */
static inline void av_host(struct apview *v, char *cdm, size_t size)
{
	static const char *const files[] = {
		"apmask", "aqmask", "ap_adapter_mask", "ap_usage_domain_mask",
		"ap_control_domain_mask",
	};
	char buf[128];
	unsigned int i;

	av_add(v, "%s", "host");
	for (i = 0; i < 5; i++) {
		if (v->full)
			av_close(&v->host[i]);
		av_add(v, " %s", av_read(&v->host[i], v->bus, files[i], 1, buf, sizeof(buf)));
	}
	av_add(v, "%s", "\n");
	snprintf(cdm, size, "%s", buf);
}

/* A kept view: which driver lists which queue. */
static inline void av_listings(struct apview *v)
{
	struct av_driver *d, *free_slot;
	unsigned int apid, apqi, i;
	struct dirent *e;
	char path[80];

	rewinddir(v->drivers);
	while ((e = readdir(v->drivers))) {
		if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof(d->name))
			continue;
		free_slot = NULL;
		for (i = 0, d = NULL; i < AV_DRIVERS && !d; i++) {
			if (!strcmp(v->drv[i].name, e->d_name))
				d = &v->drv[i];
			else if (!v->drv[i].name[0] && !free_slot)
				free_slot = &v->drv[i];
		}
		if (d && d->ino != e->d_ino) {
			/* Registered again: its old directory has gone. */
			closedir(d->dir);
			d->name[0] = 0;
			free_slot = d;
			d = NULL;
		}
		if (!d && free_slot) {
			snprintf(path, sizeof(path), "drivers/%s", e->d_name);
			free_slot->dir = av_opendir(v->bus, path);
			if (free_slot->dir) {
				d = free_slot;
				strcpy(d->name, e->d_name);
				d->ino = e->d_ino;
				d->kind = av_kind(d->name);
			}
		}
		if (d)
			d->seen = v->views;
	}
	for (i = 0; i < AV_DRIVERS; i++) {
		d = &v->drv[i];
		if (!d->name[0])
			continue;
		if (d->seen != v->views) {
			closedir(d->dir);
			d->name[0] = 0;
			continue;
		}
		rewinddir(d->dir);
		while ((e = readdir(d->dir))) {
			if (!av_queue_name(e->d_name, &apid, &apqi) || apqi > 255)
				continue;
			v->q[apid * 256 + apqi].listed = v->views;
			v->q[apid * 256 + apqi].drv = d->kind;
		}
	}
}

static inline void av_queues(struct apview *v)
{
	int dir = dirfd(v->devices), tmp, *status;
	char path[300], link[512], buf[64];
	unsigned int apid, apqi;
	const char *drv, *st;
	struct av_queue *q;
	struct dirent *e;
	int may_open;
	ssize_t n;

	if (!v->full)
		av_listings(v);
	rewinddir(v->devices);
	while ((e = readdir(v->devices))) {
		if (!av_queue_name(e->d_name, &apid, &apqi))
			continue;
		q = apqi < 256 ? &v->q[apid * 256 + apqi] : NULL;
		if (v->full || !q) {
			snprintf(path, sizeof(path), "%s/driver", e->d_name);
			n = readlinkat(dir, path, link, sizeof(link) - 1);
			drv = "none";
			if (n > 0) {
				link[n] = 0;
				drv = av_kind(strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
			}
		} else {
			drv = q->listed == v->views ? q->drv : "none";
		}
		/* A queue first seen (or back under the same name): nothing kept is its. */
		if (q && q->ino != e->d_ino) {
			av_close(&q->status);
			q->ino = e->d_ino;
			may_open = 1;
		} else {
			may_open = !strcmp(drv, "vfio");
		}
		tmp = -1;
		status = q ? &q->status : &tmp;
		if (v->full)
			av_close(status);
		snprintf(path, sizeof(path), "%s/status", e->d_name);
		av_read(status, dir, path, may_open || v->full, buf, sizeof(buf));
		av_close(&tmp);
		st = !buf[0] ? "-" : !strcmp(buf, "in use") ? "in_use" : buf;
		av_addn(v, "queue ", 6);
		av_addhex(v, apid, 2);
		av_addn(v, " ", 1);
		av_addhex(v, apqi, 4);
		av_addn(v, " ", 1);
		av_addn(v, drv, strlen(drv));
		av_addn(v, " ", 1);
		av_addn(v, st, strlen(st));
		av_addn(v, "\n", 1);
	}
}

/*
 * Reads the guests file once per view, and counts the guests whose CRYCB has
 * adapters and domains (lines "<mdev> commits <n> apm <m> aqm <m> adm <m> ...").
 */
static inline void av_read_guests(struct apview *v)
{
	char apm[80], aqm[80], *l, *c;

	if (v->full)
		av_close(&v->guests_fd);
	av_read(&v->guests_fd, AT_FDCWD, AV_GUESTS, 1, v->guests, sizeof(v->guests));
	v->guests_with_queues = 0;
	for (l = v->guests; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
		c = strstr(l, " commits ");
		if (c && sscanf(c, " commits %*u apm %79s aqm %79s", apm, aqm) == 2 &&
		    av_mask_nonzero(apm) && av_mask_nonzero(aqm))
			v->guests_with_queues++;
	}
}

/* The guest masks of mdev uuid from the guests file, as text; 0 if none. */
static inline int av_guest_of(struct apview *v, const char *uuid, char *out, size_t size)
{
	char apm[80], aqm[80], adm[80];
	const char *l;
	int found = 0;

	for (l = v->guests; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
		if (strncmp(l, uuid, 36))
			continue;
		if (sscanf(l + 36, " commits %*u apm %79s aqm %79s adm %79s", apm, aqm, adm) == 3) {
			snprintf(out, size, " %s %s %s", apm, aqm, adm);
			found = 1;
		}
	}
	return found;
}

/* The kept files of mdev e (a free slot for a new one), or NULL if all are taken. */
static inline struct av_mdev *av_mdev_of(struct apview *v, const struct dirent *e)
{
	struct av_mdev *m, *free_slot = NULL;
	unsigned int i;

	for (i = 0; i < AV_MDEVS; i++) {
		m = &v->mdev[i];
		if (!strcmp(m->name, e->d_name)) {
			if (m->ino == e->d_ino && !v->full)
				return m;
			/* Gone and created again, or a full view: open afresh. */
			av_close(&m->ap_config);
			av_close(&m->guest_matrix);
			m->ino = e->d_ino;
			return m;
		}
		if (!m->name[0] && !free_slot)
			free_slot = m;
	}
	if (free_slot) {
		strcpy(free_slot->name, e->d_name);
		free_slot->ino = e->d_ino;
	}
	return free_slot;
}

static inline void av_mdevs(struct apview *v, const char *cfg_adm)
{
	static char buf[8192];
	char path[300], a[3][AV_MASK_HEX + 1], g[256];
	unsigned char apm[32], aqm[32], adm[32], cadm[32];
	unsigned int apid, apqi, i;
	struct av_mdev *m;
	struct dirent *e;
	int dir, tmp[2];
	int *fd;
	char *p, *tok;

	if (!v->matrix)
		return;
	dir = dirfd(v->matrix);
	av_parse_mask(cfg_adm, cadm);
	rewinddir(v->matrix);
	while ((e = readdir(v->matrix))) {
		if (strlen(e->d_name) != 36)
			continue;
		m = av_mdev_of(v, e);
		if (m)
			m->seen = v->views;
		tmp[0] = tmp[1] = -1;
		fd = m ? &m->ap_config : &tmp[0];
		snprintf(path, sizeof(path), "%s/ap_config", e->d_name);
		av_read(fd, dir, path, 1, buf, sizeof(buf));
		tok = strtok(buf, ",");
		for (i = 0; i < 3; i++) {
			snprintf(a[i], sizeof(a[i]), "%s", tok ? tok : "");
			tok = strtok(NULL, ",");
		}
		av_add(v, "mdev %s", a[0]);
		av_add(v, " %s", a[1]);
		av_add(v, " %s", a[2]);
		/* The shadow: guest_matrix lines "AA.QQQQ", "AA." or ".QQQQ". */
		memset(apm, 0, 32);
		memset(aqm, 0, 32);
		fd = m ? &m->guest_matrix : &tmp[1];
		snprintf(path, sizeof(path), "%s/guest_matrix", e->d_name);
		av_read(fd, dir, path, 1, buf, sizeof(buf));
		av_close(&tmp[0]);
		av_close(&tmp[1]);
		for (p = strtok(buf, "\n"); p; p = strtok(NULL, "\n")) {
			const char *c = p;

			if (*c == '.') {
				c++;
				if (av_hex(&c, 8, &apqi))
					av_set_bit(aqm, apqi);
			} else if (av_hex(&c, 8, &apid)) {
				av_set_bit(apm, apid);
				if (*c++ == '.' && av_hex(&c, 8, &apqi))
					av_set_bit(aqm, apqi);
			}
		}
		av_parse_mask(a[2], adm);
		for (i = 0; i < 32; i++)
			adm[i] &= cadm[i];
		av_mask_hex(apm, a[0]);
		av_mask_hex(aqm, a[1]);
		av_mask_hex(adm, a[2]);
		av_add(v, " %s", a[0]);
		av_add(v, " %s", a[1]);
		av_add(v, " %s", a[2]);
		if (av_guest_of(v, e->d_name, g, sizeof(g)))
			av_add(v, "%s", g);
		av_add(v, "%s", "\n");
	}
	/* Forget the mdevs that have gone. */
	for (i = 0; i < AV_MDEVS; i++) {
		m = &v->mdev[i];
		if (m->name[0] && m->seen != v->views) {
			av_close(&m->ap_config);
			av_close(&m->guest_matrix);
			m->name[0] = 0;
		}
	}
}

/* Collects a fresh view into v->text. */
static inline void av_collect(struct apview *v)
{
	char cdm[128];

	v->views++;
	v->len = 0;
	v->text[0] = 0;
	av_host(v, cdm, sizeof(cdm));
	av_queues(v);
	av_read_guests(v);
	av_mdevs(v, cdm);
}

/*
 * Has the checker (path, opened on first use and kept open) check the view:
 * the number of violations, with the report in v->report, or -1 with errno
 * set if the checker cannot be written or read or answers something else.
 */
static inline int av_check(struct apview *v, const char *path)
{
	ssize_t n;
	int viol;

	if (v->checker < 0)
		v->checker = open(path, O_RDWR | O_CLOEXEC);
	if (v->checker < 0)
		return -1;
	n = write(v->checker, v->text, v->len);
	if (n != (ssize_t)v->len) {
		if (n >= 0)
			errno = EIO;
		return -1;
	}
	n = av_pread(v->checker, v->report, sizeof(v->report));
	if (n < 0)
		return -1;
	v->report[n] = 0;
	while (n > 0 && v->report[n - 1] == '\n')
		v->report[--n] = 0;
	if (sscanf(v->report, "violations %d ", &viol) != 1 || viol < 0) {
		errno = EPROTO;
		return -1;
	}
	return viol;
}

#endif /* APVIEW_H */
