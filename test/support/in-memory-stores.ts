import { kindOf, mediaIdOf } from '../../src/outbound/outbound-rows.statement';
import { randomUUID } from 'node:crypto';
import { ConversationStore } from '../../src/conversation/conversation.store';
import type {
  Conversation,
  EventActor,
  MediaResult,
  Message,
  OutboundDraft,
  StateChange,
  StoredError,
  TurnSnapshot,
} from '../../src/conversation/conversation.types';
import { IngestStore } from '../../src/inbound/ingest.store';
import type {
  InboundMessageInput,
  IngestBatch,
  IngestResult,
  WebhookErrorInput,
} from '../../src/inbound/ingest.types';
import { KNOWN_STATUSES, settleStatus } from '../../src/inbound/message-status';
import { OutboxStore } from '../../src/outbound/outbox.store';
import { TurnStore } from '../../src/turns/turn.store';
import {
  RequestedStep,
  ToolJournal,
  TurnRef,
  TurnStep,
} from '../../src/turns/tool-journal';

/**
 * In-memory fakes of the four stores, sharing one world of conversations and
 * messages, for the services' unit specs. They keep the contracts the
 * abstract classes document (and the Drizzle adapters keep): a wamid is
 * stored once, a reply is recorded only if none of its messages was answered
 * and no person has the conversation, a message is claimed once, a wamid is
 * applied once, statuses never go back. Every method works on copies: what a
 * caller gets back cannot change the world, as with rows read from a
 * database. The clock is the `now` each write is given (`createdAt` too).
 */

/** A stored message: what the stores return, and the bookkeeping columns. */
interface MessageRow extends Message {
  attempts: number;
  statusUpdatedAt: Date | null;
  raw: unknown;
}

export interface ConversationEventRow {
  conversationId: string;
  type: 'handoff' | 'resume' | 'expire';
  actor: EventActor;
  reason: string | null;
  createdAt: Date;
}

const TURN_AUTHORS = new Set(['bot', 'fallback', 'notice']);
const ANSWERABLE = new Set(['llm', 'media-notice']);

const copy = <T>(value: T): T => structuredClone(value);

/** A stored row as the stores return it: `Message`'s fields only. */
function toMessage(row: MessageRow): Message {
  const {
    attempts: _attempts,
    statusUpdatedAt: _statusUpdatedAt,
    raw: _raw,
    ...message
  } = row;
  return copy(message);
}

/** The conversations and messages every store of one world reads and writes. */
export class InMemoryWorld {
  readonly conversationRows: Conversation[] = [];
  readonly messageRows: MessageRow[] = [];
  readonly statusEvents: Array<{
    wamid: string;
    status: string;
    error: StoredError | null;
  }> = [];
  readonly conversationEvents: ConversationEventRow[] = [];
  readonly webhookErrors: WebhookErrorInput[] = [];
  /** While set, every store call rejects with it (the database is down). */
  outage: Error | null = null;
  private lastMessageId = 0;

  readonly ingest = new InMemoryIngestStore(this);
  readonly conversations = new InMemoryConversationStore(this);
  readonly turns = new InMemoryTurnStore(this);
  readonly outbox = new InMemoryOutboxStore(this);
  readonly journal = new InMemoryToolJournal(this);
  /** What turns did before they answered (turn_steps), keyed by `opened_by`. */
  readonly turnSteps: Array<TurnStep & TurnRef> = [];

  /** A conversation's messages as stored, in id order. */
  messagesOf(conversationId: string): Message[] {
    return this.messageRows
      .filter((m) => m.conversationId === conversationId)
      .map(toMessage);
  }

  /** Outbound messages of a conversation as stored, in id order. */
  outboundOf(conversationId: string): Message[] {
    return this.messagesOf(conversationId).filter(
      (m) => m.direction === 'outbound',
    );
  }

  /** How many times a message was claimed for sending. */
  attemptsOf(messageId: number): number {
    return this.messageRow(messageId).attempts;
  }

  conversation(id: string): Conversation {
    const found = this.conversationRows.find((c) => c.id === id);
    if (!found) throw new Error(`no conversation ${id}`);
    return copy(found);
  }

  /** Rejects while `outage` is set; every store method goes through here. */
  async run<T>(write: () => T): Promise<T> {
    await Promise.resolve();
    if (this.outage) throw this.outage;
    return write();
  }

  messageRow(id: number): MessageRow {
    const row = this.messageRows.find((m) => m.id === id);
    if (!row) throw new Error(`no message ${id}`);
    return row;
  }

  conversationRow(id: string): Conversation | undefined {
    return this.conversationRows.find((c) => c.id === id);
  }

  openRowOf(customerWaId: string): Conversation | undefined {
    return this.conversationRows.find(
      (c) => c.customerWaId === customerWaId && c.state !== 'expired',
    );
  }

  /** Active conversations (of these customers) idle since before `cutoff` end. */
  expireIdle(cutoff: Date, now: Date, customerWaIds?: string[]): string[] {
    const expired: string[] = [];
    for (const c of this.conversationRows) {
      if (customerWaIds && !customerWaIds.includes(c.customerWaId)) continue;
      if (c.state !== 'active' || c.lastActivityAt >= cutoff) continue;
      c.state = 'expired';
      c.stateReason = 'idle';
      c.stateChangedAt = now;
      expired.push(c.id);
    }
    return expired;
  }

  newConversation(
    customerWaId: string,
    customerName: string | null,
    now: Date,
  ): Conversation {
    const row: Conversation = {
      id: randomUUID(),
      customerWaId,
      customerName,
      state: 'active',
      stateReason: null,
      stateChangedAt: now,
      handoffUntil: null,
      startedAt: now,
      lastActivityAt: now,
    };
    this.conversationRows.push(row);
    return row;
  }

  applyStateChange(
    conversationId: string,
    change: StateChange,
    now: Date,
  ): Conversation {
    const row = this.conversationRow(conversationId);
    if (!row) throw new Error(`no conversation ${conversationId}`);
    row.state = change.state;
    row.stateReason = change.reason;
    row.stateChangedAt = now;
    row.handoffUntil =
      change.state === 'handoff' ? (change.handoffUntil ?? null) : null;
    row.lastActivityAt = now;
    this.conversationEvents.push({
      conversationId,
      type: change.state === 'handoff' ? 'handoff' : 'resume',
      actor: change.actor,
      reason: change.reason,
      createdAt: now,
    });
    return copy(row);
  }

  insertInbound(
    conversationId: string,
    m: InboundMessageInput,
    now: Date,
  ): MessageRow {
    const row: MessageRow = {
      id: ++this.lastMessageId,
      conversationId,
      direction: 'inbound',
      author: 'customer',
      wamid: m.wamid,
      kind: m.kind,
      text: m.text,
      mediaId: m.mediaId,
      content: null,
      status: 'received',
      error: null,
      sentAt: m.timestamp,
      answeredAt: ANSWERABLE.has(m.reply) ? null : now,
      replyAction: m.reply,
      turnKey: null,
      chunkIndex: null,
      replyToId: null,
      acceptedAt: null,
      createdAt: now,
      llmModel: null,
      promptTokens: null,
      completionTokens: null,
      mediaText: null,
      mediaStatus: null,
      mediaFailure: null,
      mediaFilename:
        m.kind === 'document' &&
        typeof (m.raw as { document?: { filename?: unknown } })?.document
          ?.filename === 'string'
          ? (m.raw as { document: { filename: string } }).document.filename
          : null,
      attempts: 0,
      statusUpdatedAt: null,
      raw: m.raw,
    };
    this.messageRows.push(row);
    return row;
  }

  /** The one way outbound messages are inserted (a reply's chunks, an operator's messages). */
  insertOutbound(
    conversationId: string,
    drafts: OutboundDraft[],
    o: {
      status: 'pending' | 'sending';
      turnKey: string;
      replyToId: number | null;
      now: Date;
    },
  ): MessageRow[] {
    // The unique (turn_key, chunk_index) index.
    if (this.messageRows.some((m) => m.turnKey === o.turnKey)) {
      throw new Error(`duplicate turn key ${o.turnKey}`);
    }
    const rows = drafts.map((d, index): MessageRow => ({
      id: ++this.lastMessageId,
      conversationId,
      direction: 'outbound',
      author: d.author,
      wamid: null,
      kind: kindOf(d),
      text: d.text,
      mediaId: mediaIdOf(d),
      content: d.content ?? null,
      status: o.status,
      error: null,
      sentAt: o.now,
      answeredAt: null,
      replyAction: null,
      turnKey: o.turnKey,
      chunkIndex: index,
      replyToId: o.replyToId,
      acceptedAt: null,
      createdAt: o.now,
      llmModel: d.llm?.model ?? null,
      promptTokens: d.llm?.promptTokens ?? null,
      completionTokens: d.llm?.completionTokens ?? null,
      mediaText: null,
      mediaStatus: null,
      mediaFailure: null,
      mediaFilename: null,
      // Recorded already claimed for sending: as a claim would leave it.
      attempts: o.status === 'sending' ? 1 : 0,
      statusUpdatedAt: o.status === 'sending' ? o.now : null,
      raw: null,
    }));
    this.messageRows.push(...rows);
    return rows;
  }

  /** Reported statuses move outbound messages forward, never back; `failed` is final. */
  reconcileStatuses(wamids: string[], now: Date) {
    for (const row of this.messageRows) {
      if (row.direction !== 'outbound' || !row.wamid) continue;
      if (!wamids.includes(row.wamid)) continue;
      const mine = this.statusEvents.filter((s) => s.wamid === row.wamid);
      const status = settleStatus(
        row.status,
        mine.map((s) => s.status),
      );
      if (status === row.status) continue;
      row.status = status;
      row.statusUpdatedAt = now;
      if (status === 'failed') {
        row.error = mine.find((s) => s.status === 'failed')?.error ?? row.error;
      }
    }
  }
}

export class InMemoryIngestStore extends IngestStore {
  constructor(private readonly world: InMemoryWorld) {
    super();
  }

  ingest(
    batch: IngestBatch,
    now: Date,
    sessionTimeoutMs: number,
  ): Promise<IngestResult> {
    return this.world.run(() => {
      const world = this.world;
      // One row per wamid, even when a batch holds the same message twice.
      const unique = [
        ...new Map(batch.messages.map((m) => [m.wamid, m])).values(),
      ];
      const customers = [...new Set(unique.map((m) => m.customerWaId))];
      world.expireIdle(
        new Date(now.getTime() - sessionTimeoutMs),
        now,
        customers,
      );
      const fresh = unique.filter(
        (m) => !world.messageRows.some((row) => row.wamid === m.wamid),
      );
      const conversationOf = new Map<string, string>();
      for (const customer of [
        ...new Set(fresh.map((m) => m.customerWaId)),
      ].sort()) {
        const name =
          fresh
            .filter((m) => m.customerWaId === customer && m.customerName)
            .map((m) => m.customerName)
            .pop() ?? null;
        let conversation = world.openRowOf(customer);
        if (conversation) {
          conversation.customerName = name ?? conversation.customerName;
          conversation.lastActivityAt = now;
        } else {
          conversation = world.newConversation(customer, name, now);
        }
        conversationOf.set(customer, conversation.id);
      }
      const inserted = fresh.map((m) =>
        world.insertInbound(conversationOf.get(m.customerWaId)!, m, now),
      );

      const statuses = batch.statuses.filter((s) =>
        KNOWN_STATUSES.has(s.status),
      );
      for (const s of statuses) {
        const known = world.statusEvents.some(
          (e) => e.wamid === s.wamid && e.status === s.status,
        );
        if (!known) {
          world.statusEvents.push({
            wamid: s.wamid,
            status: s.status,
            error: s.error,
          });
        }
      }
      world.reconcileStatuses(
        statuses.map((s) => s.wamid),
        now,
      );
      world.webhookErrors.push(...copy(batch.errors));

      const toAnswer = inserted.filter((m) =>
        ANSWERABLE.has(m.replyAction ?? ''),
      );
      return {
        stored: inserted.length,
        duplicates: batch.messages.length - inserted.length,
        conversationsToAnswer: [
          ...new Set(toAnswer.map((m) => m.conversationId)),
        ],
        messagesToAnswer: toAnswer.map((m) => ({
          wamid: m.wamid!,
          conversationId: m.conversationId,
        })),
      };
    });
  }
}

export class InMemoryConversationStore extends ConversationStore {
  constructor(private readonly world: InMemoryWorld) {
    super();
  }

  getConversation(id: string): Promise<Conversation | null> {
    return this.world.run(() => {
      const row = this.world.conversationRow(id);
      return row ? copy(row) : null;
    });
  }

  findOpenConversation(
    customerWaId: string,
    now: Date,
    sessionTimeoutMs: number,
  ): Promise<Conversation | null> {
    return this.world.run(() => {
      const row = this.world.openRowOf(customerWaId);
      if (!row) return null;
      const idle =
        row.state === 'active' &&
        row.lastActivityAt.getTime() < now.getTime() - sessionTimeoutMs;
      return idle ? null : copy(row);
    });
  }

  openConversation(
    customerWaId: string,
    now: Date,
    sessionTimeoutMs: number,
  ): Promise<Conversation> {
    return this.world.run(() => {
      this.world.expireIdle(new Date(now.getTime() - sessionTimeoutMs), now, [
        customerWaId,
      ]);
      const row =
        this.world.openRowOf(customerWaId) ??
        this.world.newConversation(customerWaId, null, now);
      return copy(row);
    });
  }

  changeState(
    conversationId: string,
    change: StateChange,
    now: Date,
  ): Promise<Conversation> {
    return this.world.run(() =>
      this.world.applyStateChange(conversationId, change, now),
    );
  }

  resumeDueHandoffs(now: Date): Promise<string[]> {
    return this.world.run(() => {
      const due = this.world.conversationRows.filter(
        (c) =>
          c.state === 'handoff' &&
          c.handoffUntil !== null &&
          c.handoffUntil <= now,
      );
      for (const c of due) {
        c.state = 'active';
        c.stateReason = 'auto-resume';
        c.stateChangedAt = now;
        c.handoffUntil = null;
        c.lastActivityAt = now;
        this.world.conversationEvents.push({
          conversationId: c.id,
          type: 'resume',
          actor: 'system',
          reason: 'handoff time ended',
          createdAt: now,
        });
      }
      return due.map((c) => c.id);
    });
  }

  expireIdle(cutoff: Date, now: Date): Promise<number> {
    return this.world.run(() => this.world.expireIdle(cutoff, now).length);
  }

  getRecentMessages(
    conversationId: string,
    limit: number,
    excludeIds: number[] = [],
  ): Promise<Message[]> {
    return this.world.run(() => {
      if (limit <= 0) return [];
      return this.world.messageRows
        .filter(
          (m) =>
            m.conversationId === conversationId &&
            (m.text !== null || m.mediaText !== null) &&
            m.status !== 'failed' &&
            !excludeIds.includes(m.id),
        )
        .sort(newestFirst)
        .slice(0, limit)
        .reverse()
        .map(toMessage);
    });
  }
}

/** By creation time, then id, newest first. */
const newestFirst = (a: Message, b: Message) =>
  b.createdAt.getTime() - a.createdAt.getTime() || b.id - a.id;

export class InMemoryTurnStore extends TurnStore {
  constructor(private readonly world: InMemoryWorld) {
    super();
  }

  loadTurn(
    conversationId: string,
    historyLimit: number,
    turnsSince: Date,
  ): Promise<TurnSnapshot | null> {
    return this.world.run(() => {
      const world = this.world;
      const conversation = world.conversationRow(conversationId);
      if (!conversation) return null;
      const mine = world.messageRows.filter(
        (m) => m.conversationId === conversationId,
      );
      const unanswered = (m: MessageRow) =>
        m.direction === 'inbound' && m.answeredAt === null;
      const customerConversations = new Set(
        world.conversationRows
          .filter((c) => c.customerWaId === conversation.customerWaId)
          .map((c) => c.id),
      );
      const turnStarts = new Map<string | null, number>();
      for (const m of world.messageRows) {
        if (!customerConversations.has(m.conversationId)) continue;
        if (m.direction !== 'outbound' || !TURN_AUTHORS.has(m.author)) continue;
        if (m.createdAt < turnsSince) continue;
        const started = turnStarts.get(m.turnKey);
        const at = m.createdAt.getTime();
        if (started === undefined || at < started)
          turnStarts.set(m.turnKey, at);
      }
      return {
        conversation: copy(conversation),
        unsent: mine
          .filter(
            (m) =>
              m.direction === 'outbound' &&
              (m.status === 'pending' || m.status === 'sending'),
          )
          .map(toMessage),
        unanswered: mine
          .filter(unanswered)
          .sort(
            (a, b) => a.sentAt.getTime() - b.sentAt.getTime() || a.id - b.id,
          )
          .map(toMessage),
        history: mine
          .filter(
            (m) =>
              (m.text !== null || m.mediaText !== null) &&
              m.status !== 'failed' &&
              !unanswered(m) &&
              m.replyAction !== 'not-served',
          )
          .sort(newestFirst)
          .slice(0, Math.max(0, historyLimit))
          .reverse()
          .map(toMessage),
        recentTurnTimes: [...turnStarts.values()]
          .sort((a, b) => a - b)
          .map((t) => new Date(t)),
      };
    });
  }

  recordReply(
    conversationId: string,
    answeredIds: number[],
    turnKey: string,
    drafts: OutboundDraft[],
    now: Date,
    handoff?: StateChange,
  ): Promise<Message[] | null> {
    return this.world.run(() => {
      const world = this.world;
      const ids = [...new Set(answeredIds)];
      if (ids.length === 0) return null;
      const targets = world.messageRows.filter(
        (m) => ids.includes(m.id) && m.answeredAt === null,
      );
      const conversation = world.conversationRow(conversationId);
      // Another turn answered one of them first, or a person has the conversation.
      if (targets.length !== ids.length) return null;
      if (!conversation || conversation.state === 'handoff') return null;
      for (const m of targets) m.answeredAt = now;
      conversation.lastActivityAt = now;
      const rows = world.insertOutbound(conversationId, drafts, {
        status: 'sending',
        turnKey,
        replyToId: Math.max(...ids),
        now,
      });
      if (handoff) world.applyStateChange(conversationId, handoff, now);
      return rows.map(toMessage);
    });
  }

  saveMediaResults(results: MediaResult[]): Promise<void> {
    return this.world.run(() => {
      for (const r of results) {
        const row = this.world.messageRows.find(
          (m) => m.id === r.messageId && m.direction === 'inbound',
        );
        if (!row) continue;
        row.mediaStatus = r.status;
        row.mediaText = r.text;
        row.mediaFailure = r.failure;
      }
    });
  }

  findConversationsWithPendingWork(recordedBefore?: Date): Promise<string[]> {
    return this.world.run(() => {
      const before = recordedBefore ?? new Date('9999-12-31T00:00:00Z');
      const ids = new Set<string>();
      for (const m of this.world.messageRows) {
        if (m.createdAt >= before) continue;
        const unanswered =
          m.direction === 'inbound' &&
          m.answeredAt === null &&
          this.world.conversationRow(m.conversationId)?.state !== 'handoff';
        if (unanswered || m.status === 'pending') ids.add(m.conversationId);
      }
      return [...ids];
    });
  }
}

export class InMemoryOutboxStore extends OutboxStore {
  constructor(private readonly world: InMemoryWorld) {
    super();
  }

  recordOperatorMessages(
    conversationId: string,
    batchKey: string,
    drafts: OutboundDraft[],
    now: Date,
  ): Promise<Message[]> {
    return this.world.run(() => {
      const world = this.world;
      // A person answered what the customer wrote so far.
      for (const m of world.messageRows) {
        if (
          m.conversationId === conversationId &&
          m.direction === 'inbound' &&
          m.answeredAt === null &&
          m.createdAt <= now
        )
          m.answeredAt = now;
      }
      if (drafts.length === 0) return [];
      const rows = world.insertOutbound(conversationId, drafts, {
        status: 'pending',
        turnKey: batchKey,
        replyToId: null,
        now,
      });
      const conversation = world.conversationRow(conversationId);
      if (conversation) conversation.lastActivityAt = now;
      return rows.map(toMessage);
    });
  }

  getUnsent(conversationId: string): Promise<Message[]> {
    return this.world.run(() =>
      this.world.messageRows
        .filter(
          (m) =>
            m.conversationId === conversationId &&
            m.direction === 'outbound' &&
            (m.status === 'pending' || m.status === 'sending'),
        )
        .map(toMessage),
    );
  }

  claimForSending(messageId: number, now: Date): Promise<boolean> {
    return this.world.run(() => {
      const row = this.world.messageRows.find((m) => m.id === messageId);
      if (!row || row.status !== 'pending') return false;
      row.status = 'sending';
      row.statusUpdatedAt = now;
      row.attempts++;
      return true;
    });
  }

  releaseStaleSends(before: Date): Promise<Message[]> {
    return this.world.run(() => {
      const stale = this.world.messageRows.filter(
        (m) =>
          m.direction === 'outbound' &&
          m.status === 'sending' &&
          m.statusUpdatedAt !== null &&
          m.statusUpdatedAt < before,
      );
      for (const m of stale) m.status = 'pending';
      return stale.map(toMessage);
    });
  }

  markSent(messageId: number, wamid: string, now: Date): Promise<void> {
    return this.world.run(() => {
      const world = this.world;
      const row = world.messageRows.find((m) => m.id === messageId);
      // A message with its wamid already stored is left alone.
      if (row && row.wamid === null) {
        row.wamid = wamid;
        row.status = 'sent';
        row.statusUpdatedAt = now;
        row.acceptedAt = now;
        row.error = null;
        const conversation = world.conversationRow(row.conversationId);
        if (conversation) conversation.lastActivityAt = now;
      }
      // Statuses Meta reported before the wamid was stored.
      world.reconcileStatuses([wamid], now);
    });
  }

  markFailed(messageId: number, error: StoredError, now: Date): Promise<void> {
    return this.world.run(() => {
      const row = this.world.messageRows.find((m) => m.id === messageId);
      if (!row) return;
      row.status = 'failed';
      row.error = copy(error);
      row.statusUpdatedAt = now;
    });
  }
}

/** A customer's text message, to be answered by the LLM, sent now. */
export const inboundText = (
  wamid: string,
  customer: string,
  text = 'hi',
): InboundMessageInput => ({
  wamid,
  customerWaId: customer,
  customerName: null,
  timestamp: new Date(),
  kind: 'text',
  text,
  mediaId: null,
  reply: 'llm',
  raw: {},
});

/** One webhook's worth of messages, with no statuses or errors. */
export const webhookWith = (
  ...messages: InboundMessageInput[]
): IngestBatch => ({ messages, statuses: [], errors: [] });

export class InMemoryToolJournal extends ToolJournal {
  constructor(private readonly world: InMemoryWorld) {
    super();
  }

  open(turn: TurnRef): Promise<TurnStep[]> {
    return this.world.run(() => {
      const steps = this.stepsOf(turn);
      for (const step of steps) step.turnKey = turn.turnKey;
      return steps.map(asStep);
    });
  }

  recordRound(
    turn: TurnRef,
    round: number,
    steps: RequestedStep[],
  ): Promise<TurnStep[]> {
    return this.world.run(() => {
      for (const step of steps) {
        const there = this.stepsOf(turn).some(
          (s) => s.round === round && s.position === step.position,
        );
        if (!there) {
          this.world.turnSteps.push({
            ...turn,
            ...step,
            round,
            result: null,
            ok: null,
            durationMs: null,
          });
        }
      }
      return this.stepsOf(turn)
        .filter((s) => s.round === round)
        .map(asStep);
    });
  }

  recordResult(
    turn: TurnRef,
    round: number,
    position: number,
    result: { ok: boolean; content: string; durationMs: number },
  ): Promise<void> {
    return this.world.run(() => {
      const step = this.stepsOf(turn).find(
        (s) => s.round === round && s.position === position,
      );
      if (step && step.result === null) {
        step.result = result.content;
        step.ok = result.ok;
        step.durationMs = result.durationMs;
      }
    });
  }

  private stepsOf(turn: TurnRef) {
    return this.world.turnSteps
      .filter(
        (s) =>
          s.openedBy === turn.openedBy &&
          s.conversationId === turn.conversationId,
      )
      .sort((a, b) => a.round - b.round || a.position - b.position);
  }
}

const asStep = ({
  conversationId: _c,
  openedBy: _o,
  turnKey: _t,
  ...step
}: TurnStep & TurnRef): TurnStep => ({ ...step });
