import fc from 'fast-check';
import { splitMessage } from './split-message';

const WHATSAPP_TEXT_LIMIT = 4096;
const LONE_SURROGATE = /\p{Cs}/u;

function withoutWhitespace(value: string): string {
  return value.replace(/\s/g, '');
}

describe('splitMessage', () => {
  describe('input that needs no splitting', () => {
    it.each(['', '   ', '\n\n\t', '\r\n\r\n'])(
      'returns no chunks for empty or whitespace-only text %j',
      (text) => {
        expect(splitMessage(text, 20)).toEqual([]);
      },
    );

    it('returns text that fits as a single trimmed chunk', () => {
      expect(splitMessage('  Hello there!\n\n', 20)).toEqual(['Hello there!']);
    });

    it('keeps text of exactly maxLength in one chunk', () => {
      const text = 'x'.repeat(WHATSAPP_TEXT_LIMIT);

      expect(splitMessage(text, WHATSAPP_TEXT_LIMIT)).toEqual([text]);
    });

    it('measures the limit after trimming surrounding whitespace', () => {
      expect(splitMessage(`   ${'y'.repeat(20)}   `, 20)).toEqual([
        'y'.repeat(20),
      ]);
    });
  });

  describe('invalid maxLength', () => {
    it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
      'throws a RangeError for maxLength %p',
      (maxLength) => {
        expect(() => splitMessage('hello', maxLength)).toThrow(RangeError);
      },
    );
  });

  describe('boundary preference', () => {
    it('splits at a paragraph break rather than at a later line break', () => {
      const text = 'Intro.\n\nFirst line\nsecond line goes on';

      expect(splitMessage(text, 30)).toEqual([
        'Intro.',
        'First line\nsecond line goes on',
      ]);
    });

    it('treats a line holding only spaces as a paragraph break', () => {
      const text = 'One para.\n  \t\nNext\nline here';

      expect(splitMessage(text, 20)).toEqual(['One para.', 'Next\nline here']);
    });

    it('splits at a line break rather than at a later sentence end', () => {
      const text = 'Line one\nSentence two. Sentence three';

      expect(splitMessage(text, 30)).toEqual([
        'Line one',
        'Sentence two. Sentence three',
      ]);
    });

    it('splits at the last sentence end that fits when there is no line break', () => {
      const text = 'First one. Second one! Third one? Fourth';

      expect(splitMessage(text, 35)).toEqual([
        'First one. Second one! Third one?',
        'Fourth',
      ]);
    });

    it('recognises an ellipsis character as a sentence end', () => {
      expect(splitMessage('Well… let me think about it', 21)).toEqual([
        'Well…',
        'let me think about it',
      ]);
    });

    it('keeps closing quotes and brackets with the sentence they end', () => {
      expect(splitMessage('He said "done." Then left quickly', 20)).toEqual([
        'He said "done."',
        'Then left quickly',
      ]);
      expect(splitMessage('(It works.) Then more words', 15)).toEqual([
        '(It works.)',
        'Then more words',
      ]);
    });

    it('does not treat a decimal point as a sentence end', () => {
      expect(splitMessage('Pi is 3.14159 roughly speaking', 20)).toEqual([
        'Pi is 3.14159',
        'roughly speaking',
      ]);
    });

    it('splits at the last whitespace that fits when there is no sentence end', () => {
      expect(splitMessage('the quick brown fox jumps over', 20)).toEqual([
        'the quick brown fox',
        'jumps over',
      ]);
    });

    it('uses whitespace just past the limit as a boundary', () => {
      expect(splitMessage('abcde fghij', 5)).toEqual(['abcde', 'fghij']);
    });

    it('hard-cuts a word longer than maxLength only where no whitespace fits', () => {
      expect(splitMessage('hi abcdefghijklmnop', 10)).toEqual([
        'hi',
        'abcdefghij',
        'klmnop',
      ]);
    });
  });

  describe('long text', () => {
    it('cuts a single 10,000-character word into 4096-character pieces', () => {
      const word = 'a'.repeat(10_000);

      const chunks = splitMessage(word, WHATSAPP_TEXT_LIMIT);

      expect(chunks.map((chunk) => chunk.length)).toEqual([4096, 4096, 1808]);
      expect(chunks.join('')).toBe(word);
    });

    it('sends each paragraph of a long reply whole when every paragraph fits', () => {
      const paragraphs = Array.from({ length: 12 }, (_, p) =>
        Array.from(
          { length: 25 },
          (_, s) => `Paragraph ${p} sentence ${s} says something useful.`,
        ).join(' '),
      );
      const text = paragraphs.join('\n\n');

      const chunks = splitMessage(text, WHATSAPP_TEXT_LIMIT);

      expect(chunks.length).toBeGreaterThan(1);
      for (const chunk of chunks) {
        expect(chunk.length).toBeLessThanOrEqual(WHATSAPP_TEXT_LIMIT);
        expect(chunk.startsWith('Paragraph ')).toBe(true);
        expect(chunk.endsWith('useful.')).toBe(true);
      }
      expect(chunks.join('\n\n')).toBe(text);
    });

    it('splits a paragraph longer than the limit at sentence ends', () => {
      const sentences = Array.from(
        { length: 200 },
        (_, i) => `Sentence number ${i} is here.`,
      );
      const text = sentences.join(' ');

      const chunks = splitMessage(text, WHATSAPP_TEXT_LIMIT);

      expect(chunks.length).toBe(2);
      for (const chunk of chunks) {
        expect(chunk.length).toBeLessThanOrEqual(WHATSAPP_TEXT_LIMIT);
        expect(chunk).toMatch(/^Sentence number \d+ is here\./);
        expect(chunk).toMatch(/is here\.$/);
      }
      expect(chunks.join(' ')).toBe(text);
    });

    it('splits long text with small maxLength without losing or reordering words', () => {
      const text =
        'WhatsApp limits text messages, so long answers are sent as several ' +
        'messages in order. Each one stays under the limit!';

      const chunks = splitMessage(text, 20);

      for (const chunk of chunks) {
        expect(chunk.length).toBeLessThanOrEqual(20);
      }
      expect(chunks.join(' ')).toBe(text);
    });
  });

  describe('surrogate pairs', () => {
    it('moves an emoji straddling the hard-cut position to the next chunk', () => {
      // 'a' then 20 emoji: position 20 falls between the halves of the 10th emoji.
      const text = `a${'😀'.repeat(20)}`;

      const chunks = splitMessage(text, 20);

      expect(chunks[0]).toBe(`a${'😀'.repeat(9)}`);
      expect(chunks.join('')).toBe(text);
      for (const chunk of chunks) {
        expect(chunk.length).toBeLessThanOrEqual(20);
        expect(chunk).not.toMatch(LONE_SURROGATE);
      }
    });

    it('keeps an emoji whole at a word boundary', () => {
      expect(splitMessage('Great job 👍 see you', 12)).toEqual([
        'Great job 👍',
        'see you',
      ]);
    });

    it('gives each emoji its own chunk when maxLength is 1 rather than breaking it', () => {
      expect(splitMessage('😀😃', 1)).toEqual(['😀', '😃']);
    });

    it('hard-cuts a lone surrogate like any other code unit', () => {
      expect(splitMessage('ab\uD83Dcd', 3)).toEqual(['ab\uD83D', 'cd']);
    });
  });

  describe('Windows newlines', () => {
    it('recognises CRLF blank lines as paragraph breaks', () => {
      const text = 'First paragraph.\r\n\r\nSecond paragraph.';

      expect(splitMessage(text, 20)).toEqual([
        'First paragraph.',
        'Second paragraph.',
      ]);
    });

    it('recognises a CRLF paragraph break that starts exactly at the limit', () => {
      const text = 'First paragraph.\r\n\r\nSecond\r\npart.';

      expect(splitMessage(text, 'First paragraph.'.length)).toEqual([
        'First paragraph.',
        'Second\r\npart.',
      ]);
    });

    it('recognises CRLF as a line break even when the CR is at the limit', () => {
      const text = 'line one here\r\nline two here\r\nline three';

      expect(splitMessage(text, 28)).toEqual([
        'line one here\r\nline two here',
        'line three',
      ]);
    });
  });

  describe('properties', () => {
    const piece = fc.oneof(
      fc.constantFrom(
        ' ',
        '\n',
        '\r\n',
        '\n\n',
        '\t',
        '. ',
        '! ',
        '…',
        '"',
        '😀',
        '👍🏽',
        'a',
        'word',
        'Ünïcödé',
      ),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    );
    const text = fc.string({ unit: piece, maxLength: 300 });

    it('never exceeds maxLength, never emits empty or untrimmed chunks and never splits a surrogate pair', () => {
      fc.assert(
        fc.property(
          text,
          fc.integer({ min: 2, max: 60 }),
          (input, maxLength) => {
            for (const chunk of splitMessage(input, maxLength)) {
              expect(chunk.length).toBeGreaterThan(0);
              expect(chunk.length).toBeLessThanOrEqual(maxLength);
              expect(chunk).toBe(chunk.trim());
              expect(chunk).not.toMatch(LONE_SURROGATE);
            }
          },
        ),
      );
    });

    it('preserves every non-whitespace character in order', () => {
      fc.assert(
        fc.property(
          text,
          fc.integer({ min: 1, max: 60 }),
          (input, maxLength) => {
            const chunks = splitMessage(input, maxLength);

            expect(withoutWhitespace(chunks.join(''))).toBe(
              withoutWhitespace(input),
            );
          },
        ),
      );
    });

    it('only cuts inside a word when the word alone is longer than maxLength', () => {
      const words = fc.array(
        fc.string({ unit: fc.constantFrom('a', 'b', '😀'), minLength: 1 }),
        { minLength: 1, maxLength: 40 },
      );
      fc.assert(
        fc.property(
          words,
          fc.integer({ min: 2, max: 30 }),
          (list, maxLength) => {
            fc.pre(list.every((word) => word.length <= maxLength));
            const input = list.join(' ');

            expect(splitMessage(input, maxLength).join(' ')).toBe(input);
          },
        ),
      );
    });
  });
});
