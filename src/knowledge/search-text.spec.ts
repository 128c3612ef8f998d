import { foldAccents, MAX_QUERY_TERMS, queryTerms } from './search-text';

describe('foldAccents', () => {
  it('removes accents and spells out letters without a decomposition', () => {
    expect(foldAccents('Envío gratuito, crème brûlée, Straße, Ærø, Łódź')).toBe(
      'Envio gratuito, creme brulee, Strasse, AEro, Lodz',
    );
  });
});

describe('queryTerms', () => {
  it('gives the distinct folded words, letters and digits only', () => {
    expect(queryTerms('¿Cuánto cuesta el envío? ENVIO & 24h | !x')).toEqual([
      'cuanto',
      'cuesta',
      'el',
      'envio',
      '24h',
      'x',
    ]);
  });

  it('has no words for punctuation alone, and a bounded number for a long text', () => {
    expect(queryTerms(" ':&|!()<-> ")).toEqual([]);
    const long = Array.from({ length: 100 }, (_, i) => `w${i}`).join(' ');
    expect(queryTerms(long)).toHaveLength(MAX_QUERY_TERMS);
  });
});
