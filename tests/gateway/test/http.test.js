// omega-gate over HTTP in front of server-everything's Streamable HTTP endpoint, driven by the MCP SDK's
// StreamableHTTPClientTransport with bearer tokens: allowed calls return the real result, denied ones -32090,
// redaction applies, and a missing or wrong token is HTTP 401.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  Client,
  EVERYTHING_SERVER,
  Scope,
  Workspace,
  freePort,
  httpGate,
  rejectsWith,
  startProcess,
  textOf,
} from '../lib/harness.js';

const TOKENS = { assistant: 'tok-assistant-3f9c', reader: 'tok-reader-77ab' };

async function everythingOverHttp(t) {
  const scope = new Scope(t);
  const ws = await Workspace.create(scope);
  const port = await freePort();
  const upstream = startProcess(scope, 'node', [EVERYTHING_SERVER, 'streamableHttp'], {
    env: { ...process.env, PORT: String(port) },
  });
  await upstream.stderr.waitFor(new RegExp(`listening on port ${port}`));
  const gate = await httpGate(scope, ws, {
    tokens: [
      { token: TOKENS.assistant, agent: 'assistant' },
      { token: TOKENS.reader, agent: 'reader' },
    ],
    servers: [{ name: 'ev', upstream: `http://127.0.0.1:${port}/mcp` }],
  });
  // Stopped before the gate (scopes undo newest first): see the shutdown test below for why.
  scope.defer(() => upstream.stop());
  const endpoint = new URL(`${gate.url}/mcp/ev`);
  const connect = async (token) => {
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    const client = new Client({ name: 'omega-gate-http-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(endpoint, { requestInit: { headers } }));
    scope.defer(() => client.close());
    return client;
  };
  return { ws, gate, upstream, endpoint, connect };
}

test('over Streamable HTTP: echo passes, get-sum is denied, redaction applies', async (t) => {
  const { connect } = await everythingOverHttp(t);
  const client = await connect(TOKENS.assistant);

  const echo = await client.callTool({ name: 'echo', arguments: { message: 'through the gate' } });
  assert.equal(textOf(echo), 'Echo: through the gate');

  const sum = await rejectsWith(client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } }), -32090);
  assert.match(sum.message, /denied by policy: forbidden by gate_test:\d+/);
  assert.equal(sum.data.rules[0].effect, 'forbid');

  // Not listed first: the SDK does not check the output schema (see redaction.test.js for why that matters).
  const weather = await client.callTool({ name: 'get-structured-content', arguments: { location: 'Los Angeles' } });
  assert.deepEqual(weather.structuredContent, { temperature: 73, conditions: 'Sunny / Clear' });
  assert.deepEqual(JSON.parse(textOf(weather)), { temperature: 73, conditions: 'Sunny / Clear' });
});

test('over HTTP the token picks the agent: tool lists and decisions follow it', async (t) => {
  const { connect } = await everythingOverHttp(t);
  const assistant = await connect(TOKENS.assistant);
  const reader = await connect(TOKENS.reader);
  const names = async (client) => (await client.listTools()).tools.map((tool) => tool.name).sort();
  assert.deepEqual(await names(assistant), ['echo', 'get-structured-content']);
  assert.deepEqual(await names(reader), ['echo']);
  const error = await rejectsWith(
    reader.callTool({ name: 'get-structured-content', arguments: { location: 'Chicago' } }),
    -32090,
  );
  assert.match(error.message, /no rule permits it/);
});

test('a missing or wrong bearer token is HTTP 401', async (t) => {
  const { endpoint, connect } = await everythingOverHttp(t);
  const initialize = {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
  };
  for (const authorization of [undefined, 'Bearer wrong-token', `Basic ${TOKENS.assistant}`, `Bearer ${TOKENS.assistant}x`]) {
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
    if (authorization) headers.Authorization = authorization;
    const response = await fetch(endpoint, { method: 'POST', headers, body: JSON.stringify(initialize) });
    assert.equal(response.status, 401, `Authorization: ${authorization}`);
    assert.match(response.headers.get('www-authenticate') ?? '', /Bearer/);
    await response.body?.cancel();
  }
  // The SDK client is refused too.
  await assert.rejects(connect('wrong-token'), (e) => e.code === 401);
});

// After an SDK client session (which opens a GET event stream and closes it again) the gate exits promptly on
// SIGTERM: stopping ends the relays of upstream streams instead of waiting for the upstream to speak.
test('SIGTERM stops the HTTP gate promptly after a client session', async (t) => {
  const { gate, connect } = await everythingOverHttp(t);
  const client = await connect(TOKENS.assistant);
  assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { message: 'bye' } })), 'Echo: bye');
  await client.close();
  const started = Date.now();
  gate.child.kill('SIGTERM');
  const status = await Promise.race([gate.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 3000))]);
  assert.deepEqual(status, { code: 0, signal: null }, `after ${Date.now() - started} ms`);
});
