// The signaling WebSocket of docs/signaling.md (protocol version 1): one JSON text frame per message,
// requests carry a numeric `id` that the reply (or the `error` it caused) repeats.
//
// SignalingClient owns the socket's whole life: the first `join`, the lobby, and reconnecting after a drop
// with the `resume_token` from `joined` (the server keeps the participant for 30 s in state
// `reconnecting`); after that, or on RESUME_EXPIRED, it joins afresh and tells the app to rebuild media.
//
// Events (CustomEvent, detail in parentheses):
//   state        ({ state })  connecting | joining | lobby | joined | reconnecting | closed
//   joined       ({ message, resumed, fresh })   fresh: a new participant (the media must be rebuilt)
//   lobby        ({ message })
//   message      ({ message }) every other server message (participant_*, chat, subscribe_offer, ...)
//   fatal        ({ code, message, reason })  the session is over (error screen); no reconnect follows
//   notice       ({ code, message, id })   a non-fatal `error` (RATE_LIMITED, FORBIDDEN, ...)

export const PROTOCOL_VERSION = 1;

/** Codes that end the session when they answer `join` (or arrive at any time, for REPLACED). */
const JOIN_REFUSALS = new Set([
  'INVALID_TOKEN', 'TOKEN_EXPIRED', 'MEETING_NOT_FOUND', 'MEETING_CLOSED', 'ROOM_FULL', 'LOBBY_DENIED',
  'UNSUPPORTED_VERSION', 'INTERNAL_ERROR', 'INVALID_MESSAGE', 'ALREADY_JOINED',
]);

/** The server keeps a dropped participant this long (docs/signaling.md, Reconnecting). */
const RESUME_WINDOW_MS = 30_000;
const PING_INTERVAL_MS = 10_000;
const PING_TIMEOUT_MS = 8_000;
const REQUEST_TIMEOUT_MS = 15_000;
const FIRST_CONNECT_ATTEMPTS = 4;

export class SignalingError extends Error {
  constructor(code, message) {
    super(message || code);
    this.name = 'SignalingError';
    this.code = code;
  }
}

export function signalingUrl(location = window.location) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/rtc/ws`;
}

export class SignalingClient extends EventTarget {
  /**
   * @param {object} options
   * @param {string} options.url            ws(s)://host/rtc/ws
   * @param {string} options.token          the join token
   * @param {(() => Promise<string|null>)?} options.refreshToken  a new token when the current one expired
   *        (guest tokens can be minted again; a token from the link cannot)
   */
  constructor({ url, token, refreshToken = null }) {
    super();
    this.url = url;
    this.token = token;
    this.refreshToken = refreshToken;
    this.state = 'idle';
    this.participantId = null;
    this.resumeToken = null;
    this.ws = null;
    this.nextId = 1;
    this.pending = new Map();
    this.pingTimer = null;
    this.reconnectTimer = null;
    this.dropAt = 0;
    this.attempt = 0;
    this.everJoined = false;
    this.refreshedOnce = false;
    this.log = [];
  }

  /** Opens the socket and sends `join`. Progress arrives as events. */
  start() {
    this.attempt = 0;
    this.open();
  }

  get connected() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends a message without waiting for anything; false when the socket is not open. */
  send(message) {
    if (!this.connected) return false;
    this.trace('→', message);
    this.ws.send(JSON.stringify(message));
    return true;
  }

  /** Sends a request with a fresh id; resolves with the reply, rejects with SignalingError on `error`. */
  request(message, timeoutMs = REQUEST_TIMEOUT_MS) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (!this.send({ ...message, id })) {
        reject(new SignalingError('DISCONNECTED', 'The connection to the meeting is down.'));
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SignalingError('TIMEOUT', `No reply to ${message.type} within ${timeoutMs / 1000} s.`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer, type: message.type });
    });
  }

  /** Leaves the meeting for good: `leave`, then the socket closes and nothing reconnects. */
  leave() {
    if (this.state === 'closed') return;
    this.send({ type: 'leave' });
    this.shutdown('left');
  }

  shutdown(reason) {
    this.setState('closed');
    clearTimeout(this.reconnectTimer);
    this.stopPing();
    this.failPending('The meeting connection was closed.');
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try { ws.close(1000, reason); } catch { /* already closing */ }
    }
  }

  // ---------------------------------------------------------------- socket life

  open() {
    clearTimeout(this.reconnectTimer);
    this.setState(this.everJoined ? 'reconnecting' : 'connecting');
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (error) {
      this.onSocketGone(ws, { code: 0, reason: String(error) });
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.sendJoin();
      this.startPing();
    };
    ws.onmessage = (event) => this.onFrame(event.data);
    ws.onerror = () => { /* onclose follows with the details */ };
    ws.onclose = (event) => this.onSocketGone(ws, event);
  }

  sendJoin() {
    const join = { type: 'join', v: PROTOCOL_VERSION, token: this.token };
    if (this.resumeToken && this.dropAt && Date.now() - this.dropAt < RESUME_WINDOW_MS) {
      join.resume_token = this.resumeToken;
    }
    this.joinWasResume = Boolean(join.resume_token);
    if (this.state !== 'reconnecting') this.setState('joining');
    this.send(join);
  }

  onSocketGone(ws, event) {
    if (ws !== this.ws && ws !== undefined) return;
    this.ws = null;
    this.stopPing();
    this.failPending('The connection to the meeting dropped.');
    if (this.state === 'closed') return;
    this.trace('×', { code: event.code, reason: event.reason });

    if (!this.everJoined && this.state !== 'lobby') {
      // Never got in: retry a few times (a server restarting), then say the server cannot be reached.
      if (++this.attempt >= FIRST_CONNECT_ATTEMPTS) {
        this.fail('CONNECTION_FAILED', `The meeting server did not accept the connection (WebSocket closed with ${event.code || 'no code'}).`);
        return;
      }
      this.reconnectTimer = setTimeout(() => this.open(), 500 * this.attempt);
      return;
    }

    // In the lobby there is nothing to resume: join again and wait again. In the meeting, resume.
    if (this.state === 'joined') this.dropAt = Date.now();
    this.setState('reconnecting');
    const delay = Math.min(4000, 250 * 2 ** Math.min(this.attempt, 4));
    this.attempt++;
    this.reconnectTimer = setTimeout(() => this.open(), delay);
  }

  startPing() {
    this.stopPing();
    this.pingTimer = setInterval(() => {
      // A socket that no longer answers pings is dead even if TCP has not noticed: close it and resume.
      this.request({ type: 'ping' }, PING_TIMEOUT_MS).catch((error) => {
        if (error.code === 'TIMEOUT' && this.ws) {
          const ws = this.ws;
          this.onSocketGone(ws, { code: 4000, reason: 'ping timeout' });
          try { ws.close(); } catch { /* ignore */ }
        }
      });
    }, PING_INTERVAL_MS);
  }

  stopPing() {
    clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  failPending(text) {
    for (const [id, entry] of this.pending) {
      clearTimeout(entry.timer);
      entry.reject(new SignalingError('DISCONNECTED', text));
      this.pending.delete(id);
    }
  }

  // ---------------------------------------------------------------- messages

  onFrame(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      console.warn('signaling: a frame that is not JSON', data);
      return;
    }
    if (!message || typeof message.type !== 'string') return;
    this.trace('←', message);

    // A reply to one of our requests (publish_answer, pong, or the error the request caused).
    if (message.id !== undefined && message.id !== null && this.pending.has(message.id)) {
      const entry = this.pending.get(message.id);
      this.pending.delete(message.id);
      clearTimeout(entry.timer);
      if (message.type === 'error') entry.reject(new SignalingError(message.code, message.message));
      else entry.resolve(message);
      return;
    }

    switch (message.type) {
      case 'joined':
        this.onJoined(message);
        return;
      case 'lobby_waiting':
        this.setState('lobby');
        this.emit('lobby', { message });
        return;
      case 'error':
        this.onError(message);
        return;
      case 'meeting_closed':
        this.fail('MEETING_CLOSED', 'The meeting has ended.', message.reason);
        return;
      case 'pong':
        return;
      default:
        this.emit('message', { message });
    }
  }

  onJoined(message) {
    const fresh = message.participant_id !== this.participantId;
    const resumed = this.joinWasResume && !fresh;
    this.participantId = message.participant_id;
    this.resumeToken = message.resume_token ?? null;
    this.everJoined = true;
    this.attempt = 0;
    this.dropAt = 0;
    this.refreshedOnce = false;
    this.setState('joined');
    this.emit('joined', { message, resumed, fresh });
  }

  async onError(message) {
    const { code } = message;
    if (code === 'REPLACED') {
      this.fail(code, message.message);
      return;
    }
    const joining = this.state === 'joining' || this.state === 'reconnecting' || this.state === 'connecting';
    if (joining && code === 'RESUME_EXPIRED') {
      // Too late to resume: join as a new participant; the app rebuilds its peer connections.
      this.resumeToken = null;
      this.dropAt = 0;
      this.sendJoin();
      return;
    }
    if (joining && code === 'TOKEN_EXPIRED' && this.refreshToken && !this.refreshedOnce) {
      this.refreshedOnce = true;
      try {
        const token = await this.refreshToken();
        if (token) {
          this.token = token;
          this.sendJoin();
          return;
        }
      } catch (error) {
        console.warn('signaling: could not refresh the token', error);
      }
    }
    if ((joining || this.state === 'lobby') && JOIN_REFUSALS.has(code)) {
      this.fail(code, message.message);
      return;
    }
    this.emit('notice', { code, message: message.message, id: message.id ?? null });
  }

  fail(code, text, reason = null) {
    this.shutdown(code);
    this.emit('fatal', { code, message: text, reason });
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', { state });
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** The last messages both ways (SDP shortened), for debugging from the console: parley.signaling.log. */
  trace(direction, message) {
    const copy = { ...message };
    if (typeof copy.sdp === 'string') copy.sdp = `${copy.sdp.length} chars`;
    if (typeof copy.token === 'string') copy.token = '…';
    // A deep copy: the app keeps (and updates) the objects it received, the log must show them as they came.
    this.log.push([new Date().toISOString().slice(11, 23), direction, JSON.parse(JSON.stringify(copy))]);
    if (this.log.length > 300) this.log.shift();
  }
}
