// SPDX-License-Identifier: GPL-2.0
/*
 * apview [CHECKFILE]: prints the isolation view of the AP bus and vfio_ap
 * (see apview.h for its lines and where each comes from).
 *
 * Without CHECKFILE the view goes to standard output. With it (the test
 * module's ap_test/invariant) the view is written there in one write and the
 * checker's report is printed; the exit status is 0 only for "violations 0".
 */
#include "apview.h"

static struct apview v;

int main(int argc, char **argv)
{
	int n;

	if (av_open(&v) < 0) {
		perror("apview: /sys/bus/ap");
		return 2;
	}
	v.full = 1;
	av_collect(&v);
	if (argc < 2) {
		fwrite(v.text, 1, v.len, stdout);
		return 0;
	}
	n = av_check(&v, argv[1]);
	if (n < 0 && errno != EPROTO) {
		perror("apview: write");
		return 2;
	}
	puts(v.report);
	return n ? 1 : 0;
}
