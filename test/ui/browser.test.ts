// The web page in a real browser: Debian's Chromium driven by playwright-core (never a downloaded
// browser). Two peers and an index server on loopback; a third "slow" holder relays alice's file
// at a few MB/s so progress can be seen mid-way. Every test leaves a screenshot in test-results/;
// UPDATE_SCREENSHOTS=1 also refreshes the README's two in docs/screenshots/.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startSlowHolder, startUiNet, type UiPeer } from './helpers.js';

const RESULTS = 'test-results';
const README_SHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? 'docs/screenshots' : undefined;
const DESKTOP = { width: 1280, height: 900 };

function findChromium(): string | undefined {
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const executablePath = findChromium();

test('web UI in Chromium', { skip: executablePath ? false : 'chromium is not installed (apt-get install chromium; .ci/run does)', timeout: 60_000 }, async (t) => {
  await mkdir(RESULTS, { recursive: true });
  if (README_SHOTS) await mkdir(README_SHOTS, { recursive: true });
  const movie = randomBytes(6_000_000);
  const movieHash = createHash('sha256').update(movie).digest('hex');
  const { net, peers } = await startUiNet(t, [
    { name: 'alice', files: { 'hello.txt': 'héllo from alice 🌍\n', 'movie.bin': movie, 'report.pdf': randomBytes(40_000) } },
    { name: 'bob', files: { 'bob-notes.txt': 'notes\n' } },
  ]);
  const [alice, bob] = peers as [UiPeer, UiPeer];
  const slowHolder = await startSlowHolder(t, {
    server: net.server.target, name: 'slow-mirror', target: { host: '127.0.0.1', port: alice.peer.contact.tcpPort },
    files: [{ name: 'movie.bin', size: movie.byteLength, sha256: movieHash }], bytesPerSecond: 2_500_000,
  });
  await waitPublished(bob, 'report.pdf', 'alice');

  const browser: Browser = await chromium.launch({
    executablePath: executablePath!,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  t.after(() => browser.close());
  const open = async (peer: UiPeer, viewport = DESKTOP): Promise<Page> => {
    const page = await browser.newPage({ viewport });
    const outside: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(peer.ui.url) && !request.url().startsWith('data:')) outside.push(request.url());
    });
    t.after(() => assert.deepEqual(outside, [], 'the page fetched only from its peer'));
    await page.goto(peer.ui.url);
    await page.waitForSelector('body[data-ready="yes"]');
    await page.getByText('Live: updates arrive without reloading.').waitFor();
    return page;
  };
  const shot = async (page: Page, name: string, readme?: string) => {
    await page.screenshot({ path: join(RESULTS, `ui-${name}.png`), fullPage: true });
    if (README_SHOTS && readme) await page.screenshot({ path: join(README_SHOTS, readme) });
  };

  const bobPage = await open(bob);
  const alicePage = await open(alice);

  await t.test("on bob's page: search alice's file, download it with live progress to 100 %, bytes on disk", async () => {
    const page = bobPage;
    await page.getByLabel('File name').fill('movie.bin');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByText('2 peers share movie.bin.').waitFor();
    await page.getByRole('button', { name: 'Download movie.bin from slow-mirror' }).click();
    const bar = page.getByRole('progressbar', { name: 'Download of movie.bin' });
    await bar.waitFor();
    await page.waitForFunction(() => {
      const progress = document.querySelector<HTMLProgressElement>('#transfers-running progress');
      return progress !== null && progress.value >= 30 && progress.value <= 80;
    });
    const figures = await page.locator('#transfers-running .figures').textContent();
    assert.match(figures!, /\d+ % · [\d.]+ MB of 6\.00 MB · [\d.]+ (kB|MB)\/s · \d+ s left/);
    assert.equal(await page.locator('#st-downloads').textContent(), '1');
    await page.evaluate(() => document.querySelector('#search')!.scrollIntoView({ block: 'start' }));
    await shot(page, 'download-in-progress', 'download-in-progress.png');
    const done = page.locator('#transfers-finished li.finished', { hasText: 'movie.bin' });
    await done.waitFor({ timeout: 20_000 }).catch(async (error) => {
      throw new Error(`${error.message}\nthe downloads on the page: ${await page.locator('#search').innerText()}`);
    });
    assert.match((await done.textContent())!, /100 % · 6\.00 MB from slow-mirror · SHA-256 verified/);
    assert.deepEqual(await readFile(join(bob.downloads, 'movie.bin')), movie);
    const href = await done.getByRole('link', { name: 'Open movie.bin' }).getAttribute('href');
    const response = await page.request.get(new URL(href!, bob.ui.url).href);
    assert.equal(response.status(), 200);
    assert.equal((await response.body()).byteLength, movie.byteLength);
    await shot(page, 'download-finished');
  });

  await t.test("publish and remove on alice's page change bob's network view", async () => {
    const aliceRow = bobPage.locator('#peers-table tr[data-peer="alice"]');
    await bobPage.getByRole('button', { name: 'Refresh the list' }).click();
    await assert.doesNotReject(aliceRow.getByText(/hello\.txt/).waitFor());

    await alicePage.getByRole('button', { name: 'Remove hello.txt' }).click();
    await alicePage.locator('#files-table tr[data-file="hello.txt"]').getByText('not shared').waitFor();
    await bobPage.getByRole('button', { name: 'Refresh the list' }).click();
    await bobPage.waitForFunction(() => !document.querySelector('#peers-table tr[data-peer="alice"]')?.textContent?.includes('hello.txt'));
    await shot(alicePage, 'alice-removed');

    await alicePage.getByRole('button', { name: 'Publish hello.txt' }).click();
    await alicePage.locator('#files-table tr[data-file="hello.txt"]').getByText('published').waitFor();
    await bobPage.getByRole('button', { name: 'Refresh the list' }).click();
    await aliceRow.getByText(/hello\.txt/).waitFor();
    await bobPage.getByRole('button', { name: 'Details of alice' }).click();
    await bobPage.getByRole('heading', { name: 'Peer alice' }).waitFor();
    await bobPage.evaluate(() => window.scrollTo(0, 0));
    await shot(bobPage, 'network', 'network.png');
  });

  await t.test('a refused action shows the server\'s reason next to it', async () => {
    await alicePage.getByLabel('IP address').fill('0.0.0.0');
    await alicePage.getByRole('button', { name: 'Update contact' }).click();
    const msg = alicePage.locator('#contact-msg.error');
    await msg.waitFor();
    assert.match((await msg.textContent())!, /ip "0\.0\.0\.0" is the unspecified address/);
    // A download that cannot start says why, beside its button.
    const aliceHolder = bobPage.locator('#holders-table tr[data-holder="alice"]');
    await aliceHolder.getByRole('button', { name: 'Download movie.bin from alice' }).click();
    await aliceHolder.locator('.msg.error').getByText(/movie\.bin already exists/).waitFor();
    // Every message with the index server is listed as it crosses.
    await bobPage.getByText('Messages with the index server').click();
    await bobPage.getByRole('button', { name: 'Refresh the list' }).click();
    await bobPage.locator('#message-log li', { hasText: '← RETRIEVE rq' }).first().waitFor();
    await bobPage.getByLabel('File name').fill('nothing-here.txt');
    await bobPage.getByLabel('File name').press('Enter');
    await bobPage.locator('#search-msg.error').getByText('nobody shares "nothing-here.txt"').waitFor();
    await shot(alicePage, 'refused');
  });

  await t.test("de-register and register again from alice's page, with the server's answers", async () => {
    await alicePage.getByRole('button', { name: 'De-register' }).click();
    await alicePage.getByText('The server answered DE-REGISTERED').waitFor();
    await alicePage.locator('#st-registration', { hasText: 'unregistered' }).waitFor();
    await bobPage.getByRole('button', { name: 'Refresh the list' }).click();
    await bobPage.waitForFunction(() => !document.querySelector('#peers-table tr[data-peer="alice"]'));
    await alicePage.getByRole('button', { name: 'Register again' }).click();
    await alicePage.getByText('The server answered REGISTERED').waitFor();
    await bobPage.getByRole('button', { name: 'Refresh the list' }).click();
    await bobPage.locator('#peers-table tr[data-peer="alice"]').waitFor();
    await shot(alicePage, 'registered-again');
  });

  await t.test('a file added from the page is published; the page is usable at 360 px and by keyboard', async (st: TestContext) => {
    const page = await open(alice, { width: 360, height: 800 });
    st.after(() => page.close());
    await page.setInputFiles('#upload-file', { name: 'from-the-page.txt', mimeType: 'text/plain', buffer: Buffer.from('uploaded\n') });
    await page.getByRole('button', { name: 'Add and publish' }).click();
    await page.getByText('Added from-the-page.txt (9 B) and published it.').waitFor();
    await page.locator('#files-table tr[data-file="from-the-page.txt"]').getByText('published').waitFor();
    assert.equal(await readFile(join(alice.share, 'from-the-page.txt'), 'utf8'), 'uploaded\n');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 360, `the page is ${width} px wide at a 360 px viewport`);
    // Keyboard: focus the search box, type, Enter; Tab reaches the Download button of a holder.
    await page.getByLabel('File name').focus();
    await page.keyboard.type('bob-notes.txt');
    await page.keyboard.press('Enter');
    await page.getByText('1 peer shares bob-notes.txt.').waitFor();
    let focused = '';
    for (let i = 0; i < 12 && !focused.startsWith('Download bob-notes.txt'); i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent ?? '');
    }
    assert.equal(focused, 'Download bob-notes.txt from bob');
    await page.keyboard.press('Enter');
    await page.locator('#transfers-finished li.finished', { hasText: 'bob-notes.txt' }).waitFor();
    await shot(page, 'narrow-360');
  });
  // Before the testnet's own clean-up closes the index server.
  await slowHolder.close();
});

async function waitPublished(viewer: UiPeer, file: string, holder: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const holders = await viewer.peer.search(file);
    if (holders.some((h) => h.name === holder)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${holder} never published ${file}`);
}
