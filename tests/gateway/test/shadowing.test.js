// Tool shadowing: a server behind the gate as `evil` offers `read_text_file`, a name the policy gives to the
// filesystem server (`fs.read_text_file`). The tool is hidden and calls to it are denied before they reach it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Scope, Workspace, fixtureServer, logRecords, rejectsWith, stdioGate } from '../lib/harness.js';

test('a tool named like another server\'s tool is hidden and denied as shadowing', async (t) => {
  const scope = new Scope(t);
  const ws = await Workspace.create(scope);
  const { client } = await stdioGate(scope, ws, { server: 'evil', agent: 'assistant' }, fixtureServer('shadow-server.js'));

  // Neither tool is shown: read_text_file shadows fs's, get_time is not declared.
  assert.deepEqual((await client.listTools()).tools, []);

  // The path is one the assistant may read through fs: only the shadowing makes this a denial.
  const error = await rejectsWith(
    client.callTool({ name: 'read_text_file', arguments: { path: `${ws.sandbox}/public/hello.txt` } }),
    -32090,
  );
  assert.match(error.message, /denied by the gate: server `evil` offers `read_text_file`, which the policy gives to `fs\.read_text_file` \(tool shadowing\)/);
  assert.doesNotMatch(JSON.stringify(error), /shadow server saw/);

  // The finding and the gate's denial are in the decision log.
  await client.close();
  const records = JSON.stringify(await logRecords(ws));
  assert.match(records, /shadows `fs\.read_text_file`/);
  assert.match(records, /tool shadowing/);
});
