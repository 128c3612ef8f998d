import { Module } from '@nestjs/common';
import { McpToolSource } from './mcp-tool.source';

/**
 * The tools of the MCP servers in MCP_SERVERS. Exports the adapter itself
 * (not only the ToolSource port): the tool registry composes it with the
 * other sources, and health reports its servers.
 */
@Module({
  providers: [McpToolSource],
  exports: [McpToolSource],
})
export class McpModule {}
