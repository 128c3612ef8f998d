import type { Message } from '../../conversation/conversation.types';
import type { PromptEntry } from './build-prompt';

const MEDIA_LABELS: Record<string, string> = {
  image: 'an image',
  video: 'a video',
  audio: 'an audio message',
  document: 'a document',
  sticker: 'a sticker',
};

const ATTACHMENT_NOT_SHOWN =
  '(The attachment itself is not available to you, only its caption: do not describe its content.)';

/** How a stored message reads in the prompt. */
export function toPromptEntry(message: Message): PromptEntry {
  if (message.direction === 'outbound') {
    return { from: 'business', text: message.text ?? '' };
  }
  if (message.replyAction === 'llm' && message.kind in MEDIA_LABELS) {
    // A caption, labelled with what was attached ("[image] …"): the model
    // is told it has only the caption, so it does not pretend to see more.
    return {
      from: 'customer',
      text: `${message.text ?? ''}\n${ATTACHMENT_NOT_SHOWN}`,
    };
  }
  if (message.replyAction === 'media-notice') {
    const what = MEDIA_LABELS[message.kind] ?? `a ${message.kind}`;
    const caption = message.text ? ` with the caption: ${message.text}` : '';
    return { from: 'customer', text: `[The customer sent ${what}${caption}]` };
  }
  return { from: 'customer', text: message.text ?? '' };
}
