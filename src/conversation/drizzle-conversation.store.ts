import { Injectable } from '@nestjs/common';
import { and, desc, eq, lte, ne, notInArray, sql } from 'drizzle-orm';
import { DatabaseConnection, Db } from '../database/database-connection';
import {
  conversationEvents,
  conversations,
  messages,
} from '../database/schema';
import { ConversationStore } from './conversation.store';
import type { Conversation, Message, StateChange } from './conversation.types';
import { expireIdleStatement } from './expire-idle.statement';
import { toConversation, toMessage } from './row-mappers';
import { applyStateChange } from './state-change.statement';

/** Drizzle adapter: the same code on PGlite and on a PostgreSQL server. */
@Injectable()
export class DrizzleConversationStore extends ConversationStore {
  private readonly db: Db;

  constructor(connection: DatabaseConnection) {
    super();
    this.db = connection.db;
  }

  async getConversation(id: string): Promise<Conversation | null> {
    const [row] = await this.db
      .select()
      .from(conversations)
      .where(eq(conversations.id, id));
    return row ? toConversation(row) : null;
  }

  async findOpenConversation(
    customerWaId: string,
    now: Date,
    sessionTimeoutMs: number,
  ): Promise<Conversation | null> {
    const [row] = await this.db
      .select()
      .from(conversations)
      .where(
        and(
          eq(conversations.customerWaId, customerWaId),
          ne(conversations.state, 'expired'),
        ),
      );
    if (!row) return null;
    const idle =
      row.state === 'active' &&
      row.lastActivityAt.getTime() < now.getTime() - sessionTimeoutMs;
    return idle ? null : toConversation(row);
  }

  openConversation(
    customerWaId: string,
    now: Date,
    sessionTimeoutMs: number,
  ): Promise<Conversation> {
    return this.db.transaction(async (tx) => {
      await expireIdleStatement(
        tx,
        new Date(now.getTime() - sessionTimeoutMs),
        now,
        [customerWaId],
      );
      const [row] = await tx
        .insert(conversations)
        .values({
          customerWaId,
          startedAt: now,
          lastActivityAt: now,
          stateChangedAt: now,
        })
        .onConflictDoUpdate({
          target: conversations.customerWaId,
          targetWhere: sql`${conversations.state} <> 'expired'`,
          set: { customerWaId },
        })
        .returning();
      return toConversation(row);
    });
  }

  changeState(
    conversationId: string,
    change: StateChange,
    now: Date,
  ): Promise<Conversation> {
    return this.db.transaction((tx) =>
      applyStateChange(tx, conversationId, change, now),
    );
  }

  resumeDueHandoffs(now: Date): Promise<string[]> {
    return this.db.transaction(async (tx) => {
      const due = await tx
        .update(conversations)
        .set({
          state: 'active',
          stateReason: 'auto-resume',
          stateChangedAt: now,
          handoffUntil: null,
          lastActivityAt: now,
        })
        .where(
          and(
            eq(conversations.state, 'handoff'),
            lte(conversations.handoffUntil, now),
          ),
        )
        .returning({ id: conversations.id });
      if (due.length > 0) {
        await tx.insert(conversationEvents).values(
          due.map((d) => ({
            conversationId: d.id,
            type: 'resume',
            actor: 'system',
            reason: 'handoff time ended',
            createdAt: now,
          })),
        );
      }
      return due.map((d) => d.id);
    });
  }

  async expireIdle(cutoff: Date, now: Date): Promise<number> {
    return (await expireIdleStatement(this.db, cutoff, now)).length;
  }

  async getRecentMessages(
    conversationId: string,
    limit: number,
    excludeIds: number[] = [],
  ): Promise<Message[]> {
    if (limit <= 0) return [];
    const rows = await this.db
      .select()
      .from(messages)
      .where(
        and(
          eq(messages.conversationId, conversationId),
          sql`(${messages.text} is not null or ${messages.mediaText} is not null)`,
          ne(messages.status, 'failed'),
          excludeIds.length > 0
            ? notInArray(messages.id, excludeIds)
            : undefined,
        ),
      )
      .orderBy(desc(messages.createdAt), desc(messages.id))
      .limit(limit);
    return rows.reverse().map(toMessage);
  }
}
