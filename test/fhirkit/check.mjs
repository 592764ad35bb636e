// Drives a carnet server with fhir-kit-client, a FHIR client none of us
// wrote: create, read, update with a version check, search with paging
// through `next` links, and a transaction. Usage: node check.mjs BASE_URL
// Exits non-zero on the first failed check, saying which.
import { Client } from 'fhir-kit-client';
import assert from 'node:assert/strict';

const baseUrl = process.argv[2];
if (!baseUrl) {
  console.error('usage: node check.mjs http://host:port/fhir');
  process.exit(2);
}
const client = new Client({ baseUrl });
const run = `run${Date.now()}`; // a family name no other data uses
let checks = 0;

async function check(name, fn) {
  try {
    await fn();
    checks++;
    console.log(`ok   ${name}`);
  } catch (err) {
    console.error(`FAIL ${name}: ${err.message}`);
    if (err.response) console.error(JSON.stringify(err.response.data).slice(0, 2000));
    process.exit(1);
  }
}

const patient = {
  resourceType: 'Patient',
  name: [{ family: run, given: ['Alix'] }],
  gender: 'female',
  birthDate: '1980-02-03',
};
let created;

await check('create assigns an id and version 1', async () => {
  created = await client.create({ resourceType: 'Patient', body: patient });
  assert.ok(created.id, 'no id');
  assert.equal(created.meta.versionId, '1');
});

await check('read returns what was created', async () => {
  const read = await client.read({ resourceType: 'Patient', id: created.id });
  assert.equal(read.name[0].family, run);
  assert.equal(read.birthDate, '1980-02-03');
});

await check('update with the current version succeeds', async () => {
  const updated = await client.update({
    resourceType: 'Patient',
    id: created.id,
    body: { ...created, birthDate: '1980-02-04' },
    options: { headers: { 'If-Match': `W/"${created.meta.versionId}"` } },
  });
  assert.equal(updated.meta.versionId, '2');
  assert.equal(updated.birthDate, '1980-02-04');
});

await check('update with a stale version is refused with 412', async () => {
  await assert.rejects(
    client.update({
      resourceType: 'Patient',
      id: created.id,
      body: { ...created, birthDate: '1999-09-09' },
      options: { headers: { 'If-Match': 'W/"1"' } },
    }),
    (err) => err.response?.status === 412,
  );
});

await check('transaction creates linked resources atomically', async () => {
  const entry = [{
    fullUrl: 'urn:uuid:2f0c2a53-6a3b-4c8e-9d52-0c1d8b7e4a11',
    resource: { resourceType: 'Patient', name: [{ family: run, given: ['Basile'] }] },
    request: { method: 'POST', url: 'Patient' },
  }];
  for (let i = 0; i < 24; i++) {
    entry.push({
      resource: { resourceType: 'Patient', name: [{ family: run, given: [`Page${i}`] }] },
      request: { method: 'POST', url: 'Patient' },
    });
  }
  entry.push({
    resource: {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8302-2' }] },
      subject: { reference: 'urn:uuid:2f0c2a53-6a3b-4c8e-9d52-0c1d8b7e4a11' },
    },
    request: { method: 'POST', url: 'Observation' },
  });
  const reply = await client.transaction({ body: { resourceType: 'Bundle', type: 'transaction', entry } });
  assert.equal(reply.type, 'transaction-response');
  assert.equal(reply.entry.length, entry.length);
  for (const e of reply.entry) assert.match(e.response.status, /^201/);
  const obsLocation = reply.entry.at(-1).response.location;
  const obsId = obsLocation.split('/')[1];
  const obs = await client.read({ resourceType: 'Observation', id: obsId });
  const patientId = reply.entry[0].response.location.split('/')[1];
  assert.equal(obs.subject.reference, `Patient/${patientId}`);
});

await check('search pages through next links', async () => {
  let page = await client.search({ resourceType: 'Patient', searchParams: { family: run, _count: 10 } });
  const ids = new Set();
  let pages = 0;
  while (page) {
    pages++;
    for (const e of page.entry ?? []) ids.add(e.resource.id);
    page = await client.nextPage({ bundle: page });
  }
  assert.equal(ids.size, 26, `found ${ids.size} patients`);
  assert.equal(pages, 3);
});

console.log(`fhir-kit-client: ${checks} passed, 0 failed`);
