import { toGraphMessage } from './graph-payload';

describe('toGraphMessage', () => {
  it('writes a text with preview_url false unless asked', () => {
    expect(toGraphMessage({ type: 'text', body: 'hello' })).toEqual({
      type: 'text',
      text: { preview_url: false, body: 'hello' },
    });
    expect(
      toGraphMessage({
        type: 'text',
        body: 'see https://example.com',
        previewUrl: true,
      }),
    ).toEqual({
      type: 'text',
      text: { preview_url: true, body: 'see https://example.com' },
    });
  });

  it('writes an image by link with its caption', () => {
    expect(
      toGraphMessage({
        type: 'media',
        mediaType: 'image',
        source: { link: 'https://example.com/a.jpg' },
        caption: 'Our shop',
      }),
    ).toEqual({
      type: 'image',
      image: { link: 'https://example.com/a.jpg', caption: 'Our shop' },
    });
  });

  it('writes a document by id with its filename and caption', () => {
    expect(
      toGraphMessage({
        type: 'media',
        mediaType: 'document',
        source: { id: '1013859600285441' },
        caption: 'Your invoice',
        filename: 'invoice.pdf',
      }),
    ).toEqual({
      type: 'document',
      document: {
        id: '1013859600285441',
        caption: 'Your invoice',
        filename: 'invoice.pdf',
      },
    });
  });

  it('writes a video by id with its caption and without a filename', () => {
    expect(
      toGraphMessage({
        type: 'media',
        mediaType: 'video',
        source: { id: '42' },
        caption: 'How to',
        filename: 'how-to.mp4',
      }),
    ).toEqual({ type: 'video', video: { id: '42', caption: 'How to' } });
  });

  it.each(['audio', 'sticker'] as const)(
    'leaves the caption and filename off %s, which takes neither',
    (mediaType) => {
      expect(
        toGraphMessage({
          type: 'media',
          mediaType,
          source: { id: '7' },
          caption: 'ignored',
          filename: 'ignored.bin',
        }),
      ).toEqual({ type: mediaType, [mediaType]: { id: '7' } });
    },
  );

  it('writes a template with its language code and components', () => {
    const components = [
      { type: 'body', parameters: [{ type: 'text', text: 'John' }] },
    ];

    expect(
      toGraphMessage({
        type: 'template',
        name: 'order_update',
        language: 'en_US',
        components,
      }),
    ).toEqual({
      type: 'template',
      template: {
        name: 'order_update',
        language: { code: 'en_US' },
        components,
      },
    });
  });

  it('writes a template without components when it has none', () => {
    expect(
      toGraphMessage({ type: 'template', name: 'hello_world', language: 'en' }),
    ).toEqual({
      type: 'template',
      template: { name: 'hello_world', language: { code: 'en' } },
    });
  });

  it('writes reply buttons as an interactive button message with header and footer', () => {
    expect(
      toGraphMessage({
        type: 'interactive',
        header: 'Your order',
        body: 'Shall we deliver tomorrow?',
        footer: 'Reply any time',
        action: {
          buttons: [
            { id: 'yes', title: 'Yes' },
            { id: 'no', title: 'No' },
          ],
        },
      }),
    ).toEqual({
      type: 'interactive',
      interactive: {
        type: 'button',
        header: { type: 'text', text: 'Your order' },
        body: { text: 'Shall we deliver tomorrow?' },
        footer: { text: 'Reply any time' },
        action: {
          buttons: [
            { type: 'reply', reply: { id: 'yes', title: 'Yes' } },
            { type: 'reply', reply: { id: 'no', title: 'No' } },
          ],
        },
      },
    });
  });

  it('writes a list with its button and sections, without header or footer when none are given', () => {
    expect(
      toGraphMessage({
        type: 'interactive',
        body: 'What would you like?',
        action: {
          button: 'Menu',
          sections: [
            {
              title: 'Drinks',
              rows: [
                { id: 'tea', title: 'Tea', description: 'Green or black' },
                { id: 'coffee', title: 'Coffee' },
              ],
            },
          ],
        },
      }),
    ).toEqual({
      type: 'interactive',
      interactive: {
        type: 'list',
        body: { text: 'What would you like?' },
        action: {
          button: 'Menu',
          sections: [
            {
              title: 'Drinks',
              rows: [
                { id: 'tea', title: 'Tea', description: 'Green or black' },
                { id: 'coffee', title: 'Coffee' },
              ],
            },
          ],
        },
      },
    });
  });
});
