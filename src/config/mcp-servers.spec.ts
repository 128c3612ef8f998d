import { AppConfig } from './app-config';
import { parseMcpServers } from './mcp-servers';
import { InvalidEnvironmentError, validateEnv } from './validate-env';

const noEnv = () => undefined;

describe('MCP_SERVERS', () => {
  it('names servers by position, or by the URL fragment, which is not sent', () => {
    const { servers, problems } = parseMcpServers(
      'http://localhost:4000/mcp, https://crm.example.com/mcp#crm',
      '',
      noEnv,
    );
    expect(problems).toEqual([]);
    expect(servers).toEqual([
      { url: 'http://localhost:4000/mcp', name: 'mcp1', headers: {} },
      { url: 'https://crm.example.com/mcp', name: 'crm', headers: {} },
    ]);
  });

  it('rejects a bad URL and two servers with the same name, in one error', () => {
    expect(() =>
      validateEnv({
        MCP_SERVERS:
          'not a url,ftp://files.example.com,http://a/mcp#x,http://b/mcp#x',
      }),
    ).toThrow(InvalidEnvironmentError);
    const { problems } = parseMcpServers(
      'not a url,ftp://files.example.com,http://a/mcp#x,http://b/mcp#x',
      '',
      noEnv,
    );
    expect(problems).toEqual([
      'MCP_SERVERS: entry 1 is not a URL (expected http:// or https://)',
      'MCP_SERVERS: entry 2 must be an http:// or https:// URL',
      'MCP_SERVERS: two servers are named x; give each its own #name',
    ]);
  });

  it('refuses credentials in a URL, pointing to MCP_SERVERS_HEADERS', () => {
    expect(
      parseMcpServers('https://bot:hunter2@crm.example.com/mcp', '', noEnv)
        .problems,
    ).toEqual([
      'MCP_SERVERS: entry 1 holds a user or password; send credentials with MCP_SERVERS_HEADERS',
    ]);
  });

  it('resolves ${ENV_NAME} in header values from the environment', () => {
    const config = new AppConfig(
      validateEnv({
        MCP_SERVERS: 'https://crm.example.com/mcp#crm',
        MCP_SERVERS_HEADERS:
          '{"https://crm.example.com/mcp#crm": {"Authorization": "Bearer ${CRM_TOKEN}"}}',
        CRM_TOKEN: 's3cret',
      }),
    );
    expect(config.mcp.servers[0].headers).toEqual({
      Authorization: 'Bearer s3cret',
    });
  });

  it('names a missing ${ENV_NAME} without echoing any header value', () => {
    let message = '';
    try {
      validateEnv({
        MCP_SERVERS: 'https://crm.example.com/mcp',
        MCP_SERVERS_HEADERS:
          '{"https://crm.example.com/mcp": {"X-Key": "literal-secret-${MISSING}"}}',
      });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('refers to ${MISSING}, which is not set');
    expect(message).not.toContain('literal-secret');
  });

  it('rejects headers for a URL that is not in MCP_SERVERS, and bad JSON', () => {
    expect(
      parseMcpServers('http://a/mcp', '{"http://b/mcp": {}}', noEnv).problems,
    ).toEqual([
      'MCP_SERVERS_HEADERS: http://b/mcp is not one of MCP_SERVERS (write the URL exactly as there)',
    ]);
    expect(parseMcpServers('http://a/mcp', '{oops', noEnv).problems).toEqual([
      'MCP_SERVERS_HEADERS: not JSON (expected {"<server URL>": {"Header": "value"}})',
    ]);
  });

  it('gives the tools slice its defaults', () => {
    const config = new AppConfig(validateEnv({}));
    expect(config.tools).toEqual({
      httpTools: [],
      maxRounds: 3,
      timeoutMs: 10000,
      maxResultChars: 8000,
    });
    expect(config.mcp.servers).toEqual([]);
  });
});
