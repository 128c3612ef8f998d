/** One step of a turn: a knowledge retrieval (round 0) or a tool call. */
export interface TurnStep {
  round: number;
  position: number;
  kind: 'tool' | 'knowledge';
  /** The model's id of a tool call. */
  callId: string | null;
  name: string;
  /** The model's arguments as it wrote them (JSON text). */
  arguments: string;
  /** Null until the call returned. */
  result: string | null;
  ok: boolean | null;
  durationMs: number | null;
}

export type RequestedStep = Pick<
  TurnStep,
  'position' | 'kind' | 'callId' | 'name' | 'arguments'
>;

/** Which turn the steps belong to. */
export interface TurnRef {
  conversationId: string;
  /** The oldest unanswered inbound message: the same on every run of the turn. */
  openedBy: number;
  /** The reply's turn key on this run. */
  turnKey: string;
}

/**
 * Port: the record of what a turn did before it answered, written as it
 * happens, so that a turn run again after a crash repeats no tool call that
 * already returned.
 */
export abstract class ToolJournal {
  /**
   * The steps recorded for this turn so far, in order; they are re-tagged
   * with `turnKey` (newer messages may have joined the turn since).
   */
  abstract open(turn: TurnRef): Promise<TurnStep[]>;

  /**
   * Records the steps of one round before they run. A round recorded
   * already (by an earlier run) is kept as it was; returns the round as
   * stored.
   */
  abstract recordRound(
    turn: TurnRef,
    round: number,
    steps: RequestedStep[],
  ): Promise<TurnStep[]>;

  /** Completes one step with its result. */
  abstract recordResult(
    turn: TurnRef,
    round: number,
    position: number,
    result: { ok: boolean; content: string; durationMs: number },
  ): Promise<void>;
}
