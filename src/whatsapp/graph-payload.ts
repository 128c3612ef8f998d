import type { OutboundMessage } from './outbound-message';

/**
 * The body of `POST /{phone-number-id}/messages` for a message, without
 * the addressing (`to` or `recipient`), which the client adds. Shapes as in
 * Meta's Cloud API reference (`../shared/reference/`).
 */
export function toGraphMessage(message: OutboundMessage): {
  type: string;
  [field: string]: unknown;
} {
  switch (message.type) {
    case 'text':
      return {
        type: 'text',
        text: { preview_url: message.previewUrl ?? false, body: message.body },
      };
    case 'media': {
      const captioned = ['image', 'video', 'document'].includes(
        message.mediaType,
      );
      return {
        type: message.mediaType,
        [message.mediaType]: {
          ...message.source,
          ...(captioned && message.caption && { caption: message.caption }),
          ...(message.mediaType === 'document' &&
            message.filename && { filename: message.filename }),
        },
      };
    }
    case 'template':
      return {
        type: 'template',
        template: {
          name: message.name,
          language: { code: message.language },
          ...(message.components && { components: message.components }),
        },
      };
    case 'interactive': {
      const { action } = message;
      return {
        type: 'interactive',
        interactive: {
          type: 'buttons' in action ? 'button' : 'list',
          ...(message.header && {
            header: { type: 'text', text: message.header },
          }),
          body: { text: message.body },
          ...(message.footer && { footer: { text: message.footer } }),
          action:
            'buttons' in action
              ? {
                  buttons: action.buttons.map((b) => ({
                    type: 'reply',
                    reply: { id: b.id, title: b.title },
                  })),
                }
              : { button: action.button, sections: action.sections },
        },
      };
    }
  }
}
