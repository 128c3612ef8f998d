/** The kinds of media the Cloud API sends and receives. */
export type MediaType = 'image' | 'audio' | 'video' | 'document' | 'sticker';

export interface TextMessage {
  type: 'text';
  body: string;
  /** Render a preview of the first URL in the body. */
  previewUrl?: boolean;
}

export interface MediaMessage {
  type: 'media';
  mediaType: MediaType;
  /** An uploaded media id, or an http(s) link Meta fetches (exactly one). */
  source: { id: string } | { link: string };
  /** Image, video and document only. */
  caption?: string;
  /** Document only. */
  filename?: string;
}

export interface TemplateMessage {
  type: 'template';
  name: string;
  /** The template's language code, e.g. `en_US`. */
  language: string;
  /** Header, body and button parameters, as the Cloud API takes them. */
  components?: unknown[];
}

export interface ReplyButton {
  id: string;
  title: string;
}

export interface ListSection {
  title?: string;
  rows: Array<{ id: string; title: string; description?: string }>;
}

export interface InteractiveMessage {
  type: 'interactive';
  body: string;
  header?: string;
  footer?: string;
  /** Reply buttons, or a list opened by a button labelled `button`. */
  action:
    { buttons: ReplyButton[] } | { button: string; sections: ListSection[] };
}

/** Any message the service sends to a customer. */
export type OutboundMessage =
  TextMessage | MediaMessage | TemplateMessage | InteractiveMessage;
