import { sql, SQL } from 'drizzle-orm';
import { messages } from '../database/schema';
import type { OutboundDraft } from '../conversation/conversation.types';
import { messageJsonColumns } from '../conversation/row-mappers';

/**
 * The one way outbound messages are inserted: a turn's reply chunks and an
 * operator's messages alike. `source` is a query yielding, per message:
 * `conversation_id uuid, author text, text text, kind text, content jsonb,
 * status text ('pending' or 'sending'), at timestamptz, turn_key text,
 * chunk_index smallint,
 * reply_to_id bigint, llm_model text, prompt_tokens int, completion_tokens
 * int, ord int` (the insertion order, so ids follow it). Returns the rows as
 * JSON messages (`messageFromJson`).
 */
export function insertOutboundStatement(source: SQL): SQL {
  return sql`
    insert into ${messages}
           (conversation_id, direction, author, kind, text, content, media_id,
            status, attempts, status_updated_at, sent_at, turn_key, chunk_index,
            reply_to_id, llm_model, prompt_tokens, completion_tokens)
    select r.conversation_id, 'outbound', r.author, r.kind, r.text, r.content,
           -- A media message sent by id shows it, as an inbound one does (mediaIdOf).
           case when r.content ->> 'type' = 'media'
                then r.content -> 'source' ->> 'id' end,
           r.status,
           -- Recorded already claimed for sending: as a claim would leave it.
           case when r.status = 'sending' then 1 else 0 end,
           case when r.status = 'sending' then r.at end,
           r.at, r.turn_key, r.chunk_index, r.reply_to_id,
           r.llm_model, r.prompt_tokens, r.completion_tokens
      from (${source}) r
     order by r.ord
    returning ${sql.raw(messageJsonColumns())}`;
}

/** The JSON of a reply's chunks, as `jsonb_to_recordset` reads them back. */
export function chunksJson(drafts: OutboundDraft[]) {
  return drafts.map((d, index) => ({
    chunk_index: index,
    author: d.author,
    text: d.text,
    kind: kindOf(d),
    content: d.content ?? null,
    llm_model: d.llm?.model ?? null,
    prompt_tokens: d.llm?.promptTokens ?? null,
    completion_tokens: d.llm?.completionTokens ?? null,
  }));
}

/** The column list `chunksJson` gives to `jsonb_to_recordset`. */
export const CHUNK_COLUMNS = sql.raw(
  'chunk_index smallint, author text, text text, kind text, content jsonb, llm_model text, prompt_tokens int, completion_tokens int',
);

/** The stored kind of an outbound message: text, a media type, template or interactive. */
export function kindOf(draft: Pick<OutboundDraft, 'content'>): string {
  const { content } = draft;
  if (!content) return 'text';
  return content.type === 'media' ? content.mediaType : content.type;
}

/** The media id an outbound message is sent by; null for a link or no media. */
export function mediaIdOf(
  draft: Pick<OutboundDraft, 'content'>,
): string | null {
  const { content } = draft;
  if (content?.type !== 'media' || !('id' in content.source)) return null;
  return content.source.id;
}
