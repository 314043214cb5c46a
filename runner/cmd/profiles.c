// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `idlegate profiles`: what device profiles exist and what they set, and
 * (--knobs) the table of every policy knob, from which
 * docs/scenario-format.md's knob reference is generated.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/profile.h"
#include "runner/cmd/cli.h"
#include "runner/cmd/commands.h"

static void profiles_usage(FILE *f)
{
	fprintf(f, "usage: idlegate profiles [NAME|PATH]\n"
		"       idlegate profiles --knobs\n\n"
		"Without arguments, list the device profiles found, with their main values.\n"
		"With a NAME (or a path to an .ini file), show every knob of that profile;\n"
		"'*' marks values that differ from the Linux conntrack defaults.\n\n"
		"  -k, --knobs   print the table of every knob (Markdown), with defaults\n"
		"  -p, --paths   with the list, show each profile's file\n"
		"  -h, --help    this help\n\n"
		"Profiles are searched in $IDLEGATE_PROFILES, ./scenarios/profiles,\n"
		"<program dir>/../scenarios/profiles, <program dir>/../share/idlegate/profiles\n"
		"and the install directory.\n\n"
		"Exit status: 0 ok, 2 unknown or broken profile, or bad usage.\n");
}

/* "off", or "snat" and the port limits a pool or fleet meets first */
static const char *nat_summary(const struct policy *p, char *buf, size_t len)
{
	int o;

	policy_get(p, "nat", buf, len);
	if (!strcmp(buf, "off"))
		return buf;
	o = (int)strlen(buf);
	if (p->ports_per_host && o >= 0 && (size_t)o < len)
		o += snprintf(buf + o, len - (size_t)o, ", %u per host to one destination", p->ports_per_host);
	if (p->max_per_destination && o >= 0 && (size_t)o < len)
		snprintf(buf + o, len - (size_t)o, ", %u to one destination", p->max_per_destination);
	return buf;
}

static int list(int paths)
{
	struct profile_entry *v = NULL;
	size_t n = 0;
	int ret = IG_EXIT_OK;

	if (profile_list(&v, &n) < 0) {
		fprintf(stderr, "idlegate profiles: %s\n", strerror(errno));
		return IG_EXIT_ENV;
	}
	if (!n) {
		char sp[1024];
		fprintf(stderr, "idlegate profiles: no profiles found (searched %s)\n",
			profile_search_path(sp, sizeof(sp)));
		return IG_EXIT_ENV;
	}
	printf("%-20s %-10s %-13s %-20s %-18s %s\n", "NAME", "TCP-EST", "UDP", "ON_EXPIRE",
	       "REFRESH", "NAT");
	for (size_t i = 0; i < n; i++) {
		struct policy p;
		struct profile_meta meta;
		char err[600], est[24], udp[72], u1[32], u2[32], onexp[40], refresh[40], nat[80];

		if (profile_load(&p, v[i].path, &meta, err, sizeof(err)) < 0) {
			printf("%-20s (broken: %s)\n", v[i].name, err);
			ret = IG_EXIT_USAGE;
			continue;
		}
		duration_format(p.timeout[TO_TCP_ESTABLISHED], est, sizeof(est));
		snprintf(udp, sizeof(udp), "%s/%s", duration_format(p.timeout[TO_UDP_UNREPLIED], u1, sizeof(u1)),
			 duration_format(p.timeout[TO_UDP_ASSURED], u2, sizeof(u2)));
		policy_get(&p, "on_expire", onexp, sizeof(onexp));
		policy_get(&p, "refresh", refresh, sizeof(refresh));
		nat_summary(&p, nat, sizeof(nat));
		printf("%-20s %-10s %-13s %-20s %-18s %s\n", v[i].name, est, udp, onexp, refresh, nat);
		if (paths)
			printf("%-20s %s\n", "", v[i].path);
	}
	free(v);
	return ret;
}

static int show(const char *name)
{
	struct policy p, def;
	struct profile_meta meta;
	char err[1400];
	size_t n, width = 0;
	const struct knob_info *k = policy_knobs(&n);

	if (profile_load(&p, name, &meta, err, sizeof(err)) < 0) {
		fprintf(stderr, "idlegate profiles: %s\n", err);
		return IG_EXIT_USAGE;
	}
	policy_init(&def);
	for (size_t i = 0; i < n; i++)
		width = strlen(k[i].name) > width ? strlen(k[i].name) : width;
	printf("; %s\n", meta.path);
	printf("name = %s\n", meta.name);
	if (meta.description[0])
		printf("description = %s\n", meta.description);
	if (meta.source[0])
		printf("source = %s\n", meta.source);
	printf("\n");
	for (size_t i = 0; i < n; i++) {
		char v[128], d[128];
		policy_get(&p, k[i].name, v, sizeof(v));
		policy_get(&def, k[i].name, d, sizeof(d));
		printf("%s %-*s = %s\n", strcmp(v, d) ? "*" : " ", (int)width, k[i].name, v);
	}
	return IG_EXIT_OK;
}

/* s with every '|' escaped, for a Markdown table cell */
static const char *md(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; *s && o + 2 < len; s++) {
		if (*s == '|')
			buf[o++] = '\\';
		buf[o++] = *s;
	}
	buf[o] = '\0';
	return buf;
}

/* Markdown table; docs/scenario-format.md embeds this output. */
static int knobs(void)
{
	struct policy def;
	size_t n;
	const struct knob_info *k = policy_knobs(&n);

	policy_init(&def);
	printf("| knob | values | default | meaning |\n|---|---|---|---|\n");
	for (size_t i = 0; i < n; i++) {
		char d[128], v[400], h[400];
		policy_get(&def, k[i].name, d, sizeof(d));
		printf("| `%s` | %s | %s | %s |\n", k[i].name, md(k[i].values, v, sizeof(v)), d,
		       md(k[i].help, h, sizeof(h)));
	}
	return IG_EXIT_OK;
}

int cmd_profiles(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "knobs", no_argument, NULL, 'k' },
		{ "paths", no_argument, NULL, 'p' },
		CLI_COMMON_ENTRIES,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, do_knobs = 0, paths = 0;

	while ((ch = getopt_long(argc, argv, "kphq", opts, NULL)) != -1) {
		if (cli_common_option(ch, optarg))
			continue;
		switch (ch) {
		case 'k': do_knobs = 1; break;
		case 'p': paths = 1; break;
		case 'h':
			profiles_usage(stdout);
			return IG_EXIT_OK;
		default:
			profiles_usage(stderr);
			return IG_EXIT_USAGE;
		}
	}
	if (argc - optind > 1 || (do_knobs && argc - optind > 0)) {
		profiles_usage(stderr);
		return IG_EXIT_USAGE;
	}
	if (do_knobs)
		return knobs();
	if (optind < argc)
		return show(argv[optind]);
	return list(paths);
}
