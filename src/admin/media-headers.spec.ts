import { mediaDisposition, safeContentType } from './media-headers';

describe('safeContentType', () => {
  it.each([
    'image/jpeg',
    'audio/ogg; codecs=opus',
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    'text/plain; charset="utf-8"',
  ])('keeps the well-formed media type %s', (mimeType) => {
    expect(safeContentType(mimeType)).toBe(mimeType);
  });

  it.each([
    '',
    'jpeg',
    'image/jpeg\r\nSet-Cookie: a=b',
    'image/jpeg; x',
    'text/html, image/png',
    `image/${'x'.repeat(300)}`,
  ])('answers %j as application/octet-stream', (mimeType) => {
    expect(safeContentType(mimeType)).toBe('application/octet-stream');
  });
});

describe('mediaDisposition', () => {
  it('names the download after the media id with the extension of its type', () => {
    expect(mediaDisposition('1013859600285441', 'audio/ogg; codecs=opus')).toBe(
      'attachment; filename="media-1013859600285441.ogg"',
    );
    expect(mediaDisposition('42', 'application/pdf')).toBe(
      'attachment; filename="media-42.pdf"',
    );
  });

  it('falls back to .bin for an unknown type and never copies a non-digit id', () => {
    expect(mediaDisposition('42', 'text/html')).toBe(
      'attachment; filename="media-42.bin"',
    );
    expect(mediaDisposition('4"2', 'image/png')).toBe(
      'attachment; filename="media-file.png"',
    );
  });
});
