// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Device profile files: finding them and turning them into a struct policy.
 * See profile.h.
 */
#include "common/profile.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/iniread.h"

#ifndef IDLEGATE_DATADIR
#define IDLEGATE_DATADIR "/usr/local/share/idlegate"
#endif

#define PROFILE_MAX_BYTES (256 * 1024)
#define MAX_DIRS 16

static const char *const meta_keys[] = { "name", "description", "source" };

struct load_ctx {
	struct iniread r;
	struct ini_diags *dg;
	struct policy *p;
	struct profile_meta *meta;
	int seen_line[64];      /* first line of each knob, for duplicates */
	char seen_key[64][64];
	size_t nseen;
	char bad_section[64];
};

static int duplicate(struct load_ctx *c, const char *key)
{
	for (size_t i = 0; i < c->nseen; i++) {
		if (!strcmp(c->seen_key[i], key)) {
			ini_diag_add(c->dg, c->r.lineno, NULL, "duplicate key '%s' (first set at line %d)",
				     key, c->seen_line[i]);
			return 1;
		}
	}
	if (c->nseen < sizeof(c->seen_line) / sizeof(c->seen_line[0])) {
		snprintf(c->seen_key[c->nseen], sizeof(c->seen_key[0]), "%s", key);
		c->seen_line[c->nseen++] = c->r.lineno;
	}
	return 0;
}

static void suggest_knob(struct load_ctx *c, const char *key, const char *where)
{
	size_t n, i;
	const struct knob_info *k = policy_knobs(&n);
	const char *cands[128];
	const char *best;

	for (i = 0; i < n && i < 125; i++)
		cands[i] = k[i].name;
	for (size_t j = 0; j < 3; j++)
		cands[i++] = meta_keys[j];
	best = ini_suggest(key, cands, i);
	if (best)
		ini_diag_add(c->dg, c->r.lineno, NULL, "unknown key '%s' in %s (did you mean '%s'?)",
			     key, where, best);
	else
		ini_diag_add(c->dg, c->r.lineno, "`idlegate profiles --knobs` lists every knob",
			     "unknown key '%s' in %s", key, where);
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
	struct load_ctx *c = user;
	char err[300];

	if (!strcmp(section, INIREAD_BAD_SECTION))
		return 1;
	if (*section && strcmp(section, "profile")) {
		/* report each unknown section once, at its first key */
		if (!strcmp(c->bad_section, section))
			return 1;
		snprintf(c->bad_section, sizeof(c->bad_section), "%s", section);
		ini_diag_add(c->dg, c->r.lineno, "a profile has only a [profile] section",
			     "unknown section [%s]", section);
		return 1;
	}
	if (duplicate(c, key))
		return 1;
	if (!strcmp(key, "name")) {
		snprintf(c->meta->name, sizeof(c->meta->name), "%s", value);
		return 1;
	}
	if (!strcmp(key, "description")) {
		snprintf(c->meta->description, sizeof(c->meta->description), "%s", value);
		return 1;
	}
	if (!strcmp(key, "source")) {
		snprintf(c->meta->source, sizeof(c->meta->source), "%s", value);
		return 1;
	}
	if (policy_set(c->p, key, value, err, sizeof(err)) < 0) {
		if (errno == ENOENT)
			suggest_knob(c, key, "[profile]");
		else
			ini_diag_add(c->dg, c->r.lineno, NULL, "%s", err);
	}
	return 1;
}

static void basename_noext(const char *label, char *out, size_t len)
{
	const char *b = strrchr(label, '/');
	size_t n;

	b = b ? b + 1 : label;
	n = strlen(b);
	if (n > 4 && !strcmp(b + n - 4, ".ini"))
		n -= 4;
	if (n >= len)
		n = len - 1;
	memcpy(out, b, n);
	out[n] = '\0';
}

int profile_load_buffer(struct policy *p, const char *buf, size_t len, const char *label,
			struct profile_meta *meta, char *err, size_t errlen)
{
	struct profile_meta tmpmeta;
	struct ini_diags *dg;
	struct load_ctx *c;
	int ret = 0;

	if (!meta)
		meta = &tmpmeta;
	memset(meta, 0, sizeof(*meta));
	snprintf(meta->path, sizeof(meta->path), "%s", label ? label : "(profile)");
	dg = malloc(sizeof(*dg));
	c = calloc(1, sizeof(*c));
	if (!dg || !c) {
		free(dg);
		free(c);
		errno = ENOMEM;
		return -1;
	}
	ini_diags_init(dg, meta->path);
	policy_init(p);
	c->dg = dg;
	c->p = p;
	c->meta = meta;
	if (iniread_parse(&c->r, buf, len, handler, NULL, c, dg)) {
		if (err)
			ini_diag_format(dg, 0, err, errlen);
		errno = EINVAL;
		ret = -1;
	}
	if (!meta->name[0])
		basename_noext(meta->path, meta->name, sizeof(meta->name));
	free(c);
	free(dg);
	if (ret < 0)
		errno = EINVAL;
	return ret;
}

static int valid_name(const char *name)
{
	if (!*name || *name == '.')
		return 0;
	for (const char *s = name; *s; s++)
		if (!(((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '_' || *s == '-'))
			return 0;
	return strlen(name) < PROFILE_NAME_MAX;
}

/* Fill dirs (each malloc'd) in search order; returns the count. */
static size_t search_dirs(char *dirs[MAX_DIRS])
{
	const char *env = getenv("IDLEGATE_PROFILES");
	char exe[PATH_MAX];
	size_t n = 0;
	ssize_t k;

	if (env && *env) {
		const char *s = env;
		while (*s && n < MAX_DIRS - 4) {
			size_t l = strcspn(s, ":");
			if (l)
				dirs[n++] = strndup(s, l);
			s += l;
			if (*s == ':')
				s++;
		}
	}
	dirs[n++] = strdup("./scenarios/profiles");
	k = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (k > 0) {
		char *slash;
		exe[k] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			if (asprintf(&dirs[n], "%s/../scenarios/profiles", exe) >= 0)
				n++;
			if (asprintf(&dirs[n], "%s/../share/idlegate/profiles", exe) >= 0)
				n++;
		}
	}
	dirs[n++] = strdup(IDLEGATE_DATADIR "/profiles");
	/* drop failed strdups */
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (dirs[i])
			dirs[m++] = dirs[i];
	return m;
}

static void free_dirs(char *dirs[], size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(dirs[i]);
}

char *profile_search_path(char *buf, size_t len)
{
	char *dirs[MAX_DIRS];
	size_t n = search_dirs(dirs), off = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ":" : "", dirs[i]);
	free_dirs(dirs, n);
	return buf;
}

int profile_find(const char *name_or_path, char *buf, size_t len)
{
	char *dirs[MAX_DIRS];
	size_t n;
	int ret = -1;

	if (strchr(name_or_path, '/')) {
		if (access(name_or_path, R_OK) < 0)
			return -1;
		if ((size_t)snprintf(buf, len, "%s", name_or_path) >= len) {
			errno = ENAMETOOLONG;
			return -1;
		}
		return 0;
	}
	if (!valid_name(name_or_path)) {
		errno = EINVAL;
		return -1;
	}
	/* "aws-nlb.ini" as a bare name means the profile aws-nlb */
	char name[PROFILE_NAME_MAX];
	size_t nl = strlen(name_or_path);
	if (nl > 4 && !strcmp(name_or_path + nl - 4, ".ini"))
		nl -= 4;
	snprintf(name, sizeof(name), "%.*s", (int)nl, name_or_path);
	name_or_path = name;
	n = search_dirs(dirs);
	errno = ENOENT;
	for (size_t i = 0; i < n; i++) {
		if ((size_t)snprintf(buf, len, "%s/%s.ini", dirs[i], name_or_path) >= len)
			continue;
		if (access(buf, R_OK) == 0) {
			ret = 0;
			break;
		}
	}
	free_dirs(dirs, n);
	if (ret < 0)
		errno = ENOENT;
	return ret;
}

int profile_load(struct policy *p, const char *name_or_path, struct profile_meta *meta,
		 char *err, size_t errlen)
{
	char path[PATH_MAX];
	char *buf;
	size_t len;
	int ret;

	if (profile_find(name_or_path, path, sizeof(path)) < 0) {
		int saved = errno;
		if (err) {
			if (saved == EINVAL) {
				snprintf(err, errlen, "'%s' is not a profile name "
					 "(letters, digits, '.', '_', '-'; or a path containing '/')",
					 name_or_path);
			} else if (strchr(name_or_path, '/')) {
				snprintf(err, errlen, "%s: %s", name_or_path, strerror(saved));
			} else {
				char sp[1024];
				snprintf(err, errlen, "unknown profile '%s' (searched %s)", name_or_path,
					 profile_search_path(sp, sizeof(sp)));
			}
		}
		errno = saved;
		return -1;
	}
	buf = iniread_slurp(path, PROFILE_MAX_BYTES, &len);
	if (!buf) {
		int saved = errno;
		if (err)
			snprintf(err, errlen, "%s: %s", path, strerror(saved));
		errno = saved;
		return -1;
	}
	ret = profile_load_buffer(p, buf, len, path, meta, err, errlen);
	free(buf);
	if (ret < 0)
		errno = EINVAL;
	return ret;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct profile_entry *)a)->name, ((const struct profile_entry *)b)->name);
}

int profile_list(struct profile_entry **list, size_t *np)
{
	char *dirs[MAX_DIRS];
	size_t nd = search_dirs(dirs), n = 0, cap = 0;
	struct profile_entry *v = NULL;
	int ret = 0;

	for (size_t i = 0; i < nd; i++) {
		DIR *d = opendir(dirs[i]);
		struct dirent *de;

		if (!d)
			continue;
		while ((de = readdir(d))) {
			char name[PROFILE_NAME_MAX];
			size_t l = strlen(de->d_name), j;

			if (l <= 4 || strcmp(de->d_name + l - 4, ".ini") || l - 4 >= sizeof(name))
				continue;
			memcpy(name, de->d_name, l - 4);
			name[l - 4] = '\0';
			if (!valid_name(name))
				continue;
			for (j = 0; j < n; j++)
				if (!strcmp(v[j].name, name))
					break;
			if (j < n)
				continue;       /* an earlier directory has it */
			if (n == cap) {
				struct profile_entry *nv;
				cap = cap ? cap * 2 : 16;
				nv = realloc(v, cap * sizeof(*v));
				if (!nv) {
					ret = -1;
					break;
				}
				v = nv;
			}
			snprintf(v[n].name, sizeof(v[n].name), "%s", name);
			snprintf(v[n].path, sizeof(v[n].path), "%s/%s", dirs[i], de->d_name);
			n++;
		}
		closedir(d);
		if (ret < 0)
			break;
	}
	free_dirs(dirs, nd);
	if (ret < 0) {
		free(v);
		errno = ENOMEM;
		return -1;
	}
	if (n)
		qsort(v, n, sizeof(*v), entry_cmp);
	*list = v;
	*np = n;
	return 0;
}
