const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The first of `keywords` (lower-case words or phrases) that `text` contains
 * as whole words, ignoring case; null when none does.
 */
export function findHandoffKeyword(
  text: string,
  keywords: string[],
): string | null {
  const lower = text.toLowerCase();
  for (const keyword of keywords) {
    const pattern = new RegExp(
      `(^|[^\\p{L}\\p{N}])${escape(keyword)}($|[^\\p{L}\\p{N}])`,
      'u',
    );
    if (pattern.test(lower)) return keyword;
  }
  return null;
}
