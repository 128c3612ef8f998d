/** How the bot answers a message the webhook carried, before any business-number rule. */
export type ReplyDecision = 'llm' | 'media-notice' | 'none';

/** Message kinds that carry a media file. */
export const MEDIA_KINDS: ReadonlySet<string> = new Set([
  'image',
  'video',
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
 * The reply decision: a group message gets none; media with a caption is
 * answered like text, media without one gets the media notice; a
 * conversational kind with some text goes to the LLM; anything else
 * (reactions, system messages, unknown kinds) is stored and not answered.
 */
export function decideReply(message: {
  kind: string;
  text: string | null;
  isGroup: boolean;
}): ReplyDecision {
  const { kind, text, isGroup } = message;
  if (isGroup) return 'none';
  if (MEDIA_KINDS.has(kind)) return text === null ? 'media-notice' : 'llm';
  if (CONVERSATIONAL_KINDS.has(kind) && text !== null) return 'llm';
  return 'none';
}
