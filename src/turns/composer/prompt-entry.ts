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
  if (message.kind in MEDIA_LABELS) return mediaEntry(message);
  return { from: 'customer', text: message.text ?? '' };
}

/**
 * Media reads as what the turn understood of it: a voice note as its
 * transcript, a document as its name, caption and text, an image as its
 * label and caption (the image itself goes with the turn that received
 * it). Media not understood reads as its caption (the model is told it
 * has nothing else), or as a note that it was sent.
 */
function mediaEntry(message: Message): PromptEntry {
  // `text` is the caption behind its label: "[document terms.pdf] see p. 2".
  const caption = message.text;
  if (message.mediaStatus === 'understood') {
    switch (message.kind) {
      case 'audio':
        return {
          from: 'customer',
          text: `[voice note] ${message.mediaText ?? ''}`,
        };
      case 'document': {
        const label =
          caption ??
          `[document${message.mediaFilename ? ` ${message.mediaFilename}` : ''}]`;
        return {
          from: 'customer',
          text: `${label}\n${message.mediaText ?? ''}`,
        };
      }
      default:
        return { from: 'customer', text: caption ?? `[${message.kind}]` };
    }
  }
  if (message.replyAction === 'llm' && caption) {
    return { from: 'customer', text: `${caption}\n${ATTACHMENT_NOT_SHOWN}` };
  }
  const what = MEDIA_LABELS[message.kind];
  const captioned = caption ? ` with the caption: ${caption}` : '';
  const unread =
    message.mediaStatus === 'failed' ? ' that could not be opened' : '';
  return {
    from: 'customer',
    text: `[The customer sent ${what}${unread}${captioned}]`,
  };
}

/**
 * Whether the model has something to read in a message the bot answers:
 * text, a caption, or media the turn understood.
 */
export function isReadable(message: Message): boolean {
  if (message.replyAction !== 'llm') return false;
  if (!(message.kind in MEDIA_LABELS)) return true;
  return message.text !== null || message.mediaStatus === 'understood';
}
