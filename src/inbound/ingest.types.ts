import type {
  ReplyAction,
  StoredError,
} from '../conversation/conversation.types';

/** An inbound message as the webhook parsed it. */
export interface InboundMessageInput {
  wamid: string;
  customerWaId: string;
  customerName: string | null;
  timestamp: Date;
  kind: string;
  text: string | null;
  mediaId: string | null;
  reply: ReplyAction;
  raw: unknown;
}

export interface StatusUpdateInput {
  wamid: string;
  status: string;
  timestamp: Date;
  error: StoredError | null;
  raw: unknown;
}

export interface WebhookErrorInput {
  phoneNumberId: string | null;
  code: number | null;
  title: string | null;
  message: string | null;
  details: string | null;
  raw: unknown;
}

/** Everything one or more webhooks carried, stored together before the acknowledgement. */
export interface IngestBatch {
  messages: InboundMessageInput[];
  statuses: StatusUpdateInput[];
  errors: WebhookErrorInput[];
}

export interface IngestResult {
  /** Messages stored for the first time (re-deliveries excluded). */
  stored: number;
  duplicates: number;
  /** Conversations that got messages a turn must answer. */
  conversationsToAnswer: string[];
  /** The messages stored for the first time that a turn must answer. */
  messagesToAnswer: Array<{ wamid: string; conversationId: string }>;
}
