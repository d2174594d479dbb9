#!/usr/bin/env python3
"""CPU time used by processes that are not the benchmark's own, between two moments.

    other-cpu.py snapshot FILE ROOT_PID...   writes every process's CPU seconds to FILE
    other-cpu.py since FILE ROOT_PID...      prints the CPU seconds used since by the processes
                                             that descend from none of ROOT_PID (the bench's
                                             shell and its PostgreSQL server)

A measurement means something only on a quiet machine: scripts/bench.sh marks one during which
others used more than a tenth of a core. Reads /proc; Linux only.
"""
import json
import os
import sys

TICK = os.sysconf("SC_CLK_TCK")


def processes():
    """pid -> (parent pid, CPU seconds of user and system time)."""
    table = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the fields start after the last ')'.
        fields = text[text.rindex(")") + 2:].split()
        table[int(pid)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK)
    return table


def others(table, roots):
    """The pids that descend from none of `roots`."""
    def own(pid):
        seen = set()
        while pid > 1 and pid not in seen:
            if pid in roots:
                return True
            seen.add(pid)
            pid = table.get(pid, (0, 0))[0]
        return False
    return {pid for pid in table if not own(pid)}


def main():
    command, path, roots = sys.argv[1], sys.argv[2], {int(pid) for pid in sys.argv[3:]}
    table = processes()
    if command == "snapshot":
        with open(path, "w") as out:
            json.dump({str(pid): cpu for pid, (_, cpu) in table.items()}, out)
        return
    with open(path) as before_file:
        before = {int(pid): cpu for pid, cpu in json.load(before_file).items()}
    used = sum(table[pid][1] - before.get(pid, 0.0) for pid in others(table, roots))
    print(f"{max(used, 0.0):.2f}")


if __name__ == "__main__":
    main()
