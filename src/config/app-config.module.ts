import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import {
  AdminConfig,
  AppConfig,
  ConversationConfig,
  DatabaseConfig,
  HandoffConfig,
  KnowledgeConfig,
  LlmConfig,
  McpConfig,
  MediaConfig,
  ServerConfig,
  ToolsConfig,
  WhatsappConfig,
} from './app-config';
import { validateEnv } from './validate-env';

/**
 * Loads `.env` when present (real environment variables win) as soon as this
 * file is imported, before anything reads the environment.
 */
const dotenv = ConfigModule.forRoot({ cache: true });

/**
 * Validates the environment once and builds the typed configuration. A bad
 * value fails with one error that lists every offending variable.
 */
export function loadAppConfig(): AppConfig {
  return new AppConfig(validateEnv(process.env));
}

/**
 * Provides the configuration validated at start (the same object the HTTP
 * adapter was built from) everywhere; each module takes its own slice.
 */
@Module({})
export class AppConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppConfigModule,
      global: true,
      imports: [dotenv],
      providers: [
        { provide: AppConfig, useValue: config },
        // Each module injects the slice it needs.
        { provide: ServerConfig, useValue: config.server },
        { provide: LlmConfig, useValue: config.llm },
        { provide: MediaConfig, useValue: config.media },
        { provide: KnowledgeConfig, useValue: config.knowledge },
        { provide: WhatsappConfig, useValue: config.whatsapp },
        { provide: ConversationConfig, useValue: config.conversation },
        { provide: DatabaseConfig, useValue: config.database },
        { provide: HandoffConfig, useValue: config.handoff },
        { provide: AdminConfig, useValue: config.admin },
        { provide: ToolsConfig, useValue: config.tools },
        { provide: McpConfig, useValue: config.mcp },
      ],
      exports: [
        AppConfig,
        ServerConfig,
        LlmConfig,
        MediaConfig,
        KnowledgeConfig,
        WhatsappConfig,
        ConversationConfig,
        DatabaseConfig,
        HandoffConfig,
        AdminConfig,
        ToolsConfig,
        McpConfig,
      ],
    };
  }
}
