// The gateway example's client (examples/gateway/README.md): the MCP SDK's client, through omega-gate to the filesystem
// server, lists the tools, makes one allowed and one denied call and checks that the denied write changed nothing.
// Usage: node client.mjs SANDBOX -- GATE_COMMAND...   (the SDK is imported from tests/gateway/node_modules)
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '../../tests/gateway/node_modules/@modelcontextprotocol/sdk/dist/esm/client/index.js';
import { StdioClientTransport } from '../../tests/gateway/node_modules/@modelcontextprotocol/sdk/dist/esm/client/stdio.js';

const args = process.argv.slice(2);
const dash = args.indexOf('--');
if (dash !== 1 || args.length < 3) {
  console.error('usage: node client.mjs SANDBOX -- GATE_COMMAND...');
  process.exit(2);
}
const sandbox = path.resolve(args[0]);
const [command, ...commandArgs] = args.slice(2);

const transport = new StdioClientTransport({ command, args: commandArgs, stderr: 'pipe' });
let gateStderr = '';
transport.stderr.on('data', (chunk) => (gateStderr += chunk));  // shown only if something goes wrong
const client = new Client({ name: 'gateway-example', version: '1.0.0' });

try {
  await client.connect(transport);
  const tools = (await client.listTools()).tools.map((tool) => tool.name);
  console.log(`tools the gate shows: ${tools.join(', ')}`);

  const hello = path.join(sandbox, 'docs/hello.txt');
  const read = await client.callTool({ name: 'read_text_file', arguments: { path: hello } });
  console.log(`allowed: read_text_file docs/hello.txt -> ${JSON.stringify(read.content[0].text)}`);

  const before = fs.readFileSync(hello, 'utf8');
  try {
    await client.callTool({ name: 'write_file', arguments: { path: hello, content: 'overwritten' } });
    console.log('denied: write_file docs/hello.txt -> UNEXPECTEDLY ALLOWED');
    process.exitCode = 1;
  } catch (error) {
    console.log(`denied: write_file docs/hello.txt -> ${error.code} ${error.data?.reason}`);
  }
  console.log(`docs/hello.txt unchanged: ${fs.readFileSync(hello, 'utf8') === before ? 'yes' : 'NO'}`);
} catch (error) {
  console.error(`client: ${error.message}\n${gateStderr}`);
  process.exitCode = 1;
} finally {
  await client.close();  // the gate stops, closing its decision log
}
