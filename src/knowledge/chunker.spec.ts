import { chunkText } from './chunker';

describe('chunkText', () => {
  it('keeps each Markdown heading with the text under it, with the headings above it', () => {
    const chunks = chunkText(
      [
        '# Shipping',
        '',
        'We ship to the whole country.',
        '',
        '## International',
        '',
        'Abroad takes 7 to 10 days.',
        '',
        '# Returns',
        '',
        'Returns are free within 30 days.',
      ].join('\n'),
    );
    expect(chunks).toEqual([
      'Shipping\n\nWe ship to the whole country.',
      'Shipping > International\n\nAbroad takes 7 to 10 days.',
      'Returns\n\nReturns are free within 30 days.',
    ]);
  });

  it('never leaves a heading alone at the end of a chunk', () => {
    const chunks = chunkText('# Empty\n\n# Full\n\nSome text.');
    expect(chunks).toEqual(['Full\n\nSome text.']);
  });

  it('repeats the heading on every chunk of a long section and keeps the size bound', () => {
    const paragraphs = Array.from(
      { length: 12 },
      (_, i) => `Paragraph ${i} says something about warranties and repairs.`,
    );
    const chunks = chunkText(`## Warranty\n\n${paragraphs.join('\n\n')}`, 300);
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(300);
      expect(chunk.startsWith('Warranty\n\n')).toBe(true);
    }
    expect(chunks.join(' ')).toContain('Paragraph 11');
  });

  it('cuts a paragraph longer than a chunk at sentence ends, then at words', () => {
    const sentence = 'This sentence is about the store opening hours. ';
    const chunks = chunkText(sentence.repeat(20), 250);
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(250);
      expect(chunk.endsWith('hours.')).toBe(true);
    }
    const word = 'x'.repeat(700);
    expect(chunkText(word, 300).every((c) => c.length <= 300)).toBe(true);
    expect(chunkText(word, 300).join('')).toBe(word);
  });

  it('finds headings in text without markup (a PDF or a DOCX) as short lines of their own', () => {
    const chunks = chunkText(
      [
        'Opening hours',
        '',
        'We open Monday to Friday from 9 to 18.',
        '',
        'Payment methods',
        '',
        'We take cards, cash and bank transfers.',
      ].join('\n'),
    );
    expect(chunks).toEqual([
      'Opening hours\n\nWe open Monday to Friday from 9 to 18.',
      'Payment methods\n\nWe take cards, cash and bank transfers.',
    ]);
  });

  it('takes underlined (setext) headings, and guesses none in a Markdown file', () => {
    const chunks = chunkText(
      'Delivery\n========\n\nShort line\n\nNext day in town.\n\n# Other\n\nText.',
    );
    expect(chunks).toEqual([
      'Delivery\n\nShort line\n\nNext day in town.',
      'Other\n\nText.',
    ]);
  });

  it('returns nothing for blank text', () => {
    expect(chunkText(' \n\n \n')).toEqual([]);
  });
});
