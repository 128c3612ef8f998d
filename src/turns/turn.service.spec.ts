import { Logger } from '@nestjs/common';
import { inboundText } from '../../test/support/in-memory-stores';
import { TranscriptionError } from '../llm/transcriber';
import { oggOpusVoiceNote } from '../../test/support/media-fixtures';
import { turnKit } from '../../test/support/turn-kit';

const text = (wamid: string, customer: string) =>
  inboundText(wamid, customer, `question ${wamid}`);

describe('TurnService', () => {
  let lines: Array<{
    level: string;
    fields: Record<string, unknown>;
    text: string;
  }>;

  beforeEach(() => {
    lines = [];
    for (const level of ['log', 'warn', 'error'] as const) {
      jest
        .spyOn(Logger.prototype, level)
        .mockImplementation((...[fields, text]: unknown[]) => {
          lines.push({
            level,
            fields: fields as Record<string, unknown>,
            text: String(text),
          });
        });
    }
  });
  afterEach(() => {
    jest.restoreAllMocks();
    jest.useRealTimers();
  });

  describe('logs', () => {
    it('logs the turn with the correlation ids of its webhooks and the wamids it answered', async () => {
      const { turns, whatsapp, receive } = turnKit();
      const id = await receive(
        text('wamid.turn-log-1', '4860200001'),
        text('wamid.turn-log-2', '4860200001'),
      );
      expect(await turns.run(id, ['req-a', 'req-b'])).toEqual({
        status: 'replied',
      });
      expect(whatsapp.sent).toHaveLength(1);
      const done = lines.filter((l) => l.text === 'turn done');
      expect(done).toHaveLength(1);
      expect(done[0].fields).toMatchObject({
        conversationId: id,
        correlationIds: ['req-a', 'req-b'],
        wamids: ['wamid.turn-log-1', 'wamid.turn-log-2'],
        answered: 2,
        sent: 1,
      });
      // Masked number, no message text.
      expect(JSON.stringify(done[0].fields)).not.toContain('4860200001');
      expect(JSON.stringify(done[0].fields)).not.toContain('question');
    });

    it('names the correlation ids in the log of a send Meta refused', async () => {
      const { turns, whatsapp, receive } = turnKit();
      const id = await receive(text('wamid.turn-log-3', '4860200002'));
      whatsapp.refuseCall(1);
      await turns.run(id, ['req-c']);
      const refused = lines.filter((l) =>
        l.text.startsWith('message not sent'),
      );
      expect(refused).toHaveLength(1);
      expect(refused[0].fields).toMatchObject({
        correlationIds: ['req-c'],
        code: 131026,
      });
    });
  });

  describe('gates', () => {
    it('does nothing for a conversation with nothing to answer', async () => {
      const { turns, world, whatsapp, receive } = turnKit();
      const id = await receive(text('wamid.idle-1', '4860200003'));
      await turns.run(id);
      const before = world.messagesOf(id);

      expect(await turns.run(id)).toEqual({ status: 'idle' });
      expect(world.messagesOf(id)).toEqual(before);
      expect(whatsapp.sent).toHaveLength(1);
    });

    it('answers nothing while a person has the conversation, and leaves the messages for later', async () => {
      const { turns, world, whatsapp, llm, receive } = turnKit();
      const id = await receive(text('wamid.paused-1', '4860200004'));
      await world.conversations.changeState(
        id,
        { state: 'handoff', actor: 'operator', reason: null },
        new Date(),
      );

      expect(await turns.run(id)).toEqual({ status: 'paused' });
      expect(whatsapp.sent).toEqual([]);
      expect(llm.prompts).toEqual([]);
      expect(world.messagesOf(id).map((m) => m.answeredAt)).toEqual([null]);
    });

    it('holds back a customer past the turn limit, saying when to try again, and answers once the window allows', async () => {
      const { turns, world, whatsapp, receive, turnsDone } = turnKit({
        CUSTOMER_TURNS_PER_MINUTE: '2',
      });
      const start = new Date('2026-03-01T10:00:00Z').getTime();
      jest.useFakeTimers({ now: start });
      const id = await receive(text('wamid.flood-1', '4860200005'));
      await turns.run(id);
      jest.setSystemTime(start + 10_000);
      await receive(text('wamid.flood-2', '4860200005'));
      await turns.run(id);
      jest.setSystemTime(start + 20_000);
      await receive(text('wamid.flood-3', '4860200005'));

      // Two turns in the last minute; the older leaves the window at +60 s.
      expect(await turns.run(id)).toEqual({
        status: 'throttled',
        retryAfterMs: 40_001,
      });
      expect(whatsapp.sent).toHaveLength(2);
      expect(world.outboundOf(id)).toHaveLength(2);
      expect(turnsDone()).toEqual(['bot', 'bot', 'throttled']);

      // Retried when the flood gate said: answered at once, not throttled again.
      jest.setSystemTime(start + 20_000 + 40_001);
      expect(await turns.run(id)).toEqual({ status: 'replied' });
      expect(whatsapp.texts[2]).toBe('Echo: question wamid.flood-3');
    });
  });

  describe('a reply', () => {
    it('records the reply with the model and its token use, marks the messages answered, and sends it', async () => {
      const { turns, world, whatsapp, receive, published } = turnKit();
      const id = await receive(
        text('wamid.reply-1', '4860200006'),
        text('wamid.reply-2', '4860200006'),
      );

      expect(await turns.run(id)).toEqual({ status: 'replied' });

      const [first, second, reply] = world.messagesOf(id);
      expect(first.answeredAt).not.toBeNull();
      expect(second.answeredAt).not.toBeNull();
      expect(reply).toMatchObject({
        direction: 'outbound',
        author: 'bot',
        text: 'Echo: question wamid.reply-2',
        status: 'sent',
        wamid: whatsapp.sent[0].wamid,
        turnKey: `${id}:${second.id}`,
        replyToId: second.id,
        llmModel: 'fake-model',
        promptTokens: 7,
        completionTokens: 3,
      });
      expect(whatsapp.sent).toEqual([
        {
          to: '4860200006',
          text: 'Echo: question wamid.reply-2',
          wamid: reply.wamid,
        },
      ]);
      // The newest message is marked read (with the typing indicator).
      expect(whatsapp.read).toEqual(['wamid.reply-2']);
      expect(published.filter((e) => e.type === 'turn.done')).toEqual([
        {
          type: 'turn.done',
          conversationId: id,
          outcome: 'bot',
          durationMs: expect.any(Number) as number,
        },
      ]);
    });

    it('splits a long answer into chunks recorded and sent in order, the token use on the first', async () => {
      const { turns, world, whatsapp, llm, receive } = turnKit({
        MAX_MESSAGE_LENGTH: '20',
      });
      const id = await receive(text('wamid.long-1', '4860200007'));
      llm.answerNext('First sentence here. Second sentence here.');

      await turns.run(id);

      expect(whatsapp.texts).toEqual([
        'First sentence here.',
        'Second sentence',
        'here.',
      ]);
      expect(
        world.outboundOf(id).map((m) => [m.chunkIndex, m.text, m.promptTokens]),
      ).toEqual([
        [0, 'First sentence here.', 7],
        [1, 'Second sentence', null],
        [2, 'here.', null],
      ]);
    });

    it('gives the model the earlier exchange as context', async () => {
      const { turns, llm, receive } = turnKit();
      const id = await receive(text('wamid.ctx-1', '4860200008'));
      await turns.run(id);
      await receive(text('wamid.ctx-2', '4860200008'));

      await turns.run(id);

      expect(llm.prompts[1].map((m) => [m.role, m.content])).toEqual(
        expect.arrayContaining([
          ['user', 'question wamid.ctx-1'],
          ['assistant', 'Echo: question wamid.ctx-1'],
        ]),
      );
    });

    it('sends the fallback text when the model fails', async () => {
      const { turns, world, whatsapp, llm, receive, published, config } =
        turnKit();
      const id = await receive(text('wamid.llm-down', '4860200009'));
      llm.failNext();

      expect(await turns.run(id)).toEqual({ status: 'replied' });

      expect(whatsapp.texts).toEqual([config.llm.fallbackMessage]);
      expect(world.outboundOf(id)).toMatchObject([
        { author: 'fallback', status: 'sent' },
      ]);
      expect(world.messagesOf(id)[0].answeredAt).not.toBeNull();
      expect(published).toContainEqual({
        type: 'llm.called',
        promptTokens: 0,
        completionTokens: 0,
        failure: 'timeout',
      });
    });

    it('answers a media message the model cannot read with the media notice, without asking the model', async () => {
      const { turns, whatsapp, llm, receive, config } = turnKit();
      const id = await receive({
        ...inboundText('wamid.sticker', '4860200010'),
        kind: 'sticker',
        text: null,
        reply: 'media-notice',
      });

      await turns.run(id);

      expect(whatsapp.texts).toEqual([config.llm.mediaReplyMessage]);
      expect(llm.prompts).toEqual([]);
    });
  });

  describe('media', () => {
    const voiceNote = (wamid: string, customer: string, mediaId: string) => ({
      ...inboundText(wamid, customer),
      kind: 'audio',
      text: null,
      mediaId,
      reply: 'llm' as const,
    });

    it('gives the model a voice note as its transcript and stores it on the message', async () => {
      const { turns, world, whatsapp, transcriber, llm, receive } = turnKit();
      whatsapp.addMedia(
        'media.1',
        oggOpusVoiceNote(),
        'audio/ogg; codecs=opus',
      );
      transcriber.answer('where is my order 4411?');
      const id = await receive(voiceNote('wamid.v1', '4860200020', 'media.1'));

      await turns.run(id);

      expect(JSON.stringify(llm.prompts[0])).toContain(
        '[voice note] where is my order 4411?',
      );
      const stored = world.messageRows.find((m) => m.wamid === 'wamid.v1');
      expect(stored).toMatchObject({
        mediaStatus: 'understood',
        mediaText: 'where is my order 4411?',
        mediaFailure: null,
      });
      expect(whatsapp.texts).toHaveLength(1);
    });

    it('transcribes once when the turn is composed again: the stored transcript is read back', async () => {
      const { world, whatsapp, transcriber, composer, receive } = turnKit();
      whatsapp.addMedia('media.2', oggOpusVoiceNote(), 'audio/ogg');
      const id = await receive(voiceNote('wamid.v2', '4860200021', 'media.2'));

      for (let run = 0; run < 2; run++) {
        const snapshot = await world.turns.loadTurn(id, 10, new Date(0));
        await composer.compose(snapshot!, 'turn-key', {});
      }

      expect(transcriber.files).toHaveLength(1);
      expect(whatsapp.downloads).toEqual(['media.2']);
    });

    it('answers with the media notice when transcription fails; the failure is stored, logged and published once', async () => {
      const {
        turns,
        world,
        whatsapp,
        transcriber,
        llm,
        receive,
        published,
        config,
      } = turnKit();
      whatsapp.addMedia('media.3', oggOpusVoiceNote(), 'audio/ogg');
      transcriber.answer(
        new TranscriptionError('transcription-failed', 'answered 503'),
      );
      const id = await receive(voiceNote('wamid.v3', '4860200022', 'media.3'));

      await turns.run(id);

      expect(whatsapp.texts).toEqual([config.llm.mediaReplyMessage]);
      expect(llm.prompts).toEqual([]);
      expect(
        world.messageRows.find((m) => m.wamid === 'wamid.v3'),
      ).toMatchObject({
        mediaStatus: 'failed',
        mediaFailure: 'transcription-failed: answered 503',
        answeredAt: expect.any(Date),
      });
      expect(published.filter((e) => e.type === 'media.failed')).toEqual([
        expect.objectContaining({
          kind: 'audio',
          reason: 'transcription-failed',
        }),
      ]);
      expect(
        lines.some(
          (l) => l.level === 'warn' && /transcription-failed/.test(l.text),
        ),
      ).toBe(true);
    });
  });

  describe('handoff', () => {
    it('hands the conversation to a person when the customer writes a handoff keyword: notice sent, bot paused, state change published', async () => {
      const { turns, world, whatsapp, llm, receive, published, config } =
        turnKit({ HANDOFF_KEYWORDS: 'human, agent' });
      const id = await receive(
        inboundText('wamid.human', '4860200011', 'I want a human please'),
      );

      expect(await turns.run(id)).toEqual({ status: 'replied' });

      expect(whatsapp.texts).toEqual([config.handoff.message]);
      expect(llm.prompts).toEqual([]);
      expect(world.outboundOf(id)).toMatchObject([
        { author: 'notice', status: 'sent' },
      ]);
      expect(world.conversation(id)).toMatchObject({
        state: 'handoff',
        stateReason: 'customer wrote "human"',
      });
      expect(
        published.filter((e) => e.type === 'conversation.state-changed'),
      ).toEqual([
        {
          type: 'conversation.state-changed',
          conversationId: id,
          state: 'handoff',
          actor: 'customer',
          reason: 'customer wrote "human"',
        },
      ]);
      expect(published).toContainEqual(
        expect.objectContaining({ type: 'turn.done', outcome: 'handoff' }),
      );
    });

    it('hands the conversation to a person when the model asks for one', async () => {
      const { turns, world, whatsapp, llm, receive, config } = turnKit();
      const id = await receive(text('wamid.model-human', '4860200012'));
      llm.askForPersonNext('refund request');

      await turns.run(id);

      expect(whatsapp.texts).toEqual([config.handoff.message]);
      expect(world.conversation(id)).toMatchObject({
        state: 'handoff',
        stateReason: 'refund request',
      });
    });

    it('answers nothing more once handed off', async () => {
      const { turns, whatsapp, receive } = turnKit({
        HANDOFF_KEYWORDS: 'human',
      });
      const id = await receive(inboundText('wamid.h-1', '4860200013', 'human'));
      await turns.run(id);
      await receive(text('wamid.h-2', '4860200013'));

      expect(await turns.run(id)).toEqual({ status: 'paused' });
      expect(whatsapp.sent).toHaveLength(1);
    });
  });

  describe('running twice', () => {
    it('sends nothing twice when a turn runs again after it replied', async () => {
      const { turns, world, whatsapp, receive } = turnKit();
      const id = await receive(text('wamid.twice-1', '4860200014'));

      await turns.run(id);
      expect(await turns.run(id)).toEqual({ status: 'idle' });

      expect(whatsapp.sent).toHaveLength(1);
      expect(world.outboundOf(id)).toHaveLength(1);
    });

    it('lets one of two turns running at once reply, and the other record and send nothing', async () => {
      const { turns, world, whatsapp, receive, turnsDone } = turnKit();
      const id = await receive(text('wamid.race-1', '4860200015'));

      const outcomes = await Promise.all([turns.run(id), turns.run(id)]);

      expect(outcomes.map((o) => o.status).sort()).toEqual([
        'raced',
        'replied',
      ]);
      expect(whatsapp.sent).toHaveLength(1);
      expect(world.outboundOf(id)).toHaveLength(1);
      expect(turnsDone().sort()).toEqual(['bot', 'raced']);
    });

    it('sends what an interrupted turn recorded before answering anything new', async () => {
      const { turns, world, whatsapp, receive } = turnKit();
      const id = await receive(text('wamid.cut-1', '4860200016'));
      // A turn recorded its reply, then the process died before sending it;
      // the sweeper put it back to pending.
      const [cutShort] = world.messagesOf(id);
      const recordedAt = new Date(Date.now() - 600_000);
      await world.turns.recordReply(
        id,
        [cutShort.id],
        'turn-cut-short',
        [{ author: 'bot', text: 'the earlier answer' }],
        recordedAt,
      );
      await world.outbox.releaseStaleSends(new Date());
      await receive(text('wamid.cut-2', '4860200016'));

      expect(await turns.run(id)).toEqual({ status: 'replied' });

      expect(whatsapp.texts).toEqual([
        'the earlier answer',
        'Echo: question wamid.cut-2',
      ]);
      expect(world.outboundOf(id).map((m) => m.status)).toEqual([
        'sent',
        'sent',
      ]);
    });

    it('records and sends nothing when an operator takes the conversation over while the model answers', async () => {
      const { turns, world, whatsapp, llm, receive, turnsDone } = turnKit();
      const id = await receive(text('wamid.taken-1', '4860200018'));
      llm.duringNextCall(() =>
        world.conversations.changeState(
          id,
          { state: 'handoff', actor: 'operator', reason: null },
          new Date(),
        ),
      );

      expect(await turns.run(id)).toEqual({ status: 'raced' });
      expect(whatsapp.sent).toEqual([]);
      expect(world.outboundOf(id)).toEqual([]);
      // Left for the operator to answer.
      expect(world.messagesOf(id)[0].answeredAt).toBeNull();
      expect(turnsDone()).toEqual(['raced']);
    });

    it('does not send a message another sender has claimed', async () => {
      const { turns, world, whatsapp, receive } = turnKit();
      const id = await receive(text('wamid.claimed-1', '4860200017'));
      await world.turns.recordReply(
        id,
        [world.messagesOf(id)[0].id],
        'turn-in-flight',
        [{ author: 'bot', text: 'being sent elsewhere' }],
        new Date(),
      );

      expect(await turns.run(id)).toEqual({ status: 'idle' });
      expect(whatsapp.sent).toEqual([]);
      expect(world.outboundOf(id).map((m) => m.status)).toEqual(['sending']);
    });
  });

  it('reports a conversation that does not exist', async () => {
    const { turns } = turnKit();
    expect(await turns.run('00000000-0000-4000-8000-000000000000')).toEqual({
      status: 'missing',
    });
  });
});
