// SPDX-License-Identifier: GPL-2.0
/*
 * String module parameters of ap.ko. The Rust module! macro supports only
 * integer and bool parameters, so the charp ones live here and Rust reads
 * them through the accessors below.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <ap-rs/ap_helpers.h>

static int domain = -1;
module_param(domain, int, 0444);
MODULE_PARM_DESC(domain, "The default cryptographic domain (-1: chosen by the bus).");

static char *apmask;
module_param(apmask, charp, 0444);
MODULE_PARM_DESC(apmask, "AP adapter permission mask (absolute or relative form).");

static char *aqmask;
module_param(aqmask, charp, 0444);
MODULE_PARM_DESC(aqmask, "AP usage domain permission mask (absolute or relative form).");

static char *sim;
module_param(sim, charp, 0444);
MODULE_PARM_DESC(sim, "Run on the simulated AP facility with this machine description ('' or 'default' for the default machine). Always used where there are no AP instructions.");

int ap_rs_param_domain(void) { return domain; }
const char *ap_rs_param_apmask(void) { return apmask; }
const char *ap_rs_param_aqmask(void) { return aqmask; }
const char *ap_rs_param_sim(void) { return sim; }
