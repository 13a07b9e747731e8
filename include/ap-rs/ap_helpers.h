/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C helpers of ap.ko that the Rust crate calls (declared again in Rust in
 * drivers/s390/crypto/abstractions/platform.rs; keep both in sync).
 */
#ifndef AP_RS_AP_HELPERS_H
#define AP_RS_AP_HELPERS_H

#include <linux/types.h>

/* Module parameters (ap_params.c); strings are NULL when not given. */
int ap_rs_param_domain(void);
const char *ap_rs_param_apmask(void);
const char *ap_rs_param_aqmask(void);
const char *ap_rs_param_sim(void);

/*
 * The machine's AP instructions (ap_hw.c, s390 only). Status words are the
 * architecture's 32-bit value, info words the 64-bit register contents.
 */
int ap_rs_hw_available(void);
int ap_rs_hw_qci(void *block);
u32 ap_rs_hw_tapq(u16 qid, int tbit, u64 *info);
u32 ap_rs_hw_rapq(u16 qid, int fbit);
u32 ap_rs_hw_zapq(u16 qid, int fbit);
u32 ap_rs_hw_aqic(u16 qid, u64 ctrl, u64 nib);
u32 ap_rs_hw_qact(u16 qid, int ifbit, u64 *info);

/* The bus's delayed works (ap_glue.c) and their Rust bodies. */
void ap_rs_scan_schedule(unsigned int delay_ms);
void ap_rs_poll_schedule(unsigned int delay_us);
void ap_rs_works_cancel(void);
void ap_rs_scan_work(void);
void ap_rs_poll_work(void);

#endif /* AP_RS_AP_HELPERS_H */
