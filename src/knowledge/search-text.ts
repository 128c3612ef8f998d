/** Letters that Unicode does not decompose into a base letter and a mark. */
const SPECIAL_LETTERS: Readonly<Record<string, string>> = {
  ß: 'ss',
  æ: 'ae',
  Æ: 'AE',
  œ: 'oe',
  Œ: 'OE',
  ø: 'o',
  Ø: 'O',
  ł: 'l',
  Ł: 'L',
  đ: 'd',
  Đ: 'D',
  ı: 'i',
};

/**
 * The text without accents (`Envío` → `Envio`, `Straße` → `Strasse`): what
 * the full-text index holds and what a query is matched with, so that a
 * customer who types without accents finds the accented text and back.
 */
export function foldAccents(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/[ßæÆœŒøØłŁđĐı]/g, (letter) => SPECIAL_LETTERS[letter] ?? letter);
}

/** Most words of a query that are searched for. */
export const MAX_QUERY_TERMS = 32;
/** Longer "words" (a pasted hash, a URL) are not searched for. */
const MAX_TERM_LENGTH = 64;

/**
 * The distinct words of a query, accent-folded and lower-cased, in order:
 * letters and digits only, so that they can be joined into a tsquery
 * without any of its operators.
 */
export function queryTerms(query: string): string[] {
  const words = foldAccents(query)
    .toLowerCase()
    .match(/[\p{L}\p{N}]+/gu);
  const terms = new Set<string>();
  for (const word of words ?? []) {
    if (word.length > MAX_TERM_LENGTH) continue;
    terms.add(word);
    if (terms.size === MAX_QUERY_TERMS) break;
  }
  return [...terms];
}
