/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A pcap file of what crossed the box (libpcap, LINKTYPE_RAW: IPv4 and
 * IPv6 without a link header), injected packets included, so a run can be
 * opened in Wireshark (`tcp.analysis.keep_alive` marks keepalives).
 * Timestamps are wall-clock, as capture files expect.
 */
#ifndef IDLEGATE_PCAPW_H
#define IDLEGATE_PCAPW_H

#include <stddef.h>
#include <stdint.h>

struct pcapw;

/* Create (truncate) the file. Returns NULL with errno, and libpcap's
 * message in err. */
struct pcapw *pcapw_open(const char *path, char *err, size_t errlen);
/* Flush and close. Accepts NULL. */
void pcapw_close(struct pcapw *w);

/* Append one packet: caplen bytes captured of a wire_len-byte packet. */
void pcapw_write(struct pcapw *w, const uint8_t *pkt, size_t caplen, size_t wire_len);
/* Push buffered packets to the file. 0 or -1. */
int pcapw_flush(struct pcapw *w);
/* Packets written so far. */
uint64_t pcapw_count(const struct pcapw *w);

#endif
