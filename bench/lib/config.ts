/**
 * Every knob of the benchmark, read once from the environment. The defaults
 * keep `npm run bench` under ten minutes on a 2-core machine; raise them for
 * longer, steadier runs.
 */
export type Part = 'ingest' | 'reply' | 'scale' | 'scaleout';

export const ALL_PARTS: Part[] = ['ingest', 'reply', 'scale', 'scaleout'];

export interface BenchConfig {
  parts: Part[];
  /** Measured seconds of each ingest run (BENCH_SECONDS). */
  seconds: number;
  warmupSeconds: number;
  connections: number;
  customers: number;
  /** Profile the app when the ingest target is missed (auto), always, or never. */
  profile: 'auto' | 'on' | 'off';
  profileSeconds: number;
  replyRates: number[];
  replyStageSeconds: number;
  /** Longest wait for a stage's replies before the ramp stops. */
  replyDrainSeconds: number;
  /** WHATSAPP_MESSAGES_PER_SECOND of the app in the reply part. */
  replySendRate: number;
  /** Run the reply ramp against reference-replier.ts too (BENCH_REPLY_REFERENCE, default on). */
  replyReference: boolean;
  /** Turns in flight at most in the reference replier. */
  replyReferenceConcurrency: number;
  seedConversations: number;
  /** Conversations idle past the timeout, seeded so the expiry job has work. */
  seedDue: number;
  scaleSeconds: number;
  /** Measured seconds of each scale-out run. */
  scaleoutSeconds: number;
  databaseUrl: string | null;
  redisUrl: string | null;
  /** A measured run during which other processes used more than this many cores is run again. */
  noiseCores: number;
  /** How many times such a run is repeated (the quietest attempt is kept). */
  noiseRetries: number;
  /** Keep the temporary data directories (their paths are printed). */
  keepData: boolean;
}

function num(name: string, fallback: number, min = 0): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) {
    throw new Error(`${name} must be a number >= ${min} (got "${raw}")`);
  }
  return value;
}

function list(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (!raw) return fallback;
  const values = raw.split(',').map((v) => Number(v.trim()));
  if (values.some((v) => !Number.isFinite(v) || v <= 0)) {
    throw new Error(
      `${name} must be a comma-separated list of positive numbers`,
    );
  }
  return values;
}

export function readConfig(): BenchConfig {
  const partsRaw = process.env.BENCH_PARTS;
  const parts = partsRaw
    ? partsRaw.split(',').map((p) => p.trim())
    : [...ALL_PARTS];
  for (const p of parts) {
    if (!ALL_PARTS.includes(p as Part)) {
      throw new Error(
        `BENCH_PARTS: unknown part "${p}" (known: ${ALL_PARTS.join(', ')})`,
      );
    }
  }
  const profile = (process.env.BENCH_PROFILE ?? 'auto').toLowerCase();
  const seconds = num('BENCH_SECONDS', 20, 1);
  return {
    parts: parts as Part[],
    seconds,
    warmupSeconds: num('BENCH_WARMUP_SECONDS', 3),
    connections: num('BENCH_CONNECTIONS', 32, 1),
    customers: num('BENCH_CUSTOMERS', 500, 1),
    profile:
      profile === '1' || profile === 'on' || profile === 'true'
        ? 'on'
        : profile === '0' || profile === 'off' || profile === 'false'
          ? 'off'
          : 'auto',
    profileSeconds: num('BENCH_PROFILE_SECONDS', Math.min(seconds, 10), 1),
    replyRates: list('BENCH_REPLY_RATES', [25, 50, 100, 250, 500, 1000]),
    replyStageSeconds: num('BENCH_REPLY_STAGE_SECONDS', 5, 1),
    replyDrainSeconds: num('BENCH_REPLY_DRAIN_SECONDS', 30, 1),
    replySendRate: num('BENCH_REPLY_SEND_RATE', 1000, 1),
    replyReference: !['0', 'off', 'false'].includes(
      (process.env.BENCH_REPLY_REFERENCE ?? '1').toLowerCase(),
    ),
    replyReferenceConcurrency: num('BENCH_REPLY_REFERENCE_CONCURRENCY', 32, 1),
    seedConversations: num('BENCH_SEED_CONVERSATIONS', 100_000, 0),
    seedDue: num('BENCH_SEED_DUE', 1_000, 0),
    scaleSeconds: num(
      'BENCH_SCALE_SECONDS',
      Math.max(5, Math.round(seconds / 2)),
      1,
    ),
    scaleoutSeconds: num(
      'BENCH_SCALEOUT_SECONDS',
      Math.max(5, Math.round(seconds / 2)),
      1,
    ),
    databaseUrl: process.env.DATABASE_URL || null,
    redisUrl: process.env.REDIS_URL || null,
    noiseCores: num('BENCH_NOISE_CORES', 0.3),
    noiseRetries: num('BENCH_NOISE_RETRIES', 1),
    keepData: process.env.BENCH_KEEP_DATA === '1',
  };
}
