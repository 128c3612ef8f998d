import type { MessageStatus } from '../conversation/conversation.types';

/** Meta's delivery statuses in the order they can only move forward. */
const RANK: Record<string, number> = {
  pending: 0,
  sending: 0,
  sent: 1,
  delivered: 2,
  read: 3,
  played: 4,
};

export const KNOWN_STATUSES = new Set<string>([...Object.keys(RANK), 'failed']);

/**
 * The status a message should have after Meta reports `incoming`: statuses
 * never move backwards (sent < delivered < read < played), `failed` is final,
 * and an unknown status changes nothing.
 */
export function nextStatus(
  current: MessageStatus,
  incoming: string,
): MessageStatus {
  if (current === 'failed' || current === 'received') return current;
  if (incoming === 'failed') return 'failed';
  const to = RANK[incoming];
  if (to === undefined) return current;
  return to > RANK[current] ? (incoming as MessageStatus) : current;
}

/** Applies several reported statuses, in any order, to a starting status. */
export function settleStatus(
  start: MessageStatus,
  reported: string[],
): MessageStatus {
  return reported.reduce<MessageStatus>(nextStatus, start);
}
