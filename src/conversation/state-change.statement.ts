import { eq } from 'drizzle-orm';
import type { Tx } from '../database/executor';
import { conversationEvents, conversations } from '../database/schema';
import type { Conversation, StateChange } from './conversation.types';
import { toConversation } from './row-mappers';

/**
 * Changes a conversation's state and records the change as an event, in the
 * caller's transaction: an operator's pause or resume, and a reply that hands
 * the conversation to a person, write it the same way.
 */
export async function applyStateChange(
  tx: Tx,
  conversationId: string,
  change: StateChange,
  now: Date,
): Promise<Conversation> {
  const [row] = await tx
    .update(conversations)
    .set({
      state: change.state,
      stateReason: change.reason,
      stateChangedAt: now,
      handoffUntil:
        change.state === 'handoff' ? (change.handoffUntil ?? null) : null,
      lastActivityAt: now,
    })
    .where(eq(conversations.id, conversationId))
    .returning();
  await tx.insert(conversationEvents).values({
    conversationId,
    type: change.state === 'handoff' ? 'handoff' : 'resume',
    actor: change.actor,
    reason: change.reason,
    createdAt: now,
  });
  return toConversation(row);
}
