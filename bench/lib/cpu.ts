import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc (USER_HZ; 100 on Linux). */
const HZ = 100;

interface Snapshot {
  atMs: number;
  machineBusy: number;
  perPid: Map<number, number>;
  /** Servers the benchmark uses but did not start (PostgreSQL, Redis): ticks by command name. */
  services: Map<string, number>;
}

/** Processes not started here whose CPU is reported on its own. */
const SERVICES = new Set(['postgres', 'redis-server']);

function serviceTicks(): Map<string, number> {
  const ticks = new Map<string, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!SERVICES.has(name)) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks.set(
        name,
        (ticks.get(name) ?? 0) + Number(fields[11]) + Number(fields[12]),
      );
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks;
}

function machineBusyTicks(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const [, user, nice, system, , , irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .map(Number);
  return user + nice + system + irq + softirq + steal;
}

function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces): utime is 14th, stime 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return NaN;
  }
}

export function cpuSnapshot(pids: number[]): Snapshot {
  return {
    atMs: Date.now(),
    machineBusy: machineBusyTicks(),
    perPid: new Map(pids.map((p) => [p, processTicks(p)])),
    services: serviceTicks(),
  };
}

export interface CpuUsage {
  /** Cores busy on the whole machine, on average. */
  machineCores: number;
  /** Cores used by each named process of the benchmark. */
  processes: Record<string, number>;
  /** Cores used by PostgreSQL and Redis (all their processes, whoever uses them). */
  services: Record<string, number>;
  /** Cores used by everything else on the machine (other users' work skews results). */
  otherCores: number;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

export function cpuUsage(
  before: Snapshot,
  after: Snapshot,
  names: Record<number, string>,
): CpuUsage {
  const seconds = Math.max(0.001, (after.atMs - before.atMs) / 1000);
  const processes: Record<string, number> = {};
  let ours = 0;
  for (const [pid, ticks] of after.perPid) {
    const delta = ticks - (before.perPid.get(pid) ?? NaN);
    if (!Number.isFinite(delta)) continue;
    ours += delta;
    const name = names[pid] ?? String(pid);
    processes[name] = round2((processes[name] ?? 0) + delta / HZ / seconds);
  }
  const services: Record<string, number> = {};
  for (const [name, ticks] of after.services) {
    const delta = ticks - (before.services.get(name) ?? ticks);
    services[name] = round2(Math.max(0, delta) / HZ / seconds);
    ours += delta;
  }
  const machine = (after.machineBusy - before.machineBusy) / HZ / seconds;
  return {
    machineCores: round2(machine),
    processes,
    services,
    otherCores: round2(Math.max(0, machine - ours / HZ / seconds)),
  };
}
