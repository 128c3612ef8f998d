import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { decideReply } from '../inbound/reply-decision';
import {
  parseWebhookPayload as parsePayload,
  type ParsedWebhook,
} from './webhook-payload.parser';

/**
 * The parser's result with the reply decision inbound makes for each
 * message, so each case states both what was read and how it is answered.
 */
function parseWebhookPayload(body: unknown) {
  const parsed = parsePayload(body);
  return {
    ...parsed,
    messages: parsed.messages.map(({ isGroup, ...message }) => ({
      ...message,
      reply: decideReply({ ...message, isGroup }),
    })),
  };
}
type Decided = ReturnType<typeof parseWebhookPayload>;
type DecidedMessage = Decided['messages'][number];

// The 16 inbound examples of Meta's official OpenAPI spec (name -> payload),
// copied from shared/reference so that a fresh clone can run this spec.
const FIXTURES_PATH = path.join(
  __dirname,
  '../../test/fixtures/meta-webhook-examples.json',
);
const examples = JSON.parse(readFileSync(FIXTURES_PATH, 'utf8')) as Record<
  string,
  unknown
>;

const PHONE_NUMBER_ID = '106540352242922';
const SHEENA_WA_ID = '16505551234';
const EMPTY: ParsedWebhook = { messages: [], statuses: [], errors: [] };

function example(name: string): unknown {
  if (!(name in examples)) throw new Error(`No Meta example named "${name}"`);
  return examples[name];
}

function onlyMessage(body: unknown): DecidedMessage {
  const { messages } = parseWebhookPayload(body);
  expect(messages).toHaveLength(1);
  return messages[0];
}

function epoch(seconds: number): Date {
  return new Date(seconds * 1000);
}

/** A webhook envelope with one entry holding the given changes. */
function envelope(...changes: unknown[]): unknown {
  return {
    object: 'whatsapp_business_account',
    entry: [{ id: '419561257915477', changes }],
  };
}

/** A `messages` change whose value holds `fields` beside the usual metadata. */
function change(
  fields: Record<string, unknown>,
  field = 'messages',
): Record<string, unknown> {
  return {
    field,
    value: {
      messaging_product: 'whatsapp',
      metadata: {
        display_phone_number: '15550783881',
        phone_number_id: PHONE_NUMBER_ID,
      },
      ...fields,
    },
  };
}

const sheena = { profile: { name: 'Sheena Nelson' }, wa_id: SHEENA_WA_ID };

/** One inbound message from Sheena with the given type-specific fields. */
function inbound(fields: Record<string, unknown>): unknown {
  return envelope(
    change({
      contacts: [sheena],
      messages: [
        {
          from: SHEENA_WA_ID,
          id: 'wamid.TEST',
          timestamp: '1749416383',
          ...fields,
        },
      ],
    }),
  );
}

describe('parseWebhookPayload', () => {
  describe("Meta's official webhook examples", () => {
    it('has all 16 examples in the fixture copy', () => {
      expect(Object.keys(examples)).toHaveLength(16);
    });

    it.each(Object.keys(examples))(
      'parses the "%s" example without throwing and finds no errors',
      (name) => {
        const parsed = parseWebhookPayload(example(name));
        expect(parsed.errors).toEqual([]);
        expect(parsed.statuses).toEqual([]);
        for (const message of parsed.messages) {
          expect(message.phoneNumberId).toBe(PHONE_NUMBER_ID);
          expect(message.customerId).toBe(SHEENA_WA_ID);
        }
      },
    );

    it('reads a plain text message in full', () => {
      const body = example('Text Message') as {
        entry: { changes: { value: { messages: unknown[] } }[] }[];
      };
      const parsed = parseWebhookPayload(body);
      expect(parsed).toEqual({
        messages: [
          {
            wamid:
              'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=',
            customerId: SHEENA_WA_ID,
            customerUserId: null,
            customerName: 'Sheena Nelson',
            phoneNumberId: PHONE_NUMBER_ID,
            timestamp: epoch(1749416383),
            kind: 'text',
            text: 'Does it come in another color?',
            mediaId: null,
            reply: 'llm',
            contextWamid: null,
            raw: body.entry[0].changes[0].value.messages[0],
          },
        ],
        statuses: [],
        errors: [],
      });
      expect(parsed.messages[0].raw).toBe(
        body.entry[0].changes[0].value.messages[0],
      );
    });

    it('keeps the product-inquiry context id of a text message', () => {
      const message = onlyMessage(
        example('Text Message with Context (Product Inquiry)'),
      );
      expect(message).toMatchObject({
        wamid: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTA2NTUwRkNEMDdFQjJCRUU0NQA=',
        kind: 'text',
        text: 'Is this still available?',
        reply: 'llm',
        customerName: 'Sheena Nelson',
        contextWamid: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGA9wcm9kdWN0X2lucXVpcnkA',
        timestamp: epoch(1750016800),
      });
    });

    it('answers a text message that came from a click-to-WhatsApp ad, naming the ad and its source', () => {
      const message = onlyMessage(
        example('Text Message from Click to WhatsApp Ad'),
      );
      expect(message).toMatchObject({
        wamid: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUQ0N0VFMDA2MTQ0RkJFNkNDNAA=',
        kind: 'text',
        text:
          'Hello! Can I get more info on this?\n' +
          '[The customer came from an ad: Chat with us — Summer Succulents are here! — source: ad https://fb.me/3cr4Wqqkv]',
        reply: 'llm',
        contextWamid: null,
        timestamp: epoch(1750275992),
      });
    });

    it('keeps a reaction but does not answer it', () => {
      const message = onlyMessage(example('Reaction Message'));
      expect(message).toMatchObject({
        wamid: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=',
        kind: 'reaction',
        text: null,
        mediaId: null,
        reply: 'none',
        customerName: 'Sheena Nelson',
        timestamp: epoch(1749419544),
      });
    });

    it('answers an image caption like text, labelled with what was attached, and keeps the media id', () => {
      const message = onlyMessage(example('Image Message'));
      expect(message).toMatchObject({
        kind: 'image',
        text: '[image] Taj Mahal',
        mediaId: '1003383421387256',
        reply: 'llm',
        timestamp: epoch(1744344496),
      });
    });

    it('turns a shared location into a readable line for the LLM', () => {
      const message = onlyMessage(example('Location Message'));
      expect(message).toMatchObject({
        wamid: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTU2MjZEMDBGRkE3MENEMDE0RQA=',
        kind: 'location',
        text: 'Location: Philz Coffee, 101 Forest Ave, Palo Alto, CA 94301 (37.44221496582, -122.16165924072)',
        mediaId: null,
        reply: 'llm',
        timestamp: epoch(1744344496),
      });
    });

    it('turns a shared contact card into a short line with name and phone', () => {
      const message = onlyMessage(example('Contact Sharing Message'));
      expect(message).toMatchObject({
        kind: 'contacts',
        text: 'Shared contact: Lucía Gómez +1 (983) 555-2319',
        reply: 'llm',
        // The sender is still Sheena, not the shared contact.
        customerId: SHEENA_WA_ID,
        customerName: 'Sheena Nelson',
      });
    });

    it('keeps an unsupported message without text and does not answer it', () => {
      const message = onlyMessage(example('Unsupported Message'));
      expect(message).toMatchObject({
        wamid: 'wamid.HBgLMTQyMDU1NTA3NDkVAgASGBI5N0MwRjg0RTVBNUI1RDA2OTkA',
        kind: 'unsupported',
        text: null,
        reply: 'none',
        timestamp: epoch(1750090702),
      });
    });

    it('reads the template quick-reply button text and its context id', () => {
      const message = onlyMessage(example('Button Message'));
      expect(message).toMatchObject({
        kind: 'button',
        text: 'Unsubscribe',
        reply: 'llm',
        contextWamid:
          'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJFNjk2OTMwNEZCQjhGMzUyQUYA',
        timestamp: epoch(1750091045),
      });
    });

    it("reads the list reply title as the customer's text", () => {
      const message = onlyMessage(example('Interactive List Reply Message'));
      expect(message).toMatchObject({
        kind: 'interactive',
        text: 'Priority Mail Express',
        reply: 'llm',
        contextWamid:
          'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJGMzEyNzhENTZDMzNGODlDRDgA',
        timestamp: epoch(1749854575),
      });
    });

    it("reads the button reply title as the customer's text", () => {
      const message = onlyMessage(example('Interactive Button Reply Message'));
      expect(message).toMatchObject({
        kind: 'interactive',
        text: 'Cancel',
        reply: 'llm',
        contextWamid:
          'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MEM2RUJFNkI0RENGQTVDRjUA',
        timestamp: epoch(1750025136),
      });
    });

    it('lists an order with its catalog, products, quantities and prices, ignoring an empty note', () => {
      const message = onlyMessage(example('Order Message'));
      expect(message).toMatchObject({
        kind: 'order',
        text: 'Order (catalog 194836987003835): 2 x di9ozbzfi4 at 30 USD each; 1 x nqryix03ez at 25 USD each',
        reply: 'llm',
        timestamp: epoch(1750096325),
      });
    });

    it('keeps a system message (no contacts) without answering it', () => {
      const message = onlyMessage(example('System Message'));
      expect(message).toEqual(
        expect.objectContaining({
          wamid: 'wamid.HBgLMTk4MzU1NTE5NzQVAgASGAoxMTgyMDg2MjY3AA==',
          customerId: SHEENA_WA_ID,
          customerUserId: null,
          customerName: null,
          kind: 'system',
          text: null,
          reply: 'none',
          timestamp: epoch(1750269342),
        }),
      );
    });

    it.each([
      'Group Create Message',
      'Group Settings Update',
      'Group Remove Participants',
    ])('yields nothing for the group lifecycle event "%s"', (name) => {
      expect(parseWebhookPayload(example(name))).toEqual(EMPTY);
    });

    it('does not modify the payload it parses', () => {
      for (const name of Object.keys(examples)) {
        const body = example(name);
        const before = structuredClone(body);
        parseWebhookPayload(body);
        expect(body).toEqual(before);
      }
    });
  });

  describe('batches', () => {
    it('parses every message of 2 entries x 2 changes, in order', () => {
      const messages = (prefix: string, count: number): unknown[] =>
        Array.from({ length: count }, (_, i) => ({
          from: SHEENA_WA_ID,
          id: `wamid.${prefix}.${String(i)}`,
          timestamp: '1749416383',
          type: 'text',
          text: { body: `${prefix} message ${String(i)}` },
        }));
      const body = {
        object: 'whatsapp_business_account',
        entry: [
          {
            id: 'WABA-1',
            changes: [
              change({ contacts: [sheena], messages: messages('a', 3) }),
              change({ contacts: [sheena], messages: messages('b', 2) }),
            ],
          },
          {
            id: 'WABA-2',
            changes: [
              change({ contacts: [sheena], messages: messages('c', 4) }),
              change({ contacts: [sheena], messages: messages('d', 1) }),
            ],
          },
        ],
      };

      const parsed = parseWebhookPayload(body);

      expect(parsed.messages.map((m) => m.wamid)).toEqual([
        'wamid.a.0',
        'wamid.a.1',
        'wamid.a.2',
        'wamid.b.0',
        'wamid.b.1',
        'wamid.c.0',
        'wamid.c.1',
        'wamid.c.2',
        'wamid.c.3',
        'wamid.d.0',
      ]);
      expect(parsed.messages.map((m) => m.text)).toContain('c message 3');
      expect(parsed.messages.every((m) => m.reply === 'llm')).toBe(true);
    });

    it('reads messages, statuses and errors that share one value', () => {
      const parsed = parseWebhookPayload(
        envelope(
          change({
            contacts: [sheena],
            messages: [
              {
                from: SHEENA_WA_ID,
                id: 'wamid.IN',
                type: 'text',
                text: { body: 'hi' },
              },
            ],
            statuses: [{ id: 'wamid.OUT', status: 'read', timestamp: '1' }],
            errors: [{ code: 130429, title: 'Rate limit hit' }],
          }),
        ),
      );
      expect(parsed.messages.map((m) => m.wamid)).toEqual(['wamid.IN']);
      expect(parsed.statuses.map((s) => s.wamid)).toEqual(['wamid.OUT']);
      expect(parsed.errors.map((e) => e.code)).toEqual([130429]);
    });

    it('skips broken items but keeps the rest of the batch', () => {
      const parsed = parseWebhookPayload(
        envelope(
          { field: 'messages', value: null },
          'not a change',
          change({
            contacts: [sheena],
            messages: [
              null,
              'text',
              { from: SHEENA_WA_ID, type: 'text', text: { body: 'no id' } },
              { from: SHEENA_WA_ID, id: 42, type: 'text' },
              { id: 'wamid.NOBODY', type: 'text', text: { body: 'who?' } },
              {
                from: SHEENA_WA_ID,
                id: 'wamid.GOOD',
                type: 'text',
                text: { body: 'ok' },
              },
            ],
          }),
        ),
      );
      // 'wamid.NOBODY' still gets Sheena: she is the change's only contact.
      expect(parsed.messages.map((m) => m.wamid)).toEqual([
        'wamid.NOBODY',
        'wamid.GOOD',
      ]);
    });

    it('survives an element whose getter throws and keeps its neighbours', () => {
      const hostile = {
        id: 'wamid.HOSTILE',
        get from(): string {
          throw new Error('boom');
        },
      };
      const parsed = parseWebhookPayload(
        envelope(
          change({
            contacts: [sheena],
            messages: [
              hostile,
              {
                from: SHEENA_WA_ID,
                id: 'wamid.AFTER',
                type: 'text',
                text: { body: 'still here' },
              },
            ],
          }),
        ),
      );
      expect(parsed.messages.map((m) => m.wamid)).toEqual(['wamid.AFTER']);
    });
  });

  describe('customer identity', () => {
    it('uses the BSUID when the sender has a username and no phone number', () => {
      const message = onlyMessage(
        envelope(
          change({
            contacts: [
              {
                profile: { name: 'Ana' },
                user_id: 'US.13491208655302741918',
              },
            ],
            messages: [
              {
                from_user_id: 'US.13491208655302741918',
                id: 'wamid.BSUID',
                timestamp: '1749416383',
                type: 'text',
                text: { body: 'hola' },
              },
            ],
          }),
        ),
      );
      expect(message).toMatchObject({
        customerId: 'US.13491208655302741918',
        customerUserId: 'US.13491208655302741918',
        customerName: 'Ana',
        reply: 'llm',
      });
    });

    it('prefers the wa_id over the BSUID and still reports the BSUID', () => {
      const message = onlyMessage(
        envelope(
          change({
            contacts: [
              {
                profile: { name: 'Ana' },
                wa_id: '5215550001111',
                user_id: 'MX.555',
              },
            ],
            messages: [
              {
                from: '5215550001111',
                from_user_id: 'MX.555',
                id: 'wamid.BOTH',
                type: 'text',
                text: { body: 'hola' },
              },
            ],
          }),
        ),
      );
      expect(message.customerId).toBe('5215550001111');
      expect(message.customerUserId).toBe('MX.555');
    });

    it("takes the wa_id from the contact matched by BSUID when the message has no 'from'", () => {
      const message = onlyMessage(
        envelope(
          change({
            contacts: [
              { profile: { name: 'Other' }, wa_id: '111', user_id: 'US.1' },
              { profile: { name: 'Ana' }, wa_id: '222', user_id: 'US.2' },
            ],
            messages: [
              {
                from_user_id: 'US.2',
                id: 'wamid.X',
                type: 'text',
                text: { body: 'hi' },
              },
            ],
          }),
        ),
      );
      expect(message).toMatchObject({
        customerId: '222',
        customerUserId: 'US.2',
        customerName: 'Ana',
      });
    });

    it('takes the BSUID from the contact matched by wa_id', () => {
      const message = onlyMessage(
        envelope(
          change({
            contacts: [
              { profile: { name: 'Other' }, wa_id: '111', user_id: 'US.1' },
              { profile: { name: 'Ana' }, wa_id: '222', user_id: 'US.2' },
            ],
            messages: [
              { from: '222', id: 'wamid.X', type: 'text', text: { body: 'a' } },
            ],
          }),
        ),
      );
      expect(message.customerUserId).toBe('US.2');
      expect(message.customerName).toBe('Ana');
    });

    it('names each sender from the contact with the same wa_id', () => {
      const { messages } = parseWebhookPayload(
        envelope(
          change({
            contacts: [
              { profile: { name: 'Bob' }, wa_id: '2' },
              { profile: { name: 'Alice' }, wa_id: '1' },
            ],
            messages: [
              { from: '1', id: 'wamid.1', type: 'text', text: { body: 'a' } },
              { from: '2', id: 'wamid.2', type: 'text', text: { body: 'b' } },
              { from: '3', id: 'wamid.3', type: 'text', text: { body: 'c' } },
            ],
          }),
        ),
      );
      expect(messages.map((m) => [m.customerId, m.customerName])).toEqual([
        ['1', 'Alice'],
        ['2', 'Bob'],
        ['3', null],
      ]);
    });

    it('uses the only contact of the change even when its wa_id differs from the sender', () => {
      const message = onlyMessage(
        envelope(
          change({
            contacts: [{ profile: { name: 'Sheena' }, wa_id: '999' }],
            messages: [
              { from: '123', id: 'wamid.X', type: 'text', text: { body: 'a' } },
            ],
          }),
        ),
      );
      expect(message.customerId).toBe('123');
      expect(message.customerName).toBe('Sheena');
    });

    it('takes the customer id from the only contact when the message has no sender', () => {
      const message = onlyMessage(
        envelope(
          change({
            contacts: [sheena],
            messages: [{ id: 'wamid.X', type: 'text', text: { body: 'a' } }],
          }),
        ),
      );
      expect(message.customerId).toBe(SHEENA_WA_ID);
    });

    it('skips a message whose sender cannot be identified', () => {
      const parsed = parseWebhookPayload(
        envelope(
          change({
            contacts: [
              { profile: { name: 'A' }, wa_id: '1' },
              { profile: { name: 'B' }, wa_id: '2' },
            ],
            messages: [
              { id: 'wamid.X', type: 'text', text: { body: 'a' } },
              { from: '', id: 'wamid.Y', type: 'text', text: { body: 'a' } },
            ],
          }),
        ),
      );
      expect(parsed.messages).toEqual([]);
    });

    it('accepts a wa_id sent as a JSON number', () => {
      const message = onlyMessage(
        envelope(
          change({
            contacts: [{ profile: { name: 'N' }, wa_id: 16505551234 }],
            messages: [
              {
                from: 16505551234,
                id: 'wamid.N',
                type: 'text',
                text: { body: 'a' },
              },
            ],
          }),
        ),
      );
      expect(message.customerId).toBe('16505551234');
      expect(message.customerName).toBe('N');
    });

    it('leaves the phone number id null when metadata is missing', () => {
      const message = onlyMessage({
        entry: [
          {
            changes: [
              {
                value: {
                  messages: [
                    {
                      from: '1',
                      id: 'wamid.X',
                      type: 'text',
                      text: { body: 'a' },
                    },
                  ],
                },
              },
            ],
          },
        ],
      });
      expect(message.phoneNumberId).toBeNull();
      expect(message.customerName).toBeNull();
    });
  });

  describe('text and reply rules', () => {
    it('does not answer a text message whose body is blank', () => {
      const message = onlyMessage(
        inbound({ type: 'text', text: { body: '  \n ' } }),
      );
      expect(message).toMatchObject({
        kind: 'text',
        text: null,
        reply: 'none',
      });
    });

    it('does not answer a text message without a body', () => {
      const message = onlyMessage(inbound({ type: 'text', text: {} }));
      expect(message).toMatchObject({ text: null, reply: 'none' });
    });

    it('trims the text body', () => {
      const message = onlyMessage(
        inbound({ type: 'text', text: { body: '  hello there \n' } }),
      );
      expect(message.text).toBe('hello there');
    });

    it('falls back to the button payload when the button has no text', () => {
      const message = onlyMessage(
        inbound({ type: 'button', button: { payload: 'STOP' } }),
      );
      expect(message).toMatchObject({ text: 'STOP', reply: 'llm' });
    });

    it('reads the list reply title only, not its description', () => {
      const message = onlyMessage(
        inbound({
          type: 'interactive',
          interactive: {
            type: 'list_reply',
            list_reply: { id: 'x', title: 'Standard', description: '5 days' },
          },
        }),
      );
      expect(message.text).toBe('Standard');
    });

    it('answers a flow (nfm_reply) response with its fields as readable text, without the flow token', () => {
      const message = onlyMessage(
        inbound({
          type: 'interactive',
          interactive: {
            type: 'nfm_reply',
            nfm_reply: {
              name: 'flow',
              body: 'Sent',
              response_json: JSON.stringify({
                flow_token: 'secret-token',
                name: 'Ana',
                date: '2026-12-03',
                guests: 2,
                extras: ['parking', 'breakfast'],
                address: { city: 'Lisbon' },
              }),
            },
          },
        }),
      );
      expect(message).toMatchObject({
        kind: 'interactive',
        text: 'Form reply: name: Ana, date: 2026-12-03, guests: 2, extras: parking, breakfast, address.city: Lisbon',
        reply: 'llm',
      });
    });

    it('bounds a flow response with many long fields', () => {
      const answers = Object.fromEntries(
        Array.from({ length: 100 }, (_, i) => [`field_${i}`, 'x'.repeat(500)]),
      );
      const message = onlyMessage(
        inbound({
          type: 'interactive',
          interactive: {
            type: 'nfm_reply',
            nfm_reply: { response_json: JSON.stringify(answers) },
          },
        }),
      );
      expect(message.text?.startsWith('Form reply: field_0: xxx')).toBe(true);
      expect(message.text?.length).toBeLessThanOrEqual(1_500);
    });

    it('falls back to the flow body when response_json is not JSON', () => {
      const message = onlyMessage(
        inbound({
          type: 'interactive',
          interactive: {
            type: 'nfm_reply',
            nfm_reply: { response_json: '{oops', body: 'Sent' },
          },
        }),
      );
      expect(message).toMatchObject({ text: 'Form reply: Sent', reply: 'llm' });
    });

    it('describes a location with only coordinates', () => {
      const message = onlyMessage(
        inbound({
          type: 'location',
          location: { latitude: 37.4, longitude: -122.1 },
        }),
      );
      expect(message).toMatchObject({
        text: 'Location: (37.4, -122.1)',
        reply: 'llm',
      });
    });

    it('describes a location with only a name, reading numeric strings for coordinates', () => {
      expect(
        onlyMessage(inbound({ type: 'location', location: { name: 'Home' } }))
          .text,
      ).toBe('Location: Home');
      expect(
        onlyMessage(
          inbound({
            type: 'location',
            location: { address: 'Main St 1', latitude: '1.5', longitude: '2' },
          }),
        ).text,
      ).toBe('Location: Main St 1 (1.5, 2)');
    });

    it('does not answer a location with nothing usable in it', () => {
      const message = onlyMessage(
        inbound({ type: 'location', location: { latitude: 'north' } }),
      );
      expect(message).toMatchObject({ text: null, reply: 'none' });
    });

    it('builds a contact name from first and last name and lists several cards', () => {
      const message = onlyMessage(
        inbound({
          type: 'contacts',
          contacts: [
            {
              name: { first_name: 'John', last_name: 'Smith' },
              phones: [{ phone: '+1 (983) 555-2319' }, { wa_id: '4915112345' }],
            },
            { name: { formatted_name: 'Jane Roe' } },
            'not a card',
          ],
        }),
      );
      expect(message.text).toBe(
        'Shared contacts: John Smith +1 (983) 555-2319, 4915112345; Jane Roe',
      );
    });

    it('does not answer an empty contact share', () => {
      const message = onlyMessage(inbound({ type: 'contacts', contacts: [] }));
      expect(message).toMatchObject({ text: null, reply: 'none' });
    });

    it('appends the order note when there is one', () => {
      const message = onlyMessage(
        inbound({
          type: 'order',
          order: {
            catalog_id: '1',
            text: 'Please gift wrap',
            product_items: [{ product_retailer_id: 'a', quantity: '3' }],
          },
        }),
      );
      expect(message).toMatchObject({
        text: 'Order (catalog 1): 3 x a — Please gift wrap',
        reply: 'llm',
      });
    });

    it('lists at most 20 order lines and counts the rest', () => {
      const message = onlyMessage(
        inbound({
          type: 'order',
          order: {
            product_items: Array.from({ length: 25 }, (_, i) => ({
              product_retailer_id: `p${i}`,
              quantity: 1,
            })),
          },
        }),
      );
      expect(message.text).toMatch(
        /^Order: 1 x p0; .*; 1 x p19; and 5 more items$/,
      );
    });

    it.each([
      ['image', { id: 'I1', caption: 'look' }, '[image] look'],
      ['video', { id: 'V1', caption: 'look' }, '[video] look'],
      [
        'document',
        { id: 'D1', caption: 'my invoice', filename: 'invoice [1].pdf' },
        '[document invoice 1 .pdf] my invoice',
      ],
      ['document', { id: 'D1', caption: 'see this' }, '[document] see this'],
    ])(
      'answers a captioned %s like text, labelled with the attachment',
      (kind, media, text) => {
        const message = onlyMessage(inbound({ type: kind, [kind]: media }));
        expect(message).toMatchObject({ kind, text, reply: 'llm' });
      },
    );

    it('keeps the media id of an uncaptioned video and sends a media notice', () => {
      const message = onlyMessage(
        inbound({ type: 'video', video: { id: 'V1', mime_type: 'video/mp4' } }),
      );
      expect(message).toMatchObject({
        kind: 'video',
        text: null,
        mediaId: 'V1',
        reply: 'media-notice',
      });
    });

    it.each([
      ['document', { id: 'D1', filename: 'a.pdf' }],
      ['audio', { id: 'A1', mime_type: 'audio/ogg', voice: true }],
      ['sticker', { id: 'S1', mime_type: 'image/webp', animated: false }],
      ['image', { id: 'I1' }],
    ])(
      'keeps the media id of an uncaptioned %s and leaves it to the turn to read',
      (kind, media) => {
        const message = onlyMessage(inbound({ type: kind, [kind]: media }));
        expect(message).toMatchObject({
          kind,
          text: null,
          mediaId: media.id,
          reply: 'llm',
        });
      },
    );

    it('ignores an audio caption: audio has no text', () => {
      const message = onlyMessage(
        inbound({ type: 'audio', audio: { id: 'A1', caption: 'x' } }),
      );
      expect(message.text).toBeNull();
    });

    it('keeps a media message without a media object, with a null media id', () => {
      const message = onlyMessage(inbound({ type: 'image' }));
      expect(message).toMatchObject({ mediaId: null, reply: 'media-notice' });
    });

    it('keeps a message of an unknown type as sent, without text or answer', () => {
      const message = onlyMessage(
        inbound({ type: 'hologram', hologram: { body: 'hi' } }),
      );
      expect(message).toMatchObject({
        kind: 'hologram',
        text: null,
        mediaId: null,
        reply: 'none',
      });
    });

    it("calls a message without a type 'unknown'", () => {
      expect(onlyMessage(inbound({ text: { body: 'hi' } }))).toMatchObject({
        kind: 'unknown',
        text: null,
        reply: 'none',
      });
      expect(onlyMessage(inbound({ type: 7 })).kind).toBe('unknown');
    });

    it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
      'treats the type "%s" as an ordinary unknown type',
      (kind) => {
        const message = onlyMessage(inbound({ type: kind }));
        expect(message).toMatchObject({ kind, text: null, reply: 'none' });
      },
    );

    it('keeps the text of a group message but does not answer it', () => {
      const message = onlyMessage(
        inbound({
          type: 'text',
          group_id: 'Y2FwaV9ncm91cDoxODA1NTU1MDE3Mjox',
          text: { body: 'hello group' },
        }),
      );
      expect(message).toMatchObject({ text: 'hello group', reply: 'none' });
    });

    it('does not answer media or text in a change marked as a group', () => {
      const { messages } = parseWebhookPayload(
        envelope(
          change({
            recipient_type: 'group',
            contacts: [sheena],
            messages: [
              { from: '1', id: 'wamid.T', type: 'text', text: { body: 'a' } },
              { from: '1', id: 'wamid.I', type: 'image', image: { id: 'I' } },
            ],
          }),
          change(
            {
              messages: [
                { from: '1', id: 'wamid.G', type: 'text', text: { body: 'b' } },
              ],
            },
            'group_lifecycle_update',
          ),
        ),
      );
      expect(messages.map((m) => [m.wamid, m.reply])).toEqual([
        ['wamid.T', 'none'],
        ['wamid.I', 'none'],
        ['wamid.G', 'none'],
      ]);
    });

    it("does not answer a message addressed with recipient_type 'group'", () => {
      const message = onlyMessage(
        inbound({ type: 'text', recipient_type: 'group', text: { body: 'x' } }),
      );
      expect(message.reply).toBe('none');
    });
  });

  describe('timestamps', () => {
    it('reads epoch seconds sent as a string or as a number', () => {
      expect(
        onlyMessage(inbound({ timestamp: '1750096325' })).timestamp,
      ).toEqual(epoch(1750096325));
      expect(onlyMessage(inbound({ timestamp: 1750096325 })).timestamp).toEqual(
        epoch(1750096325),
      );
    });

    it.each([
      undefined,
      null,
      '',
      'yesterday',
      '-5',
      0,
      Number.NaN,
      '1e400',
      {},
    ])('uses the time of parsing when the timestamp is %p', (timestamp) => {
      const before = Date.now();
      const message = onlyMessage(inbound({ timestamp }));
      const after = Date.now();
      expect(message.timestamp.getTime()).toBeGreaterThanOrEqual(before);
      expect(message.timestamp.getTime()).toBeLessThanOrEqual(after);
    });

    it('gives each message its own Date object', () => {
      const { messages } = parseWebhookPayload(
        envelope(
          change({
            contacts: [sheena],
            messages: [
              { from: '1', id: 'wamid.1', type: 'text' },
              { from: '1', id: 'wamid.2', type: 'text' },
            ],
          }),
        ),
      );
      expect(messages[0].timestamp).not.toBe(messages[1].timestamp);
    });
  });

  describe('status updates', () => {
    it('reads sent, delivered, read and played statuses', () => {
      const parsed = parseWebhookPayload(
        envelope(
          change({
            statuses: ['sent', 'delivered', 'read', 'played'].map((status) => ({
              id: `wamid.${status}`,
              status,
              timestamp: '1750030073',
              recipient_id: SHEENA_WA_ID,
            })),
          }),
        ),
      );
      expect(parsed.messages).toEqual([]);
      expect(parsed.statuses).toEqual(
        ['sent', 'delivered', 'read', 'played'].map((status) => ({
          wamid: `wamid.${status}`,
          status,
          timestamp: epoch(1750030073),
          recipientId: SHEENA_WA_ID,
          error: null,
          raw: expect.objectContaining({ status }) as unknown,
        })),
      );
    });

    it('reads the status shape of the reference doc, with its error', () => {
      const status = {
        id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI',
        status: 'failed',
        timestamp: '1750030073',
        recipient_id: '16505551234',
        biz_opaque_callback_data: 'order-42',
        conversation: {
          id: 'CONVERSATION_ID',
          expiration_timestamp: '1750116480',
          origin: { type: 'marketing' },
        },
        pricing: {
          billable: true,
          pricing_model: 'PMP',
          type: 'regular',
          category: 'marketing',
        },
        errors: [
          {
            code: 131049,
            title:
              'This message was not delivered to maintain healthy ecosystem engagement.',
            message:
              'This message was not delivered to maintain healthy ecosystem engagement.',
            error_data: {
              details:
                'In order to maintain a healthy ecosystem engagement, the message failed to be delivered.',
            },
            href: '/documentation/business-messaging/whatsapp/support/error-codes',
          },
        ],
      };
      const { statuses } = parseWebhookPayload(
        envelope(change({ statuses: [status] })),
      );
      expect(statuses).toEqual([
        {
          wamid: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI',
          status: 'failed',
          timestamp: epoch(1750030073),
          recipientId: '16505551234',
          error: {
            code: 131049,
            title:
              'This message was not delivered to maintain healthy ecosystem engagement.',
            message:
              'This message was not delivered to maintain healthy ecosystem engagement.',
            details:
              'In order to maintain a healthy ecosystem engagement, the message failed to be delivered.',
          },
          raw: status,
        },
      ]);
    });

    it('reads a failed status with a 131047 re-engagement error sent as a string code', () => {
      const { statuses } = parseWebhookPayload(
        envelope(
          change({
            statuses: [
              {
                id: 'wamid.F',
                status: 'failed',
                timestamp: '1750030073',
                recipient_id: SHEENA_WA_ID,
                errors: [
                  'not an error',
                  {
                    code: '131047',
                    title: 'Re-engagement message',
                    message: 'Re-engagement message',
                    error_data: {
                      details:
                        'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
                    },
                  },
                  { code: 1, title: 'second error is ignored' },
                ],
              },
            ],
          }),
        ),
      );
      expect(statuses[0].error).toEqual({
        code: 131047,
        title: 'Re-engagement message',
        message: 'Re-engagement message',
        details:
          'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
      });
    });

    it('lower-cases the status', () => {
      const { statuses } = parseWebhookPayload(
        envelope(change({ statuses: [{ id: 'wamid.X', status: 'READ' }] })),
      );
      expect(statuses[0].status).toBe('read');
    });

    it('skips a status without an id or a status', () => {
      const { statuses } = parseWebhookPayload(
        envelope(
          change({
            statuses: [
              { status: 'sent' },
              { id: 'wamid.X' },
              { id: 'wamid.Y', status: 3 },
              { id: 5, status: 'sent' },
              { id: 'wamid.OK', status: 'delivered' },
            ],
          }),
        ),
      );
      expect(statuses.map((s) => s.wamid)).toEqual(['wamid.OK']);
      expect(statuses[0]).toMatchObject({ recipientId: null, error: null });
    });

    it('gives an error with an unreadable code a null code', () => {
      const { statuses } = parseWebhookPayload(
        envelope(
          change({
            statuses: [
              {
                id: 'wamid.X',
                status: 'failed',
                errors: [{ code: 'abc', error_data: 'oops' }],
              },
            ],
          }),
        ),
      );
      expect(statuses[0].error).toEqual({
        code: null,
        title: null,
        message: null,
        details: null,
      });
    });
  });

  describe('value.errors (system and account errors)', () => {
    it('reads each error with the phone number id of its change', () => {
      const rateLimit = {
        code: 130429,
        title: 'Rate limit hit',
        message: '(#130429) Rate limit hit',
        error_data: {
          details: 'Cloud API message throughput has been reached.',
        },
        href: '/documentation/business-messaging/whatsapp/support/error-codes',
      };
      const parsed = parseWebhookPayload(
        envelope(change({ errors: [rateLimit, null, { code: '131000' }] })),
      );
      expect(parsed.messages).toEqual([]);
      expect(parsed.statuses).toEqual([]);
      expect(parsed.errors).toEqual([
        {
          code: 130429,
          title: 'Rate limit hit',
          message: '(#130429) Rate limit hit',
          details: 'Cloud API message throughput has been reached.',
          phoneNumberId: PHONE_NUMBER_ID,
          raw: rateLimit,
        },
        {
          code: 131000,
          title: null,
          message: null,
          details: null,
          phoneNumberId: PHONE_NUMBER_ID,
          raw: { code: '131000' },
        },
      ]);
    });
  });

  describe('garbage input', () => {
    const garbage: [string, unknown][] = [
      ['undefined', undefined],
      ['null', null],
      ['a number', 42],
      ['a string', 'x'],
      ['a boolean', true],
      ['an array', []],
      ['an array of payloads', [example('Text Message')]],
      ['an empty object', {}],
      ['entry as a string', { entry: 'x' }],
      ['entry as an object', { entry: { changes: [] } }],
      [
        'null entries and a null value',
        { entry: [null, { changes: [{ value: null }] }] },
      ],
      ['changes as a number', { entry: [{ changes: 5 }] }],
      [
        'a change that is an array',
        { entry: [{ changes: [[{ value: {} }]] }] },
      ],
      ['a value that is an array', { entry: [{ changes: [{ value: [] }] }] }],
      ['a value that is a string', { entry: [{ changes: [{ value: 'v' }] }] }],
      [
        'messages that are not objects',
        envelope(
          change({ contacts: [sheena], messages: [1, 'a', null, [], true] }),
        ),
      ],
      [
        'messages as an object',
        envelope(change({ messages: { id: 'wamid.X' } })),
      ],
      [
        'a message id that is not a string',
        envelope(
          change({
            contacts: [sheena],
            messages: [
              { from: '1', id: 123, type: 'text', text: { body: 'a' } },
              { from: '1', id: { x: 1 }, type: 'text' },
              { from: '1', id: '   ', type: 'text' },
            ],
          }),
        ),
      ],
      [
        'statuses and errors that are not objects',
        envelope(change({ statuses: ['read', 7], errors: 'boom' })),
      ],
      [
        'numbers where strings are expected',
        envelope(
          change({
            metadata: 5,
            contacts: 3,
            messages: [{ from: 1.5, id: 2, type: 3, text: 4, timestamp: [] }],
          }),
        ),
      ],
    ];

    it.each(garbage)('returns empty arrays for %s', (_name, body) => {
      expect(parseWebhookPayload(body)).toEqual(EMPTY);
    });

    it('returns empty arrays for a revoked proxy', () => {
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      expect(parseWebhookPayload(proxy)).toEqual(EMPTY);
    });

    it('returns empty arrays for an object whose entry getter throws', () => {
      const body = {
        get entry(): unknown {
          throw new Error('boom');
        },
      };
      expect(parseWebhookPayload(body)).toEqual(EMPTY);
    });
  });

  describe('never throws (property-based)', () => {
    /** Every message it returns respects the documented contract. */
    function expectWellFormed(parsed: Decided): void {
      expect(Array.isArray(parsed.messages)).toBe(true);
      expect(Array.isArray(parsed.statuses)).toBe(true);
      expect(Array.isArray(parsed.errors)).toBe(true);
      for (const message of parsed.messages) {
        expect(message.wamid.trim()).not.toBe('');
        expect(message.customerId.trim()).not.toBe('');
        expect(Number.isNaN(message.timestamp.getTime())).toBe(false);
        expect(['llm', 'media-notice', 'none']).toContain(message.reply);
        if (message.reply === 'llm' && !message.mediaId) {
          expect(message.text?.trim()).toBeTruthy();
        }
      }
      for (const status of parsed.statuses) {
        expect(status.wamid).not.toBe('');
        expect(status.status).not.toBe('');
        expect(Number.isNaN(status.timestamp.getTime())).toBe(false);
      }
    }

    it('never throws on anything', () => {
      fc.assert(
        fc.property(fc.anything(), (body) => {
          expectWellFormed(parseWebhookPayload(body));
        }),
        { numRuns: 500 },
      );
    });

    it('never throws on any parsed JSON', () => {
      fc.assert(
        fc.property(fc.json(), (json) => {
          expectWellFormed(parseWebhookPayload(JSON.parse(json)));
        }),
        { numRuns: 500 },
      );
    });

    it('never throws on envelope-shaped payloads with random fields', () => {
      // Mostly the expected shape, sometimes anything at all.
      const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
        fc.oneof(
          { arbitrary: arb, weight: 9 },
          { arbitrary: fc.anything(), weight: 1 },
        );
      const idLike = fc.oneof(
        fc.string(),
        fc.constantFrom('', ' ', '16505551234', 'US.1'),
        fc.integer(),
        fc.double(),
      );
      const kind = fc.constantFrom(
        'text',
        'image',
        'video',
        'audio',
        'document',
        'sticker',
        'interactive',
        'button',
        'location',
        'contacts',
        'order',
        'reaction',
        'unsupported',
        'system',
        'constructor',
      );
      const body = fc.dictionary(
        fc.constantFrom(
          'body',
          'title',
          'caption',
          'id',
          'text',
          'payload',
          'name',
          'address',
          'latitude',
          'longitude',
        ),
        fc.oneof(fc.string(), fc.double(), fc.anything()),
      );
      const message = fc.record(
        {
          id: maybe(idLike),
          from: maybe(idLike),
          from_user_id: maybe(idLike),
          type: maybe(kind),
          timestamp: maybe(fc.oneof(fc.string(), fc.integer(), fc.double())),
          text: maybe(body),
          image: maybe(body),
          interactive: maybe(
            fc.record({ button_reply: maybe(body), list_reply: maybe(body) }),
          ),
          button: maybe(body),
          location: maybe(body),
          contacts: maybe(
            fc.array(
              maybe(
                fc.record({
                  name: maybe(body),
                  phones: maybe(fc.array(maybe(body))),
                }),
              ),
            ),
          ),
          order: maybe(
            fc.record({ text: fc.anything(), product_items: fc.anything() }),
          ),
          context: maybe(body),
          group_id: maybe(idLike),
        },
        { requiredKeys: [] },
      );
      const contact = fc.record(
        {
          wa_id: maybe(idLike),
          user_id: maybe(idLike),
          profile: maybe(fc.record({ name: fc.anything() })),
        },
        { requiredKeys: [] },
      );
      const status = fc.record(
        {
          id: maybe(idLike),
          status: maybe(fc.constantFrom('sent', 'delivered', 'read', 'failed')),
          timestamp: fc.anything(),
          recipient_id: maybe(idLike),
          errors: maybe(
            fc.array(
              maybe(
                fc.record({ code: fc.anything(), error_data: fc.anything() }),
              ),
            ),
          ),
        },
        { requiredKeys: [] },
      );
      const value = fc.record(
        {
          metadata: maybe(fc.record({ phone_number_id: maybe(idLike) })),
          contacts: maybe(fc.array(maybe(contact))),
          messages: maybe(fc.array(maybe(message))),
          statuses: maybe(fc.array(maybe(status))),
          errors: maybe(fc.array(fc.anything())),
          recipient_type: maybe(fc.constant('group')),
        },
        { requiredKeys: [] },
      );
      const payload = fc.record({
        object: fc.anything(),
        entry: maybe(
          fc.array(
            maybe(
              fc.record({
                id: fc.anything(),
                changes: maybe(
                  fc.array(
                    maybe(
                      fc.record({
                        field: maybe(fc.string()),
                        value: maybe(value),
                      }),
                    ),
                  ),
                ),
              }),
            ),
          ),
        ),
      });

      const seen = { messages: 0, llm: 0, statuses: 0 };
      fc.assert(
        fc.property(payload, (generated) => {
          const parsed = parseWebhookPayload(generated);
          expectWellFormed(parsed);
          seen.messages += parsed.messages.length;
          seen.llm += parsed.messages.filter((m) => m.reply === 'llm').length;
          seen.statuses += parsed.statuses.length;
        }),
        // Each run generates a whole nested payload (~0.1 s): 100 runs.
        { numRuns: 100 },
      );
      // The generator must reach the interesting paths, not just the guards.
      expect(seen.messages).toBeGreaterThan(0);
      expect(seen.llm).toBeGreaterThan(0);
      expect(seen.statuses).toBeGreaterThan(0);
    });
  });
});
