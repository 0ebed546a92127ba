// A blocking invocation over HTTPS with the official `openwhisk` npm client.
// Usage: node tls.js APIHOST AUTH [ignore_certs]. Without "ignore_certs" the
// client checks the server's certificate (NODE_EXTRA_CA_CERTS names the CA).
// Prints "STEP {...}" lines and "DONE", as roundtrip.js does.
'use strict';

const openwhisk = require('openwhisk');

const [apihost, apiKey, mode] = process.argv.slice(2);
const ow = openwhisk({ apihost, api_key: apiKey, ignore_certs: mode === 'ignore_certs' });

const CODE = "function main(params) {\n  return {greeting: 'Hello ' + (params.name || 'World')};\n}\n";

function step(name, value) {
  console.log('STEP ' + JSON.stringify({ name, value }));
}

async function main() {
  await ow.actions.update({ name: 'tlshello', action: CODE, kind: 'nodejs:default' });
  const done = await ow.actions.invoke({ name: 'tlshello', blocking: true, params: { name: 'TLS' } });
  step('invoke.blocking', { status: done.response.status, result: done.response.result });
  console.log('DONE');
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
