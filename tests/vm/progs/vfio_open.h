/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Opening a mediated device's VFIO device the way QEMU's vfio-ap device does
 * (vfio_ap_realize): the mdev's IOMMU group, a container, the group in the
 * container, the IOMMU type, and the device fd from the group. Shared by
 * vfio_client.c and isorand.c.
 */
#ifndef VFIO_OPEN_H
#define VFIO_OPEN_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* The IOMMU group number of mdev id (in buf), or NULL with errno set. */
static inline const char *vfio_group_of(const char *id, char *buf, size_t size)
{
	char path[PATH_MAX];
	const char *grp;
	ssize_t len;

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%.64s/iommu_group", id);
	len = readlink(path, buf, size - 1);
	if (len < 0)
		return NULL;
	buf[len] = 0;
	grp = strrchr(buf, '/');
	return grp ? grp + 1 : buf;
}

/* A failed step: its errno (with *step naming it), after closing what fds[] holds. */
static inline int vfio_open_fail(int e, const char *what, const char **step, int *fds)
{
	int i;

	for (i = 2; i >= 0; i--)
		if (fds[i] >= 0)
			close(fds[i]);
	*step = what;
	return e;
}

/*
 * Opens the device of mdev uuid: 0 with container, group and device fd in
 * fds[0..2], or an errno with *step naming the step that failed (group,
 * container, viable, set_container, set_iommu or device).
 */
static inline int vfio_open_device(const char *uuid, int fds[3], const char **step)
{
	char path[PATH_MAX], link[PATH_MAX];
	struct vfio_group_status status = { .argsz = sizeof(status) };
	int c = -1, g = -1, d, type;
	int got[3] = { -1, -1, -1 };
	const char *grp;

	grp = vfio_group_of(uuid, link, sizeof(link));
	if (!grp)
		return vfio_open_fail(errno, "group", step, got);

	c = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (c < 0)
		return vfio_open_fail(errno, "container", step, got);
	got[0] = c;
	type = ioctl(c, VFIO_GET_API_VERSION);
	if (type != VFIO_API_VERSION)
		return vfio_open_fail(type < 0 ? errno : EINVAL, "container", step, got);
	if (ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0)
		type = VFIO_TYPE1v2_IOMMU;
	else if (ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) > 0)
		type = VFIO_TYPE1_IOMMU;
	else
		return vfio_open_fail(ENODEV, "container", step, got);

	snprintf(path, sizeof(path), "/dev/vfio/%.64s", grp);
	g = open(path, O_RDWR | O_CLOEXEC);
	if (g < 0)
		return vfio_open_fail(errno, "group", step, got);
	got[1] = g;
	if (ioctl(g, VFIO_GROUP_GET_STATUS, &status) < 0)
		return vfio_open_fail(errno, "viable", step, got);
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE))
		return vfio_open_fail(EPERM, "viable", step, got);
	if (ioctl(g, VFIO_GROUP_SET_CONTAINER, &c) < 0)
		return vfio_open_fail(errno, "set_container", step, got);
	if (ioctl(c, VFIO_SET_IOMMU, type) < 0)
		return vfio_open_fail(errno, "set_iommu", step, got);
	d = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, uuid);
	if (d < 0)
		return vfio_open_fail(errno, "device", step, got);
	fds[0] = c;
	fds[1] = g;
	fds[2] = d;
	return 0;
}

#endif /* VFIO_OPEN_H */
