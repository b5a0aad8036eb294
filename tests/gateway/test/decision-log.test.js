// Every decision the gate makes goes to the tamper-evident decision log: after a stdio session the log verifies
// (`omegac audit verify`, closed cleanly), holds each denial the client saw at the log_seq it was told, and a
// changed byte is found.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Scope, Workspace, auditVerify, fsServer, logRecords, rejectsWith, stdioGate } from '../lib/harness.js';

test('the decision log holds every decision of a session and verifies', async (t) => {
  const scope = new Scope(t);
  const ws = await Workspace.create(scope);
  const { client } = await stdioGate(scope, ws, { server: 'fs', agent: 'assistant' }, fsServer(ws));

  await client.callTool({ name: 'read_text_file', arguments: { path: path.join(ws.sandbox, 'public/hello.txt') } });
  const denials = [
    await rejectsWith(
      client.callTool({ name: 'write_file', arguments: { path: path.join(ws.sandbox, 'public/x.txt'), content: 'x' } }),
      -32090,
    ),
    await rejectsWith(
      client.callTool({ name: 'read_text_file', arguments: { path: `${ws.sandbox}/public/../private/secret.txt` } }),
      -32090,
    ),
    await rejectsWith(client.callTool({ name: 'directory_tree', arguments: { path: ws.sandbox } }), -32090),
  ];
  await client.close();  // the gate stops and closes the log with a closing checkpoint

  const verified = await auditVerify(ws, ['--expect-closed']);
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  assert.match(verified.stdout, /verified: the chain is intact/);

  const records = await logRecords(ws);
  const decisions = records.filter((r) => r.kind === 'decision');
  const allowed = decisions.find((r) => r.request?.target === 'fs.read_text_file' && r.decision.decision === 'allow');
  assert.ok(allowed, 'the allowed read is logged');
  assert.equal(allowed.request.agent, 'assistant');
  assert.equal(allowed.request.tool.server, 'fs');

  for (const denial of denials) {
    const record = records.find((r) => r.seq === denial.data.log_seq);
    assert.ok(record, `no record at log_seq ${denial.data.log_seq}`);
    assert.equal(record.kind, 'decision');
    assert.equal(record.decision.decision, 'deny');
    assert.equal(record.decision.reason, denial.data.reason);
  }
  const [outside, traversal] = denials.map((d) => records.find((r) => r.seq === d.data.log_seq));
  assert.equal(outside.request.args.path, path.join(ws.sandbox, 'public/x.txt'));
  assert.match(traversal.request.args.path, /public\/\.\.\/private/);
});

test('a changed byte in the log is found', async (t) => {
  const scope = new Scope(t);
  const ws = await Workspace.create(scope);
  const { client } = await stdioGate(scope, ws, { server: 'fs', agent: 'assistant' }, fsServer(ws));
  await rejectsWith(
    client.callTool({ name: 'write_file', arguments: { path: path.join(ws.sandbox, 'public/x.txt'), content: 'x' } }),
    -32090,
  );
  await client.close();
  assert.equal((await auditVerify(ws, ['--expect-closed'])).code, 0);

  // Rewrite the denial as an allow, as someone covering their tracks would.
  const bytes = fs.readFileSync(ws.log);
  const at = bytes.indexOf('"decision":"deny"');
  assert.ok(at > 0);
  bytes.write('"decision":"allo"', at);
  fs.writeFileSync(ws.log, bytes);
  const tampered = await auditVerify(ws, ['--expect-closed']);
  assert.equal(tampered.code, 1, tampered.stdout + tampered.stderr);
});
