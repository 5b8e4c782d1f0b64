// The peer's page: plain DOM, no framework, no external fetch. Every value from the network is
// put on the page with textContent (file and peer names are other people's strings).
import { formatSize } from './size.js';

const token = document.querySelector('meta[name="p2fs-token"]').content;
const $ = (selector) => document.querySelector(selector);

/** Errors that mean the index server is silent: shown in red with a Retry. */
const SILENT = new Set(['SERVER_SILENT', 'TIMEOUT']);

/** Calls the peer's API; rejects with the API's `{error: {code, message}}` as an Error. */
async function api(method, path, body, raw) {
  const headers = { 'x-p2fs-token': token };
  let payload;
  if (raw !== undefined) {
    headers['content-type'] = 'application/octet-stream';
    payload = raw;
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload });
  } catch {
    throw new Error('This peer does not answer: is it still running?');
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const error = new Error(data.error?.message ?? `This peer answered with an error (${res.status}).`);
    error.code = data.error?.code;
    throw error;
  }
  return data;
}

/** Builds an element: el('td', {className: 'x'}, 'text', child…). */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'role' || key.startsWith('aria-') || key.startsWith('data-')) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}

/** A number or an address that must never break across lines. */
const whole = (text) => el('span', { className: 'nowrap' }, text);

/** Shows a message next to the action it concerns: kind is ok, error or busy; `retry` adds a Retry button. */
function say(node, text, kind = 'ok', retry) {
  node.className = `msg ${kind}`;
  node.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  const parts = [el('span', { className: 'text' }, text)];
  if (retry) {
    const again = el('button', { type: 'button', className: 'retry' }, 'Retry');
    again.addEventListener('click', retry);
    parts.push(again);
  }
  node.replaceChildren(...parts);
}

/**
 * Runs an action with its button disabled, showing the outcome (or the refusal, in plain words)
 * beside it. A silent index server is said within 2 s (the API's deadline), with a Retry.
 */
async function act(button, msg, busyText, work) {
  const run = async () => {
    if (button) button.disabled = true;
    if (busyText) say(msg, busyText, 'busy');
    try {
      const text = await work();
      if (text !== undefined) say(msg, text, 'ok');
      else if (msg.classList.contains('busy')) say(msg, '', 'ok');
    } catch (error) {
      say(msg, error.message, 'error', SILENT.has(error.code) ? run : undefined);
      if (SILENT.has(error.code)) markServerSilent();
    } finally {
      if (button) button.disabled = false;
    }
  };
  return run();
}

function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

// ---- At a glance ----
function renderStatus(status) {
  $('#peer-name').textContent = status.name;
  document.title = `P2FS · ${status.name}`;
  $('#st-server').textContent = status.server;
  showAnswers(status.serverAnswers);
  $('#st-registration').textContent = status.registration;
  const advertised = `${status.contact.ip}:${status.contact.tcpPort}`;
  $('#st-tcp').replaceChildren(whole(advertised), ...(advertised === status.tcpAddress ? [] : [' (listening on ', whole(status.tcpAddress), ')']));
  $('#st-shared').replaceChildren(whole(String(status.sharedFiles)));
  $('#st-uploads').replaceChildren(whole(String(status.uploads)));
  $('#st-downloads').replaceChildren(whole(String(status.downloads)));
  $('#share-dir').textContent = status.shareDir ?? '(no share folder)';
  $('#download-dir').textContent = status.downloadDir;
  for (const [id, key] of [['#contact-ip', 'ip'], ['#contact-tcp', 'tcpPort'], ['#contact-udp', 'udpPort']]) {
    const input = $(id);
    if (document.activeElement !== input && !input.dataset.edited) input.placeholder = String(status.contact[key]);
  }
}
/** Set when a request found the index server silent; cleared when it is heard again. */
let serverSilent = false;
function showAnswers(reported) {
  if (reported === true) serverSilent = false;
  const answers = reported ?? (serverSilent ? false : null);
  const badge = $('#st-answers');
  badge.textContent = answers === true ? 'answers' : answers === false ? 'does not answer' : 'not asked yet';
  badge.className = `badge ${answers === true ? 'ok' : answers === false ? 'bad' : ''}`;
}
function markServerSilent() {
  serverSilent = true;
  showAnswers(false);
}
async function loadStatus(check) {
  renderStatus(await api('GET', `/api/status${check ? '?check=1' : ''}`));
}
$('#check-server').addEventListener('click', (event) => act(event.currentTarget, $('#check-msg'), 'Asking the index server…', async () => {
  const status = await api('GET', '/api/status?check=1');
  renderStatus(status);
  if (!status.serverAnswers) {
    const error = new Error(`The index server (${status.server}) does not answer. Check that it is running and reachable, then retry.`);
    error.code = 'SERVER_SILENT';
    throw error;
  }
  return 'The index server answers.';
}));

// ---- Downloads, from wherever a file is listed ----
/** A Download button for `file` (from `holder` only, if given), with its message beside it. */
function downloadButton(file, holder, label = 'Download') {
  const msg = el('div', { className: 'msg', role: 'status' });
  const button = el('button', { type: 'button' }, label);
  button.setAttribute('aria-label', holder ? `Download ${file} from ${holder}` : `Download ${file}`);
  button.addEventListener('click', () => act(button, msg, 'Starting…', async () => {
    const reply = await api('POST', '/api/downloads', holder ? { file, from: holder } : { file });
    return `Downloading from ${reply.download.holder}.`;
  }));
  return el('div', { className: 'action' }, button, msg);
}

// ---- Find files (SEARCH-WORDS) ----
$('#find-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const words = $('#find-words').value.trim();
  if (words === '') return;
  const button = event.currentTarget.querySelector('button');
  act(button, $('#find-msg'), `Looking for ${words}…`, async () => {
    let reply;
    try {
      reply = await api('GET', `/api/words?q=${encodeURIComponent(words)}`);
    } catch (error) {
      $('#find-results').replaceChildren();
      throw error;
    }
    renderFound(reply);
    return reply.files.length === 0
      ? `No shared file has every word of “${reply.words}” in its name.`
      : `${plural(reply.files.length, 'file')} found, best match first.`;
  });
});
function renderFound({ files }) {
  $('#find-results').replaceChildren(...files.map((file) => el('li', { 'data-file': file.name },
    el('div', { className: 'what' },
      el('strong', { className: 'name' }, file.name),
      el('span', { className: 'facts' }, whole(plural(file.holders, 'peer')), ' · ', whole(formatSize(file.size)))),
    downloadButton(file.name))));
}

// ---- All files on the network ----
const everything = { sort: 'name', order: 'asc', page: 1, pages: 1 };
async function loadEverything() {
  const { sort, order, page } = everything;
  const reply = await api('GET', `/api/network-files?sort=${sort}&order=${order}&page=${page}`);
  Object.assign(everything, { page: reply.page, pages: reply.pages });
  $('#everything-table tbody').replaceChildren(...reply.files.map((file) => el('tr', { 'data-file': file.name },
    el('td', { className: 'name', 'data-label': 'Name' }, file.name),
    el('td', { className: 'num', 'data-label': 'Size' }, whole(formatSize(file.size))),
    el('td', { className: 'num', 'data-label': 'Peers', title: file.holders.join(', ') }, whole(String(file.holders.length))),
    el('td', { 'data-label': 'Download' }, file.holders.every((h) => h === reply.self) ? el('span', { className: 'hint' }, 'yours') : downloadButton(file.name)))));
  $('#everything-empty').hidden = reply.total > 0;
  $('#page-where').textContent = `Page ${reply.page} of ${reply.pages}`;
  $('#page-prev').disabled = reply.page <= 1;
  $('#page-next').disabled = reply.page >= reply.pages;
  for (const th of document.querySelectorAll('#everything-table th[data-sort]')) {
    th.setAttribute('aria-sort', th.dataset.sort === sort ? (order === 'asc' ? 'ascending' : 'descending') : 'none');
  }
  say($('#everything-msg'), `${plural(reply.total, 'file')} · ${new Date().toLocaleTimeString()}`);
}
const refreshEverything = (button) => act(button, $('#everything-msg'), 'Asking the index server…', loadEverything);
for (const th of document.querySelectorAll('#everything-table th[data-sort]')) {
  th.querySelector('button').addEventListener('click', (event) => {
    const key = th.dataset.sort;
    everything.order = everything.sort === key && everything.order === 'asc' ? 'desc' : 'asc';
    everything.sort = key;
    everything.page = 1;
    refreshEverything(event.currentTarget);
  });
}
$('#page-prev').addEventListener('click', (event) => {
  everything.page = Math.max(1, everything.page - 1);
  refreshEverything(event.currentTarget);
});
$('#page-next').addEventListener('click', (event) => {
  everything.page = Math.min(everything.pages, everything.page + 1);
  refreshEverything(event.currentTarget);
});
$('#refresh-everything').addEventListener('click', (event) => refreshEverything(event.currentTarget));

// ---- My files ----
function renderFiles(files) {
  const body = $('#files-table tbody');
  body.replaceChildren(...files.map((file) => {
    const msg = el('div', { className: 'msg', role: 'status' });
    const button = el('button', { type: 'button', className: file.shared ? 'secondary' : '' }, file.shared ? 'Stop sharing' : 'Share');
    button.setAttribute('aria-label', `${file.shared ? 'Stop sharing' : 'Share'} ${file.name}`);
    button.addEventListener('click', () => act(button, msg, file.shared ? 'Removing…' : 'Publishing…', async () => {
      const reply = await api('POST', file.shared ? '/api/files/remove' : '/api/files/publish', { name: file.name });
      renderFiles(reply.files);
      return undefined;
    }));
    return el('tr', { 'data-file': file.name },
      el('td', { className: 'name', 'data-label': 'Name' }, file.name),
      el('td', { className: 'num', 'data-label': 'Size' }, whole(formatSize(file.size))),
      el('td', { className: file.shared ? 'state-shared' : 'state-unshared', 'data-label': 'State' }, file.shared ? 'shared' : 'not shared'),
      el('td', { 'data-label': 'Action' }, el('div', { className: 'action' }, button, msg)));
  }));
  $('#files-empty').hidden = files.length > 0;
}
async function loadFiles() {
  renderFiles((await api('GET', '/api/files')).files);
}
/** Adds files to the share, one after the other, each published as soon as it is there. */
function upload(files, button) {
  const list = [...files];
  if (list.length === 0) return say($('#upload-msg'), 'Choose a file first.', 'error');
  return act(button, $('#upload-msg'), `Adding ${list.map((f) => f.name).join(', ')}…`, async () => {
    const added = [];
    for (const file of list) {
      const reply = await api('POST', `/api/files?name=${encodeURIComponent(file.name)}`, undefined, file);
      renderFiles(reply.files);
      added.push(`${reply.added} (${formatSize(reply.size)})`);
    }
    $('#upload-file').value = '';
    return `Added ${added.join(', ')} and shared ${list.length === 1 ? 'it' : 'them'}.`;
  });
}
$('#upload-form').addEventListener('submit', (event) => {
  event.preventDefault();
  upload($('#upload-file').files, event.currentTarget.querySelector('button[type=submit]'));
});
const drop = $('#upload-form');
for (const type of ['dragenter', 'dragover']) {
  drop.addEventListener(type, (event) => {
    if (![...(event.dataTransfer?.types ?? [])].includes('Files')) return;
    event.preventDefault();
    drop.classList.add('over');
  });
}
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (event) => {
  event.preventDefault();
  drop.classList.remove('over');
  upload(event.dataTransfer.files, drop.querySelector('button[type=submit]'));
});

// ---- Peers ----
async function loadPeers() {
  const reply = await api('GET', '/api/peers');
  const body = $('#peers-table tbody');
  body.replaceChildren(...reply.peers.map((peer) => {
    const button = el('button', { type: 'button', className: 'secondary' }, 'Details');
    button.setAttribute('aria-label', `Details of ${peer.name}`);
    button.addEventListener('click', () => showPeer(peer.name, button));
    const files = peer.files.length === 0 ? 'none' : peer.files.map((f) => f.name).join(', ');
    return el('tr', { 'data-peer': peer.name },
      el('td', { className: 'name', 'data-label': 'Peer' }, peer.name === reply.self ? `${peer.name} (this peer)` : peer.name),
      el('td', { 'data-label': 'Address' }, whole(`${peer.ip}:${peer.tcpPort}`)),
      el('td', { className: 'name', 'data-label': 'Files' }, whole(`${peer.files.length}:`), ` ${files}`),
      el('td', { 'data-label': 'Details' }, button));
  }));
  say($('#network-msg'), `${plural(reply.peers.length, 'peer')} registered · ${new Date().toLocaleTimeString()}`);
}
async function showPeer(name, button) {
  const box = $('#peer-details');
  await act(button, $('#network-msg'), `Asking about ${name}…`, async () => {
    const { peer, self } = await api('GET', `/api/peers/${encodeURIComponent(name)}`);
    box.hidden = false;
    box.replaceChildren(
      el('h3', { tabIndex: -1 }, `Peer ${peer.name}`),
      el('p', {}, 'Address ', whole(peer.ip), ', TCP port ', whole(String(peer.tcpPort)), `; ${plural(peer.files.length, 'file')}:`),
      el('ul', { className: 'results' }, ...peer.files.map((f) => el('li', { 'data-file': f.name },
        el('div', { className: 'what' }, el('strong', { className: 'name' }, f.name), el('span', { className: 'facts' }, whole(formatSize(f.size)))),
        peer.name === self ? el('span', { className: 'hint' }, 'yours') : downloadButton(f.name, peer.name)))));
    box.querySelector('h3').focus();
    return `Details of ${peer.name} below.`;
  });
}
$('#refresh-peers').addEventListener('click', (event) => act(event.currentTarget, $('#network-msg'), 'Asking the index server…', loadPeers));

// ---- Transfers ----
const transfers = new Map();
const announced = new Map();
function percent(view) {
  if (view.state === 'finished') return 100;
  return view.totalBytes ? Math.floor((view.bytes / view.totalBytes) * 100) : 0;
}
/** `alice`, `3 holders: alice, bob, carol` while running, or `alice (1.2 MB), bob (800 kB)` when done. */
function fromWhom(view) {
  if (view.bytesByHolder && Object.keys(view.bytesByHolder).length > 1) {
    return Object.entries(view.bytesByHolder).sort((a, b) => b[1] - a[1]).map(([name, n]) => `${name} (${formatSize(n)})`).join(', ');
  }
  if (view.holders && view.holders.length > 1) return `${view.holders.length} holders: ${view.holders.join(', ')}`;
  return view.holder;
}
function droppedNotes(view) {
  return (view.dropped ?? []).map((d) => el('p', { className: 'msg error' }, `${d.holder} was dropped: ${d.reason}`));
}
/** A button acting on a download of `file`: pause, resume or cancel. */
function controlButton(action, label, view, className = 'secondary') {
  const button = el('button', { type: 'button', className }, label);
  button.setAttribute('aria-label', `${label} ${view.file}`);
  button.addEventListener('click', (event) => {
    const msg = event.currentTarget.closest('li').querySelector('.msg');
    act(button, msg, `${label}…`, async () => {
      await api('POST', `/api/downloads/${action}`, { file: view.file });
      return undefined;
    });
  });
  return button;
}
function figures(view, ...parts) {
  return el('div', { className: 'figures' }, el('span', { className: 'pct nowrap' }, `${percent(view)} %`), ...parts);
}
function transferItem(view) {
  const msg = el('div', { className: 'msg', role: 'status' });
  const amount = [' · ', whole(formatSize(view.bytes)), ' of ', whole(formatSize(view.totalBytes))];
  if (view.state === 'running') {
    const bar = el('progress', { max: 100, value: percent(view) });
    bar.setAttribute('aria-label', `Download of ${view.file}`);
    return el('li', { 'data-transfer': view.id, className: 'running' },
      el('strong', { className: 'name' }, view.file), ` from ${fromWhom(view)}`, bar,
      figures(view, ...amount, ' · ', whole(`${formatSize(view.rate)}/s`), ' · ', whole(`${duration(view.secondsLeft)} left`)),
      el('div', { className: 'row' }, controlButton('pause', 'Pause', view), controlButton('cancel', 'Cancel', view, 'danger')), ...droppedNotes(view), msg);
  }
  if (view.state === 'paused') {
    const bar = el('progress', { max: 100, value: percent(view) });
    bar.setAttribute('aria-label', `Download of ${view.file} (paused)`);
    return el('li', { 'data-transfer': view.id, className: 'paused' },
      el('strong', { className: 'name' }, view.file), ' · paused', bar, figures(view, ...amount),
      el('div', { className: 'row' }, controlButton('resume', 'Resume', view, ''), controlButton('cancel', 'Cancel', view, 'danger')), msg);
  }
  if (view.state === 'finished') {
    return el('li', { 'data-transfer': view.id, className: 'finished' },
      el('a', { href: view.url, target: '_blank', rel: 'noopener noreferrer', className: 'name' }, `Open ${view.file}`),
      figures(view, ' · ', whole(formatSize(view.totalBytes)), ` from ${fromWhom(view)} · checked, complete`), ...droppedNotes(view));
  }
  if (view.state === 'cancelled') {
    return el('li', { 'data-transfer': view.id, className: 'cancelled' }, el('strong', { className: 'name' }, view.file), ' · cancelled');
  }
  return el('li', { 'data-transfer': view.id, className: 'failed' },
    el('strong', { className: 'name' }, `${view.file}: download failed`),
    el('div', { className: 'msg error', role: 'alert' }, view.error?.message ?? 'Something went wrong.'));
}
function renderTransfers() {
  const views = [...transfers.values()].sort((a, b) => b.id - a.id);
  const active = views.filter((v) => v.state === 'running' || v.state === 'paused');
  $('#transfers-running').replaceChildren(...active.map(transferItem));
  $('#transfers-none').hidden = active.length > 0;
  $('#transfers-finished').replaceChildren(...views.filter((v) => !active.includes(v)).map(transferItem));
}
/** Screen readers hear a download's start, each quarter, and its end: not every progress tick. */
function announce(view) {
  const step = view.state === 'running' ? Math.floor(percent(view) / 25) : view.state;
  if (announced.get(view.id) === step) return;
  announced.set(view.id, step);
  $('#transfer-announce').textContent = view.state === 'finished' ? `${view.file} downloaded.`
    : view.state === 'failed' ? `Download of ${view.file} failed: ${view.error?.message}`
      : view.state === 'paused' ? `Download of ${view.file} paused.`
        : view.state === 'cancelled' ? `Download of ${view.file} cancelled.`
          : `Downloading ${view.file}: ${percent(view)} %`;
}
function onTransfer(view) {
  // A resumed download is a new one: it takes the paused one's place.
  if (view.state === 'running') for (const [id, old] of transfers) if (old.file === view.file && old.state === 'paused' && id !== view.id) transfers.delete(id);
  transfers.set(view.id, view);
  announce(view);
  renderTransfers();
}
async function loadTransfers() {
  const reply = await api('GET', '/api/downloads');
  for (const view of [...reply.finished, ...reply.paused, ...reply.running]) transfers.set(view.id, view);
  renderTransfers();
}

// ---- Settings ----
$('#contact-form').addEventListener('input', (event) => { event.target.dataset.edited = '1'; });
$('#contact-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const body = {};
  for (const key of ['ip', 'tcpPort', 'udpPort']) {
    const value = form.elements[key].value.trim();
    if (value !== '') body[key] = key === 'ip' ? value : Number(value);
  }
  act(form.querySelector('button'), $('#contact-msg'), 'Telling the index server…', async () => {
    const reply = await api('POST', '/api/contact', body);
    for (const input of form.querySelectorAll('input')) { input.value = ''; delete input.dataset.edited; }
    await loadStatus();
    const c = reply.contact;
    return `Updated: other peers now reach ${c.name} at ${c.ip}, TCP port ${c.tcpPort}, UDP port ${c.udpPort}.`;
  });
});
$('#deregister').addEventListener('click', (event) => act(event.currentTarget, $('#registration-msg'), 'Leaving…', async () => {
  await api('POST', '/api/deregister', {});
  await loadStatus();
  return 'This peer has left the network: its files are no longer listed.';
}));
$('#register').addEventListener('click', (event) => act(event.currentTarget, $('#registration-msg'), 'Joining…', async () => {
  await api('POST', '/api/register', {});
  await loadStatus();
  return 'This peer is back on the network; its shared files are listed again.';
}));

// ---- Messages with the index server ----
const MESSAGE_LOG_SIZE = 50;
function logMessage(m) {
  const arrow = m.direction === 'sent' ? '→' : '←';
  const extra = [m.attempt ? `try ${m.attempt}` : '', m.reason ? `"${m.reason}"` : '', m.ignored ? `ignored: ${m.ignored}` : ''].filter(Boolean).join(' · ');
  const item = el('li', {}, el('time', { className: 'nowrap' }, new Date().toLocaleTimeString()), ` ${arrow} ${m.type} `,
    whole(`rq ${m.rq ?? '—'}`), extra ? ` · ${extra}` : '');
  const log = $('#message-log');
  log.prepend(item);
  while (log.children.length > MESSAGE_LOG_SIZE) log.lastElementChild.remove();
}

// ---- Live updates ----
function connect() {
  const source = new EventSource(`/api/events?token=${encodeURIComponent(token)}`);
  source.addEventListener('open', () => { $('#live').textContent = 'Live: updates arrive without reloading.'; });
  source.addEventListener('error', () => { $('#live').textContent = 'Live updates interrupted; reconnecting…'; });
  source.addEventListener('status', (event) => renderStatus(JSON.parse(event.data)));
  source.addEventListener('share', (event) => {
    renderFiles(JSON.parse(event.data).files);
    loadPeers().catch((error) => say($('#network-msg'), error.message, 'error')); // our own row changed
  });
  source.addEventListener('download', (event) => onTransfer(JSON.parse(event.data)));
  source.addEventListener('message', (event) => logMessage(JSON.parse(event.data)));
  source.addEventListener('registration', (event) => {
    const change = JSON.parse(event.data);
    $('#st-registration').textContent = change.state;
    if (change.reason) say($('#registration-msg'), change.reason, change.state === 'registered' ? 'ok' : 'error');
  });
}

/** The index server tells nobody when other peers change: the lists are asked again now and then. */
const NETWORK_REFRESH_MS = 10_000;

async function start() {
  const failures = [];
  const attempt = (promise, where, retry) => promise.catch((error) => {
    failures.push(error);
    say(where, error.message, 'error', SILENT.has(error.code) ? retry : undefined);
    if (SILENT.has(error.code)) markServerSilent();
  });
  await Promise.all([
    attempt(loadStatus(), $('#check-msg')),
    attempt(loadFiles(), $('#upload-msg')),
    attempt(loadPeers(), $('#network-msg'), () => act($('#refresh-peers'), $('#network-msg'), 'Asking the index server…', loadPeers)),
    attempt(loadEverything(), $('#everything-msg'), () => refreshEverything($('#refresh-everything'))),
    attempt(loadTransfers(), $('#find-msg')),
  ]);
  connect();
  setInterval(() => {
    if (document.visibilityState !== 'visible') return;
    loadPeers().catch(() => {});
    loadEverything().catch(() => {});
  }, NETWORK_REFRESH_MS);
  document.body.dataset.ready = failures.length === 0 ? 'yes' : 'with-errors';
}
start();
