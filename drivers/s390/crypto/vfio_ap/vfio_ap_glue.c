// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_ap.ko, C side: the kernel objects the kernel crate of Linux 7.3 has no
 * abstraction for. It creates the matrix bus, device and driver, registers
 * the mdev parent with its single type and the mdev driver, and gives every
 * mdev a VFIO device with an emulated IOMMU. Every callback forwards to the
 * Rust crate through struct vfio_ap_rs_ops (include/ap-rs/vfio_ap_glue.h);
 * nothing here decides anything.
 */
#include <linux/device.h>
#include <linux/eventfd.h>
#if IS_ENABLED(CONFIG_KVM) && defined(CONFIG_S390)
#include <linux/kvm_host.h>
#include <linux/iommu.h>
#include <asm/uv.h>
#endif
#include <linux/mdev.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vfio.h>

#include <ap-rs/vfio_ap_glue.h>

#define VFIO_AP_GLUE_NUM_IRQS 2

#if IS_ENABLED(CONFIG_KVM) && defined(CONFIG_S390)
#define VFIO_AP_GLUE_KVM 1
#else
#define VFIO_AP_GLUE_KVM 0
#endif

struct vfio_ap_glue_mdev {
	struct vfio_device vdev;
	u32 id;				/* the Rust side's name of this mdev */
	bool created;			/* mdev_create succeeded */
	/* Set and signalled by the Rust side under its mdevs_lock. */
	struct eventfd_ctx *trigger[VFIO_AP_GLUE_NUM_IRQS];
#if VFIO_AP_GLUE_KVM
	/* Registered as kvm->arch.crypto.pqap_hook while a KVM guest has the mdev. */
	crypto_hook pqap_hook;
	bool hooked;
#endif
};

struct vfio_ap_glue_matrix {
	struct device device;
	struct mdev_parent parent;
	struct mdev_type type;
	struct mdev_type *types[1];
};

static const struct vfio_ap_rs_ops *rs;
static struct device *root_device;
static struct vfio_ap_glue_matrix *matrix;

static const struct bus_type matrix_bus = {
	.name = "matrix",
};

static ssize_t features_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return rs->matrix_show(VFIO_AP_ATTR_FEATURES, buf);
}
static DEVICE_ATTR_RO(features);

static struct attribute *matrix_dev_attrs[] = {
	&dev_attr_features.attr,
	NULL,
};
ATTRIBUTE_GROUPS(matrix_dev);

static struct device_driver matrix_driver = {
	.name = "vfio_ap",
	.bus = &matrix_bus,
	.suppress_bind_attrs = true,
	.dev_groups = matrix_dev_groups,
};

static void matrix_release(struct device *dev)
{
	kfree(container_of(dev, struct vfio_ap_glue_matrix, device));
}

static struct vfio_ap_glue_mdev *glue_of(struct device *dev)
{
	return dev_get_drvdata(dev);
}

/* The per-mdev files: show and store forward the file's id. */
#define VFIO_AP_GLUE_SHOW(name, attr_id)					\
static ssize_t name##_show(struct device *dev, struct device_attribute *a,	\
			   char *buf)						\
{										\
	return rs->mdev_show(glue_of(dev)->id, attr_id, buf);			\
}
#define VFIO_AP_GLUE_STORE(name, attr_id)					\
static ssize_t name##_store(struct device *dev, struct device_attribute *a,	\
			    const char *buf, size_t count)			\
{										\
	return rs->mdev_store(glue_of(dev)->id, attr_id, buf, count);		\
}

VFIO_AP_GLUE_STORE(assign_adapter, VFIO_AP_ATTR_ASSIGN_ADAPTER)
VFIO_AP_GLUE_STORE(unassign_adapter, VFIO_AP_ATTR_UNASSIGN_ADAPTER)
VFIO_AP_GLUE_STORE(assign_domain, VFIO_AP_ATTR_ASSIGN_DOMAIN)
VFIO_AP_GLUE_STORE(unassign_domain, VFIO_AP_ATTR_UNASSIGN_DOMAIN)
VFIO_AP_GLUE_STORE(assign_control_domain, VFIO_AP_ATTR_ASSIGN_CONTROL_DOMAIN)
VFIO_AP_GLUE_STORE(unassign_control_domain, VFIO_AP_ATTR_UNASSIGN_CONTROL_DOMAIN)
VFIO_AP_GLUE_SHOW(control_domains, VFIO_AP_ATTR_CONTROL_DOMAINS)
VFIO_AP_GLUE_SHOW(matrix, VFIO_AP_ATTR_MATRIX)
VFIO_AP_GLUE_SHOW(guest_matrix, VFIO_AP_ATTR_GUEST_MATRIX)
VFIO_AP_GLUE_SHOW(ap_config, VFIO_AP_ATTR_AP_CONFIG)
VFIO_AP_GLUE_STORE(ap_config, VFIO_AP_ATTR_AP_CONFIG)

static DEVICE_ATTR_WO(assign_adapter);
static DEVICE_ATTR_WO(unassign_adapter);
static DEVICE_ATTR_WO(assign_domain);
static DEVICE_ATTR_WO(unassign_domain);
static DEVICE_ATTR_WO(assign_control_domain);
static DEVICE_ATTR_WO(unassign_control_domain);
static DEVICE_ATTR_RO(control_domains);
static DEVICE_ATTR_RO(matrix);
static DEVICE_ATTR_RO(guest_matrix);
static DEVICE_ATTR_RW(ap_config);

static struct attribute *vfio_ap_mdev_attrs[] = {
	&dev_attr_assign_adapter.attr,
	&dev_attr_unassign_adapter.attr,
	&dev_attr_assign_domain.attr,
	&dev_attr_unassign_domain.attr,
	&dev_attr_assign_control_domain.attr,
	&dev_attr_unassign_control_domain.attr,
	&dev_attr_ap_config.attr,
	&dev_attr_control_domains.attr,
	&dev_attr_matrix.attr,
	&dev_attr_guest_matrix.attr,
	NULL,
};
ATTRIBUTE_GROUPS(vfio_ap_mdev);

static struct vfio_ap_glue_mdev *glue_of_vdev(struct vfio_device *vdev)
{
	return container_of(vdev, struct vfio_ap_glue_mdev, vdev);
}

#if VFIO_AP_GLUE_KVM
static void vfio_ap_glue_set_hook(struct kvm *kvm, struct vfio_ap_glue_mdev *m, bool on)
{
	down_write(&kvm->arch.crypto.pqap_hook_rwsem);
	kvm->arch.crypto.pqap_hook = on ? &m->pqap_hook : NULL;
	up_write(&kvm->arch.crypto.pqap_hook_rwsem);
}
#endif

/*
 * Rust answers 1 if it attached a KVM guest: then the mdev's PQAP hook is
 * registered with it until close (before the guest's vCPUs run; the C driver
 * registers it under its update locks, which makes no difference to KVM).
 */
static int vfio_ap_glue_open(struct vfio_device *vdev)
{
	struct vfio_ap_glue_mdev *m = glue_of_vdev(vdev);
	int ret = rs->open_device(m->id, vdev->kvm);

	if (ret < 0)
		return ret;
#if VFIO_AP_GLUE_KVM
	m->hooked = ret == 1;
	if (m->hooked)
		vfio_ap_glue_set_hook(vdev->kvm, m, true);
#endif
	return 0;
}

static void vfio_ap_glue_close(struct vfio_device *vdev)
{
	struct vfio_ap_glue_mdev *m = glue_of_vdev(vdev);

#if VFIO_AP_GLUE_KVM
	if (m->hooked)
		vfio_ap_glue_set_hook(vdev->kvm, m, false);
	m->hooked = false;
#endif
	rs->close_device(m->id);
}

static long vfio_ap_glue_ioctl(struct vfio_device *vdev, unsigned int cmd, unsigned long arg)
{
	return rs->ioctl(glue_of_vdev(vdev)->id, cmd, arg);
}

static void vfio_ap_glue_request(struct vfio_device *vdev, unsigned int count)
{
	rs->request(glue_of_vdev(vdev)->id, count);
}

static void vfio_ap_glue_dma_unmap(struct vfio_device *vdev, u64 iova, u64 length)
{
	rs->dma_unmap(glue_of_vdev(vdev)->id, iova, length);
}

static void vfio_ap_glue_release(struct vfio_device *vdev)
{
	struct vfio_ap_glue_mdev *m = glue_of_vdev(vdev);
	int i;

	for (i = 0; i < VFIO_AP_GLUE_NUM_IRQS; i++)
		if (m->trigger[i])
			eventfd_ctx_put(m->trigger[i]);
}

static const struct vfio_device_ops vfio_ap_glue_vfio_ops = {
	.release = vfio_ap_glue_release,
	.open_device = vfio_ap_glue_open,
	.close_device = vfio_ap_glue_close,
	.ioctl = vfio_ap_glue_ioctl,
	.request = vfio_ap_glue_request,
	.dma_unmap = vfio_ap_glue_dma_unmap,
	.bind_iommufd = vfio_iommufd_emulated_bind,
	.unbind_iommufd = vfio_iommufd_emulated_unbind,
	.attach_ioas = vfio_iommufd_emulated_attach_ioas,
	.detach_ioas = vfio_iommufd_emulated_detach_ioas,
};

#if VFIO_AP_GLUE_KVM
/*
 * The guest's PQAP(AQIC), intercepted by KVM, which holds pqap_hook_rwsem for
 * reading: GR0-GR2 go to Rust, which answers in GR1 (0) or sends the
 * instruction to user space (-EOPNOTSUPP).
 */
static int vfio_ap_glue_pqap(struct kvm_vcpu *vcpu)
{
	struct vfio_ap_glue_mdev *m;
	u64 gprs[3];
	int ret;

	m = container_of(vcpu->kvm->arch.crypto.pqap_hook, struct vfio_ap_glue_mdev, pqap_hook);
	memcpy(gprs, vcpu->run->s.regs.gprs, sizeof(gprs));
	ret = rs->pqap(m->id, vcpu, !!(vcpu->arch.sie_block->eca & ECA_AIV), gprs);
	if (!ret)
		vcpu->run->s.regs.gprs[1] = gprs[1];
	return ret;
}
#endif

static int vfio_ap_glue_mdev_probe(struct mdev_device *mdev)
{
	struct vfio_ap_glue_mdev *m;
	int ret;

	m = vfio_alloc_device(vfio_ap_glue_mdev, vdev, &mdev->dev, &vfio_ap_glue_vfio_ops);
	if (IS_ERR(m))
		return PTR_ERR(m);
#if VFIO_AP_GLUE_KVM
	m->pqap_hook = vfio_ap_glue_pqap;
#endif
	ret = rs->mdev_create(m, dev_name(&mdev->dev), &m->id);
	if (ret)
		goto err_put;
	m->created = true;
	dev_set_drvdata(&mdev->dev, m);
	ret = vfio_register_emulated_iommu_dev(&m->vdev);
	if (ret)
		goto err_destroy;
	return 0;

err_destroy:
	dev_set_drvdata(&mdev->dev, NULL);
	rs->mdev_destroy(m->id);
err_put:
	vfio_put_device(&m->vdev);
	return ret;
}

static void vfio_ap_glue_mdev_remove(struct mdev_device *mdev)
{
	struct vfio_ap_glue_mdev *m = dev_get_drvdata(&mdev->dev);

	/* Waits until the device is closed, relaying requests (the request op). */
	vfio_unregister_group_dev(&m->vdev);
	rs->mdev_destroy(m->id);
	dev_set_drvdata(&mdev->dev, NULL);
	vfio_put_device(&m->vdev);
}

static struct mdev_driver vfio_ap_glue_mdev_driver = {
	.device_api = VFIO_DEVICE_API_AP_STRING,
	.max_instances = 65536,
	.driver = {
		.name = "vfio_ap_mdev",
		.owner = THIS_MODULE,
		.mod_name = KBUILD_MODNAME,
		.dev_groups = vfio_ap_mdev_groups,
	},
	.probe = vfio_ap_glue_mdev_probe,
	.remove = vfio_ap_glue_mdev_remove,
};

int vfio_ap_glue_init(const struct vfio_ap_rs_ops *ops)
{
	int ret;

	rs = ops;
	root_device = root_device_register("vfio_ap");
	if (IS_ERR(root_device))
		return PTR_ERR(root_device);
	ret = bus_register(&matrix_bus);
	if (ret)
		goto err_root;
	matrix = kzalloc(sizeof(*matrix), GFP_KERNEL);
	if (!matrix) {
		ret = -ENOMEM;
		goto err_bus;
	}
	device_initialize(&matrix->device);
	matrix->device.parent = root_device;
	matrix->device.bus = &matrix_bus;
	matrix->device.release = matrix_release;
	ret = dev_set_name(&matrix->device, "matrix");
	if (ret)
		goto err_matrix;
	ret = device_add(&matrix->device);
	if (ret)
		goto err_matrix;
	ret = driver_register(&matrix_driver);
	if (ret)
		goto err_del;
	ret = mdev_register_driver(&vfio_ap_glue_mdev_driver);
	if (ret)
		goto err_driver;
	matrix->type.sysfs_name = "passthrough";
	matrix->type.pretty_name = "VFIO AP Passthrough Device";
	matrix->types[0] = &matrix->type;
	ret = mdev_register_parent(&matrix->parent, &matrix->device, &vfio_ap_glue_mdev_driver,
				   matrix->types, 1);
	if (ret)
		goto err_mdev_driver;
	return 0;

err_mdev_driver:
	mdev_unregister_driver(&vfio_ap_glue_mdev_driver);
err_driver:
	driver_unregister(&matrix_driver);
err_del:
	device_del(&matrix->device);
err_matrix:
	put_device(&matrix->device);
	matrix = NULL;
err_bus:
	bus_unregister(&matrix_bus);
err_root:
	root_device_unregister(root_device);
	return ret;
}

void vfio_ap_glue_exit(void)
{
	mdev_unregister_parent(&matrix->parent);
	mdev_unregister_driver(&vfio_ap_glue_mdev_driver);
	driver_unregister(&matrix_driver);
	device_unregister(&matrix->device);
	matrix = NULL;
	bus_unregister(&matrix_bus);
	root_device_unregister(root_device);
}

static void glue_log(struct device *dev, int level, const char *msg)
{
	if (level <= 3)
		dev_err(dev, "%s\n", msg);
	else if (level == 4)
		dev_warn(dev, "%s\n", msg);
	else
		dev_info(dev, "%s\n", msg);
}

void vfio_ap_glue_mdev_log(struct vfio_ap_glue_mdev *m, int level, const char *msg)
{
	glue_log(m->vdev.dev, level, msg);
}

void vfio_ap_glue_matrix_log(int level, const char *msg)
{
	glue_log(&matrix->device, level, msg);
}

int vfio_ap_glue_set_trigger(struct vfio_ap_glue_mdev *m, u32 index, int fd)
{
	struct eventfd_ctx *ctx = NULL;

	if (index >= VFIO_AP_GLUE_NUM_IRQS)
		return -EINVAL;
	if (fd >= 0) {
		ctx = eventfd_ctx_fdget(fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
	}
	if (m->trigger[index])
		eventfd_ctx_put(m->trigger[index]);
	m->trigger[index] = ctx;
	return 0;
}

bool vfio_ap_glue_signal(struct vfio_ap_glue_mdev *m, u32 index)
{
	if (index >= VFIO_AP_GLUE_NUM_IRQS || !m->trigger[index])
		return false;
	eventfd_signal(m->trigger[index]);
	return true;
}

#if IS_ENABLED(CONFIG_KVM) && defined(CONFIG_S390)
/*
 * The KVM guest of an s390 host: what GuestCrypto needs of struct kvm. The
 * masks are 32-byte MSB0 bitmaps, the byte layout of the kernel's inverted
 * bitmaps on big-endian s390, copied into aligned longs.
 */
u32 vfio_ap_glue_kvm_crycbd(struct kvm *kvm)
{
	return kvm->arch.crypto.crycbd;
}

void vfio_ap_glue_kvm_get(struct kvm *kvm)
{
	kvm_get_kvm(kvm);
}

void vfio_ap_glue_kvm_put(struct kvm *kvm)
{
	kvm_put_kvm(kvm);
}

void vfio_ap_glue_kvm_lock(struct kvm *kvm)
{
	mutex_lock(&kvm->lock);
}

void vfio_ap_glue_kvm_unlock(struct kvm *kvm)
{
	mutex_unlock(&kvm->lock);
}

/* kvm->lock held. */
void vfio_ap_glue_kvm_set_masks(struct kvm *kvm, const u8 *apm, const u8 *aqm, const u8 *adm)
{
	unsigned long a[4], q[4], d[4];

	memcpy(a, apm, sizeof(a));
	memcpy(q, aqm, sizeof(q));
	memcpy(d, adm, sizeof(d));
	kvm_arch_crypto_set_masks(kvm, a, q, d);
}

/* kvm->lock held. */
void vfio_ap_glue_kvm_clear_masks(struct kvm *kvm)
{
	kvm_arch_crypto_clear_masks(kvm);
}
#endif

#if VFIO_AP_GLUE_KVM
int vfio_ap_glue_kvm_gisc_register(struct kvm *kvm, u32 isc)
{
	return kvm_s390_gisc_register(kvm, isc);
}

void vfio_ap_glue_kvm_gisc_unregister(struct kvm *kvm, u32 isc)
{
	kvm_s390_gisc_unregister(kvm, isc);
}

u64 vfio_ap_glue_kvm_gisa_phys(struct kvm *kvm)
{
	return virt_to_phys(kvm->arch.gisa_int.origin);
}

bool vfio_ap_glue_vcpu_pv_protected(struct kvm_vcpu *vcpu)
{
	return kvm_s390_pv_cpu_is_protected(vcpu);
}

bool vfio_ap_glue_uv_pin_shared(u64 paddr)
{
	return uv_pin_shared(paddr) == 0;
}

/* Pins the guest page of iova; 0 and its physical address, or an error. */
int vfio_ap_glue_pin(struct vfio_ap_glue_mdev *m, u64 iova, u64 *phys)
{
	struct page *page;
	int ret;

	ret = vfio_pin_pages(&m->vdev, iova, 1, IOMMU_READ | IOMMU_WRITE, &page);
	if (ret != 1)
		return ret < 0 ? ret : -EINVAL;
	*phys = page_to_phys(page);
	return 0;
}

void vfio_ap_glue_unpin(struct vfio_ap_glue_mdev *m, u64 iova)
{
	vfio_unpin_pages(&m->vdev, iova, 1);
}
#endif
