import { DOCX, essence, PDF, TEXT_TYPES } from './media-type';

export class DocumentTextError extends Error {
  constructor(
    readonly reason:
      'unsupported-format' | 'extraction-failed' | 'empty-document',
    message: string,
  ) {
    super(message);
    this.name = 'DocumentTextError';
  }
}

/**
 * The text of a PDF (unpdf, Mozilla's pdf.js), a DOCX (mammoth) or a plain
 * text, CSV or Markdown file, whitespace-tidied and cut to `maxChars`
 * (marked when cut). `mimeType` is the verified type.
 */
export async function extractDocumentText(
  bytes: Buffer,
  mimeType: string,
  maxChars: number,
): Promise<string> {
  const type = essence(mimeType);
  let text: string;
  try {
    if (type === PDF) {
      const { extractText, getDocumentProxy } = await import('unpdf');
      const pdf = await getDocumentProxy(new Uint8Array(bytes));
      text = (await extractText(pdf, { mergePages: true })).text;
    } else if (type === DOCX) {
      const mammoth = await import('mammoth');
      text = (await mammoth.extractRawText({ buffer: bytes })).value;
    } else if (TEXT_TYPES.has(type)) {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } else {
      throw new DocumentTextError(
        'unsupported-format',
        `no text extraction for ${type}`,
      );
    }
  } catch (error) {
    if (error instanceof DocumentTextError) throw error;
    throw new DocumentTextError(
      'extraction-failed',
      `could not read the ${type} document: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const tidy = text
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  if (!tidy) {
    throw new DocumentTextError(
      'empty-document',
      `the ${type} document has no text (a scan?)`,
    );
  }
  return tidy.length > maxChars
    ? `${tidy.slice(0, maxChars)}\n[… the document goes on; cut at ${maxChars} characters]`
    : tidy;
}
