/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The driver interface of ap.ko (the Rust AP bus), for the modules that drive
 * AP devices: vfio_ap.ko and the test drivers. Rust users mirror these types
 * in drivers/s390/crypto/abstractions/ap_driver.rs; keep both in sync.
 *
 * Masks are 256-bit MSB0 bitmaps as 32 bytes: id n is byte n / 8, bit
 * 0x80 >> (n % 8) (the byte layout of the C bus's set_bit_inv bitmaps on s390
 * and of the QCI block). A QCI block is the 128-byte PQAP(QCI) block.
 *
 * Binding rules (as the C bus): a card device binds to a default driver. A
 * queue device binds to a default driver iff its APID is set in
 * /sys/bus/ap/apmask and its APQI in /sys/bus/ap/aqmask; otherwise only to a
 * non-default driver.
 */
#ifndef AP_RS_AP_BUS_H
#define AP_RS_AP_BUS_H

#include <linux/device.h>
#include <linux/mutex.h>
#include <linux/types.h>

#define AP_RS_DEVICE_TYPE_CEX4	10
#define AP_RS_DEVICE_TYPE_CEX8	14

/* Device kinds, also used as a driver's match mask. */
#define AP_RS_KIND_CARD		0x1
#define AP_RS_KIND_QUEUE	0x2

/* An AP device on bus "ap": /sys/devices/ap/cardXX or cardXX/XX.YYYY. */
struct ap_rs_device {
	struct device device;
	u32 kind;		/* AP_RS_KIND_CARD or AP_RS_KIND_QUEUE */
	u32 device_type;	/* compatible type, AP_RS_DEVICE_TYPE_CEX4..CEX8 */
	u16 apqn;		/* APID << 8 | APQI; a card has APQI 0 */
};

/* The driver is a default (host) driver: it gets the APQNs apmask/aqmask reserve. */
#define AP_RS_DRIVER_FLAG_DEFAULT	0x1

/*
 * An AP driver. Every callback gets the driver itself first, so that a
 * driver can reach its own state with container_of().
 *
 * probe/remove: a device of a matching kind and type was (un)bound.
 * in_use: asked before an apmask/aqmask write gives APQNs back to the
 *	default drivers, with the bus attribute mutex held: the APQNs are
 *	apm x aqm; non-zero means some of them are in use and the write fails
 *	with EBUSY. Only asked of drivers without AP_RS_DRIVER_FLAG_DEFAULT.
 * on_config_changed: the host configuration (QCI) changed; called at the
 *	start of a scan, before devices are added or removed.
 * on_scan_complete: called after such a scan.
 */
struct ap_rs_driver {
	struct device_driver driver;
	u32 flags;		/* AP_RS_DRIVER_FLAG_* */
	u32 kinds;		/* AP_RS_KIND_* it binds */
	u32 types;		/* bit t set: binds device_type t */
	int (*probe)(struct ap_rs_driver *drv, struct ap_rs_device *dev);
	void (*remove)(struct ap_rs_driver *drv, struct ap_rs_device *dev);
	int (*in_use)(struct ap_rs_driver *drv, const u8 *apm, const u8 *aqm);
	void (*on_config_changed)(struct ap_rs_driver *drv, const u8 *new_qci,
				  const u8 *old_qci);
	void (*on_scan_complete)(struct ap_rs_driver *drv, const u8 *new_qci,
				 const u8 *old_qci);
};

int ap_rs_driver_register(struct ap_rs_driver *drv, struct module *owner,
			  const char *name);
void ap_rs_driver_unregister(struct ap_rs_driver *drv);

/*
 * The bus attribute mutex, as the C bus's: apmask/aqmask writes hold it while they
 * ask in_use, so a driver takes it before its own locks. The ownership query needs
 * it held.
 */
extern struct mutex ap_attr_mutex;
bool ap_rs_matrix_owned_by_default(const u8 *apm, const u8 *aqm);

/* The QCI block of the last scan: 0, or -EOPNOTSUPP without QCI. */
int ap_rs_qci(u8 *block);

/* Scans the bus now; true if the configuration changed. */
bool ap_rs_force_rescan(void);

/* AP instructions on the bus's AP facility (the machine's or the simulator). */
u32 ap_rs_tapq(u16 apqn, int tbit, u64 *info);
u32 ap_rs_zapq(u16 apqn, int fbit);
u32 ap_rs_aqic(u16 apqn, u64 ctrl, u64 nib);

/*
 * ZAPQ or TAPQ (without GR2 information) on each of the n APQNs of apqns, in
 * order, under one hold of the facility lock; status[k] gets the status word
 * of apqns[k]. For a batch of queue resets (vfio_ap): one lock instead of one
 * per instruction. Without the bus, every status is 0x00010000 (as the single
 * ones answer). n is 0, or both arrays have n elements.
 */
void ap_rs_zapq_many(const u16 *apqns, u32 n, int fbit, u32 *status);
void ap_rs_tapq_many(const u16 *apqns, u32 n, int tbit, u32 *status);

#endif /* AP_RS_AP_BUS_H */
