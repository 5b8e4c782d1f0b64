// The peer's page: plain DOM, no framework, no external fetch. Every value from the network is
// put on the page with textContent (file and peer names are other people's strings).
const token = document.querySelector('meta[name="p2fs-token"]').content;
const $ = (selector) => document.querySelector(selector);

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
    throw new Error('the peer did not answer: is it still running?');
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const error = new Error(data.error?.message ?? `the peer answered ${res.status}`);
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
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/** Shows a message next to the action it concerns: kind is ok, error or busy. */
function say(node, text, kind = 'ok') {
  node.textContent = text;
  node.className = `msg ${kind}`;
}

/** Runs an action with its button disabled, showing the outcome (or the refusal, in words) beside it. */
async function act(button, msg, busyText, work) {
  button.disabled = true;
  if (busyText) say(msg, busyText, 'busy');
  try {
    const text = await work();
    if (text !== undefined) say(msg, text, 'ok');
  } catch (error) {
    say(msg, error.message, 'error');
  } finally {
    button.disabled = false;
  }
}

const units = ['B', 'kB', 'MB', 'GB', 'TB'];
function bytes(n) {
  if (n === null || n === undefined) return '?';
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 2 : 1)} ${units[i]}`;
}
function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
const shortHash = (hash) => (hash ? `${hash.slice(0, 12)}…` : '—');

// ---- At a glance ----
function renderStatus(status) {
  $('#peer-name').textContent = status.name;
  document.title = `P2FS · ${status.name}`;
  $('#st-server').textContent = status.server;
  const answers = $('#st-answers');
  answers.textContent = status.serverAnswers === true ? 'answers' : status.serverAnswers === false ? 'does not answer' : 'not asked yet';
  answers.className = `badge ${status.serverAnswers === true ? 'ok' : status.serverAnswers === false ? 'bad' : ''}`;
  $('#st-registration').textContent = status.registration;
  const advertised = `${status.contact.ip}:${status.contact.tcpPort}`;
  $('#st-tcp').textContent = advertised === status.tcpAddress ? advertised : `${advertised} (listening on ${status.tcpAddress})`;
  $('#st-shared').textContent = String(status.sharedFiles);
  $('#st-uploads').textContent = String(status.uploads);
  $('#st-downloads').textContent = String(status.downloads);
  $('#share-dir').textContent = status.shareDir ?? '(no share folder)';
  $('#download-dir').textContent = status.downloadDir;
  for (const [id, key] of [['#contact-ip', 'ip'], ['#contact-tcp', 'tcpPort'], ['#contact-udp', 'udpPort']]) {
    const input = $(id);
    if (document.activeElement !== input && !input.dataset.edited) input.placeholder = String(status.contact[key]);
  }
}
async function loadStatus(check) {
  renderStatus(await api('GET', `/api/status${check ? '?check=1' : ''}`));
}
$('#check-server').addEventListener('click', (event) => act(event.currentTarget, $('#check-msg'), 'Asking the index server…', async () => {
  const status = await api('GET', '/api/status?check=1');
  renderStatus(status);
  return status.serverAnswers ? 'The index server answers.' : 'The index server does not answer.';
}));

// ---- My files ----
function renderFiles(files) {
  const body = $('#files-table tbody');
  body.replaceChildren(...files.map((file) => {
    const msg = el('p', { className: 'msg', role: 'status' });
    const button = el('button', { type: 'button', className: file.shared ? 'secondary' : '' }, file.shared ? 'Remove' : 'Publish');
    button.setAttribute('aria-label', `${file.shared ? 'Remove' : 'Publish'} ${file.name}`);
    button.addEventListener('click', () => act(button, msg, file.shared ? 'Removing…' : 'Publishing…', async () => {
      const reply = await api('POST', file.shared ? '/api/files/remove' : '/api/files/publish', { name: file.name });
      renderFiles(reply.files);
      return undefined;
    }));
    return el('tr', { 'data-file': file.name },
      el('td', { className: 'name', 'data-label': 'Name' }, file.name),
      el('td', { 'data-label': 'Size' }, bytes(file.size)),
      el('td', { className: 'hash', title: file.sha256, 'data-label': 'SHA-256' }, shortHash(file.sha256)),
      el('td', { className: file.shared ? 'state-shared' : 'state-unshared', 'data-label': 'State' }, file.shared ? 'published' : 'not shared'),
      el('td', { 'data-label': 'Action' }, button, msg));
  }));
  $('#files-empty').hidden = files.length > 0;
}
async function loadFiles() {
  renderFiles((await api('GET', '/api/files')).files);
}
$('#upload-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $('#upload-file');
  const file = input.files[0];
  const button = event.currentTarget.querySelector('button');
  if (!file) return say($('#upload-msg'), 'Choose a file first.', 'error');
  act(button, $('#upload-msg'), `Adding ${file.name}…`, async () => {
    const reply = await api('POST', `/api/files?name=${encodeURIComponent(file.name)}`, undefined, file);
    renderFiles(reply.files);
    input.value = '';
    return `Added ${reply.added} (${bytes(reply.size)}) and published it.`;
  });
});

// ---- Network ----
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
      el('td', { 'data-label': 'Address' }, `${peer.ip}:${peer.tcpPort}`),
      el('td', { className: 'name', 'data-label': 'Files' }, `${peer.files.length}: ${files}`),
      el('td', { 'data-label': 'Details' }, button));
  }));
  say($('#network-msg'), `${reply.peers.length} peer${reply.peers.length === 1 ? '' : 's'} registered · ${new Date().toLocaleTimeString()}`);
}
async function showPeer(name, button) {
  const box = $('#peer-details');
  box.hidden = false;
  await act(button, $('#network-msg'), `Asking about ${name}…`, async () => {
    const { peer } = await api('GET', `/api/peers/${encodeURIComponent(name)}`);
    box.replaceChildren(
      el('h3', { tabIndex: -1 }, `Peer ${peer.name}`),
      el('p', {}, `Address ${peer.ip}, TCP port ${peer.tcpPort}; ${peer.files.length} file${peer.files.length === 1 ? '' : 's'}:`),
      el('ul', {}, ...peer.files.map((f) => el('li', {}, `${f.name} — ${bytes(f.size)} — ${shortHash(f.sha256)}`))));
    box.querySelector('h3').focus();
    return `Details of ${peer.name} below.`;
  });
}
$('#refresh-peers').addEventListener('click', (event) => act(event.currentTarget, $('#network-msg'), 'Asking the index server…', async () => {
  await loadPeers();
  return undefined;
}));

// ---- Search and download ----
$('#search-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const file = $('#search-file').value.trim();
  const button = event.currentTarget.querySelector('button');
  act(button, $('#search-msg'), `Searching for ${file}…`, async () => {
    let reply;
    try {
      reply = await api('GET', `/api/search?file=${encodeURIComponent(file)}`);
    } catch (error) {
      // SEARCH-ERROR (nobody shares the file, among others): no holders, and the server's reason.
      renderHolders({ file, holders: [], self: '' });
      throw error;
    }
    renderHolders(reply);
    const others = reply.holders.filter((h) => h.name !== reply.self).length;
    return reply.holders.length === 0 ? `Nobody shares ${reply.file}.` : `${reply.holders.length} peer${reply.holders.length === 1 ? '' : 's'} share${reply.holders.length === 1 ? 's' : ''} ${reply.file}${others === 0 ? ' (only this peer)' : ''}.`;
  });
});
function renderHolders({ file, holders, self: me }) {
  const table = $('#holders-table');
  table.hidden = holders.length === 0;
  table.querySelector('tbody').replaceChildren(...holders.map((holder) => {
    const msg = el('p', { className: 'msg', role: 'status' });
    const button = el('button', { type: 'button', disabled: holder.name === me }, 'Download');
    button.setAttribute('aria-label', `Download ${file} from ${holder.name}`);
    button.addEventListener('click', () => act(button, msg, 'Starting…', async () => {
      const reply = await api('POST', '/api/downloads', { file, from: holder.name });
      return `Started from ${reply.download.holder}.`;
    }));
    return el('tr', { 'data-holder': holder.name },
      el('td', { className: 'name', 'data-label': 'Peer' }, holder.name === me ? `${holder.name} (this peer)` : holder.name),
      el('td', { 'data-label': 'Address' }, `${holder.ip}:${holder.tcpPort}`),
      el('td', { 'data-label': 'Size' }, bytes(holder.size)),
      el('td', { className: 'hash', title: holder.sha256 ?? '', 'data-label': 'SHA-256' }, shortHash(holder.sha256)),
      el('td', { 'data-label': 'Download' }, button, msg));
  }));
}

const transfers = new Map();
const announced = new Map();
function percent(view) {
  if (view.state === 'finished') return 100;
  return view.totalBytes ? Math.floor((view.bytes / view.totalBytes) * 100) : 0;
}
/** `alice`, `3 holders: alice, bob, carol` while running, or `alice (1.2 MB), bob (800 kB)` when done. */
function fromWhom(view) {
  if (view.bytesByHolder && Object.keys(view.bytesByHolder).length > 1) {
    return Object.entries(view.bytesByHolder).sort((a, b) => b[1] - a[1]).map(([name, n]) => `${name} (${bytes(n)})`).join(', ');
  }
  if (view.holders && view.holders.length > 1) return `${view.holders.length} holders: ${view.holders.join(', ')}`;
  return view.holder;
}
function droppedNotes(view) {
  return (view.dropped ?? []).map((d) => el('p', { className: 'msg error' }, `${d.holder} was dropped: ${d.reason}`));
}
function transferItem(view) {
  const pct = percent(view);
  if (view.state === 'running') {
    const bar = el('progress', { max: 100, value: pct });
    bar.setAttribute('aria-label', `Download of ${view.file}`);
    return el('li', { 'data-transfer': view.id, className: 'running' },
      el('strong', {}, view.file), ` from ${fromWhom(view)}`, bar,
      el('div', { className: 'figures' },
        el('span', { className: 'pct' }, `${pct} %`),
        ` · ${bytes(view.bytes)} of ${bytes(view.totalBytes)} · ${bytes(view.rate)}/s · ${duration(view.secondsLeft)} left`),
      ...droppedNotes(view));
  }
  if (view.state === 'finished') {
    return el('li', { 'data-transfer': view.id, className: 'finished' },
      el('a', { href: view.url, target: '_blank', rel: 'noopener noreferrer' }, `Open ${view.file}`),
      el('div', { className: 'figures' }, el('span', { className: 'pct' }, '100 %'),
        ` · ${bytes(view.totalBytes)} from ${fromWhom(view)} · SHA-256 verified ${shortHash(view.sha256)}`),
      ...droppedNotes(view));
  }
  return el('li', { 'data-transfer': view.id, className: 'failed' },
    el('strong', {}, `${view.file}: download failed`),
    el('p', { className: 'msg error', role: 'alert' }, view.error?.message ?? 'unknown error'));
}
function renderTransfers() {
  const views = [...transfers.values()].sort((a, b) => b.id - a.id);
  const running = views.filter((v) => v.state === 'running');
  $('#transfers-running').replaceChildren(...running.map(transferItem));
  $('#transfers-none').hidden = running.length > 0;
  $('#transfers-finished').replaceChildren(...views.filter((v) => v.state !== 'running').map(transferItem));
}
/** Screen readers hear a download's start, each quarter, and its end: not every progress tick. */
function announce(view) {
  const step = view.state === 'running' ? Math.floor(percent(view) / 25) : view.state;
  if (announced.get(view.id) === step) return;
  announced.set(view.id, step);
  $('#transfer-announce').textContent = view.state === 'finished' ? `${view.file} downloaded.`
    : view.state === 'failed' ? `Download of ${view.file} failed: ${view.error?.message}`
      : `Downloading ${view.file}: ${percent(view)} %`;
}
function onTransfer(view) {
  transfers.set(view.id, view);
  announce(view);
  renderTransfers();
}
async function loadTransfers() {
  const reply = await api('GET', '/api/downloads');
  for (const view of [...reply.finished, ...reply.running]) transfers.set(view.id, view);
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
  act(form.querySelector('button'), $('#contact-msg'), 'Sending UPDATE-CONTACT…', async () => {
    const reply = await api('POST', '/api/contact', body);
    for (const input of form.querySelectorAll('input')) { input.value = ''; delete input.dataset.edited; }
    await loadStatus();
    const c = reply.contact;
    return `The server answered ${reply.answer}: ${c.name} at ${c.ip}, TCP ${c.tcpPort}, UDP ${c.udpPort}.`;
  });
});
$('#deregister').addEventListener('click', (event) => act(event.currentTarget, $('#registration-msg'), 'Sending DE-REGISTER…', async () => {
  const reply = await api('POST', '/api/deregister', {});
  await loadStatus();
  return `The server answered ${reply.answer}: this peer and its files are no longer listed.`;
}));
$('#register').addEventListener('click', (event) => act(event.currentTarget, $('#registration-msg'), 'Sending REGISTER…', async () => {
  const reply = await api('POST', '/api/register', {});
  await loadStatus();
  return `The server answered ${reply.answer}; the share is published again.`;
}));

// ---- Messages with the index server ----
const MESSAGE_LOG_SIZE = 50;
function logMessage(m) {
  const arrow = m.direction === 'sent' ? '→' : '←';
  const extra = [m.attempt ? `try ${m.attempt}` : '', m.reason ? `"${m.reason}"` : '', m.ignored ? `ignored: ${m.ignored}` : ''].filter(Boolean).join(' · ');
  const item = el('li', {}, el('time', {}, new Date().toLocaleTimeString()), ` ${arrow} ${m.type} rq ${m.rq ?? '—'}${extra ? ` · ${extra}` : ''}`);
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

/** The index server tells nobody when other peers change: the network list is asked again now and then. */
const NETWORK_REFRESH_MS = 10_000;

async function start() {
  const failures = [];
  const attempt = (promise, where) => promise.catch((error) => { failures.push(error); say(where, error.message, 'error'); });
  await Promise.all([
    attempt(loadStatus(), $('#check-msg')),
    attempt(loadFiles(), $('#upload-msg')),
    attempt(loadPeers(), $('#network-msg')),
    attempt(loadTransfers(), $('#search-msg')),
  ]);
  connect();
  setInterval(() => {
    if (document.visibilityState === 'visible') loadPeers().catch((error) => say($('#network-msg'), error.message, 'error'));
  }, NETWORK_REFRESH_MS);
  document.body.dataset.ready = failures.length === 0 ? 'yes' : 'with-errors';
}
start();
