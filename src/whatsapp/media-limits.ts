import type { MediaType } from './outbound-message';

/** Longest caption of an image, video or document. */
export const MEDIA_CAPTION_MAX = 1024;

/** Largest media file Meta delivers to a business (larger arrives as error 131052). */
export const INBOUND_MEDIA_MAX_BYTES = 100 * 1024 * 1024;

const MB = 1024 * 1024;

/** What Meta accepts for sending one media type (reference, sections 5 and 7). */
export interface MediaSendRule {
  /** MIME types an upload of this type may have, with the file extension of each. */
  mimeTypes: Readonly<Record<string, string>>;
  /** Largest upload, in bytes. */
  maxBytes: number;
  /** Whether the message may carry a caption. */
  caption: boolean;
  /** Whether the message may carry a file name (shown to the customer). */
  filename: boolean;
}

export const MEDIA_SEND_RULES: Readonly<Record<MediaType, MediaSendRule>> = {
  image: {
    mimeTypes: { 'image/jpeg': 'jpg', 'image/png': 'png' },
    maxBytes: 5 * MB,
    caption: true,
    filename: false,
  },
  audio: {
    mimeTypes: {
      'audio/aac': 'aac',
      'audio/amr': 'amr',
      'audio/mpeg': 'mp3',
      'audio/mp4': 'm4a',
      'audio/ogg': 'ogg',
    },
    maxBytes: 16 * MB,
    caption: false,
    filename: false,
  },
  video: {
    mimeTypes: { 'video/mp4': 'mp4', 'video/3gpp': '3gp' },
    maxBytes: 16 * MB,
    caption: true,
    filename: false,
  },
  document: {
    mimeTypes: {
      'text/plain': 'txt',
      'application/pdf': 'pdf',
      'application/msword': 'doc',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document':
        'docx',
      'application/vnd.ms-excel': 'xls',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet':
        'xlsx',
      'application/vnd.ms-powerpoint': 'ppt',
      'application/vnd.openxmlformats-officedocument.presentationml.presentation':
        'pptx',
    },
    maxBytes: 100 * MB,
    caption: true,
    filename: true,
  },
  // 100 KB for a static sticker, 500 KB for an animated one: the larger.
  sticker: {
    mimeTypes: { 'image/webp': 'webp' },
    maxBytes: 500 * 1024,
    caption: false,
    filename: false,
  },
};

/** The media types a message can carry, in the Cloud API's words. */
export const MEDIA_TYPES = Object.keys(MEDIA_SEND_RULES) as MediaType[];

/** `image/jpeg; q=1` → `image/jpeg`. */
export function baseMimeType(mimeType: string): string {
  return (mimeType.split(';')[0] ?? '').trim().toLowerCase();
}

/**
 * The usual file extension of a MIME type among those the Cloud API sends
 * and receives (`audio/ogg; codecs=opus` → `ogg`), or `bin`.
 */
export function extensionOf(mimeType: string): string {
  const base = baseMimeType(mimeType);
  for (const rule of Object.values(MEDIA_SEND_RULES)) {
    const extension = rule.mimeTypes[base];
    if (extension) return extension;
  }
  return OTHER_EXTENSIONS[base] ?? 'bin';
}

/** Types customers send that no upload rule lists. */
const OTHER_EXTENSIONS: Readonly<Record<string, string>> = {
  'image/gif': 'gif',
  'image/heic': 'heic',
  'audio/opus': 'opus',
  'audio/wav': 'wav',
  'video/quicktime': 'mov',
  'text/csv': 'csv',
  'text/markdown': 'md',
  'application/zip': 'zip',
};
