/**
 * Splits an LLM reply into WhatsApp-sized text messages.
 *
 * Lengths are counted in UTF-16 code units (`string.length`), which is how the
 * Cloud API's 4096-character text body limit is measured, but a surrogate pair
 * (an emoji, for instance) is never cut in half.
 *
 * Each chunk ends at the best boundary that fits, in this order of preference:
 * a paragraph break (blank line), a line break, a sentence end (`.`, `!`, `?`
 * or `…`, optionally followed by closing quotes or brackets, then whitespace),
 * any whitespace, and only then a hard cut. Chunks are trimmed, so the
 * whitespace at a boundary is dropped; nothing else is.
 */
export function splitMessage(text: string, maxLength: number): string[] {
  if (!Number.isInteger(maxLength) || maxLength < 1) {
    throw new RangeError(
      `maxLength must be a positive integer, got ${String(maxLength)}`,
    );
  }

  const chunks: string[] = [];
  let rest = text.trim();
  while (rest.length > maxLength) {
    const cut = findCut(rest, maxLength);
    const chunk = rest.slice(0, cut).trimEnd();
    if (chunk.length > 0) {
      chunks.push(chunk);
    }
    rest = rest.slice(cut).trimStart();
  }
  if (rest.length > 0) {
    chunks.push(rest);
  }
  return chunks;
}

type BoundaryTest = (text: string, index: number) => boolean;

const WHITESPACE = /\s/;
const LINE_BREAK = /\r?\n/y;
const BLANK_LINE = /\r?\n[^\S\n]*\n/y;
const SENTENCE_PUNCTUATION = new Set(['.', '!', '?', '…']);
const CLOSING_CHARACTERS = new Set(['"', "'", '”', '’', '»', ')', ']']);

/** `index` is where the boundary's whitespace starts; the chunk ends there. */
const isParagraphBreak: BoundaryTest = (text, index) =>
  matchesAt(BLANK_LINE, text, index);

const isLineBreak: BoundaryTest = (text, index) =>
  matchesAt(LINE_BREAK, text, index);

const isSentenceEnd: BoundaryTest = (text, index) => {
  if (!WHITESPACE.test(text[index] ?? '')) {
    return false;
  }
  let i = index - 1;
  while (i >= 0 && CLOSING_CHARACTERS.has(text[i] ?? '')) {
    i--;
  }
  return i >= 0 && SENTENCE_PUNCTUATION.has(text[i] ?? '');
};

const isWhitespace: BoundaryTest = (text, index) =>
  WHITESPACE.test(text[index] ?? '');

function matchesAt(sticky: RegExp, text: string, index: number): boolean {
  const first = text[index];
  if (first !== '\n' && first !== '\r') {
    return false;
  }
  sticky.lastIndex = index;
  return sticky.test(text);
}

const BOUNDARIES_BY_PREFERENCE: readonly BoundaryTest[] = [
  isParagraphBreak,
  isLineBreak,
  isSentenceEnd,
  isWhitespace,
];

/**
 * Returns the length of the next chunk of `text` (which starts with a
 * non-whitespace character and is longer than `maxLength`).
 */
function findCut(text: string, maxLength: number): number {
  for (const isBoundary of BOUNDARIES_BY_PREFERENCE) {
    // A boundary at index `maxLength` is fine: the chunk is text[0, maxLength).
    for (let index = maxLength; index > 0; index--) {
      if (isBoundary(text, index)) {
        return index;
      }
    }
  }
  return hardCut(text, maxLength);
}

function hardCut(text: string, maxLength: number): number {
  const splitsSurrogatePair =
    isHighSurrogate(text.charCodeAt(maxLength - 1)) &&
    isLowSurrogate(text.charCodeAt(maxLength));
  if (splitsSurrogatePair) {
    // Cutting here would split a surrogate pair: move the pair to the next
    // chunk. With maxLength 1 the pair cannot fit anywhere, so it gets a
    // chunk of its own (one code unit over the limit) rather than being
    // broken into two invalid halves.
    return maxLength > 1 ? maxLength - 1 : 2;
  }
  return maxLength;
}

function isHighSurrogate(charCode: number): boolean {
  return charCode >= 0xd800 && charCode <= 0xdbff;
}

function isLowSurrogate(charCode: number): boolean {
  return charCode >= 0xdc00 && charCode <= 0xdfff;
}
