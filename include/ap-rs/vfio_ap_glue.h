/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The interface between the C glue of vfio_ap.ko (vfio_ap_glue.c: the matrix
 * bus, device and driver, the mdev parent, type and driver, the VFIO device)
 * and its Rust crate (vfio_ap_main.rs), which makes every decision.
 *
 * The Rust side is mirrored in drivers/s390/crypto/abstractions/mdev.rs; keep
 * both in sync.
 *
 * An mdev is named by the id the Rust side returned from mdev_create; the
 * glue's own object (struct vfio_ap_glue_mdev) is opaque to Rust and valid
 * from mdev_create until mdev_destroy returns.
 */
#ifndef AP_RS_VFIO_AP_GLUE_H
#define AP_RS_VFIO_AP_GLUE_H

#include <linux/kconfig.h>
#include <linux/types.h>

struct vfio_ap_glue_mdev;
struct kvm;
struct kvm_vcpu;

/* The files of an mdev (and VFIO_AP_ATTR_FEATURES of the matrix device). */
enum vfio_ap_glue_attr {
	VFIO_AP_ATTR_FEATURES,
	VFIO_AP_ATTR_ASSIGN_ADAPTER,
	VFIO_AP_ATTR_UNASSIGN_ADAPTER,
	VFIO_AP_ATTR_ASSIGN_DOMAIN,
	VFIO_AP_ATTR_UNASSIGN_DOMAIN,
	VFIO_AP_ATTR_ASSIGN_CONTROL_DOMAIN,
	VFIO_AP_ATTR_UNASSIGN_CONTROL_DOMAIN,
	VFIO_AP_ATTR_CONTROL_DOMAINS,
	VFIO_AP_ATTR_MATRIX,
	VFIO_AP_ATTR_GUEST_MATRIX,
	VFIO_AP_ATTR_AP_CONFIG,
};

/*
 * Callbacks into Rust. Shows write at most PAGE_SIZE bytes to buf and return
 * the length; stores return count or a negative errno.
 *
 * mdev_create: a new mdev named name (its UUID); set *id. Called from the
 *	mdev driver's probe, before the VFIO device is registered.
 * mdev_destroy: the mdev goes (after the VFIO device is unregistered, so it is
 *	closed).
 * open_device, close_device, ioctl, request, dma_unmap: the VFIO device ops;
 *	kvm is the KVM the device was opened with, or NULL.
 */
struct vfio_ap_rs_ops {
	ssize_t (*matrix_show)(u32 attr, char *buf);
	int (*mdev_create)(struct vfio_ap_glue_mdev *m, const char *name, u32 *id);
	void (*mdev_destroy)(u32 id);
	ssize_t (*mdev_show)(u32 id, u32 attr, char *buf);
	ssize_t (*mdev_store)(u32 id, u32 attr, const char *buf, size_t count);
	int (*open_device)(u32 id, struct kvm *kvm);	/* 1: a KVM guest attached */
	void (*close_device)(u32 id);
	long (*ioctl)(u32 id, unsigned int cmd, unsigned long arg);
	void (*request)(u32 id, unsigned int count);
	void (*dma_unmap)(u32 id, u64 iova, u64 length);
	/*
	 * s390 with KVM: the guest's PQAP(AQIC) (KVM holds pqap_hook_rwsem):
	 * gprs are GR0-GR2, GR1 is the answer; 0 or -EOPNOTSUPP (user space).
	 */
	int (*pqap)(u32 id, struct kvm_vcpu *vcpu, bool eca_aiv, u64 *gprs);
};

/* Creates /sys/devices/vfio_ap/matrix and registers the mdev parent and driver. */
int vfio_ap_glue_init(const struct vfio_ap_rs_ops *ops);
/* Undoes vfio_ap_glue_init (every mdev is removed first). */
void vfio_ap_glue_exit(void);

/* Logs msg on the mdev's device (dev_printk; level 3 err, 4 warn, 6 info). */
void vfio_ap_glue_mdev_log(struct vfio_ap_glue_mdev *m, int level, const char *msg);
/* Logs msg on the matrix device. */
void vfio_ap_glue_matrix_log(int level, const char *msg);

/* The eventfds of VFIO_AP_REQ_IRQ_INDEX (0) and VFIO_AP_CFG_CHG_IRQ_INDEX (1). */
/* Sets (fd >= 0) or clears (fd < 0) a trigger; 0 or a negative errno. */
int vfio_ap_glue_set_trigger(struct vfio_ap_glue_mdev *m, u32 index, int fd);
/* Signals a trigger; false if none is set. */
bool vfio_ap_glue_signal(struct vfio_ap_glue_mdev *m, u32 index);

#if IS_ENABLED(CONFIG_KVM) && defined(CONFIG_S390)
/* An s390 KVM guest: its CRYCB designation, references, kvm->lock, masks. */
u32 vfio_ap_glue_kvm_crycbd(struct kvm *kvm);
void vfio_ap_glue_kvm_get(struct kvm *kvm);
void vfio_ap_glue_kvm_put(struct kvm *kvm);
void vfio_ap_glue_kvm_lock(struct kvm *kvm);
void vfio_ap_glue_kvm_unlock(struct kvm *kvm);
/* With kvm->lock held: kvm_arch_crypto_set_masks / kvm_arch_crypto_clear_masks. */
void vfio_ap_glue_kvm_set_masks(struct kvm *kvm, const u8 *apm, const u8 *aqm, const u8 *adm);
void vfio_ap_glue_kvm_clear_masks(struct kvm *kvm);
/* What an interruption enable or disable needs. */
int vfio_ap_glue_kvm_gisc_register(struct kvm *kvm, u32 isc);
void vfio_ap_glue_kvm_gisc_unregister(struct kvm *kvm, u32 isc);
u64 vfio_ap_glue_kvm_gisa_phys(struct kvm *kvm);
bool vfio_ap_glue_vcpu_pv_protected(struct kvm_vcpu *vcpu);
bool vfio_ap_glue_uv_pin_shared(u64 paddr);
int vfio_ap_glue_pin(struct vfio_ap_glue_mdev *m, u64 iova, u64 *phys);
void vfio_ap_glue_unpin(struct vfio_ap_glue_mdev *m, u64 iova);
#endif

#endif /* AP_RS_VFIO_AP_GLUE_H */
