import { inspect } from 'node:util';

type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

/**
 * Polls `probe` until it returns a truthy value, and returns that value.
 * A probe that throws counts as "not yet"; its last error is quoted if time runs out.
 * Rejects with `opts.message` (or a default) after `timeoutMs` (default 10 s).
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  opts: { timeoutMs?: number; intervalMs?: number; message?: string } = {},
): Promise<Truthy<T>> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as Truthy<T>;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    await new Promise<void>((resolve) =>
      setTimeout(resolve, Math.min(intervalMs, remaining)),
    );
  }
  const message =
    opts.message ?? `waitFor: condition not met within ${timeoutMs} ms`;
  const cause =
    lastError === undefined
      ? ''
      : ` (last probe error: ${lastError instanceof Error ? lastError.message : inspect(lastError)})`;
  throw new Error(message + cause, { cause: lastError });
}
