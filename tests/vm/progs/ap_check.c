// SPDX-License-Identifier: GPL-2.0
/*
 * ap_check: an mdevctl callout for vfio_ap mdevs (type vfio_ap-passthrough,
 * parent matrix), installed by tests/vm/tests/mdevctl.sh into
 * /etc/mdevctl.d/scripts.d/callouts/.
 *
 * Why it exists: mdevctl knows nothing about vfio_ap; it changes a running
 * mdev (`mdevctl modify --live`) only through a callout that speaks version 2
 * of its callout protocol (mdevctl 1.4, src/callouts.rs), and it shows a
 * running mdev's attributes only if a callout reports them. On s390
 * distributions the vfio_ap callout is s390-tools' ap-check; Debian's
 * s390-tools package does not ship it (and it is built on s390-tools' own
 * libraries). This small stand-in follows ap-check's conventions (exit 2 for
 * other types, only parent matrix, attributes in decimal with adapters first,
 * then domains, then control domains, the usage-domain check before a start)
 * and does the live modify through the mdev's ap_config file:
 *
 *   ap_check -t TYPE -e EVENT -a ACTION -s STATE -u UUID -p PARENT
 *
 * - any TYPE but vfio_ap-passthrough: exit 2 ("not my type", mdevctl tries
 *   the next callout); a PARENT other than matrix or a malformed UUID: error.
 * - get capabilities: prints the version 2 capabilities (actions start, stop,
 *   define, undefine, modify, attributes, capabilities; events pre, post,
 *   notify, get, live).
 * - get attributes: the running mdev's configuration read from its
 *   ap_config file, as mdevctl attributes: [{"assign_adapter":"5"},...].
 * - live modify: the device configuration (mdevctl's JSON, on standard
 *   input) is applied to the running mdev. Its attrs are taken in order,
 *   assign_* setting and unassign_* clearing a bit of the adapter, domain or
 *   control-domain mask (values as the kernel's kstrtoul reads them: decimal,
 *   0x hex, 0 octal, an optional + and trailing newline), and the three masks
 *   are written to /sys/devices/vfio_ap/matrix/UUID/ap_config in one write, so
 *   that the driver takes the whole change or none of it (and a running guest
 *   sees it as one hot plug or unplug). A failed write is reported on stderr
 *   with the errno; exit 1.
 * - pre start: a configuration with control domains needs a usage domain
 *   ("At least one usage domain must be specified", as ap-check). ap-check
 *   also checks the APQNs against other mdevs and apmask/aqmask and holds a
 *   lock from pre to post; here the driver's own checks (EADDRINUSE,
 *   EADDRNOTAVAIL) are what the test exercises.
 * - everything else (pre, post and notify of the other actions): exit 0.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef MATRIX_DIR
#define MATRIX_DIR "/sys/devices/vfio_ap/matrix"
#endif
#define TYPE "vfio_ap-passthrough"
#define NMASK 3 /* adapters, usage domains, control domains */

static const char *const attr_names[NMASK] = { "adapter", "domain", "control_domain" };

static void __attribute__((format(printf, 1, 2), noreturn)) die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static const char *errname(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EIO: return "EIO";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EBUSY: return "EBUSY";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ERANGE: return "ERANGE";
	case EADDRINUSE: return "EADDRINUSE";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	default: return "errno";
	}
}

/* ---- The configuration JSON: just enough of JSON for mdevctl's device config. */
static const char *js; /* parse position */

static void ws(void)
{
	while (*js == ' ' || *js == '\t' || *js == '\n' || *js == '\r')
		js++;
}

static void bad_json(void)
{
	die("Failed to read device config: invalid JSON at '%.20s'", js);
}

static void expect(char c)
{
	ws();
	if (*js != c)
		bad_json();
	js++;
}

/* A string into buf (NUL-terminated); escapes \" \\ \/ \n \t; \u only below 0x80. */
static void string(char *buf, size_t size)
{
	size_t n = 0;
	char c;

	expect('"');
	while ((c = *js++) != '"') {
		if (c == '\0' || (unsigned char)c < 0x20)
			bad_json();
		if (c == '\\') {
			c = *js++;
			switch (c) {
			case '"': case '\\': case '/': break;
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'u': {
				char hex[5] = { 0 }, *end;
				unsigned long u;

				memcpy(hex, js, 4);
				u = strtoul(hex, &end, 16);
				if (end != hex + 4 || u == 0 || u >= 0x80)
					bad_json();
				c = (char)u;
				js += 4;
				break;
			}
			default: bad_json();
			}
		}
		if (n + 1 >= size)
			die("Failed to read device config: a string longer than 255 bytes");
		buf[n++] = c;
	}
	buf[n] = '\0';
}

static void skip_value(void);

/* Calls member(key) for each member of an object; member() parses the value. */
static void object(void (*member)(const char *key))
{
	char key[256];

	expect('{');
	ws();
	if (*js == '}') {
		js++;
		return;
	}
	for (;;) {
		string(key, sizeof(key));
		expect(':');
		member(key);
		ws();
		if (*js == '}') {
			js++;
			return;
		}
		expect(',');
	}
}

/* Calls elem() for each element of an array; elem() parses it. */
static void array(void (*elem)(void))
{
	expect('[');
	ws();
	if (*js == ']') {
		js++;
		return;
	}
	for (;;) {
		elem();
		ws();
		if (*js == ']') {
			js++;
			return;
		}
		expect(',');
	}
}

static void skip_member(const char *key)
{
	(void)key;
	skip_value();
}

static void skip_value(void)
{
	char buf[256];

	ws();
	switch (*js) {
	case '"':
		string(buf, sizeof(buf));
		break;
	case '{':
		object(skip_member);
		break;
	case '[':
		array(skip_value);
		break;
	default: /* numbers, true, false, null */
		if (!strchr("-0123456789tfn", *js) || !*js)
			bad_json();
		while (*js && strchr("+-.0123456789eEtruefalsn", *js))
			js++;
	}
}

/* The configuration: its type and the masks its attrs give, in order. */
static char cfg_type[256];
static unsigned char cfg_mask[NMASK][32];
static int cfg_unknown; /* attrs that are none of the six */

/* The kernel's kstrtoul(s, 0, ...) on an attribute value, and the id < 256. */
static int parse_id(const char *s, unsigned int *id)
{
	unsigned long v = 0;
	unsigned int base = 10, d;
	const char *p = s;

	if (*p == '+')
		p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && isxdigit((unsigned char)p[2])) {
		base = 16;
		p += 2;
	} else if (p[0] == '0') {
		base = 8;
	}
	if (!*p || *p == '\n')
		return -1;
	for (; *p && *p != '\n'; p++) {
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'f')
			d = (*p | 0x20) - 'a' + 10;
		else
			return -1;
		if (d >= base)
			return -1;
		v = v * base + d;
		if (v > 255)
			return -1;
	}
	if (*p == '\n' && p[1])
		return -1;
	*id = (unsigned int)v;
	return 0;
}

static void attr_member(const char *key)
{
	char val[256];
	const char *name = key;
	unsigned int id;
	int set = 1, m;

	string(val, sizeof(val));
	if (!strncmp(name, "unassign_", 9)) {
		set = 0;
		name += 9;
	} else if (!strncmp(name, "assign_", 7)) {
		name += 7;
	} else {
		cfg_unknown++;
		return;
	}
	for (m = 0; m < NMASK; m++)
		if (!strcmp(name, attr_names[m]))
			break;
	if (m == NMASK) {
		cfg_unknown++;
		return;
	}
	if (parse_id(val, &id))
		die("Invalid value '%s' of an assign/unassign attribute (0..255)", val);
	if (set)
		cfg_mask[m][id / 8] |= 0x80 >> (id % 8);
	else
		cfg_mask[m][id / 8] &= ~(0x80 >> (id % 8));
}

static void attr_object(void)
{
	object(attr_member);
}

static void config_member(const char *key)
{
	if (!strcmp(key, "mdev_type")) {
		string(cfg_type, sizeof(cfg_type));
	} else if (!strcmp(key, "attrs")) {
		array(attr_object);
	} else {
		skip_value();
	}
}

/* Reads the device configuration from standard input. */
static void read_config(void)
{
	static char buf[1 << 16];
	size_t n = 0;
	ssize_t r;

	while ((r = read(0, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += r;
	if (r < 0 || n == sizeof(buf) - 1)
		die("Failed to read device config from stdin");
	buf[n] = '\0';
	js = buf;
	object(config_member);
	ws();
	if (*js)
		bad_json();
	if (strcmp(cfg_type, TYPE))
		die("Invalid mdev_type: %s", cfg_type);
}

static int mask_empty(const unsigned char *m)
{
	for (int i = 0; i < 32; i++)
		if (m[i])
			return 0;
	return 1;
}

/* ---- The actions. */
static const char *uuid;

static void live_modify(void)
{
	char path[128], buf[256];
	size_t n = 0;
	int fd;
	ssize_t r;

	read_config();
	if (cfg_unknown)
		die("Live modification of %s supports only assign_* and unassign_* attributes", uuid);
	for (int m = 0; m < NMASK; m++) {
		n += snprintf(buf + n, sizeof(buf) - n, "0x");
		for (int i = 0; i < 32; i++)
			n += snprintf(buf + n, sizeof(buf) - n, "%02x", cfg_mask[m][i]);
		n += snprintf(buf + n, sizeof(buf) - n, m < NMASK - 1 ? "," : "\n");
	}
	snprintf(path, sizeof(path), MATRIX_DIR "/%s/ap_config", uuid);
	fd = open(path, O_WRONLY);
	if (fd < 0) {
		fprintf(stderr, "Cannot open %s: %s (%s)\n", path, errname(errno), strerror(errno));
		exit(1);
	}
	r = write(fd, buf, n);
	if (r != (ssize_t)n) {
		int e = r < 0 ? errno : EIO;

		fprintf(stderr, "Writing ap_config of %s failed: %s (%s)\n", uuid, errname(e), strerror(e));
		exit(1);
	}
	close(fd);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void get_attributes(void)
{
	char path[128], buf[256], *p;
	unsigned char mask[NMASK][32] = { { 0 } };
	int fd, first = 1;
	ssize_t r;

	snprintf(path, sizeof(path), MATRIX_DIR "/%s/ap_config", uuid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die("Cannot read the configuration of %s", uuid);
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r < 0)
		die("Cannot read the configuration of %s", uuid);
	buf[r] = '\0';
	/* 0x<64 hex>,0x<64 hex>,0x<64 hex>\n */
	p = buf;
	for (int m = 0; m < NMASK; m++) {
		if (strncmp(p, "0x", 2))
			die("Unexpected ap_config contents: %s", buf);
		p += 2;
		for (int i = 0; i < 32; i++, p += 2) {
			int hi = hexval(p[0]), lo = hi < 0 ? -1 : hexval(p[1]);

			if (lo < 0)
				die("Unexpected ap_config contents: %s", buf);
			mask[m][i] = (unsigned char)(hi << 4 | lo);
		}
		if (*p++ != (m < NMASK - 1 ? ',' : '\n'))
			die("Unexpected ap_config contents: %s", buf);
	}
	putchar('[');
	for (int m = 0; m < NMASK; m++)
		for (int id = 0; id < 256; id++)
			if (mask[m][id / 8] & (0x80 >> (id % 8))) {
				printf("%s{\"assign_%s\":\"%d\"}", first ? "" : ",", attr_names[m], id);
				first = 0;
			}
	puts("]");
}

static void pre_start(void)
{
	read_config();
	if (mask_empty(cfg_mask[1]) && !mask_empty(cfg_mask[2]))
		die("At least one usage domain must be specified");
}

static int valid_uuid(const char *u)
{
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (u[i] != '-')
				return 0;
		} else if (hexval(u[i]) < 0 && !(u[i] >= 'A' && u[i] <= 'F')) {
			return 0;
		}
	}
	return u[36] == '\0';
}

int main(int argc, char **argv)
{
	const char *type = NULL, *event = NULL, *action = NULL, *state = NULL, *parent = NULL;
	int opt;

	while ((opt = getopt(argc, argv, "t:e:a:s:u:p:")) != -1) {
		switch (opt) {
		case 't': type = optarg; break;
		case 'e': event = optarg; break;
		case 'a': action = optarg; break;
		case 's': state = optarg; break;
		case 'u': uuid = optarg; break;
		case 'p': parent = optarg; break;
		default: exit(1);
		}
	}
	if (!type || !event || !action || !state || !uuid || !parent || optind != argc)
		die("Duplicate or missing operand");
	if (strcmp(type, TYPE))
		return 2;
	if (strcmp(parent, "matrix"))
		die("Invalid parent specified: %s", parent);
	if (!valid_uuid(uuid))
		die("Invalid UUID specified: %s", uuid);

	if (!strcmp(event, "get") && !strcmp(action, "capabilities")) {
		puts("{\"supports\":{\"version\":2,"
		     "\"actions\":[\"start\",\"stop\",\"define\",\"undefine\",\"modify\","
		     "\"attributes\",\"capabilities\"],"
		     "\"events\":[\"pre\",\"post\",\"notify\",\"get\",\"live\"]}}");
	} else if (!strcmp(event, "get") && !strcmp(action, "attributes")) {
		get_attributes();
	} else if (!strcmp(event, "live") && !strcmp(action, "modify")) {
		live_modify();
	} else if (!strcmp(event, "pre") && !strcmp(action, "start")) {
		pre_start();
	}
	return 0;
}
