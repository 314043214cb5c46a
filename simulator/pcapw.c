// SPDX-License-Identifier: GPL-2.0-or-later
/* pcap writer over libpcap's dump API; see pcapw.h. */
#include "simulator/pcapw.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <pcap/pcap.h>

#define SNAPLEN 262144

struct pcapw {
	pcap_t *p;
	pcap_dumper_t *d;
	uint64_t count;
};

struct pcapw *pcapw_open(const char *path, char *err, size_t errlen)
{
	struct pcapw *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->p = pcap_open_dead(DLT_RAW, SNAPLEN);
	if (!w->p) {
		snprintf(err, errlen, "pcap_open_dead failed");
		free(w);
		errno = ENOMEM;
		return NULL;
	}
	w->d = pcap_dump_open(w->p, path);
	if (!w->d) {
		int saved = errno ? errno : EIO;

		snprintf(err, errlen, "%s", pcap_geterr(w->p));
		pcap_close(w->p);
		free(w);
		errno = saved;
		return NULL;
	}
	return w;
}

void pcapw_close(struct pcapw *w)
{
	if (!w)
		return;
	pcap_dump_close(w->d);
	pcap_close(w->p);
	free(w);
}

void pcapw_write(struct pcapw *w, const uint8_t *pkt, size_t caplen, size_t wire_len)
{
	struct pcap_pkthdr h;

	gettimeofday(&h.ts, NULL);
	if (caplen > SNAPLEN)
		caplen = SNAPLEN;
	h.caplen = (bpf_u_int32)caplen;
	h.len = (bpf_u_int32)(wire_len > caplen ? wire_len : caplen);
	pcap_dump((u_char *)w->d, &h, pkt);
	w->count++;
}

int pcapw_flush(struct pcapw *w)
{
	return pcap_dump_flush(w->d);
}

uint64_t pcapw_count(const struct pcapw *w)
{
	return w->count;
}
