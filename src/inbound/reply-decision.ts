import { MEDIA_TYPES } from '../whatsapp/media-limits';

/** How the bot answers a message the webhook carried, before any business-number rule. */
export type ReplyDecision = 'llm' | 'media-notice' | 'none';

/** Message kinds that carry a media file: the Cloud API's media types. */
export const MEDIA_KINDS: ReadonlySet<string> = new Set<string>(MEDIA_TYPES);

/**
 * Media a turn downloads and reads (a voice note's transcript, an image
 * for a vision model, a document's text): answered by the turn even
 * without a caption; the turn falls back to the media notice when it
 * could not read them.
 */
export const READABLE_MEDIA_KINDS: ReadonlySet<string> = new Set([
  'image',
  'audio',
  'document',
  'sticker',
]);

/** Kinds the LLM answers, provided they yield some text. */
const CONVERSATIONAL_KINDS: ReadonlySet<string> = new Set([
  'text',
  'interactive',
  'button',
  'location',
  'contacts',
  'order',
]);

/**
 * The reply decision: a group message gets none; media the turn can read
 * (images, audio, documents, stickers with a media id) goes to the turn;
 * other media (video) with a caption is answered like text, without one it
 * gets the media notice; a conversational kind with some text goes to the
 * LLM; anything else
 * (reactions, system messages, unknown kinds) is stored and not answered.
 */
export function decideReply(message: {
  kind: string;
  text: string | null;
  isGroup: boolean;
  mediaId?: string | null;
}): ReplyDecision {
  const { kind, text, isGroup } = message;
  if (isGroup) return 'none';
  if (READABLE_MEDIA_KINDS.has(kind) && message.mediaId) return 'llm';
  if (MEDIA_KINDS.has(kind)) return text === null ? 'media-notice' : 'llm';
  if (CONVERSATIONAL_KINDS.has(kind) && text !== null) return 'llm';
  return 'none';
}
