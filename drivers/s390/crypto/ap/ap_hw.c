// SPDX-License-Identifier: GPL-2.0
/*
 * The real AP facility: out-of-line wrappers around the PQAP inlines of
 * <asm/ap.h>, so that Rust can call them. s390 only.
 *
 * Status words are returned as the architecture's 32-bit value (the low half
 * of GR1), info words as the 64-bit register contents.
 */
#include <linux/kernel.h>
#include <asm/ap.h>
#include <ap-rs/ap_helpers.h>

static u32 status_word(struct ap_queue_status st)
{
	return st.value;
}

int ap_rs_hw_available(void)
{
	/* TAPQ(0,0) under an exception table fixup: false without AP instructions. */
	return ap_instructions_available();
}

int ap_rs_hw_qci(void *block)
{
	/* 0, or -EOPNOTSUPP when the QCI facility is not installed. */
	return ap_qci(block);
}

u32 ap_rs_hw_tapq(u16 qid, int tbit, u64 *info)
{
	struct ap_tapq_hwinfo hw = { .value = 0 };
	struct ap_queue_status st = ap_test_queue(qid, tbit, &hw);

	*info = hw.value;
	return status_word(st);
}

u32 ap_rs_hw_rapq(u16 qid, int fbit)
{
	return status_word(ap_rapq(qid, fbit));
}

u32 ap_rs_hw_zapq(u16 qid, int fbit)
{
	return status_word(ap_zapq(qid, fbit));
}

u32 ap_rs_hw_aqic(u16 qid, u64 ctrl, u64 nib)
{
	union ap_qirq_ctrl c = { .value = ctrl };

	return status_word(ap_aqic(qid, c, nib));
}

u32 ap_rs_hw_qact(u16 qid, int ifbit, u64 *info)
{
	union ap_qact_ap_info apinfo = { .val = *info };
	struct ap_queue_status st = ap_qact(qid, ifbit, &apinfo);

	*info = apinfo.val;
	return status_word(st);
}
