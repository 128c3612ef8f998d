import { DatabaseConnection } from '../database/database-connection';
import {
  at,
  batch,
  conversationsOf,
  inbound,
  statementsOf,
  status,
  t0,
  TIMEOUT,
  unansweredIn,
  useStores,
} from '../database/store-contract.kit';

/**
 * The OutboxStore contract, run on PGlite (real Postgres in WASM) and on the
 * PostgreSQL server in the integration run.
 */
export function outboxStoreContract(open: () => Promise<DatabaseConnection>) {
  const stores = useStores(open);

  it('applies a status that arrived before the send was recorded', async () => {
    const {
      conversationsToAnswer: [id],
    } = await stores.ingest.ingest(
      batch({ messages: [inbound()] }),
      t0,
      TIMEOUT,
    );
    const [message] = await unansweredIn(stores.connection, id);
    const [reply] = (await stores.turns.recordReply(
      id,
      [message.id],
      'turn',
      [{ author: 'bot', text: 'hi' }],
      t0,
    ))!;
    expect(reply.status).toBe('sending');
    await stores.ingest.ingest(
      batch({ statuses: [status('wamid.early', 'delivered')] }),
      t0,
      TIMEOUT,
    );
    await stores.outbox.markSent(reply.id, 'wamid.early', t0);
    const [stored] = await stores.conversations.getRecentMessages(id, 1);
    expect(stored).toMatchObject({ wamid: 'wamid.early', status: 'delivered' });
  });

  it('lets only one sender claim a pending message, and takes back stale claims', async () => {
    const {
      conversationsToAnswer: [id],
    } = await stores.ingest.ingest(
      batch({ messages: [inbound()] }),
      t0,
      TIMEOUT,
    );
    const [reply] = await stores.outbox.recordOperatorMessages(
      id,
      'operator-batch',
      [{ author: 'operator', text: 'x' }],
      t0,
    );
    expect(reply.status).toBe('pending');
    const claims = await Promise.all([
      stores.outbox.claimForSending(reply.id, t0),
      stores.outbox.claimForSending(reply.id, t0),
    ]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await stores.outbox.releaseStaleSends(at(-1000))).toEqual([]);
    const released = await stores.outbox.releaseStaleSends(at(1000));
    expect(released.map((m) => [m.id, m.status])).toEqual([
      [reply.id, 'pending'],
    ]);
    expect(await stores.outbox.claimForSending(reply.id, at(2000))).toBe(true);
  });

  it('settles the customer messages an operator answers, and records the operator reply', async () => {
    const {
      conversationsToAnswer: [id],
    } = await stores.ingest.ingest(
      batch({ messages: [inbound(), inbound()] }),
      t0,
      TIMEOUT,
    );
    const recorded = await stores.outbox.recordOperatorMessages(
      id,
      'op-1',
      [{ author: 'operator', text: 'Hi, this is Ana from support' }],
      new Date(),
    );
    expect(recorded.map((m) => [m.author, m.status])).toEqual([
      ['operator', 'pending'],
    ]);
    expect(await unansweredIn(stores.connection, id)).toEqual([]);
  });

  it('records media, template and interactive messages with their kind and content (and the media id a file is sent by), and gives them back to send', async () => {
    const {
      conversationsToAnswer: [id],
    } = await stores.ingest.ingest(
      batch({ messages: [inbound()] }),
      t0,
      TIMEOUT,
    );
    const image = {
      type: 'media' as const,
      mediaType: 'image' as const,
      source: { link: 'https://example.com/receipt.jpg' },
      caption: 'Your receipt',
    };
    const document = {
      type: 'media' as const,
      mediaType: 'document' as const,
      source: { id: '1013859600285441' },
      filename: 'terms.pdf',
    };
    const buttons = {
      type: 'interactive' as const,
      body: 'Did that help?',
      action: {
        buttons: [
          { id: 'yes', title: 'Yes' },
          { id: 'no', title: 'No' },
        ],
      },
    };
    const recorded = await stores.outbox.recordOperatorMessages(
      id,
      'op-rich',
      [
        { author: 'operator', text: 'Your receipt', content: image },
        { author: 'operator', text: '[document terms.pdf]', content: document },
        { author: 'operator', text: 'Did that help?', content: buttons },
        { author: 'operator', text: 'Thanks!' },
      ],
      new Date(),
    );
    expect(recorded.map((m) => [m.kind, m.content, m.mediaId])).toEqual([
      ['image', image, null],
      ['document', document, '1013859600285441'],
      ['interactive', buttons, null],
      ['text', null, null],
    ]);
    const unsent = await stores.outbox.getUnsent(id);
    expect(unsent.map((m) => [m.kind, m.text, m.content])).toEqual([
      ['image', 'Your receipt', image],
      ['document', '[document terms.pdf]', document],
      ['interactive', 'Did that help?', buttons],
      ['text', 'Thanks!', null],
    ]);
  });

  it('marks the sends of turns running at once in one statement, and fails only a send whose wamid is taken', async () => {
    const { ids, unanswered } = await conversationsOf(
      stores,
      '4931',
      '4932',
      '4933',
    );
    const replies = await Promise.all(
      ids.map((id, n) =>
        stores.turns.recordReply(
          id,
          unanswered[n],
          `turn-${n}`,
          [{ author: 'bot', text: `r${n}` }],
          t0,
        ),
      ),
    );
    const [r0, r1, r2] = replies.map((r) => r![0]);
    await stores.ingest.ingest(
      batch({ statuses: [status('wamid.early-1', 'read')] }),
      t0,
      TIMEOUT,
    );
    const { result, statements } = await statementsOf(stores.connection, () =>
      Promise.allSettled([
        stores.outbox.markSent(r0.id, 'wamid.sent-0', at(1000)),
        stores.outbox.markSent(r1.id, 'wamid.early-1', at(2000)),
        stores.outbox.markSent(r2.id, 'wamid.sent-0', at(3000)),
      ]),
    );
    expect(result.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
    ]);
    // One statement for the three, then each again on its own, since one of
    // them failed.
    expect(statements).toBe(4);
    const [m0] = await stores.conversations.getRecentMessages(ids[0], 1);
    expect(m0).toMatchObject({ wamid: 'wamid.sent-0', status: 'sent' });
    expect(m0.acceptedAt).toEqual(at(1000));
    const [m1] = await stores.conversations.getRecentMessages(ids[1], 1);
    expect(m1).toMatchObject({ wamid: 'wamid.early-1', status: 'read' });
    expect(
      (await stores.outbox.getUnsent(ids[2])).map((m) => m.status),
    ).toEqual(['sending']);
    expect(
      (await stores.conversations.getConversation(ids[1]))?.lastActivityAt,
    ).toEqual(at(2000));
  });

  it('leaves a stored wamid and the statuses since alone when a send is marked again', async () => {
    const { ids, unanswered } = await conversationsOf(stores, '4941');
    const [reply] = (await stores.turns.recordReply(
      ids[0],
      unanswered[0],
      'turn',
      [{ author: 'bot', text: 'hi' }],
      t0,
    ))!;
    await stores.outbox.markSent(reply.id, 'wamid.again', at(1000));
    await stores.ingest.ingest(
      batch({ statuses: [status('wamid.again', 'delivered')] }),
      at(1500),
      TIMEOUT,
    );
    // As when a group of sends is written again after one of them failed.
    await stores.outbox.markSent(reply.id, 'wamid.again', at(2000));
    const [stored] = await stores.conversations.getRecentMessages(ids[0], 1);
    expect(stored).toMatchObject({ wamid: 'wamid.again', status: 'delivered' });
    expect(stored.acceptedAt).toEqual(at(1000));
  });
}
