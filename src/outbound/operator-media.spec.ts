import { mediaContextText } from './operator-media';

describe('mediaContextText', () => {
  it('reads an image with its caption as "[image] caption"', () => {
    expect(
      mediaContextText({
        type: 'media',
        mediaType: 'image',
        source: { id: '1' },
        caption: 'Your receipt',
      }),
    ).toBe('[image] Your receipt');
  });

  it('names a document by its file name', () => {
    expect(
      mediaContextText({
        type: 'media',
        mediaType: 'document',
        source: { link: 'https://example.com/t.pdf' },
        filename: 'terms.pdf',
        caption: 'Our terms',
      }),
    ).toBe('[document terms.pdf] Our terms');
  });

  it('reads media without a caption as its type alone', () => {
    expect(
      mediaContextText({
        type: 'media',
        mediaType: 'audio',
        source: { id: '2' },
      }),
    ).toBe('[audio]');
  });
});
