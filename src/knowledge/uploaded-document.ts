import { DomainError } from '../common/domain.error';
import {
  DocumentTextError,
  extractDocumentText,
} from '../inbound/media/document-text';
import {
  DOCX,
  essence,
  PDF,
  sniffMediaType,
} from '../inbound/media/media-type';

/** An uploaded file, as the multipart body gave it. */
export interface UploadedFile {
  bytes: Buffer;
  filename: string;
  /** The content type the client gave the part (often application/octet-stream). */
  declaredType: string;
}

const TYPE_OF_EXTENSION: Readonly<Record<string, string>> = {
  pdf: PDF,
  docx: DOCX,
  md: 'text/markdown',
  markdown: 'text/markdown',
  txt: 'text/plain',
  text: 'text/plain',
};

const SUPPORTED = 'PDF, DOCX, Markdown or plain text (UTF-8)';

/** The type the client claims: the part's content type, else the file name's extension. */
function claimedType(file: UploadedFile): string | null {
  const declared = essence(file.declaredType || '');
  if (declared && declared !== 'application/octet-stream') return declared;
  const ext = /\.([^./\\]+)$/.exec(file.filename)?.[1]?.toLowerCase();
  return (ext && TYPE_OF_EXTENSION[ext]) ?? null;
}

/**
 * The text of an uploaded knowledge file and its verified type. The type
 * comes from the bytes (a PDF or DOCX signature; text has none and must be
 * UTF-8), never from the name alone: a `.pdf` that is not a PDF, an image,
 * or a binary file is refused. Text longer than `maxChars` is refused too
 * (a knowledge document is never cut silently).
 */
export async function readUploadedDocument(
  file: UploadedFile,
  maxChars: number,
): Promise<{ text: string; mimeType: string }> {
  if (file.bytes.length === 0) {
    throw new DomainError('The file is empty', 'invalid-document');
  }
  const sniffed = await sniffMediaType(file.bytes);
  const real = sniffed ? essence(sniffed.mime) : 'text/plain';
  if (real !== PDF && real !== DOCX && real !== 'text/plain') {
    throw new DomainError(
      `The file is ${sniffed?.mime ?? 'an unknown format'}: the knowledge base takes ${SUPPORTED}`,
      'invalid-document',
    );
  }
  const claimed = claimedType(file);
  const claimsBinary = claimed === PDF || claimed === DOCX;
  if (claimed && (claimsBinary || real !== 'text/plain') && claimed !== real) {
    throw new DomainError(
      `The file says it is ${claimed} but its content is ${real === 'text/plain' ? 'not' : real}`,
      'invalid-document',
    );
  }
  const mimeType =
    real === 'text/plain' && claimed === 'text/markdown'
      ? 'text/markdown'
      : real;
  let text: string;
  try {
    text = await extractDocumentText(file.bytes, mimeType, maxChars);
  } catch (error) {
    if (error instanceof DocumentTextError) {
      throw new DomainError(
        error.reason === 'extraction-failed' && mimeType.startsWith('text/')
          ? `The file is not UTF-8 text: the knowledge base takes ${SUPPORTED}`
          : `The file could not be read: ${error.message}`,
        'invalid-document',
      );
    }
    throw error;
  }
  if (text.length > maxChars) {
    throw new DomainError(
      `The document's text is longer than KNOWLEDGE_MAX_CHARS (${maxChars} characters): split it`,
      'document-too-large',
    );
  }
  return { text, mimeType };
}
