// A scripted round trip through Ledgerwhisk with the official `openwhisk` npm
// client: actions, invoke, activations, packages, triggers, rules. It prints
// one JSON line per step ("STEP {...}") and "DONE" at the end; the pytest test
// reads them. Usage: node roundtrip.js APIHOST AUTH
'use strict';

const openwhisk = require('openwhisk');

const [apihost, apiKey] = process.argv.slice(2);
const ow = openwhisk({ apihost, api_key: apiKey });

const CODE = "function main(params) {\n  console.log('Hello World');\n  return {greeting: 'Hello ' + (params.name || 'World')};\n}\n";

function step(name, value) {
  console.log('STEP ' + JSON.stringify({ name, value }));
}

async function until(probe, ms) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      if (Date.now() > end) throw err;
    }
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main() {
  step('namespaces', await ow.namespaces.list());

  const created = await ow.actions.create({ name: 'hello', action: CODE, kind: 'nodejs:default' });
  step('action.create', { name: created.name, version: created.version, kind: created.exec.kind });
  const updated = await ow.actions.update({ name: 'hello', action: CODE, params: { name: 'Ledger' } });
  step('action.update', { version: updated.version });
  const got = await ow.actions.get({ name: 'hello' });
  step('action.get', { name: got.name, params: got.parameters });
  step('action.list', (await ow.actions.list()).map((a) => a.name));

  const result = await ow.actions.invoke({ name: 'hello', blocking: true, result: true, params: { name: 'Ada' } });
  step('action.invoke.result', result);
  const record = await ow.actions.invoke({ name: 'hello', blocking: true });
  step('action.invoke.blocking', { id: record.activationId, status: record.response.status, logs: record.logs });
  const queued = await ow.actions.invoke({ name: 'hello' });
  step('action.invoke.async', { hasId: typeof queued.activationId === 'string' });

  const activation = await until(() => ow.activations.get({ name: queued.activationId }), 20000);
  step('activation.get', { id: activation.activationId, result: activation.response.result });
  step('activation.logs', await ow.activations.logs({ name: queued.activationId }));
  step('activation.result', await ow.activations.result({ name: queued.activationId }));
  const listed = await until(async () => {
    const all = await ow.activations.list({ name: 'hello', limit: 10 });
    return all.length >= 3 ? all : null;
  }, 20000);
  step('activation.list', { count: listed.length, names: [...new Set(listed.map((a) => a.name))] });

  await ow.packages.create({ name: 'tools', package: { parameters: [{ key: 'who', value: 'pkg' }] } });
  await ow.actions.create({ name: 'tools/echo', action: 'function main(p) { return p; }', kind: 'nodejs:default' });
  const pkg = await ow.packages.get({ name: 'tools' });
  step('package.get', { name: pkg.name, actions: pkg.actions.map((a) => a.name) });
  step('package.invoke', await ow.actions.invoke({ name: 'tools/echo', blocking: true, result: true, params: { x: 1 } }));
  await ow.packages.create({ name: 'myutils', package: { binding: { namespace: 'whisk.system', name: 'utils' } } });
  step('binding.invoke', await ow.actions.invoke({ name: 'myutils/echo', blocking: true, result: true, params: { y: 2 } }));
  step('package.list', (await ow.packages.list()).map((p) => p.name).sort());

  await ow.triggers.create({ name: 'tick', trigger: { parameters: [{ key: 'name', value: 'Trigger' }] } });
  const empty = await ow.triggers.invoke({ name: 'tick' });
  step('trigger.fire.norule', empty);
  const rule = await ow.rules.create({ name: 'onTick', action: 'hello', trigger: 'tick' });
  step('rule.create', { name: rule.name, status: rule.status });
  const fired = await ow.triggers.invoke({ name: 'tick', params: { extra: true } });
  step('trigger.fire', { hasId: typeof fired.activationId === 'string' });
  const triggerRecord = await until(() => ow.activations.get({ name: fired.activationId }), 20000);
  const ruleLog = JSON.parse(triggerRecord.logs[0]);
  const fromRule = await until(() => ow.activations.get({ name: ruleLog.activationId }), 20000);
  step('rule.activation', { cause: fromRule.cause === fired.activationId, result: fromRule.response.result });
  await ow.rules.disable({ name: 'onTick' });
  step('rule.disabled', (await ow.rules.get({ name: 'onTick' })).status);
  await ow.rules.enable({ name: 'onTick' });
  step('rule.list', (await ow.rules.list()).map((r) => r.name));
  step('trigger.list', (await ow.triggers.list()).map((t) => t.name));

  await ow.rules.delete({ name: 'onTick' });
  await ow.triggers.delete({ name: 'tick' });
  await ow.actions.delete({ name: 'tools/echo' });
  await ow.packages.delete({ name: 'tools' });
  await ow.packages.delete({ name: 'myutils' });
  await ow.actions.delete({ name: 'hello' });
  try {
    await ow.actions.get({ name: 'hello' });
    step('deleted', 'still there');
  } catch (err) {
    step('deleted', err.statusCode);
  }
  console.log('DONE');
}

main().catch((err) => {
  console.error('FAILED ' + (err.stack || err));
  if (err.error) console.error(JSON.stringify(err.error));
  process.exit(1);
});
