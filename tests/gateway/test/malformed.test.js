// What no real client sends, written raw on the gate's stdin: garbage, a batch, a message without `jsonrpc`, a line
// over max_message_bytes, methods outside the allow list, and reused request ids. Each gets the right JSON-RPC error
// (or at least no data the policy withholds), and the session goes on working.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { GATE, Scope, Workspace, everythingServer, fixtureServer, fsServer, startProcess } from '../lib/harness.js';

const LIMIT = 65536;

// The gate over stdio with JSON-RPC written and read by hand, one message per line.
async function rawGate(t, server, gate) {
  const scope = new Scope(t);
  const ws = await Workspace.create(scope);
  const config = ws.config({ agent: 'assistant', max_message_bytes: LIMIT, ...gate });
  const proc = startProcess(scope, GATE, ['--config', config, '--', ...server(ws)], { cwd: ws.dir });
  const session = {
    ws,
    proc,
    send: (line) => proc.child.stdin.write(line + '\n'),
    // The next response from the gate, parsed (the server's notifications and requests are skipped).
    async next() {
      for (;;) {
        const message = JSON.parse((await proc.stdout.waitFor(/^.+$/))[0]);
        if (!('method' in message)) return message;
      }
    },
    async call(message) {
      session.send(JSON.stringify({ jsonrpc: '2.0', ...message }));
      return session.next();
    },
  };
  const init = await session.call({
    id: 0,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
  });
  assert.ok(init.result?.serverInfo, JSON.stringify(init));
  session.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  return session;
}

test('malformed messages get JSON-RPC errors and the session survives', async (t) => {
  const s = await rawGate(t, fsServer, { server: 'fs' });

  s.send('this is not json');
  const garbage = await s.next();
  assert.equal(garbage.id, null);
  assert.equal(garbage.error.code, -32700);

  s.send('[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"tools/list"}]');
  const batch = await s.next();
  assert.equal(batch.error.code, -32600);
  assert.match(batch.error.message, /batch/);

  const noVersion = await (async () => {
    s.send('{"id":3,"method":"tools/list"}');
    return s.next();
  })();
  assert.equal(noVersion.id, 3);
  assert.equal(noVersion.error.code, -32600);
  assert.match(noVersion.error.message, /jsonrpc/);

  const nullId = await s.call({ id: null, method: 'tools/list' });
  assert.equal(nullId.error.code, -32600);

  const noName = await s.call({ id: 4, method: 'tools/call', params: { arguments: {} } });
  assert.equal(noName.id, 4);
  assert.equal(noName.error.code, -32602);

  // A valid call after all of that still reaches the server.
  const read = await s.call({
    id: 5,
    method: 'tools/call',
    params: { name: 'read_text_file', arguments: { path: path.join(s.ws.sandbox, 'public/hello.txt') } },
  });
  assert.equal(read.id, 5);
  assert.equal(read.result.content[0].text, 'hello from the public directory\n');
});

test('a message over max_message_bytes is refused with -32092 and the session survives', async (t) => {
  const s = await rawGate(t, fsServer, { server: 'fs' });
  const content = 'x'.repeat(100 * 1024);
  s.send(JSON.stringify({
    jsonrpc: '2.0',
    id: 10,
    method: 'tools/call',
    params: { name: 'write_file', arguments: { path: path.join(s.ws.sandbox, 'outbox/big.txt'), content } },
  }));
  const big = await s.next();
  assert.equal(big.id, null);
  assert.equal(big.error.code, -32092);
  assert.match(big.error.message, new RegExp(`exceeds the gate's limit of ${LIMIT} bytes`));

  const list = await s.call({ id: 11, method: 'tools/list' });
  assert.equal(list.id, 11);
  assert.ok(list.result.tools.some((tool) => tool.name === 'read_text_file'));
});

test('methods outside the allow list are denied; listing methods pass', async (t) => {
  const s = await rawGate(t, everythingServer, { server: 'ev' });
  const read = await s.call({ id: 20, method: 'resources/read', params: { uri: 'demo://resource/static/document/architecture.md' } });
  assert.equal(read.error.code, -32090);
  assert.match(read.error.message, /method `resources\/read` is not allowed through the gate/);
  const prompt = await s.call({ id: 21, method: 'prompts/get', params: { name: 'simple-prompt' } });
  assert.equal(prompt.error.code, -32090);
  const unknown = await s.call({ id: 22, method: 'tools/execute', params: {} });
  assert.equal(unknown.error.code, -32090);

  const resources = await s.call({ id: 23, method: 'resources/list', params: {} });
  assert.ok(Array.isArray(resources.result.resources), JSON.stringify(resources));
  const ping = await s.call({ id: 24, method: 'ping' });
  assert.deepEqual(ping.result, {});
});

// The gate remembers what to do with a response by its request id, so a request whose id is already in flight is
// refused (-32600): otherwise a ping sent with a redacted tools/call's id would take the call's redaction and the
// tool result would pass unredacted.
test('a reused request id does not carry a tool result past its redaction', async (t) => {
  const s = await rawGate(t, () => fixtureServer('records-server.js'), { server: 'rec' });
  const lookup = (id, delay) => ({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: 'lookup', arguments: { id: 'p-1', delay_ms: delay } },
  });
  // The redaction itself works.
  s.send(JSON.stringify(lookup(30, 0)));
  const plain = await s.next();
  assert.deepEqual(plain.result.structuredContent, { id: 'p-1', name: 'Ada Example' });

  // The lookup takes 300 ms, the ping none: the ping's answer comes back first with the same id.
  s.send(JSON.stringify(lookup(31, 300)));
  s.send(JSON.stringify({ jsonrpc: '2.0', id: 31, method: 'ping' }));
  const answers = [await s.next(), await s.next()];
  for (const answer of answers) assert.doesNotMatch(JSON.stringify(answer), /078-05-1120|ssn/, JSON.stringify(answers));
  // Whatever the gate answers the ping, the lookup's result arrives, redacted.
  assert.ok(answers.some((a) => a.result?.structuredContent?.name === 'Ada Example'), JSON.stringify(answers));
});
