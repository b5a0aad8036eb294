// omega-gate over stdio in front of the real MCP filesystem server, driven by the MCP SDK's client: allowed calls
// reach the server, denied ones never do (checked on disk), argument constraints, a rate limit, session taint, and
// the tool list each agent sees.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { POLICY, Scope, Workspace, fsServer, logRecords, rejectsWith, stdioGate, textOf } from '../lib/harness.js';

const ASSISTANT = { server: 'fs', agent: 'assistant' };

async function filesystemGate(t, gate = ASSISTANT) {
  const scope = new Scope(t);
  const ws = await Workspace.create(scope);
  const { client, stderr } = await stdioGate(scope, ws, gate, fsServer(ws));
  return { ws, client, stderr };
}

// Every file under the sandbox with its content, to show that a denied call changed nothing.
function snapshot(dir) {
  const out = {};
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath ?? entry.path, entry.name);
    out[path.relative(dir, file)] = fs.readFileSync(file, 'utf8');
  }
  return out;
}

test('an allowed call passes and returns the filesystem server\'s real result', async (t) => {
  const { ws, client } = await filesystemGate(t);
  const result = await client.callTool({
    name: 'read_text_file',
    arguments: { path: path.join(ws.sandbox, 'public/hello.txt') },
  });
  assert.equal(result.isError, undefined);
  assert.equal(textOf(result), 'hello from the public directory\n');
});

test('a denied write never reaches the server', async (t) => {
  const { ws, client } = await filesystemGate(t);
  const target = path.join(ws.sandbox, 'public/planted.txt');
  const error = await rejectsWith(
    client.callTool({ name: 'write_file', arguments: { path: target, content: 'planted' } }),
    -32090,
  );
  assert.match(error.message, /denied by policy: no rule permits it/);
  assert.equal(error.data.decision, 'deny');
  assert.deepEqual(error.data.rules, []);
  assert.ok(Number.isInteger(error.data.log_seq) && error.data.log_seq > 0, 'the denial names its log record');
  assert.equal(fs.existsSync(target), false, 'the file must not exist');

  // The same write into outbox/ is allowed, so the denial above was the policy's and not the server's.
  const allowed = path.join(ws.sandbox, 'outbox/note.txt');
  await client.callTool({ name: 'write_file', arguments: { path: allowed, content: 'fine' } });
  assert.equal(fs.readFileSync(allowed, 'utf8'), 'fine');
});

test('a denied move leaves the disk unchanged', async (t) => {
  // The reader may not move files at all: move_file's permit is for the assistant.
  const { ws, client } = await filesystemGate(t, { server: 'fs', agent: 'reader' });
  const before = snapshot(ws.sandbox);
  const error = await rejectsWith(
    client.callTool({
      name: 'move_file',
      arguments: {
        source: path.join(ws.sandbox, 'private/secret.txt'),
        destination: path.join(ws.sandbox, 'public/secret.txt'),
      },
    }),
    -32090,
  );
  assert.match(error.message, /^MCP error -32090: denied by policy: /);
  assert.deepEqual(snapshot(ws.sandbox), before);
});

test('reads outside the allowed directories are denied, `..` traversal included', async (t) => {
  const { ws, client } = await filesystemGate(t);
  const outside = await rejectsWith(
    client.callTool({ name: 'read_text_file', arguments: { path: path.join(ws.sandbox, 'private/secret.txt') } }),
    -32090,
  );
  assert.match(outside.message, /no rule permits it/);

  // `public/../private/secret.txt` matches the permit's glob `*/sandbox/public/*`; the forbid on `..` stops it.
  const traversal = await rejectsWith(
    client.callTool({
      name: 'read_text_file',
      arguments: { path: `${ws.sandbox}/public/../private/secret.txt` },
    }),
    -32090,
  );
  assert.match(traversal.message, /forbidden by gate_test:\d+/);
  assert.equal(traversal.data.rules.length, 1);
  assert.equal(traversal.data.rules[0].effect, 'forbid');
  for (const error of [outside, traversal]) assert.doesNotMatch(JSON.stringify(error), /the private secret/);
});

test('a rate limit: three listings pass, the fourth is denied', async (t) => {
  const { ws, client } = await filesystemGate(t);
  const list = () => client.callTool({ name: 'list_directory', arguments: { path: ws.sandbox } });
  for (let i = 0; i < 3; ++i) assert.match(textOf(await list()), /\[DIR\] public/);
  const error = await rejectsWith(list(), -32090);
  // A permit past its limit no longer matches, so the denial is the default deny (docs/requests.md: no rules).
  assert.match(error.message, /denied by policy: no rule permits it/);
  assert.deepEqual(error.data.rules, []);

  // The three that passed were allowed by the limited permit, as the decision log says.
  await client.close();
  const listings = (await logRecords(ws)).filter((r) => r.kind === 'decision' && r.request.target === 'fs.list_directory');
  assert.deepEqual(listings.map((r) => r.decision.decision), ['allow', 'allow', 'allow', 'deny']);
  const permits = new Set(listings.slice(0, 3).map((r) => r.decision.rules.map((rule) => rule.id).join()));
  assert.equal(permits.size, 1);
  const [id] = permits;
  const line = Number(id.split(':')[1]);
  assert.match(fs.readFileSync(POLICY, 'utf8').split('\n')[line - 1], /permit tool fs\.list_directory .*limit 3 per minute/);
});

test('taint: after reading a Confidential record the session can no longer write out', async (t) => {
  const { ws, client } = await filesystemGate(t);
  const first = path.join(ws.sandbox, 'outbox/before.txt');
  await client.callTool({ name: 'write_file', arguments: { path: first, content: 'summary' } });
  assert.equal(fs.readFileSync(first, 'utf8'), 'summary');

  const record = await client.callTool({
    name: 'read_text_file',
    arguments: { path: path.join(ws.sandbox, 'records/patient-1042.txt') },
  });
  assert.equal(textOf(record), 'patient 1042: diagnosis confidential\n');

  const outbox = snapshot(path.join(ws.sandbox, 'outbox'));
  const leak = path.join(ws.sandbox, 'outbox/leak.txt');
  const error = await rejectsWith(
    client.callTool({ name: 'write_file', arguments: { path: leak, content: textOf(record) } }),
    -32090,
  );
  assert.match(error.message, /forbidden by gate_test:\d+/);
  assert.equal(error.data.rules[0].effect, 'forbid');
  assert.equal(fs.existsSync(leak), false);
  assert.deepEqual(snapshot(path.join(ws.sandbox, 'outbox')), outbox, 'nothing new in outbox/');
});

test('undeclared tools are hidden and denied; each agent sees only what it may call', async (t) => {
  const assistant = await filesystemGate(t);
  const names = (await assistant.client.listTools()).tools.map((tool) => tool.name).sort();
  assert.deepEqual(names, ['list_directory', 'move_file', 'read_text_file', 'write_file']);

  // directory_tree is offered by the server but not declared in the policy.
  const error = await rejectsWith(
    assistant.client.callTool({ name: 'directory_tree', arguments: { path: assistant.ws.sandbox } }),
    -32090,
  );
  assert.match(error.message, /unknown tool `fs\.directory_tree`/);

  const reader = await filesystemGate(t, { server: 'fs', agent: 'reader' });
  const readerNames = (await reader.client.listTools()).tools.map((tool) => tool.name);
  assert.deepEqual(readerNames, ['get_file_info']);
  const info = await reader.client.callTool({
    name: 'get_file_info',
    arguments: { path: path.join(reader.ws.sandbox, 'public/hello.txt') },
  });
  assert.match(textOf(info), /size: 32/);
  await rejectsWith(
    reader.client.callTool({ name: 'read_text_file', arguments: { path: path.join(reader.ws.sandbox, 'public/hello.txt') } }),
    -32090,
  );
});
