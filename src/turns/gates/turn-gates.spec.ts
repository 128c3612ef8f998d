import type {
  Conversation,
  Message,
  TurnSnapshot,
} from '../../conversation/conversation.types';
import { checkGates, FLOOD_WINDOW_MS, floodWait } from './turn-gates';

const NOW = new Date('2026-03-01T10:00:00Z').getTime();
const ago = (ms: number) => new Date(NOW - ms);

const conversation = (state: Conversation['state']): Conversation => ({
  id: 'c-1',
  customerWaId: '4860500001',
  customerName: null,
  state,
  stateReason: null,
  stateChangedAt: ago(0),
  handoffUntil: null,
  startedAt: ago(0),
  lastActivityAt: ago(0),
});

const inbound = { id: 1, direction: 'inbound', text: 'hi' } as Message;

const snapshot = (over: Partial<TurnSnapshot> = {}): TurnSnapshot => ({
  conversation: conversation('active'),
  unsent: [],
  unanswered: [inbound],
  history: [],
  recentTurnTimes: [],
  ...over,
});

describe('floodWait', () => {
  it('lets a customer under the turn limit through at once', () => {
    expect(floodWait([ago(30_000), ago(10_000)], 3, NOW)).toBe(0);
    expect(floodWait([], 1, NOW)).toBe(0);
  });

  it('waits until the oldest of the last turns-per-minute turns leaves the window', () => {
    // Limit 2: of the three turns, the 2nd newest (40 s ago) is the one that counts.
    expect(floodWait([ago(50_000), ago(40_000), ago(5_000)], 2, NOW)).toBe(
      FLOOD_WINDOW_MS - 40_000 + 1,
    );
  });

  it('waits at least 1 ms when the counted turn leaves the window right now', () => {
    expect(floodWait([ago(FLOOD_WINDOW_MS), ago(1_000)], 2, NOW)).toBe(1);
    expect(floodWait([ago(FLOOD_WINDOW_MS + 5_000)], 1, NOW)).toBe(1);
  });
});

describe('checkGates', () => {
  it('opens every gate for an active conversation with something to answer, under the limit', () => {
    expect(checkGates(snapshot(), 6, NOW)).toBeNull();
  });

  it('is idle when nothing is left to answer, even in handoff or past the limit', () => {
    expect(
      checkGates(
        snapshot({
          unanswered: [],
          conversation: conversation('handoff'),
          recentTurnTimes: [ago(1_000)],
        }),
        1,
        NOW,
      ),
    ).toEqual({ status: 'idle' });
  });

  it('pauses while a person has the conversation, before counting turns', () => {
    expect(
      checkGates(
        snapshot({
          conversation: conversation('handoff'),
          recentTurnTimes: [ago(1_000)],
        }),
        1,
        NOW,
      ),
    ).toEqual({ status: 'paused' });
  });

  it('throttles a customer at the turn limit, with how long to wait', () => {
    expect(
      checkGates(
        snapshot({ recentTurnTimes: [ago(45_000), ago(15_000)] }),
        2,
        NOW,
      ),
    ).toEqual({ status: 'throttled', retryAfterMs: 15_001 });
  });
});
