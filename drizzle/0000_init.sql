CREATE TABLE "conversations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"customer_wa_id" text NOT NULL,
	"customer_name" text,
	"state" text DEFAULT 'active' NOT NULL,
	"state_reason" text,
	"state_changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"handoff_until" timestamp with time zone,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_activity_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "messages" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"conversation_id" uuid NOT NULL,
	"direction" text NOT NULL,
	"author" text NOT NULL,
	"wamid" text,
	"kind" text NOT NULL,
	"text" text,
	"media_id" text,
	"raw" jsonb,
	"status" text NOT NULL,
	"error" jsonb,
	"sent_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"status_updated_at" timestamp with time zone,
	"answered_at" timestamp with time zone,
	"reply_action" text,
	"turn_key" text,
	"chunk_index" smallint,
	"attempts" integer DEFAULT 0 NOT NULL,
	"llm_model" text,
	"prompt_tokens" integer,
	"completion_tokens" integer
);
--> statement-breakpoint
CREATE TABLE "status_events" (
	"wamid" text NOT NULL,
	"status" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"error" jsonb,
	"raw" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_errors" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"phone_number_id" text,
	"code" integer,
	"title" text,
	"message" text,
	"details" text,
	"raw" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "conversations_open_customer_uq" ON "conversations" USING btree ("customer_wa_id") WHERE "conversations"."state" <> 'expired';--> statement-breakpoint
CREATE INDEX "conversations_customer_idx" ON "conversations" USING btree ("customer_wa_id","started_at");--> statement-breakpoint
CREATE INDEX "conversations_state_activity_idx" ON "conversations" USING btree ("state","last_activity_at");--> statement-breakpoint
CREATE UNIQUE INDEX "messages_wamid_uq" ON "messages" USING btree ("wamid");--> statement-breakpoint
CREATE UNIQUE INDEX "messages_turn_chunk_uq" ON "messages" USING btree ("turn_key","chunk_index");--> statement-breakpoint
CREATE INDEX "messages_conversation_idx" ON "messages" USING btree ("conversation_id","sent_at","id");--> statement-breakpoint
CREATE INDEX "messages_unanswered_idx" ON "messages" USING btree ("conversation_id","sent_at") WHERE "messages"."direction" = 'inbound' and "messages"."answered_at" is null;--> statement-breakpoint
CREATE INDEX "messages_unsent_idx" ON "messages" USING btree ("conversation_id","id") WHERE "messages"."status" in ('pending', 'sending');--> statement-breakpoint
CREATE UNIQUE INDEX "status_events_wamid_status_uq" ON "status_events" USING btree ("wamid","status");