// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The simulators of a run: each one's scaled profile, its start in its
 * middlebox namespace, the wait for its ready file, and the [event]s sent
 * to it through the control socket (see internal.h).
 */
#include "runner/run/internal.h"


/* The scaled policy of a middlebox as a profile file the sim reads. */
static int write_profile(const struct scenario *sc, const struct sc_middlebox *mb, const char *path)
{
	struct policy p;
	const struct knob_info *k;
	size_t nk;
	FILE *f = fopen(path, "we");

	if (!f)
		return -1;
	scenario_policy_scaled(sc, mb, &p);
	k = policy_knobs(&nk);
	fprintf(f, "; written by idlegate run for [middlebox %s] of %s, durations scaled by %s\n"
		"[profile]\nname = %s\n", mb->name, sc->file, sc->scale_text, mb->name);
	for (size_t i = 0; i < nk; i++) {
		char v[128];

		if (policy_get(&p, k[i].name, v, sizeof(v)) < 0 || !strcmp(v, "unset"))
			continue;
		fprintf(f, "%s = %s\n", k[i].name, v);
	}
	return fclose(f);
}

/* dir/name into out; -1 if it does not fit */
static int path_in(char *out, size_t len, const char *dir, const char *name)
{
	int n = snprintf(out, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int sim_start(struct run *r, struct lane *l, size_t pos, char *err, size_t errlen)
{
	struct simproc *s = &l->sim[pos];
	const struct sc_middlebox *mb = &r->sc->mb[l->path[pos]];
	char prof[PATH_MAX], dir[PATH_MAX], natset[128], a[64];
	char *argv[24];
	size_t n = 0;
	size_t lane = (size_t)(l - r->lane);
	struct spawn_opts so = { .netns_pid = topo_ns_pid(l->topo, pos + 1) };

	s->mb = l->path[pos];
	snprintf(s->dir, sizeof(s->dir), "%s/p%zu-%s", r->o->workdir, lane, mb->name);
	if (mkdir(s->dir, 0700) < 0 && errno != EEXIST) {
		tu_errf(err, errlen, "%s: %s", s->dir, strerror(errno));
		return -1;
	}
	memcpy(dir, s->dir, sizeof(dir));       /* a copy: gcc -Wrestrict cannot tell s->dir apart */
	if (path_in(s->ctl, sizeof(s->ctl), dir, "ctl") < 0 ||
	    path_in(s->events, sizeof(s->events), dir, "events.jsonl") < 0 ||
	    path_in(s->ready, sizeof(s->ready), dir, "ready") < 0 ||
	    path_in(s->out, sizeof(s->out), dir, "sim.out") < 0 ||
	    path_in(s->errf, sizeof(s->errf), dir, "sim.err") < 0 ||
	    path_in(prof, sizeof(prof), dir, "profile.ini") < 0) {
		tu_errf(err, errlen, "%s: the path is too long", s->dir);
		return -1;
	}
	if (write_profile(r->sc, mb, prof) < 0) {
		tu_errf(err, errlen, "%s: %s", prof, strerror(errno));
		return -1;
	}
	argv[n++] = (char *)r->o->sim_path;
	argv[n++] = "-q";
	argv[n++] = "--inside";
	argv[n++] = (char *)topo_ifname(l->topo, pos + 1, false);
	argv[n++] = "--outside";
	argv[n++] = (char *)topo_ifname(l->topo, pos + 1, true);
	argv[n++] = "--profile";
	argv[n++] = prof;
	if (mb->policy.nat == NAT_SNAT && !mb->policy.nat_addr_set) {
		snprintf(natset, sizeof(natset), "nat.address=%s",
			 topo_addr(l->topo, pos + 1, true, false, a, sizeof(a)));
		argv[n++] = "--set";
		argv[n++] = natset;
	}
	argv[n++] = "--ctl";
	argv[n++] = s->ctl;
	argv[n++] = "--events";
	argv[n++] = s->events;
	argv[n++] = "--ready-file";
	argv[n++] = s->ready;
	argv[n++] = "--no-ready-line";
	if (r->o->pcap) {
		if (path_in(s->pcap, sizeof(s->pcap), dir, "capture.pcap") < 0) {
			tu_errf(err, errlen, "%s: the path is too long", s->dir);
			return -1;
		}
		argv[n++] = "--pcap";
		argv[n++] = s->pcap;
	}
	if (r->o->user) {
		/* the simulator sets up as root, then becomes the run user keeping
		 * only CAP_NET_ADMIN and CAP_NET_RAW */
		argv[n++] = "--user";
		argv[n++] = (char *)r->o->user->name;
	}
	argv[n] = NULL;
	so.stdout_path = s->out;
	so.stderr_path = s->errf;
	s->pid = spawn(argv, &so);
	if (s->pid < 0) {
		tu_errf(err, errlen, "starting %s: %s", r->o->sim_path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Wait for every file (or a child's exit, or a signal) until the deadline. */
bool sig_pending(struct run *r)
{
	struct pollfd p = { .fd = r->o->sigfd, .events = POLLIN };

	if (r->o->sigfd < 0)
		return false;
	if (poll(&p, 1, 0) == 1) {
		r->interrupted = true;
		return true;
	}
	return r->interrupted;
}

/*
 * Poll for path to exist while pid runs, up to READY_MS. inotify would
 * avoid the 10 ms ticks, but a ready file appears once, within
 * milliseconds, and the pidfd check below catches an early exit at once.
 */
int wait_file(struct run *r, const char *path, pid_t pid, int *status)
{
	uint64_t deadline = mtime_ms() + READY_MS;
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);

	for (;;) {
		struct pollfd p[2] = { { .fd = pfd, .events = POLLIN },
				       { .fd = r->o->sigfd, .events = POLLIN } };

		if (access(path, F_OK) == 0) {
			close(pfd);
			return 0;
		}
		if (poll(p, 2, 10) > 0) {
			if (p[1].revents) {
				r->interrupted = true;
				close(pfd);
				errno = EINTR;
				return -1;
			}
			if (p[0].revents) {
				*status = reap_timeout(pid, 1000);
				close(pfd);
				errno = ECHILD;
				return -1;
			}
		}
		if (mtime_ms() >= deadline) {
			close(pfd);
			errno = ETIMEDOUT;
			return -1;
		}
	}
}

/* One request to a simulator's control socket; 0 if it answered ok. */
static int sim_ctl_request(const char *sock, const char *req, char *buf, size_t len)
{
	bool ok, yes = false;
	char *reply;
	json_t *js;

	buf[0] = '\0';
	if (ctlc_request(sock, req, 3000, &reply) < 0)
		return -1;
	snprintf(buf, len, "%s", reply);
	js = jsonio_load(reply, strlen(reply), NULL, 0);
	free(reply);
	ok = js && jsonio_get_bool(js, "ok", &yes) == 0 && yes;
	json_decref(js);
	return ok ? 0 : -1;
}


void sim_fire_event(struct run *r, const struct sc_event *e, struct scenario_result *res)
{
	char req[400], reply[65536];
	const char *what = sc_action_name(e->action);

	for (size_t k = 0; k < r->nlanes; k++) {
		struct lane *l = &r->lane[k];

		for (size_t p = 0; p < l->npath; p++) {
			struct simproc *s = &l->sim[p];
			json_t *rq = NULL;
			char v[256];

			if (e->middlebox >= 0 && e->middlebox != s->mb)
				continue;
			switch (e->action) {
			case SC_ACT_FLUSH:
				rq = json_pack("{s:s}", "cmd", "flush");
				break;
			case SC_ACT_BLACKHOLE:
				snprintf(v, sizeof(v), "%" PRIu64 "ms", e->duration.scaled_ms);
				rq = json_pack("{s:s,s:s}", "cmd", "blackhole", "value", v);
				break;
			case SC_ACT_SET: {
				struct policy p0, p1;

				/* scale the value as the policy would: set it on a copy, scale, read back */
				policy_init(&p0);
				if (policy_set(&p0, e->knob, e->value, NULL, 0) == 0) {
					struct sc_middlebox tmp = { .policy = p0 };

					scenario_policy_scaled(r->sc, &tmp, &p1);
					if (policy_get(&p1, e->knob, v, sizeof(v)) < 0)
						snprintf(v, sizeof(v), "%s", e->value);
				} else {
					snprintf(v, sizeof(v), "%s", e->value);
				}
				rq = json_pack("{s:s,s:o,s:o}", "cmd", "set", "key", jsonio_str(e->knob),
					       "value", jsonio_str(v));
				break;
			}
			case SC_ACT_EXPIRE: {
				uint32_t id = 0;

				evlog_read(r, l, s, NULL);
				for (size_t i = s->nflows; i-- > 0;)
					if (s->flows[i].flow == e->flow) {
						id = s->flows[i].id;
						break;
					}
				if (!id) {
					run_mark(res, run_scen_ms(r, (int64_t)mtime_ms()), TL_EVENT, e->flow, s->mb, -1,
					     "%s: expire %s: the middlebox has no such flow", e->name,
					     r->sc->flows[e->flow].name);
					continue;
				}
				rq = json_pack("{s:s,s:I}", "cmd", "expire", "id", (json_int_t)id);
				break;
			}
			default:
				continue;
			}
			if (!rq || jsonio_dumpb(rq, 0, req, sizeof(req)) < 0)
				snprintf(req, sizeof(req), "{}");       /* refused: reported below */
			json_decref(rq);
			rq = NULL;
			if (sim_ctl_request(s->ctl, req, reply, sizeof(reply)) < 0) {
				reply[strcspn(reply, "\n")] = '\0';
				run_fail(r, "event %s: middlebox %s refused '%s': %s", e->name,
					 r->sc->mb[s->mb].name, req, reply[0] ? reply : "no answer");
			}
			run_mark(res, run_scen_ms(r, (int64_t)mtime_ms()), TL_EVENT,
			     e->action == SC_ACT_EXPIRE ? e->flow : -1, s->mb, -1, "%s: %s%s%s", e->name,
			     what, e->action == SC_ACT_SET ? " " : "", e->action == SC_ACT_SET ? e->knob : "");
		}
	}
}
