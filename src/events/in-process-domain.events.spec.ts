import { Logger } from '@nestjs/common';
import type { DomainEvent } from './domain-events';
import { InProcessDomainEvents } from './in-process-domain.events';

const stored: DomainEvent = {
  type: 'messages.stored',
  stored: 1,
  duplicates: 0,
  statuses: 0,
  errors: 0,
  conversationIds: ['c-1'],
};

describe('InProcessDomainEvents', () => {
  afterEach(() => jest.restoreAllMocks());

  it('delivers each event to every subscriber, in the order published', () => {
    const events = new InProcessDomainEvents();
    const seen: string[] = [];
    events.subscribe((e) => seen.push(`a:${e.type}`));
    events.subscribe((e) => seen.push(`b:${e.type}`));

    events.publish(stored);
    events.publish({
      type: 'turn.done',
      conversationId: 'c-1',
      outcome: 'bot',
      durationMs: 12,
    });

    expect(seen).toEqual([
      'a:messages.stored',
      'b:messages.stored',
      'a:turn.done',
      'b:turn.done',
    ]);
  });

  it('stops delivering to a subscriber that unsubscribed', () => {
    const events = new InProcessDomainEvents();
    const seen: DomainEvent[] = [];
    const unsubscribe = events.subscribe((e) => seen.push(e));
    unsubscribe();

    events.publish(stored);

    expect(seen).toEqual([]);
  });

  it('keeps a failing subscriber from reaching the publisher or the other subscribers', () => {
    const errors = jest
      .spyOn(Logger.prototype, 'error')
      .mockImplementation(() => undefined);
    const events = new InProcessDomainEvents();
    const seen: DomainEvent[] = [];
    events.subscribe(() => {
      throw new Error('subscriber bug');
    });
    events.subscribe((e) => seen.push(e));

    expect(() => events.publish(stored)).not.toThrow();
    expect(seen).toEqual([stored]);
    expect(errors).toHaveBeenCalledTimes(1);
  });
});
