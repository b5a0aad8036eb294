// The `approve("lead")` obligation through the gate: fs.move_file is held until an approver answers on the gate's
// approval socket (omegad's framing); granted it runs, refused or unanswered it is an error and nothing moves.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { GRANT, REFUSE, Scope, Workspace, approvalRequest, fsServer, rejectsWith, stdioGate } from '../lib/harness.js';

const TIMEOUT_MS = 1500;
const WAITING = /^omega-gate: agent `assistant` calling `fs\.move_file` waits for approval ([0-9a-f]{16}) by lead$/;

test('a held move runs once granted, and is refused or times out otherwise', async (t) => {
  const scope = new Scope(t);
  const ws = await Workspace.create(scope);
  const { client, stderr } = await stdioGate(
    scope,
    ws,
    { server: 'fs', agent: 'assistant', approval_timeout_ms: TIMEOUT_MS },
    fsServer(ws),
  );
  const file = (name) => path.join(ws.sandbox, name);
  const move = (from, to) =>
    client.callTool({ name: 'move_file', arguments: { source: file(from), destination: file(to) } });

  // Granted: the call waits, the approver grants, the server moves the file.
  const granted = move('public/hello.txt', 'outbox/hello.txt');
  const [, id] = await stderr.waitFor(WAITING);
  assert.equal(fs.existsSync(file('public/hello.txt')), true, 'nothing moves before the grant');
  const reply = await approvalRequest(ws.socket, GRANT, { id, role: 'lead' });
  assert.equal(reply.type, 0x82, JSON.stringify(reply.body));
  assert.deepEqual(reply.body, { id, state: 'approved' });
  const result = await granted;
  assert.match(result.content[0].text, /Successfully moved/);
  assert.equal(fs.existsSync(file('public/hello.txt')), false);
  assert.equal(fs.readFileSync(file('outbox/hello.txt'), 'utf8'), 'hello from the public directory\n');

  // Refused: -32091 and the file stays.
  // rejectsWith attaches at once: the rejection arrives while the test is still talking to the socket.
  const refused = rejectsWith(move('records/patient-1042.txt', 'outbox/patient-1042.txt'), -32091);
  const [, refusedId] = await stderr.waitFor(WAITING);
  assert.notEqual(refusedId, id);
  const no = await approvalRequest(ws.socket, REFUSE, { id: refusedId, role: 'lead' });
  assert.equal(no.type, 0x83, JSON.stringify(no.body));
  assert.equal(no.body.state, 'refused');
  const refusal = await refused;
  assert.match(refusal.message, /approval refused/);
  assert.equal(fs.existsSync(file('records/patient-1042.txt')), true);
  assert.equal(fs.existsSync(file('outbox/patient-1042.txt')), false);

  // Unanswered: -32091 once approval_timeout_ms has passed.
  const started = Date.now();
  const unanswered = rejectsWith(move('private/secret.txt', 'outbox/secret.txt'), -32091);
  await stderr.waitFor(WAITING);
  const timeout = await unanswered;
  assert.match(timeout.message, new RegExp(`approval timed out after ${TIMEOUT_MS} ms`));
  assert.ok(Date.now() - started >= TIMEOUT_MS - 50, 'it waited for the approval timeout');
  assert.equal(fs.existsSync(file('private/secret.txt')), true);
  assert.equal(fs.existsSync(file('outbox/secret.txt')), false);
});

test('a grant for a role that was not asked is refused by the socket and does not release the call', async (t) => {
  const scope = new Scope(t);
  const ws = await Workspace.create(scope);
  const { client, stderr } = await stdioGate(scope, ws, { server: 'fs', agent: 'assistant' }, fsServer(ws));
  const source = path.join(ws.sandbox, 'public/hello.txt');
  const held = rejectsWith(
    client.callTool({ name: 'move_file', arguments: { source, destination: path.join(ws.sandbox, 'outbox/hello.txt') } }),
    -32091,
  );
  const [, id] = await stderr.waitFor(WAITING);
  const wrongRole = await approvalRequest(ws.socket, GRANT, { id, role: 'intern' });
  assert.equal(wrongRole.type, 0xff, JSON.stringify(wrongRole.body));
  assert.ok(wrongRole.body.error);
  // Still waiting: the lead's refusal is what ends it.
  const refusal = await approvalRequest(ws.socket, REFUSE, { id, role: 'lead' });
  assert.equal(refusal.body.state, 'refused', JSON.stringify(refusal.body));
  assert.match((await held).message, /approval refused/);
  assert.equal(fs.existsSync(source), true);
});
