import type { Message } from '../../conversation/conversation.types';
import { isReadable, toPromptEntry } from './prompt-entry';

const inbound = (over: Partial<Message>): Message => ({
  id: 1,
  conversationId: 'c',
  direction: 'inbound',
  author: 'customer',
  wamid: 'w',
  kind: 'text',
  text: null,
  mediaId: null,
  content: null,
  status: 'received',
  error: null,
  sentAt: new Date(0),
  answeredAt: null,
  replyAction: 'llm',
  turnKey: null,
  chunkIndex: null,
  replyToId: null,
  acceptedAt: null,
  createdAt: new Date(0),
  llmModel: null,
  promptTokens: null,
  completionTokens: null,
  mediaText: null,
  mediaStatus: null,
  mediaFailure: null,
  mediaFilename: null,
  ...over,
});

describe('toPromptEntry for media', () => {
  it("reads a transcribed voice note as the customer's words", () => {
    const m = inbound({
      kind: 'audio',
      mediaId: 'a',
      mediaStatus: 'understood',
      mediaText: 'where is my parcel?',
    });
    expect(toPromptEntry(m)).toEqual({
      from: 'customer',
      text: '[voice note] where is my parcel?',
    });
    expect(isReadable(m)).toBe(true);
  });

  it('reads a document as its name (or its labelled caption), then its text', () => {
    const bare = inbound({
      kind: 'document',
      mediaStatus: 'understood',
      mediaText: 'Terms…',
      mediaFilename: 'terms.pdf',
    });
    const captioned = { ...bare, text: '[document terms.pdf] page 2?' };
    expect(toPromptEntry(bare).text).toBe('[document terms.pdf]\nTerms…');
    expect(toPromptEntry(captioned).text).toBe(
      '[document terms.pdf] page 2?\nTerms…',
    );
  });

  it('says a file could not be opened, and leaves nothing to read, when understanding failed', () => {
    const m = inbound({ kind: 'image', mediaStatus: 'failed' });
    expect(toPromptEntry(m).text).toBe(
      '[The customer sent an image that could not be opened]',
    );
    expect(isReadable(m)).toBe(false);
  });

  it('keeps a caption of media not understood, telling the model it has only the caption', () => {
    const m = inbound({
      kind: 'image',
      text: '[image] broken lid',
      mediaStatus: 'skipped',
    });
    expect(toPromptEntry(m).text).toMatch(
      /^\[image\] broken lid\n\(The attachment itself is not available/,
    );
    expect(isReadable(m)).toBe(true);
  });

  it('gives a video without a caption the media notice', () => {
    const m = inbound({ kind: 'video', replyAction: 'media-notice' });
    expect(isReadable(m)).toBe(false);
    expect(toPromptEntry(m).text).toBe('[The customer sent a video]');
  });
});
