// SPDX-License-Identifier: GPL-2.0
/*
 * What ap.ko's Rust code cannot express itself: the EXPORT_SYMBOL_GPL entries
 * of its driver interface (include/ap-rs/ap_bus.h; the functions are defined
 * in Rust, abstractions/ap_bus_ffi.rs) and two delayed works built with the
 * INIT_DELAYED_WORK macro: the periodic bus scan and the queue poll.
 */
#include <linux/module.h>
#include <linux/workqueue.h>
#include <linux/jiffies.h>
#include <linux/mutex.h>
#include <ap-rs/ap_bus.h>
#include <ap-rs/ap_helpers.h>

/*
 * The bus attribute mutex, as the C bus has it: apmask/aqmask writes hold it while
 * they ask the drivers' in_use, and the drivers take it before their own locks.
 * Rust reaches it through abstractions/attr_mutex.rs.
 */
DEFINE_MUTEX(ap_attr_mutex);
EXPORT_SYMBOL_GPL(ap_attr_mutex);

EXPORT_SYMBOL_GPL(ap_rs_driver_register);
EXPORT_SYMBOL_GPL(ap_rs_driver_unregister);
EXPORT_SYMBOL_GPL(ap_rs_matrix_owned_by_default);
EXPORT_SYMBOL_GPL(ap_rs_qci);
EXPORT_SYMBOL_GPL(ap_rs_force_rescan);
EXPORT_SYMBOL_GPL(ap_rs_tapq);
EXPORT_SYMBOL_GPL(ap_rs_zapq);
EXPORT_SYMBOL_GPL(ap_rs_aqic);
EXPORT_SYMBOL_GPL(ap_rs_zapq_many);
EXPORT_SYMBOL_GPL(ap_rs_tapq_many);

static void ap_rs_scan_fn(struct work_struct *unused)
{
	ap_rs_scan_work();
}

static void ap_rs_poll_fn(struct work_struct *unused)
{
	ap_rs_poll_work();
}

static DECLARE_DELAYED_WORK(ap_rs_scan_dwork, ap_rs_scan_fn);
static DECLARE_DELAYED_WORK(ap_rs_poll_dwork, ap_rs_poll_fn);

void ap_rs_scan_schedule(unsigned int delay_ms)
{
	mod_delayed_work(system_long_wq, &ap_rs_scan_dwork, msecs_to_jiffies(delay_ms));
}

void ap_rs_poll_schedule(unsigned int delay_us)
{
	mod_delayed_work(system_percpu_wq, &ap_rs_poll_dwork, usecs_to_jiffies(delay_us));
}

void ap_rs_works_cancel(void)
{
	cancel_delayed_work_sync(&ap_rs_scan_dwork);
	cancel_delayed_work_sync(&ap_rs_poll_dwork);
}
