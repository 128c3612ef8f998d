import { nextStatus, settleStatus } from './message-status';

describe('nextStatus', () => {
  it.each([
    ['sent', 'delivered', 'delivered'],
    ['delivered', 'read', 'read'],
    ['sent', 'read', 'read'],
    ['read', 'played', 'played'],
    ['sending', 'sent', 'sent'],
  ] as const)('moves %s forward to %s', (current, incoming, expected) => {
    expect(nextStatus(current, incoming)).toBe(expected);
  });

  it.each([
    ['read', 'delivered'],
    ['read', 'sent'],
    ['delivered', 'sent'],
  ] as const)('never downgrades %s to %s', (current, incoming) => {
    expect(nextStatus(current, incoming)).toBe(current);
  });

  it('makes failed final', () => {
    expect(nextStatus('sent', 'failed')).toBe('failed');
    expect(nextStatus('failed', 'read')).toBe('failed');
    expect(nextStatus('failed', 'delivered')).toBe('failed');
  });

  it('ignores statuses it does not know and leaves inbound messages alone', () => {
    expect(nextStatus('sent', 'deleted')).toBe('sent');
    expect(nextStatus('received', 'read')).toBe('received');
  });

  it('reaches the same status whatever order the webhooks arrive in', () => {
    expect(settleStatus('sent', ['read', 'delivered'])).toBe('read');
    expect(settleStatus('sent', ['delivered', 'read'])).toBe('read');
    expect(settleStatus('pending', ['delivered'])).toBe('delivered');
  });
});
