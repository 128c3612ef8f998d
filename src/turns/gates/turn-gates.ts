import type { TurnSnapshot } from '../../conversation/conversation.types';

/** Turns that replied to one customer are counted over this window. */
export const FLOOD_WINDOW_MS = 60_000;

/** Why a turn does not answer now. */
export type GateVerdict =
  | { status: 'idle' }
  | { status: 'paused' }
  | { status: 'throttled'; retryAfterMs: number };

/**
 * How long the customer must wait for the next turn (0: none): until the
 * oldest counted turn has left the window. The store counts turns started at
 * or after `now - FLOOD_WINDOW_MS`, so one started exactly a window ago still
 * counts: the wait ends 1 ms after that.
 */
export function floodWait(
  turnTimes: Date[],
  turnsPerMinute: number,
  now: number,
): number {
  if (turnTimes.length < turnsPerMinute) return 0;
  const oldestCounted = turnTimes[turnTimes.length - turnsPerMinute].getTime();
  return Math.max(1, oldestCounted + FLOOD_WINDOW_MS + 1 - now);
}

/**
 * The gates a turn passes before it composes a reply, in order: something
 * to answer; the bot not paused (handoff); the customer under the turn
 * limit (flood control). Null when every gate is open. The window and
 * business-hours gates join this list.
 */
export function checkGates(
  snapshot: TurnSnapshot,
  turnsPerMinute: number,
  now: number,
): GateVerdict | null {
  if (snapshot.unanswered.length === 0) return { status: 'idle' };
  if (snapshot.conversation.state === 'handoff') return { status: 'paused' };
  const wait = floodWait(snapshot.recentTurnTimes, turnsPerMinute, now);
  if (wait > 0) return { status: 'throttled', retryAfterMs: wait };
  return null;
}
