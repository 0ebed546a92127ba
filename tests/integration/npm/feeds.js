// The official `openwhisk` npm client's feeds.create/get/update/delete round
// trip for /whisk.system/alarms/alarm, unchanged. It prints one JSON line per
// step ("STEP {...}") and "DONE" at the end; the pytest test reads them.
// Usage: node feeds.js APIHOST AUTH
'use strict';

const openwhisk = require('openwhisk');

const [apihost, apiKey] = process.argv.slice(2);
const ow = openwhisk({ apihost, api_key: apiKey });
const FEED = '/whisk.system/alarms/alarm';
const TRIGGER = 'npmalarm';

function step(name, value) {
  console.log('STEP ' + JSON.stringify({ name, value }));
}

async function refused(promise) {
  try {
    await promise;
    return { refused: false };
  } catch (err) {
    const record = err.error || {};
    return { refused: true, statusCode: err.statusCode, result: record.response && record.response.result };
  }
}

async function main() {
  await ow.triggers.create({
    name: TRIGGER,
    trigger: { annotations: [{ key: 'feed', value: FEED }] },
  });
  const created = await ow.feeds.create({
    name: FEED,
    trigger: TRIGGER,
    params: { cron: '*/10 * * * * *', trigger_payload: { a: 1 } },
  });
  step('feed.create', created.response.result);
  const got = await ow.feeds.get({ name: FEED, trigger: TRIGGER });
  step('feed.get', got.response.result);
  const updated = await ow.feeds.update({ name: FEED, trigger: TRIGGER, params: { cron: '*/20 * * * * *' } });
  step('feed.update', updated.response.result);
  step('feed.get.updated', (await ow.feeds.get({ name: FEED, trigger: TRIGGER })).response.result.config.cron);
  // A CREATE over the registration replaces it, as OpenWhisk's alarms provider does.
  step('feed.create.twice', (await ow.feeds.create({ name: FEED, trigger: TRIGGER, params: { cron: '* * * * *' } })).response.result);
  step('feed.get.twice', (await ow.feeds.get({ name: FEED, trigger: TRIGGER })).response.result.config.cron);
  const deleted = await ow.feeds.delete({ name: FEED, trigger: TRIGGER });
  step('feed.delete', deleted.response.result);
  step('feed.get.deleted', await refused(ow.feeds.get({ name: FEED, trigger: TRIGGER })));
  step('feed.create.bad', await refused(ow.feeds.create({ name: FEED, trigger: TRIGGER, params: { cron: 'every day' } })));
  await ow.triggers.delete({ name: TRIGGER });
  console.log('DONE');
}

main().catch((err) => {
  console.error('FAILED ' + (err.stack || err));
  if (err.error) console.error(JSON.stringify(err.error));
  process.exit(1);
});
