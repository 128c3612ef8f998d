import type { MediaMessage, MediaType } from '../whatsapp/outbound-message';

/** The file an operator gives to be uploaded to Meta before it is sent. */
export interface MediaUpload {
  bytes: Buffer;
  mimeType: string;
  /** The upload's name; default `<media type>.<extension>`. */
  filename?: string;
}

/** A media message an operator sends: by id, by link, or uploaded first. */
export interface OperatorMedia {
  mediaType: MediaType;
  source: { id: string } | { link: string } | { upload: MediaUpload };
  /** Image, video and document only. */
  caption?: string;
  /** Document only: the name the customer sees. */
  filename?: string;
}

/**
 * How a media message reads in the context of later turns, so that the
 * model knows what was sent: `[image] Your receipt`,
 * `[document receipt.pdf] Your receipt`, `[audio]`.
 */
export function mediaContextText(message: MediaMessage): string {
  const label = message.filename
    ? `[${message.mediaType} ${message.filename}]`
    : `[${message.mediaType}]`;
  return message.caption ? `${label} ${message.caption}` : label;
}
