import { httpStatusOf } from './http-status';

describe('httpStatusOf', () => {
  it('answers a missing conversation, session or media file with 404', () => {
    expect(httpStatusOf('conversation-not-found')).toBe(404);
    expect(httpStatusOf('session-not-found')).toBe(404);
    expect(httpStatusOf('media-not-found')).toBe(404);
    expect(httpStatusOf('knowledge-not-found')).toBe(404);
  });

  it('answers a knowledge file that cannot be taken with 400, or 413 when too large', () => {
    expect(httpStatusOf('invalid-document')).toBe(400);
    expect(httpStatusOf('document-too-large')).toBe(413);
  });

  it('answers bad input with 400, a state conflict with 409 and too many media downloads with 429', () => {
    expect(httpStatusOf('invalid-cursor')).toBe(400);
    expect(httpStatusOf('invalid-period')).toBe(400);
    expect(httpStatusOf('empty-message')).toBe(400);
    expect(httpStatusOf('not-in-handoff')).toBe(409);
    expect(httpStatusOf('media-busy')).toBe(429);
  });

  it('answers a failure of Meta or the LLM with 502, and what cannot be served now with 503', () => {
    expect(httpStatusOf('whatsapp-send-failed')).toBe(502);
    expect(httpStatusOf('media-unavailable')).toBe(502);
    expect(httpStatusOf('llm-failed')).toBe(502);
    expect(httpStatusOf('llm-not-configured')).toBe(503);
    expect(httpStatusOf('whatsapp-not-configured')).toBe(503);
    expect(httpStatusOf('storage-unavailable')).toBe(503);
  });
});
