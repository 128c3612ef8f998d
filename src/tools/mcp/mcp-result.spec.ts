import { mcpResultToToolResult } from './mcp-result';

describe('mcpResultToToolResult', () => {
  it('joins text parts and describes the others', () => {
    expect(
      mcpResultToToolResult(
        {
          content: [
            { type: 'text', text: 'Order 42' },
            { type: 'audio', data: 'AAAA', mimeType: 'audio/ogg' },
            {
              type: 'resource',
              resource: { uri: 'file:///notes.txt', text: 'shipped Monday' },
            },
            {
              type: 'resource',
              resource: {
                uri: 'file:///label.pdf',
                blob: 'JVBE',
                mimeType: 'application/pdf',
              },
            },
            { type: 'resource_link', uri: 'https://x.test/42', name: 'order' },
          ],
        },
        1000,
      ),
    ).toEqual({
      ok: true,
      content: [
        'Order 42',
        '[audio (audio/ogg), not shown]',
        'shipped Monday',
        '[resource file:///label.pdf (application/pdf), not shown]',
        '[resource link: order https://x.test/42]',
      ].join('\n\n'),
    });
  });

  it('gives structured content as JSON when there is no content part', () => {
    expect(
      mcpResultToToolResult(
        { content: [], structuredContent: { status: 'shipped' } },
        1000,
      ),
    ).toEqual({ ok: true, content: '{"status":"shipped"}' });
  });

  it('turns isError into ok:false, with a message even when the server gave none', () => {
    expect(mcpResultToToolResult({ content: [], isError: true }, 1000)).toEqual(
      {
        ok: false,
        content: 'The tool failed.',
      },
    );
  });
});
