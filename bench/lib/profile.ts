import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from './processes';
import { round } from './stats';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Share of samples that were not idle. */
  busyPercent: number;
  topFunctions: Array<{
    selfPercent: number;
    selfMs: number;
    fn: string;
    where: string;
  }>;
  byArea: Array<{ selfPercent: number; area: string }>;
  /** The embedded database's worker thread, profiled beside the main one. */
  databaseThread?: {
    busyPercent: number;
    byArea: Array<{ selfPercent: number; area: string }>;
  };
}

/** Where a frame lives: a package, the app's own code, Node internals, or V8. */
function areaOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native/V8)';
  if (url.startsWith('node:')) return 'node internals';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const dist = /\/dist\/(.+)$/.exec(url);
  if (dist) return `app: ${dist[1].split('/')[0]}`;
  return url;
}

function shortUrl(url: string): string {
  if (!url) return '';
  const cleaned = url.replace(/^file:\/\//, '');
  const pkg = cleaned.lastIndexOf('node_modules/');
  if (pkg >= 0) return cleaned.slice(pkg + 'node_modules/'.length);
  return cleaned.startsWith('/') ? relative(ROOT, cleaned) : cleaned;
}

/**
 * Self time per function of the newest .cpuprofile in `dir`, counting only
 * the samples taken between `fromMs` and `toMs` on the monotonic clock (V8
 * stamps samples with CLOCK_MONOTONIC microseconds, as process.hrtime does),
 * so that start-up is left out.
 */
export function summariseProfile(
  dir: string,
  window?: { fromMs: number; toMs: number },
  top = 25,
): ProfileSummary {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort();
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}`);
  // Node names them CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile: thread
  // 0 is the main (HTTP) thread; the app's PGlite runs on a worker thread.
  const isMain = (f: string) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f);
  const main = files.filter(isMain).at(-1) ?? files.at(-1)!;
  const worker = files.filter((f) => !isMain(f)).at(-1);
  const summary = summariseFile(join(dir, main), window, top);
  if (worker) {
    const database = summariseFile(join(dir, worker), window, top);
    summary.databaseThread = {
      busyPercent: database.busyPercent,
      byArea: database.byArea,
    };
  }
  return summary;
}

function summariseFile(
  file: string,
  window: { fromMs: number; toMs: number } | undefined,
  top: number,
): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const fromUs = window ? window.fromMs * 1000 : -Infinity;
  const toUs = window ? window.toMs * 1000 : Infinity;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at < fromUs || at > toUs) continue;
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  }
  let total = 0;
  let idle = 0;
  const perFn = new Map<string, { us: number; fn: string; where: string }>();
  const perArea = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    total += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const fn = functionName || '(anonymous)';
    if (fn === '(idle)') {
      idle += us;
      continue;
    }
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const key = `${fn}@${where}`;
    const entry = perFn.get(key) ?? { us: 0, fn, where };
    entry.us += us;
    perFn.set(key, entry);
    const area = areaOf(url, fn);
    perArea.set(area, (perArea.get(area) ?? 0) + us);
  }
  const busy = total - idle;
  const pct = (us: number) => round((100 * us) / Math.max(1, busy), 1);
  return {
    file,
    totalMs: round(total / 1000, 0),
    busyPercent: round((100 * busy) / Math.max(1, total), 1),
    topFunctions: [...perFn.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e) => ({
        selfPercent: pct(e.us),
        selfMs: round(e.us / 1000, 0),
        fn: e.fn,
        where: e.where,
      })),
    byArea: [...perArea.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([area, us]) => ({ selfPercent: pct(us), area })),
  };
}
