import { Injectable } from '@nestjs/common';
import { sql } from 'drizzle-orm';
import { DatabaseConnection, Db } from '../database/database-connection';
import { rowsOf } from '../database/executor';
import { turnSteps } from '../database/schema';
import { RequestedStep, ToolJournal, TurnRef, TurnStep } from './tool-journal';

const STEP_COLUMNS = sql.raw(
  `round, position, kind, call_id as "callId", name, arguments, result, ok, duration_ms as "durationMs"`,
);

/** Drizzle adapter: the same statements on PGlite and on a PostgreSQL server. */
@Injectable()
export class DrizzleToolJournal extends ToolJournal {
  private readonly db: Db;

  constructor(connection: DatabaseConnection) {
    super();
    this.db = connection.db;
  }

  async open(turn: TurnRef): Promise<TurnStep[]> {
    const result = await this.db.execute(sql`
      update ${turnSteps} set turn_key = ${turn.turnKey}
       where opened_by = ${turn.openedBy}
         and conversation_id = ${turn.conversationId}
      returning ${STEP_COLUMNS}`);
    return sortSteps(rowsOf<TurnStep>(result));
  }

  async recordRound(
    turn: TurnRef,
    round: number,
    steps: RequestedStep[],
  ): Promise<TurnStep[]> {
    if (steps.length > 0) {
      await this.db.execute(sql`
        insert into ${turnSteps}
               (conversation_id, opened_by, turn_key, round, position, kind,
                call_id, name, arguments)
        select ${turn.conversationId}::uuid, ${turn.openedBy}::bigint,
               ${turn.turnKey}, ${round}::smallint, s.position, s.kind,
               s."callId", s.name, s.arguments
          from jsonb_to_recordset(${JSON.stringify(steps)}::jsonb)
               as s(position smallint, kind text, "callId" text, name text,
                    arguments text)
        on conflict (opened_by, round, position) do nothing`);
    }
    const result = await this.db.execute(sql`
      select ${STEP_COLUMNS} from ${turnSteps}
       where opened_by = ${turn.openedBy} and round = ${round}
         and conversation_id = ${turn.conversationId}`);
    return sortSteps(rowsOf<TurnStep>(result));
  }

  async recordResult(
    turn: TurnRef,
    round: number,
    position: number,
    result: { ok: boolean; content: string; durationMs: number },
  ): Promise<void> {
    await this.db.execute(sql`
      update ${turnSteps}
         set result = ${result.content}, ok = ${result.ok},
             duration_ms = ${Math.round(result.durationMs)}, finished_at = now()
       where opened_by = ${turn.openedBy} and round = ${round}
         and position = ${position} and conversation_id = ${turn.conversationId}
         and result is null`);
  }
}

const sortSteps = (steps: TurnStep[]) =>
  steps.sort((a, b) => a.round - b.round || a.position - b.position);
