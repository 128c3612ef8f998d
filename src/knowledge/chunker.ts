/** The longest chunk, in characters, unless told otherwise. */
export const DEFAULT_CHUNK_CHARS = 1200;
/** A chunk's body keeps at least this much room however long its headings are. */
const MIN_BODY_CHARS = 200;
/** Headings longer than this are cut in a chunk's heading line. */
const MAX_HEADING_CHARS = 120;

interface Section {
  /** The headings above the text, outermost first. */
  headings: string[];
  paragraphs: string[];
}

const MARKDOWN_HEADING = /^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$/;
const SETEXT_UNDERLINE = /^\s{0,3}(=+|-+)\s*$/;

/**
 * A paragraph that reads like a heading in text without markup (a PDF or a
 * DOCX): one short line that does not end a sentence or a clause.
 */
function looksLikeHeading(paragraph: string): boolean {
  return (
    !paragraph.includes('\n') &&
    paragraph.length <= 60 &&
    /\p{L}/u.test(paragraph) &&
    !/[.!?,;:)\]"'»”]$/u.test(paragraph) &&
    !/^[-*•]\s/.test(paragraph)
  );
}

/** The text as sections: each heading with the paragraphs under it. */
function sectionsOf(text: string): Section[] {
  const sections: Section[] = [];
  // Markdown headings by level (1-6); a plain-text heading is level 7.
  const trail: Array<{ level: number; text: string }> = [];
  let current: Section = { headings: [], paragraphs: [] };
  const startSection = (level: number, heading: string) => {
    if (current.paragraphs.length > 0) sections.push(current);
    while (trail.length > 0 && trail[trail.length - 1].level >= level) {
      trail.pop();
    }
    trail.push({ level, text: heading.slice(0, MAX_HEADING_CHARS) });
    current = { headings: trail.map((h) => h.text), paragraphs: [] };
  };

  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  // Text with Markdown headings says where its sections are; only text
  // without any (a PDF, a DOCX) has its headings guessed.
  const plainHeadings = !lines.some((line) => MARKDOWN_HEADING.test(line));
  let paragraph: string[] = [];
  const endParagraph = () => {
    const joined = paragraph.join('\n').trim();
    paragraph = [];
    if (!joined) return;
    // A short line right under a heading is its first paragraph.
    const underHeading =
      current.headings.length > 0 && current.paragraphs.length === 0;
    if (plainHeadings && !underHeading && looksLikeHeading(joined)) {
      startSection(7, joined);
    } else {
      current.paragraphs.push(joined);
    }
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const heading = MARKDOWN_HEADING.exec(line);
    const next = lines[i + 1];
    if (heading) {
      endParagraph();
      startSection(heading[1].length, heading[2]);
    } else if (
      line.trim() &&
      paragraph.length === 0 &&
      next !== undefined &&
      SETEXT_UNDERLINE.exec(next) &&
      !/^\s*[-*]\s/.test(line)
    ) {
      endParagraph();
      startSection(next.trim().startsWith('=') ? 1 : 2, line.trim());
      i++;
    } else if (!line.trim()) {
      endParagraph();
    } else {
      paragraph.push(line.trimEnd());
    }
  }
  endParagraph();
  if (current.paragraphs.length > 0) sections.push(current);
  return sections;
}

/** Pieces of `text` no longer than `max`: at sentence ends, then words, then anywhere. */
function splitLong(text: string, max: number): string[] {
  if (text.length <= max) return [text];
  const pieces: string[] = [];
  const units = text.split(/(?<=[.!?])\s+|\n+/u).flatMap((sentence) =>
    sentence.length <= max
      ? [sentence]
      : sentence.split(/\s+/u).flatMap((word) => {
          const parts: string[] = [];
          for (let at = 0; at < word.length; at += max) {
            parts.push(word.slice(at, at + max));
          }
          return parts;
        }),
  );
  let piece = '';
  for (const unit of units) {
    if (!unit) continue;
    if (piece && piece.length + 1 + unit.length > max) {
      pieces.push(piece);
      piece = '';
    }
    piece = piece ? `${piece} ${unit}` : unit;
  }
  if (piece) pieces.push(piece);
  return pieces;
}

/**
 * Splits a document's text into chunks of at most `maxChars` characters, on
 * headings (Markdown `#` and underlined headings, or short standalone lines
 * in text without markup) and paragraphs. A chunk never starts a section
 * without its heading: each one begins with the headings it sits under
 * (`Shipping > Returns`), repeated when a long section takes several chunks;
 * a paragraph longer than a chunk is cut at sentence ends, then at words.
 */
export function chunkText(
  text: string,
  maxChars: number = DEFAULT_CHUNK_CHARS,
): string[] {
  const chunks: string[] = [];
  for (const section of sectionsOf(text)) {
    const header = section.headings.join(' > ');
    const budget = Math.max(
      MIN_BODY_CHARS,
      maxChars - (header ? header.length + 2 : 0),
    );
    const withHeader = (body: string) =>
      (header ? `${header}\n\n${body}` : body).slice(0, maxChars);
    let body = '';
    for (const paragraph of section.paragraphs) {
      for (const piece of splitLong(paragraph, budget)) {
        if (body && body.length + 2 + piece.length > budget) {
          chunks.push(withHeader(body));
          body = '';
        }
        body = body ? `${body}\n\n${piece}` : piece;
      }
    }
    if (body) chunks.push(withHeader(body));
  }
  return chunks;
}
