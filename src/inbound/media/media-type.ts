/** What a sniffing library recognised in a file's first bytes. */
export interface SniffedType {
  ext: string;
  mime: string;
}

/** Reads a file's real type from its bytes (`file-type`); undefined for text and unknown formats. */
export async function sniffMediaType(
  bytes: Uint8Array,
): Promise<SniffedType | undefined> {
  // file-type is an ES module: a dynamic import from this CommonJS build.
  const { fileTypeFromBuffer } = await import('file-type');
  return fileTypeFromBuffer(bytes);
}

/** Meta's size caps (reference, section 7), per message kind, in bytes. */
export const MEDIA_MAX_BYTES: Readonly<Record<string, number>> = {
  audio: 16 * 1024 * 1024,
  image: 5 * 1024 * 1024,
  sticker: 500 * 1024,
  video: 16 * 1024 * 1024,
  document: 100 * 1024 * 1024,
};

/** `audio/ogg; codecs=opus` → `audio/ogg`. */
export function essence(mime: string): string {
  return mime.split(';')[0].trim().toLowerCase();
}

/**
 * Containers the transcription endpoint accepts (flac mp3 mp4 mpeg mpga m4a
 * ogg wav webm), by the extension file-type gives, to the extension the
 * upload's name must carry. Ogg of any codec is `.ogg`: the endpoint
 * rejects `.oga` and `.opus`, which is what WhatsApp voice notes get
 * called elsewhere.
 */
const TRANSCRIBABLE: Readonly<Record<string, string>> = {
  opus: 'ogg',
  ogg: 'ogg',
  oga: 'ogg',
  mp3: 'mp3',
  mp4: 'mp4',
  m4a: 'm4a',
  wav: 'wav',
  webm: 'webm',
  flac: 'flac',
};

/** The file name to upload for transcription, or null when the endpoint takes no such container (AMR, AAC). */
export function transcriptionFilename(sniffed: SniffedType): string | null {
  const ext = TRANSCRIBABLE[sniffed.ext];
  return ext ? `voice.${ext}` : null;
}

/** Document formats whose text is extracted, by their MIME type. */
export const PDF = 'application/pdf';
export const DOCX =
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
/** Plain-text formats: no magic number to sniff, so the bytes must be UTF-8 text. */
export const TEXT_TYPES: ReadonlySet<string> = new Set([
  'text/plain',
  'text/csv',
  'text/markdown',
  'text/x-markdown',
  'text/comma-separated-values',
]);

/**
 * Whether the bytes are what Meta said: the same family (`audio/…`,
 * `image/…`) for audio and images, the same type for documents (a `.docx`
 * that is really a PNG is refused); text types have no magic number and
 * must sniff as nothing. Ogg Opus is `audio/ogg` whatever the suffix.
 */
export function matchesDeclaredType(
  kind: string,
  declared: string,
  sniffed: SniffedType | undefined,
): boolean {
  const said = essence(declared);
  if (kind === 'document' && TEXT_TYPES.has(said)) return sniffed === undefined;
  if (!sniffed) return false;
  const real = essence(sniffed.mime);
  if (kind === 'audio') {
    // An M4A or WebM voice file may sniff as its container's video type.
    const audioContainer =
      real.startsWith('audio/') ||
      real === 'video/mp4' ||
      real === 'video/webm';
    return said.startsWith('audio/') && audioContainer;
  }
  return real === said;
}
