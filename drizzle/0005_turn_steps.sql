CREATE TABLE "turn_steps" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"conversation_id" uuid NOT NULL,
	"opened_by" bigint NOT NULL,
	"turn_key" text NOT NULL,
	"round" smallint NOT NULL,
	"position" smallint NOT NULL,
	"kind" text NOT NULL,
	"call_id" text,
	"name" text NOT NULL,
	"arguments" text NOT NULL,
	"result" text,
	"ok" boolean,
	"duration_ms" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "turn_steps" ADD CONSTRAINT "turn_steps_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "turn_steps_turn_uq" ON "turn_steps" USING btree ("opened_by","round","position");--> statement-breakpoint
CREATE INDEX "turn_steps_turn_key_idx" ON "turn_steps" USING btree ("turn_key");