/**
 * The fake OpenAI server's embeddings: deterministic vectors that put texts
 * sharing words (and parts of words) close together. A hashed bag of words
 * and character trigrams, L2-normalised — lexical similarity with some
 * tolerance for typos and inflections, NOT a semantic model: synonyms
 * ("refund", "money back") are not close unless they share letters.
 */

/** Dimensions of each model the real API serves, and the models. */
export const EMBEDDING_MODELS: Readonly<Record<string, number>> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
};

/** Function words left out, as a real model mostly ignores them. */
const STOP_WORDS = new Set(
  (
    'a an and are as at be but by can do does for from has have how i if in is it its ' +
    'me my no not of on or our so than that the their there this to up was we what when ' +
    'where which who why will with you your ' +
    'de del el en es la las lo los mi no o para por que se su un una y'
  ).split(' '),
);

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function words(text: string): string[] {
  return (
    text
      .normalize('NFKD')
      .replace(/\p{M}+/gu, '')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  ).filter((w) => !STOP_WORDS.has(w));
}

/** A crude stem: `returns`, `returned`, `returning` → `return`. */
function stem(word: string): string {
  return word.length > 4 ? word.replace(/(ing|ed|es|s)$/, '') : word;
}

/** The fake vector of `text`, `dimensions` long, of length 1 (zero for a text without words). */
export function fakeEmbedding(text: string, dimensions: number): number[] {
  const vector = new Float64Array(dimensions);
  const add = (feature: string, weight: number) => {
    const hash = fnv1a(feature);
    vector[hash % dimensions] += hash & 0x80000000 ? -weight : weight;
  };
  for (const word of words(text)) {
    const root = stem(word);
    add(`w:${root}`, 1);
    const padded = ` ${root} `;
    for (let i = 0; i + 3 <= padded.length; i++) {
      add(`t:${padded.slice(i, i + 3)}`, 0.35);
    }
  }
  let norm = 0;
  for (const x of vector) norm += x * x;
  norm = Math.sqrt(norm) || 1;
  return Array.from(vector, (x) => x / norm);
}

/** Float32 little-endian bytes in base64, as the API answers `encoding_format: base64`. */
export function toBase64Floats(vector: number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString('base64');
}
