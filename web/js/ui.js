// DOM rendering: screens, the video grid, the side panels, lobby requests and toasts. No meeting logic:
// main.js decides what is shown, this module only draws it (every text through textContent).

export const $ = (id) => document.getElementById(id);

const SVG_NS = 'http://www.w3.org/2000/svg';
const ICONS = {
  micOff: 'M19 11h-2a5 5 0 0 1-.7 2.55l1.46 1.46A6.96 6.96 0 0 0 19 11zm-4 .16V5a3 3 0 0 0-5.94-.6L15 10.35v.81zM4.27 3 3 4.27l6 6V11a3 3 0 0 0 4.06 2.8l1.5 1.5A5 5 0 0 1 7 11H5a7 7 0 0 0 6 6.93V21h2v-3.07a6.9 6.9 0 0 0 2.98-1.1L19.73 21 21 19.73 4.27 3z',
  hand: 'M21 7a1.5 1.5 0 0 0-3 0v5h-1V4.5a1.5 1.5 0 0 0-3 0V11h-1V3.5a1.5 1.5 0 0 0-3 0V12H9V6.5a1.5 1.5 0 0 0-3 0v9.3l-2.1-2.2a1.5 1.5 0 0 0-2.2 2l4.6 5.2A6 6 0 0 0 10.8 23H15a6 6 0 0 0 6-6V7z',
  screen: 'M20 18a2 2 0 0 0 2-2V6a2 2 0 0 0-2-2H4a2 2 0 0 0-2 2v10a2 2 0 0 0 2 2H0v2h24v-2h-4zM4 16V6h16v10H4z',
};

export function icon(name, className = 'icon') {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', className);
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(SVG_NS, 'path');
  path.setAttribute('d', ICONS[name]);
  svg.append(path);
  return svg;
}

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'className') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

export function initials(name) {
  const words = String(name || '?').trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? words[0][0] + words[words.length - 1][0] : (words[0] ?? '?').slice(0, 2);
  return letters.toUpperCase();
}

/** A stable hue per name, so a participant keeps their colour. */
export function hue(text) {
  let hash = 0;
  for (const char of String(text)) hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  return hash % 360;
}

export function avatar(name, large = false) {
  const node = el('span', { className: large ? 'avatar avatar-large' : 'avatar', text: initials(name) });
  node.style.setProperty('--hue', hue(name));
  return node;
}

// ------------------------------------------------------------------ screens

const SCREENS = ['loading', 'prejoin', 'lobby', 'meeting', 'left', 'error'];

export function showScreen(name) {
  for (const screen of SCREENS) $(`screen-${screen}`).hidden = screen !== name;
  $('app').dataset.screen = name;
}

export function showError({ title, detail, code, retry }) {
  $('error-message').textContent = title;
  $('error-detail').textContent = detail ?? '';
  $('error-code').textContent = code ? `Code: ${code}` : '';
  $('screen-error').dataset.code = code ?? '';
  $('error-retry').hidden = !retry;
  showScreen('error');
}

export function toast(title, detail = '', kind = 'info', timeoutMs = 6000) {
  const node = el('div', { className: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status', 'data-testid': 'toast' },
    el('strong', { text: title }),
    detail ? el('span', { text: detail }) : null);
  $('toasts').append(node);
  setTimeout(() => node.remove(), timeoutMs);
  return node;
}

// ------------------------------------------------------------------ video grid

/** Which simulcast layer a tile of this many device pixels needs (q = 1/4, h = 1/2, f = full width). */
export function layerForWidth(devicePixels) {
  if (devicePixels <= 360) return 0;
  if (devicePixels <= 720) return 1;
  return 2;
}

const ASPECT = 16 / 9;
const GAP = 8;

/**
 * The tiles of people (camera) and shared screens. A tile is keyed by participant and source; its video
 * element is kept across updates so a re-render never restarts playback.
 */
export class Grid {
  constructor(root, { onLayer }) {
    this.root = root;
    this.onLayer = onLayer;
    this.spotlight = el('div', { className: 'spotlight', 'data-testid': 'spotlight' });
    this.people = el('div', { className: 'people' });
    root.append(this.spotlight, this.people);
    this.tiles = new Map();
    this.speaker = null;
    this.resizeObserver = new ResizeObserver(() => this.layout());
    this.resizeObserver.observe(root);
    // The people area changes size on its own when a screen share starts or a panel opens.
    this.resizeObserver.observe(this.people);
  }

  /** entries: [{key, participantId, source, local, name, micMuted, handRaised, isHost, isBot, state, videoTrack, trackId, layers}] */
  update(entries) {
    const seen = new Set();
    for (const entry of entries) {
      seen.add(entry.key);
      let tile = this.tiles.get(entry.key);
      if (!tile) {
        tile = this.createTile(entry);
        this.tiles.set(entry.key, tile);
      }
      this.updateTile(tile, entry);
      // Keep DOM order equal to the entries' order (screens first in the spotlight, then people).
      const parent = entry.source === 'screen' ? this.spotlight : this.people;
      parent.append(tile.node);
    }
    for (const [key, tile] of this.tiles) {
      if (!seen.has(key)) {
        tile.video.srcObject = null;
        tile.node.remove();
        this.tiles.delete(key);
      }
    }
    const presenting = [...this.tiles.values()].some((tile) => tile.source === 'screen');
    this.root.classList.toggle('presenting', presenting);
    this.layout();
  }

  createTile(entry) {
    const video = el('video', { autoplay: true, playsinline: true, 'data-testid': 'tile-video' });
    video.muted = true; // sound plays through the <audio> elements
    const placeholder = el('div', { className: 'tile-placeholder' }, avatar(entry.name, true));
    const muted = el('span', { className: 'tile-muted', 'data-testid': 'muted-indicator', title: 'Microphone off' }, icon('micOff', 'icon icon-small'));
    const name = el('span', { className: 'tile-name', 'data-testid': 'tile-name' });
    const hand = el('span', { className: 'tile-hand', 'data-testid': 'hand-indicator', title: 'Hand raised' }, icon('hand', 'icon icon-small'));
    const speaking = el('span', { className: 'tile-speaking', 'data-testid': 'speaking-indicator', title: 'Speaking' },
      el('i'), el('i'), el('i'));
    const status = el('div', { className: 'tile-status', 'data-testid': 'tile-status' });
    const badge = el('span', { className: 'tile-badge' });
    const screenTile = entry.source === 'screen';
    const node = el('div', {
      className: screenTile ? 'tile tile-screen' : 'tile',
      'data-testid': screenTile ? 'screen-tile' : 'tile',
      'data-participant-id': entry.participantId,
      'data-source': entry.source,
      'data-local': entry.local ? 'true' : 'false',
      'data-video-state': 'none',
    }, video, placeholder, status, el('div', { className: 'tile-footer' }, muted, name, badge, hand), speaking);
    const tile = { node, video, placeholder, muted, name, hand, speaking, status, badge, source: entry.source, track: null, trackId: null, layers: [] };
    const refresh = () => this.refreshVideoState(tile);
    for (const type of ['loadedmetadata', 'playing', 'resize', 'emptied', 'pause']) video.addEventListener(type, refresh);
    return tile;
  }

  updateTile(tile, entry) {
    const { node } = tile;
    node.dataset.participantId = entry.participantId ?? '';
    node.dataset.state = entry.state ?? 'connected';
    node.dataset.host = entry.isHost ? 'true' : 'false';
    node.dataset.bot = entry.isBot ? 'true' : 'false';
    node.dataset.micMuted = entry.micMuted ? 'true' : 'false';
    node.classList.toggle('mirrored', Boolean(entry.local && entry.source === 'camera'));
    tile.name.textContent = entry.label ?? entry.name;
    tile.badge.textContent = entry.isBot ? 'Recorder' : entry.isHost ? 'Host' : '';
    tile.badge.hidden = !entry.isBot && !entry.isHost;
    tile.muted.hidden = !entry.micMuted || entry.source === 'screen';
    tile.hand.hidden = !entry.handRaised || entry.source === 'screen';
    tile.status.textContent = entry.state === 'reconnecting' ? 'Reconnecting…' : '';
    tile.status.hidden = entry.state !== 'reconnecting';
    const placeholderAvatar = tile.placeholder.firstChild;
    if (placeholderAvatar.textContent !== initials(entry.name)) tile.placeholder.replaceChildren(avatar(entry.name, true));

    const track = entry.videoTrack ?? null;
    if (track !== tile.track) {
      tile.track = track;
      tile.video.srcObject = track ? new MediaStream([track]) : null;
      if (track) tile.video.play().catch(() => { /* autoplay of a muted video is always allowed */ });
    }
    tile.placeholder.hidden = Boolean(track);
    tile.video.hidden = !track;
    if (tile.trackId !== entry.trackId) {
      tile.trackId = entry.trackId ?? null;
      tile.layers = entry.layers ?? [];
      tile.lastLayer = undefined;
    }
    this.refreshVideoState(tile);
  }

  refreshVideoState(tile) {
    let state = 'none';
    if (tile.track) state = tile.video.videoWidth > 0 && !tile.video.paused ? 'playing' : 'waiting';
    tile.node.dataset.videoState = state;
  }

  setSpeaker(participantId, levels) {
    this.speaker = participantId;
    const levelOf = new Map((levels ?? []).map((entry) => [entry.participant_id, entry.level]));
    for (const tile of this.tiles.values()) {
      const id = tile.node.dataset.participantId;
      const speaking = tile.source !== 'screen' && id === participantId && participantId !== null;
      tile.node.classList.toggle('speaking', speaking);
      tile.node.dataset.speaking = speaking ? 'true' : 'false';
      tile.speaking.hidden = !speaking;
      tile.node.style.setProperty('--level', String(Math.min(1, levelOf.get(id) ?? 0)));
    }
  }

  /** Sizes tiles to the largest 16:9 rectangles that fit, then asks for the simulcast layer each needs. */
  layout() {
    const presenting = this.root.classList.contains('presenting');
    const container = this.people;
    const count = [...this.tiles.values()].filter((tile) => tile.source !== 'screen').length;
    const width = container.clientWidth;
    const height = container.clientHeight;
    if (count > 0 && width > 0 && height > 0) {
      let best = { area: 0, cols: 1, w: width, h: width / ASPECT };
      for (let cols = 1; cols <= count; cols++) {
        const rows = Math.ceil(count / cols);
        let w = (width - GAP * (cols - 1)) / cols;
        let h = w / ASPECT;
        if (h * rows + GAP * (rows - 1) > height) {
          h = (height - GAP * (rows - 1)) / rows;
          w = h * ASPECT;
        }
        if (w * h > best.area) best = { area: w * h, cols, w, h };
      }
      container.style.setProperty('--cols', String(best.cols));
      container.style.setProperty('--tile-w', `${Math.floor(best.w)}px`);
      container.style.setProperty('--tile-h', `${Math.floor(best.h)}px`);
    }
    this.root.dataset.tiles = String(count);
    this.root.dataset.presenting = presenting ? 'true' : 'false';
    this.requestLayers();
  }

  requestLayers() {
    const ratio = window.devicePixelRatio || 1;
    for (const tile of this.tiles.values()) {
      if (!tile.trackId || tile.node.dataset.local === 'true' || tile.layers.length < 2) continue;
      const width = tile.node.getBoundingClientRect().width * ratio;
      if (width === 0) continue;
      const layer = Math.min(tile.layers.length - 1, tile.source === 'screen' ? 2 : layerForWidth(width));
      if (layer !== tile.lastLayer) {
        tile.lastLayer = layer;
        this.onLayer(tile.trackId, layer);
      }
    }
  }
}

// ------------------------------------------------------------------ remote audio

/** One <audio> element per remote microphone or screen-audio track. */
export class AudioSinks {
  constructor(root) {
    this.root = root;
    this.sinks = new Map();
  }

  update(tracks) {
    const seen = new Set();
    for (const { trackId, track, participantId } of tracks) {
      seen.add(trackId);
      let sink = this.sinks.get(trackId);
      if (sink && sink.track !== track) {
        sink.node.remove();
        sink = null;
      }
      if (!sink) {
        const node = el('audio', { autoplay: true, 'data-testid': 'remote-audio', 'data-participant-id': participantId, 'data-track-id': trackId });
        node.srcObject = new MediaStream([track]);
        this.root.append(node);
        node.play().catch(() => { /* retried on the next click: see resume() */ });
        sink = { node, track };
        this.sinks.set(trackId, sink);
      }
    }
    for (const [trackId, sink] of this.sinks) {
      if (!seen.has(trackId)) {
        sink.node.srcObject = null;
        sink.node.remove();
        this.sinks.delete(trackId);
      }
    }
  }

  /** Browsers may block audio until a user gesture; call from any click. */
  resume() {
    for (const { node } of this.sinks.values()) if (node.paused) node.play().catch(() => {});
  }

  clear() {
    this.update([]);
  }
}

// ------------------------------------------------------------------ panels

export function renderParticipants(list, entries) {
  list.replaceChildren(...entries.map((entry) => el('li', {
    className: 'participant',
    'data-testid': 'participant-item',
    'data-participant-id': entry.participantId,
    'data-hand-raised': entry.handRaised ? 'true' : 'false',
  },
  avatar(entry.name),
  el('span', { className: 'participant-name', 'data-testid': 'participant-name', text: entry.local ? `${entry.name} (You)` : entry.name }),
  entry.isHost ? el('span', { className: 'pill', text: 'Host' }) : null,
  entry.isBot ? el('span', { className: 'pill pill-warning', text: 'Recorder' }) : null,
  entry.state === 'reconnecting' ? el('span', { className: 'pill', text: 'Reconnecting' }) : null,
  entry.handRaised ? el('span', { className: 'participant-hand', 'data-testid': 'hand-raised', title: 'Hand raised' }, icon('hand', 'icon icon-small')) : null,
  entry.micMuted ? el('span', { className: 'participant-muted', 'data-testid': 'participant-muted', title: 'Microphone off' }, icon('micOff', 'icon icon-small')) : null)));
}

export function chatItem(message, mine) {
  const sent = message.sent_at ? new Date(message.sent_at) : null;
  const time = sent && !Number.isNaN(sent.getTime())
    ? el('time', { datetime: message.sent_at, text: sent.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) })
    : null;
  return el('li', {
    className: mine ? 'chat-message mine' : 'chat-message',
    'data-testid': 'chat-message',
    'data-message-id': message.message_id,
    'data-participant-id': message.participant_id,
  },
  el('div', { className: 'chat-meta' }, el('span', { className: 'chat-name', 'data-testid': 'chat-name', text: mine ? 'You' : message.name }), time),
  el('p', { className: 'chat-text', 'data-testid': 'chat-text', text: message.text }));
}

export function renderLobby(container, requests, { onAdmit, onDeny }) {
  container.hidden = requests.length === 0;
  container.replaceChildren(
    el('h2', { text: requests.length === 1 ? 'Someone wants to join' : `${requests.length} people want to join` }),
    el('ul', { className: 'lobby-list', 'data-testid': 'lobby-list' }, ...requests.map((request) => el('li', {
      className: 'lobby-entry',
      'data-testid': 'lobby-entry',
      'data-participant-id': request.participant_id,
    },
    avatar(request.name),
    el('span', { className: 'lobby-name', 'data-testid': 'lobby-name', text: request.name }),
    el('button', { type: 'button', className: 'button small', 'data-testid': 'deny-button', text: 'Deny', onclick: () => onDeny(request.participant_id) }),
    el('button', { type: 'button', className: 'button small primary', 'data-testid': 'admit-button', text: 'Admit', onclick: () => onAdmit(request.participant_id) })))),
  );
}
