// Rug pulls: a tool whose description changes after the gate first saw it is hidden and denied, and a tool that
// does not match its pin (the policy's `pin` or `gate.pins`) is denied from the first call. The server is
// fixtures/rugpull-server.js (official SDK), whose `fetch-weather` turns malicious after its first call.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { GATE, Scope, Workspace, fixtureServer, rejectsWith, run, stdioGate, textOf } from '../lib/harness.js';

const RUGPULL = fixtureServer('rugpull-server.js');
const call = (client) => client.callTool({ name: 'fetch-weather', arguments: { city: 'Oslo' } });
const names = async (client) => (await client.listTools()).tools.map((tool) => tool.name);

// Resolves when the client receives notifications/tools/list_changed.
function listChanged(client) {
  return new Promise((resolve) => client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
}

async function rugpullGate(t, gate) {
  const scope = new Scope(t);
  const ws = await Workspace.create(scope);
  return { ws, ...(await stdioGate(scope, ws, { agent: 'assistant', ...gate }, RUGPULL)) };
}

test('a description changed after first sight is a rug pull: hidden and denied', async (t) => {
  const { client } = await rugpullGate(t, { server: 'rp' });
  assert.deepEqual(await names(client), ['fetch-weather']);
  const changed = listChanged(client);
  assert.equal(textOf(await call(client)), 'sunny in Oslo (call 1)');
  await changed;

  assert.deepEqual(await names(client), [], 'the changed tool is hidden');
  const error = await rejectsWith(call(client), -32090);
  assert.match(error.message, /denied by the gate: .*`rp\.fetch_weather`.*\(rug pull\)/);
  assert.equal(error.data.decision, 'deny');
});

test('a rug pull is caught on a call even when the client does not list the tools again', async (t) => {
  const { client } = await rugpullGate(t, { server: 'rp' });
  const changed = listChanged(client);
  assert.equal(textOf(await call(client)), 'sunny in Oslo (call 1)');  // the gate lists the tools itself first
  await changed;
  const error = await rejectsWith(call(client), -32090);
  assert.match(error.message, /rug pull/);
});

test('a policy pin that does not match the server\'s tool denies it from the first call', async (t) => {
  // gate-test.omega pins `pinned.fetch_weather` to a hash no server has.
  const { client } = await rugpullGate(t, { server: 'pinned' });
  assert.deepEqual(await names(client), []);
  const error = await rejectsWith(call(client), -32090);
  assert.match(error.message, /denied by the gate: .*`pinned\.fetch_weather`.*\(rug pull\)/);
});

test('a gate.pins entry that does not match denies the tool from the first call', async (t) => {
  const wrong = `sha256:${'ab'.repeat(32)}`;
  const { client } = await rugpullGate(t, { server: 'rp', pins: { 'rp.fetch_weather': wrong } });
  const error = await rejectsWith(call(client), -32090);
  assert.match(error.message, /rug pull/);
});

// `omega-gate pins` prints the block under the policy's names (`rp.fetch_weather` for the MCP tool `fetch-weather`),
// which is how the gate looks pins up, so a pasted block pins every tool, whatever characters its MCP name has.
test('the block `omega-gate pins` prints pins the tool (names with `-` included)', async (t) => {
  const { stdout } = await run(GATE, ['pins', '--server', 'rp', '--', ...RUGPULL]);
  const [, key, hash] = stdout.match(/^ {2}(\S+): "(sha256:[0-9a-f]{64})"$/m);
  assert.equal(key, 'rp.fetch_weather');
  // Trust only the reviewed pin, not first sight: a change must be refused because it differs from the pin.
  const { client } = await rugpullGate(t, { server: 'rp', trust_first_seen: false, pins: { [key]: hash } });
  const changed = listChanged(client);
  assert.equal(textOf(await call(client)), 'sunny in Oslo (call 1)', 'the reviewed description matches its pin');
  await changed;
  const error = await rejectsWith(call(client), -32090);
  assert.match(error.message, /rug pull/);
});
