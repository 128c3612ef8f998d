import { sql } from 'drizzle-orm';
import { FakeGraphApi } from './fakes/fake-graph-api';
import { FakeOpenAi } from './fakes/fake-openai';
import { waitFor } from './fakes/wait-for';
import {
  fakeEnv,
  PHONE_NUMBER_ID,
  startTestApp,
  TestApp,
  VERIFY_TOKEN,
} from './support/test-app';
import {
  envelope,
  messageChange,
  newWamid,
  postWebhook,
  statusChange,
  textWebhook,
} from './support/webhooks';

let graph: FakeGraphApi;
let openai: FakeOpenAi;
let customerSeq = 0;
const newCustomer = () =>
  `1555${String(Date.now()).slice(-5)}${String(++customerSeq).padStart(2, '0')}`;

const sentTo = (waId: string) =>
  graph.sentMessages().filter((m) => m.to.replace(/\D/g, '') === waId);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The first message sent to `waId`, once there is one. */
const firstReplyTo = async (waId: string) =>
  (await waitFor(() => sentTo(waId).length > 0 && sentTo(waId)))[0];

async function rows<T>(
  app: TestApp,
  query: ReturnType<typeof sql>,
): Promise<T[]> {
  const result = (await app.db.db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

beforeAll(async () => {
  graph = await FakeGraphApi.start();
  openai = await FakeOpenAi.start();
});
afterAll(async () => {
  await graph.close();
  await openai.close();
});
beforeEach(() => {
  graph.reset();
  openai.reset();
});
afterEach(() => {
  expect(graph.violations).toEqual([]);
  expect(openai.violations).toEqual([]);
});

describe('webhook pipeline', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp(fakeEnv(graph, openai));
  });
  afterAll(async () => {
    await app.close();
  });
  /** Posts one message of `type` (its `body` as Meta nests it) from `customer`. */
  const postMessage = (
    customer: string,
    type: string,
    body: Record<string, unknown>,
  ) =>
    postWebhook(
      app.url,
      envelope(messageChange([{ from: customer, type, body }])),
    );

  describe('GET /webhook handshake', () => {
    const verify = (query: string) => fetch(`${app.url}/webhook?${query}`);

    it('answers the raw challenge when the mode and token match', async () => {
      const res = await verify(
        `hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`,
      );
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('1158201444');
    });

    it.each([
      [
        'a wrong token',
        'hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1',
      ],
      [
        'a wrong mode',
        `hub.mode=unsubscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1`,
      ],
      ['no token', 'hub.mode=subscribe&hub.challenge=1'],
    ])('refuses %s with 403', async (_name, query) => {
      const res = await verify(query);
      expect(res.status).toBe(403);
      expect(await res.text()).not.toContain('"1"');
    });
  });

  it('replies to a text message through the Graph API, marking it read with a typing indicator', async () => {
    const customer = newCustomer();
    const wamid = newWamid();
    const res = await postWebhook(
      app.url,
      textWebhook(customer, 'Do you ship to Spain?', { wamid }),
    );
    expect(res.status).toBe(200);
    const reply = await firstReplyTo(customer);
    expect(reply.body).toBe('Echo: Do you ship to Spain?');
    expect(reply.to).toBe(`+${customer}`);
    expect(graph.readReceipts()).toContainEqual(
      expect.objectContaining({ messageId: wamid, typing: true }),
    );
    expect(openai.requests.at(-1)?.model).toBe('test-model');
    // The wamid is stored once the Graph API's answer is back, a moment
    // after the fake has seen the request.
    const stored = await waitFor(async () => {
      const [row] = await rows<{
        status: string;
        llm_model: string;
        prompt_tokens: number | null;
      }>(
        app,
        sql`select status, llm_model, prompt_tokens from messages where direction = 'outbound' and text = ${reply.body}`,
      );
      return row?.status !== 'sending' && row;
    });
    expect(stored).toMatchObject({ status: 'sent', llm_model: 'test-model' });
    expect(stored.prompt_tokens).toEqual(expect.any(Number));
  });

  it('replies once when Meta re-delivers the same message five times', async () => {
    const customer = newCustomer();
    const payload = textWebhook(customer, 'hello once');
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map(() => postWebhook(app.url, payload)),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    await waitFor(() => sentTo(customer).length === 1);
    await postWebhook(app.url, payload);
    await sleep(400);
    expect(sentTo(customer)).toHaveLength(1);
    expect(openai.requests).toHaveLength(1);
  });

  it('stores nothing and answers 401 when the signature is missing or wrong', async () => {
    const customer = newCustomer();
    const payload = textWebhook(customer, 'forged');
    const missing = await postWebhook(app.url, payload, { signature: null });
    const wrong = await postWebhook(app.url, payload, {
      secret: 'not-the-app-secret',
    });
    expect([missing.status, wrong.status]).toEqual([401, 401]);
    expect((await wrong.json()) as object).toMatchObject({ success: false });
    await sleep(300);
    const stored = await rows(
      app,
      sql`select id from conversations where customer_wa_id = ${customer}`,
    );
    expect(stored).toEqual([]);
    expect(sentTo(customer)).toEqual([]);
  });

  it('verifies signatures of non-ASCII payloads, which Meta sends \\u-escaped', async () => {
    const customer = newCustomer();
    const res = await postWebhook(
      app.url,
      textWebhook(customer, 'Grüße, ¿qué tal? 👋', { name: 'Zoë' }),
    );
    expect(res.status).toBe(200);
    const reply = await firstReplyTo(customer);
    expect(reply.body).toBe('Echo: Grüße, ¿qué tal? 👋');
    const [conversation] = await rows<{ customer_name: string }>(
      app,
      sql`select customer_name from conversations where customer_wa_id = ${customer}`,
    );
    expect(conversation.customer_name).toBe('Zoë');
  });

  it('rejects a body that is not JSON with 400 and one above 3 MiB with 413', async () => {
    const bad = await fetch(`${app.url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"object": ',
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ success: false });
    const big = await fetch(`${app.url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(3 * 1024 * 1024) }),
    });
    expect(big.status).toBe(413);
  });

  it('answers 200 to payloads of any shape and stores nothing from those that hold no event', async () => {
    const counts = () =>
      rows<Record<string, number>>(
        app,
        sql`select (select count(*)::int from messages where direction = 'inbound') as inbound,
                   (select count(*)::int from conversations) as conversations,
                   (select count(*)::int from status_events) as statuses,
                   (select count(*)::int from webhook_errors) as errors`,
      );
    const before = await counts();
    for (const payload of [
      [],
      'text',
      42,
      null,
      {},
      { entry: 'x' },
      { entry: [{ changes: [{ value: { messages: [{}] } }] }] },
      // A message without an id, and a status without a status.
      {
        entry: [
          {
            changes: [
              {
                value: {
                  messages: [
                    { from: '15550000001', type: 'text', text: { body: 'x' } },
                  ],
                  statuses: [{ id: 'wamid.none' }],
                },
              },
            ],
          },
        ],
      },
    ]) {
      const res = await postWebhook(app.url, payload);
      expect(res.status).toBe(200);
    }
    expect(await counts()).toEqual(before);
    const health = await fetch(`${app.url}/api/health`);
    expect(health.status).toBe(200);
  });

  it('carries context across turns and keeps customers apart', async () => {
    const alice = newCustomer();
    const bob = newCustomer();
    await postWebhook(app.url, textWebhook(alice, 'My name is Alice'));
    await waitFor(() => sentTo(alice).length === 1);
    await postWebhook(app.url, textWebhook(bob, 'I am Bob'));
    await waitFor(() => sentTo(bob).length === 1);
    await postWebhook(app.url, textWebhook(alice, 'What is my name?'));
    await waitFor(() => sentTo(alice).length === 2);

    const last = openai.requests.at(-1)!;
    const contents = last.messages.map((m) => `${m.role}:${String(m.content)}`);
    expect(contents[0]).toMatch(/^system:/);
    expect(contents.slice(1)).toEqual([
      'user:My name is Alice',
      'assistant:Echo: My name is Alice',
      'user:What is my name?',
    ]);
    expect(JSON.stringify(last.messages)).not.toContain('Bob');
  });

  it('answers with the fallback text when the LLM fails', async () => {
    const customer = newCustomer();
    openai.enqueue({ type: 'error', status: 500, message: 'boom' });
    await postWebhook(app.url, textWebhook(customer, 'are you there?'));
    const reply = await firstReplyTo(customer);
    expect(reply.body).toBe(
      "Sorry, I can't answer right now. Please try again in a few minutes.",
    );
    const [stored] = await rows<{ author: string }>(
      app,
      sql`select m.author from messages m join conversations c on c.id = m.conversation_id
          where c.customer_wa_id = ${customer} and m.direction = 'outbound'`,
    );
    expect(stored.author).toBe('fallback');
  });

  it('answers with the fallback text when the LLM returns nothing', async () => {
    const customer = newCustomer();
    openai.enqueue({ type: 'empty' });
    await postWebhook(app.url, textWebhook(customer, 'hello?'));
    const reply = await firstReplyTo(customer);
    expect(reply.body).toMatch(/^Sorry/);
  });

  it('retries a send that hits the throughput limit (130429) and a 5xx, then delivers once', async () => {
    const customer = newCustomer();
    graph.failNext(1, { status: 400, code: 130429, message: 'Rate limit hit' });
    graph.failNext(1, {
      status: 500,
      code: 2,
      message: 'Service temporarily unavailable',
    });
    await postWebhook(app.url, textWebhook(customer, 'retry me'));
    await waitFor(() => sentTo(customer).length === 1);
    const attempts = graph.requests.filter(
      (r) =>
        r.method === 'POST' &&
        (r.body as { to?: string }).to === `+${customer}`,
    );
    expect(attempts).toHaveLength(3);
  });

  it('does not retry a closed 24-hour window (131047) and stores the error on the message', async () => {
    const customer = newCustomer();
    graph.failSendsTo(customer, {
      status: 400,
      code: 131047,
      message: 'Re-engagement message',
    });
    await postWebhook(app.url, textWebhook(customer, 'late reply'));
    const failed = await waitFor(async () => {
      const found = await rows<{ status: string; error: { code: number } }>(
        app,
        sql`select m.status, m.error from messages m join conversations c on c.id = m.conversation_id
            where c.customer_wa_id = ${customer} and m.direction = 'outbound' and m.status = 'failed'`,
      );
      return found.length > 0 && found;
    });
    expect(failed[0].error).toMatchObject({ code: 131047 });
    await sleep(200);
    const attempts = graph.requests.filter(
      (r) => (r.body as { to?: string })?.to === `+${customer}`,
    );
    expect(attempts).toHaveLength(1);
  });

  it('fails the message with code 190 when the access token has expired, and never marks it sent', async () => {
    const customer = newCustomer();
    graph.failSendsTo(customer, {
      status: 401,
      code: 190,
      message: 'Error validating access token',
    });
    await postWebhook(app.url, textWebhook(customer, 'token test'));
    const failed = await waitFor(async () => {
      const found = await rows<{
        status: string;
        error: { code: number };
        wamid: string | null;
      }>(
        app,
        sql`select m.status, m.error, m.wamid from messages m join conversations c on c.id = m.conversation_id
            where c.customer_wa_id = ${customer} and m.direction = 'outbound'`,
      );
      return found.length > 0 && found[0].status === 'failed' && found;
    });
    expect(failed[0]).toMatchObject({ error: { code: 190 }, wamid: null });
    expect(sentTo(customer)).toEqual([]);
  });

  it('replies once, by recipient and without to, to a customer known only by a business-scoped user id', async () => {
    const userId = `US.${Date.now()}${customerSeq++}`;
    const wamid = newWamid();
    const payload = envelope({
      field: 'messages',
      value: {
        messaging_product: 'whatsapp',
        metadata: {
          display_phone_number: '15550783881',
          phone_number_id: PHONE_NUMBER_ID,
        },
        contacts: [{ profile: { name: 'Username User' }, user_id: userId }],
        messages: [
          {
            from_user_id: userId,
            id: wamid,
            timestamp: String(Math.floor(Date.now() / 1000)),
            type: 'text',
            text: { body: 'hi from a username' },
          },
        ],
      },
    });
    expect((await postWebhook(app.url, payload)).status).toBe(200);
    const stored = await waitFor(async () => {
      const found = await rows<{ status: string; wamid: string | null }>(
        app,
        sql`select m.status, m.wamid from messages m join conversations c on c.id = m.conversation_id
            where c.customer_wa_id = ${userId} and m.direction = 'outbound'`,
      );
      return found.length > 0 && found[0].status === 'sent' && found;
    });
    const sends = graph.requests.filter(
      (r) => (r.body as { recipient?: string })?.recipient === userId,
    );
    expect(sends).toHaveLength(1);
    expect(sends[0].body).not.toHaveProperty('to');
    expect(graph.sentMessages().filter((m) => m.recipient === userId)).toEqual([
      expect.objectContaining({ body: 'Echo: hi from a username' }),
    ]);
    expect(stored).toEqual([
      { status: 'sent', wamid: graph.sentMessages().at(-1)?.wamid },
    ]);
    expect(graph.readReceipts()).toContainEqual(
      expect.objectContaining({ messageId: wamid, typing: true }),
    );
  });

  it('stores a message to another business number without answering it, and keeps it out of the context of later replies', async () => {
    const customer = newCustomer();
    const elsewhere = messageChange([
      { from: customer, text: 'Written to your other number' },
    ]);
    elsewhere.value.metadata.phone_number_id = '999000111222333';
    const otherWamid = elsewhere.value.messages[0].id;
    expect((await postWebhook(app.url, envelope(elsewhere))).status).toBe(200);
    const [stored] = await waitFor(async () => {
      const found = await rows<{ reply_action: string; settled: boolean }>(
        app,
        sql`select reply_action, answered_at is not null as settled from messages where wamid = ${otherWamid}`,
      );
      return found.length > 0 && found;
    });
    expect(stored).toEqual({ reply_action: 'not-served', settled: true });

    await postWebhook(app.url, textWebhook(customer, 'Written to this number'));
    const reply = await firstReplyTo(customer);
    expect(reply).toMatchObject({
      phoneNumberId: PHONE_NUMBER_ID,
      body: 'Echo: Written to this number',
    });
    expect(openai.requests).toHaveLength(1);
    expect(JSON.stringify(openai.requests[0].messages)).not.toContain(
      'other number',
    );
    expect(graph.readReceipts().map((r) => r.messageId)).not.toContain(
      otherWamid,
    );
    expect(sentTo(customer)).toHaveLength(1);
  });

  it('fails a reply to a business-scoped user id once, without retries, when Meta answers 131062', async () => {
    const userId = `US.${Date.now()}${customerSeq++}`;
    graph.failSendsTo(userId, { status: 400, code: 131062 });
    const change = messageChange([{ from: userId, text: 'hello again' }]);
    const [message] = change.value.messages;
    Object.assign(message, { from: undefined, from_user_id: userId });
    Object.assign(change.value.contacts[0], {
      wa_id: undefined,
      user_id: userId,
    });
    await postWebhook(app.url, envelope(change));
    const failed = await waitFor(async () => {
      const found = await rows<{ status: string; error: { code: number } }>(
        app,
        sql`select m.status, m.error from messages m join conversations c on c.id = m.conversation_id
            where c.customer_wa_id = ${userId} and m.direction = 'outbound'`,
      );
      return found.length > 0 && found[0].status === 'failed' && found;
    });
    expect(failed).toEqual([
      expect.objectContaining({
        error: expect.objectContaining({ code: 131062 }),
      }),
    ]);
    const attempts = graph.requests.filter(
      (r) => (r.body as { recipient?: string })?.recipient === userId,
    );
    expect(attempts).toHaveLength(1);
  });

  it('applies delivery statuses without ever downgrading them', async () => {
    const customer = newCustomer();
    await postWebhook(app.url, textWebhook(customer, 'status please'));
    const reply = await firstReplyTo(customer);
    const status = (s: string) => ({
      id: reply.wamid,
      status: s,
      timestamp: '1750030073',
      recipient_id: customer,
    });
    await postWebhook(app.url, envelope(statusChange([status('read')])));
    await postWebhook(
      app.url,
      envelope(statusChange([status('delivered'), status('sent')])),
    );
    const [stored] = await rows<{ status: string }>(
      app,
      sql`select status from messages where wamid = ${reply.wamid}`,
    );
    expect(stored.status).toBe('read');
  });

  it('reads button and list replies as the customer text', async () => {
    const customer = newCustomer();
    await postMessage(customer, 'interactive', {
      type: 'button_reply',
      button_reply: { id: 'yes', title: 'Yes please' },
    });
    const reply = await firstReplyTo(customer);
    expect(reply.body).toBe('Echo: Yes please');
  });

  it('answers media with the text-only notice without calling the LLM', async () => {
    const customer = newCustomer();
    await postMessage(customer, 'image', {
      id: '1003383421387256',
      mime_type: 'image/jpeg',
      sha256: 'x',
    });
    const reply = await firstReplyTo(customer);
    expect(reply.body).toMatch(/only read text/);
    expect(openai.requests).toHaveLength(0);
  });

  it('answers a captioned document like text, telling the model what was attached and that it cannot see it', async () => {
    const customer = newCustomer();
    await postMessage(customer, 'document', {
      id: '1003383421387257',
      filename: 'invoice.pdf',
      mime_type: 'application/pdf',
      caption: 'Is this paid?',
    });
    const reply = await firstReplyTo(customer);
    expect(reply.body).not.toMatch(/only read text/);
    expect(openai.requests).toHaveLength(1);
    const said = String(openai.requests[0].messages.at(-1)?.content);
    expect(said).toMatch(/^\[document invoice\.pdf\] Is this paid\?\n/);
    expect(said).toMatch(/not available to you/);
  });

  it('answers a Flow reply with its fields as text, and keeps it in the context of the next turn', async () => {
    const customer = newCustomer();
    await postMessage(customer, 'interactive', {
      type: 'nfm_reply',
      nfm_reply: {
        name: 'flow',
        body: 'Sent',
        response_json: JSON.stringify({
          flow_token: 'unused',
          name: 'Ana',
          date: '2026-12-03',
        }),
      },
    });
    const reply = await firstReplyTo(customer);
    expect(reply.body).toBe('Echo: Form reply: name: Ana, date: 2026-12-03');
    await postWebhook(app.url, textWebhook(customer, 'Is that booked?'));
    await waitFor(() => sentTo(customer).length === 2);
    const contents = openai.requests
      .at(-1)!
      .messages.slice(1)
      .map((m) => `${m.role}:${String(m.content)}`);
    expect(contents).toEqual([
      'user:Form reply: name: Ana, date: 2026-12-03',
      'assistant:Echo: Form reply: name: Ana, date: 2026-12-03',
      'user:Is that booked?',
    ]);
  });

  it('gives the model the items, quantities and prices of an order, and the ad a customer came from', async () => {
    const customer = newCustomer();
    await postMessage(customer, 'order', {
      catalog_id: '194836987003835',
      text: '',
      product_items: [
        {
          product_retailer_id: 'di9ozbzfi4',
          quantity: 2,
          item_price: 30,
          currency: 'USD',
        },
      ],
    });
    await waitFor(() => sentTo(customer).length === 1);
    expect(String(openai.requests.at(-1)?.messages.at(-1)?.content)).toBe(
      'Order (catalog 194836987003835): 2 x di9ozbzfi4 at 30 USD each',
    );

    const fromAd = messageChange([
      { from: customer, text: 'Can I get more info on this?' },
    ]);
    Object.assign(fromAd.value.messages[0], {
      referral: {
        source_url: 'https://fb.me/3cr4Wqqkv',
        source_id: '120226305854810726',
        source_type: 'ad',
        body: 'Summer Succulents are here!',
        headline: 'Chat with us',
        media_type: 'image',
        ctwa_clid: 'Aff-n8ZTODiE79d22KtAwQ',
      },
    });
    await postWebhook(app.url, envelope(fromAd));
    await waitFor(() => sentTo(customer).length === 2);
    expect(String(openai.requests.at(-1)?.messages.at(-1)?.content)).toBe(
      'Can I get more info on this?\n[The customer came from an ad: Chat with us — Summer Succulents are here! — source: ad https://fb.me/3cr4Wqqkv]',
    );
  });

  it('answers a webhook of 1,000 messages with one bounded LLM call and one reply that answers them all', async () => {
    const customer = newCustomer();
    const specs = Array.from({ length: 1000 }, (_, i) => ({
      from: customer,
      text: `message number ${i}`,
    }));
    expect(
      (await postWebhook(app.url, envelope(messageChange(specs)))).status,
    ).toBe(200);
    await waitFor(() => sentTo(customer).length === 1);
    const unanswered = await waitFor(async () => {
      const [row] = await rows<{ total: number; open: number }>(
        app,
        sql`select count(*)::int as total, count(*) filter (where m.answered_at is null)::int as open
              from messages m join conversations c on c.id = m.conversation_id
             where c.customer_wa_id = ${customer} and m.direction = 'inbound'`,
      );
      return row.total === 1000 && row;
    });
    expect(unanswered.open).toBe(0);
    expect(openai.requests).toHaveLength(1);
    const contents = openai.requests[0].messages.map((m) => String(m.content));
    expect(contents).toHaveLength(1 + 1 + 50);
    expect(contents[1]).toBe(
      '[950 earlier messages from the customer not shown]',
    );
    expect(contents.at(-1)).toBe('message number 999');
    expect(sentTo(customer)).toHaveLength(1);
  });

  it('stores reactions and unsupported messages without replying', async () => {
    const customer = newCustomer();
    await postWebhook(
      app.url,
      envelope(
        messageChange([
          {
            from: customer,
            type: 'reaction',
            body: { message_id: 'wamid.x', emoji: '👍' },
          },
          { from: customer, type: 'unsupported', body: {} },
        ]),
      ),
    );
    await sleep(400);
    const stored = await rows<{ kind: string }>(
      app,
      sql`select m.kind from messages m join conversations c on c.id = m.conversation_id
          where c.customer_wa_id = ${customer} order by m.id`,
    );
    expect(stored.map((s) => s.kind)).toEqual(['reaction', 'unsupported']);
    expect(sentTo(customer)).toEqual([]);
  });
});

describe('replies shaped by configuration', () => {
  it('splits a long reply into chunks of at most MAX_MESSAGE_LENGTH, sent in order', async () => {
    const app = await startTestApp({
      ...fakeEnv(graph, openai),
      MAX_MESSAGE_LENGTH: '40',
    });
    try {
      const customer = newCustomer();
      const long =
        'First sentence is here. Second sentence follows it. Third one ends the paragraph.\n\nA new paragraph starts now and it goes on.';
      openai.setDefault({ type: 'reply', content: long });
      await postWebhook(app.url, textWebhook(customer, 'tell me a lot'));
      const joined = (sent: Array<{ body: string }>) =>
        sent
          .map((c) => c.body)
          .join(' ')
          .replace(/\s+/g, ' ');
      // Every chunk has arrived once their text adds up to the reply.
      const chunks = await waitFor(() => {
        const sent = sentTo(customer);
        return joined(sent) === long.replace(/\s+/g, ' ') && sent;
      });
      expect(chunks.length).toBeGreaterThanOrEqual(4);
      expect(chunks.every((c) => c.body.length <= 40)).toBe(true);
      expect(
        chunks
          .map((c) => c.body)
          .join(' ')
          .replace(/\s+/g, ' '),
      ).toBe(long.replace(/\s+/g, ' '));
    } finally {
      await app.close();
    }
  });

  it('answers with the fallback text when the LLM does not answer within LLM_TIMEOUT_MS', async () => {
    const app = await startTestApp({
      ...fakeEnv(graph, openai),
      LLM_TIMEOUT_MS: '300',
    });
    try {
      const customer = newCustomer();
      openai.enqueue({ type: 'delay', ms: 3000 });
      await postWebhook(app.url, textWebhook(customer, 'slow model'));
      const reply = await firstReplyTo(customer);
      expect(reply.body).toMatch(/^Sorry/);
    } finally {
      await app.close();
    }
  });

  it('merges a quick burst of messages into one reply (debounce)', async () => {
    const app = await startTestApp({
      ...fakeEnv(graph, openai),
      REPLY_DEBOUNCE_MS: '400',
    });
    try {
      const customer = newCustomer();
      for (const text of ['hi', 'I have a question', 'about shipping']) {
        await postWebhook(app.url, textWebhook(customer, text));
        await sleep(50);
      }
      await waitFor(() => sentTo(customer).length === 1);
      await sleep(600);
      expect(sentTo(customer)).toHaveLength(1);
      expect(openai.requests).toHaveLength(1);
      expect(
        openai.requests[0].messages.slice(1).map((m) => m.content),
      ).toEqual(['hi', 'I have a question', 'about shipping']);
    } finally {
      await app.close();
    }
  });

  it('opens a new conversation with empty context after SESSION_TIMEOUT_MINUTES idle', async () => {
    const app = await startTestApp({
      ...fakeEnv(graph, openai),
      SESSION_TIMEOUT_MINUTES: '0.01',
    });
    try {
      const customer = newCustomer();
      await postWebhook(app.url, textWebhook(customer, 'first visit'));
      await waitFor(() => sentTo(customer).length === 1);
      await sleep(1200);
      await postWebhook(app.url, textWebhook(customer, 'second visit'));
      await waitFor(() => sentTo(customer).length === 2);
      expect(
        openai.requests
          .at(-1)!
          .messages.slice(1)
          .map((m) => m.content),
      ).toEqual(['second visit']);
      const conversations = await rows<{ state: string }>(
        app,
        sql`select state from conversations where customer_wa_id = ${customer} order by started_at`,
      );
      expect(conversations.map((c) => c.state)).toEqual(['expired', 'active']);
    } finally {
      await app.close();
    }
  });

  it('holds a flooding customer to CUSTOMER_TURNS_PER_MINUTE and answers the rest together later', async () => {
    const app = await startTestApp({
      ...fakeEnv(graph, openai),
      CUSTOMER_TURNS_PER_MINUTE: '2',
    });
    try {
      const customer = newCustomer();
      for (const text of ['one', 'two', 'three', 'four']) {
        await postWebhook(app.url, textWebhook(customer, text));
        await waitFor(async () => {
          const pending = await rows(
            app,
            sql`select m.id from messages m join conversations c on c.id = m.conversation_id
                where c.customer_wa_id = ${customer} and m.direction = 'inbound' and m.answered_at is null`,
          );
          return pending.length === 0 || sentTo(customer).length >= 2;
        });
        await sleep(150);
      }
      await sleep(300);
      expect(sentTo(customer)).toHaveLength(2);
      expect(openai.requests).toHaveLength(2);
    } finally {
      await app.close();
    }
  });
});
