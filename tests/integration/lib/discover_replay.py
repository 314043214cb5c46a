# SPDX-License-Identifier: GPL-2.0-or-later
"""Replaying what idlegate discover measured (discover_*.sh).

  discover_replay.py flows D.JSON PROFILE SCENARIO PROBEFLOWS
      from discover's JSON answer: flows clear of every timeout's bracket
      (alive below it, expired above it, the behaviour cases past it), as a
      scenario whose middlebox plays PROFILE and as idlegate-probe flow specs
      (one per line) for the measured path itself
  discover_replay.py same RUN.JSON PROBE.JSONL
      the outcome of every flow of `idlegate run --json` equals that of the
      same flow through the measured path (idlegate-probe client --json);
      prints them, exits 1 on any difference
  discover_replay.py same RUN.JSON RUN2.JSON
      the same for two `idlegate run --json` results
"""
import json
import sys

DEADLINE_MS = 3000
WARMUP_MS = 3000


def flows(d):
    """(name, proto, idle ms, speaker, keepalive, warmup) clear of the brackets."""
    out = []
    for key, proto, warm in (("tcp", "tcp", 0), ("udp", "udp", 0), ("udp_stream", "udp", WARMUP_MS)):
        m = d.get(key)
        if not m or not m["found"]:
            continue
        lo, hi = int(m["survived_s"] * 1000), int(m["expired_s"] * 1000)
        tag = key.replace("_stream", "s")
        if lo >= 1500:
            out.append((tag + "-alive", proto, lo - 1000, "server", None, warm))
        out.append((tag + "-expired", proto, hi + 1500, "server", None, warm))
        if key != "udp_stream":
            out.append((tag + "-client-first", proto, hi + 1500, "client", None, 0))
        if key == "tcp" and lo >= 3000:
            out.append(("tcp-keepalive", "tcp", hi + 1500, "server", "1s", 0))
    return out


def write(d, profile, scenario, probeflows):
    fl = flows(d)
    with open(scenario, "w") as f:
        f.write("[scenario]\ndescription = replay of a discovered path\n")
        f.write("[middlebox m]\nprofile = %s\n" % profile)
        for name, proto, idle, sp, ka, warm in fl:
            f.write("[flow %s]\nproto = %s\nidle = %dms\nspeaker = %s\ndeadline = %dms\nexpect = alive\n"
                    % (name, proto, idle, sp, DEADLINE_MS))
            if ka:
                f.write("keepalive = %s,%s,3\n" % (ka, ka))
            if warm:
                f.write("warmup = %dms\n" % warm)
    with open(probeflows, "w") as f:
        for name, proto, idle, sp, ka, warm in fl:
            spec = "name=%s,proto=%s,idle=%dms,speaker=%s,deadline=%dms" % (name, proto, idle, sp, DEADLINE_MS)
            if ka:
                spec += ",keepalive=%s/%s/3" % (ka, ka)
            if warm:
                spec += ",warmup=%dms" % warm
            f.write(spec + "\n")


def run_outcomes(path):
    d = json.load(open(path))
    return {f["name"]: f["observed"] for f in d["scenarios"][0]["flows"]}


def probe_outcomes(path):
    out = {}
    for line in open(path):
        if line.strip():
            j = json.loads(line)
            out[j["flow"]] = j["outcome"]
    return out


def same(a, b):
    bad = 0
    for name in sorted(a):
        mark = "" if a[name] == b.get(name) else "   <-- differs"
        bad += bool(mark)
        print("  %-18s replay %-10s measured %-10s%s" % (name, a[name], b.get(name), mark))
    return 0 if bad == 0 and set(a) == set(b) and a else 1


if __name__ == "__main__":
    if sys.argv[1] == "flows":
        write(json.load(open(sys.argv[2])), sys.argv[3], sys.argv[4], sys.argv[5])
        sys.exit(0)
    other = sys.argv[3]
    b = run_outcomes(other) if other.endswith(".json") else probe_outcomes(other)
    sys.exit(same(run_outcomes(sys.argv[2]), b))
