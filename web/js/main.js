// The meeting page at /meet/{meeting_id}: pre-join screen, then the meeting over docs/signaling.md.
// Tests (and curious users) reach the state through `window.parley` (peer connections for getStats).

import { SignalingClient, signalingUrl } from './signaling.js';
import { Publisher } from './publisher.js';
import { Subscriber } from './subscriber.js';
import { listDevices, openBoth, openCamera, openMicrophone, openScreen, describeMediaError, mediaAvailable } from './media.js';
import { ERRORS, CLOSED_REASONS, describeError } from './errors.js';
import { $, showScreen, showError, toast, Grid, AudioSinks, renderParticipants, renderLobby, chatItem, initials } from './ui.js';

const NAME_MAX = 64;
const CHAT_MAX = 2000;
/** Codes after which "Try again" makes sense (the same link may work a moment later). */
const RETRYABLE = new Set(['ROOM_FULL', 'CONNECTION_FAILED', 'INTERNAL_ERROR', 'REPLACED', 'RESUME_EXPIRED', 'UNSUPPORTED_VERSION', 'GUEST_FAILED']);
const ICE_RESTART_SPACING_MS = 5000;

function meetingIdFromPath(pathname = window.location.pathname) {
  const match = /^\/meet\/([^/]+)\/?$/.exec(pathname);
  return match ? decodeURIComponent(match[1]) : null;
}

/** The claims of a JWT, read without verifying (only to show the name the token carries). */
function tokenClaims(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = decodeURIComponent(Array.from(atob(payload), (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join(''));
    return JSON.parse(json);
  } catch {
    return null;
  }
}

class GuestTokenError extends Error {
  constructor(code, message, inline = false) {
    super(message);
    this.code = code;
    this.inline = inline;
  }
}

class MeetingApp {
  constructor() {
    this.meetingId = meetingIdFromPath();
    this.token = null;
    this.tokenSource = null; // 'link' | 'guest'
    this.name = '';
    this.local = { camera: null, microphone: null, screen: null, micOn: true, camOn: true };
    this.signaling = null;
    this.publisher = null;
    this.subscriber = null;
    this.participantId = null;
    this.you = null;
    this.meeting = null;
    this.iceServers = [];
    this.participants = new Map();
    this.remoteTracks = new Map();
    this.chatIds = new Set();
    this.recording = false;
    this.lobby = new Map();
    this.speaker = null;
    this.levels = [];
    this.sentLayers = new Map();
    this.panel = null;
    this.unreadChat = 0;
    this.renderQueued = false;
    this.lastIceRestart = { publish: 0, subscribe: 0 };
    this.ended = false;
    this.grid = new Grid($('grid'), { onLayer: (trackId, layer) => this.setLayer(trackId, layer) });
    this.audio = new AudioSinks($('remote-audio'));
  }

  // ================================================================ pre-join

  async init() {
    if (!this.meetingId) {
      this.fatal('NO_MEETING_ID');
      return;
    }
    if (!window.RTCPeerConnection || !window.WebSocket) {
      this.fatal('UNSUPPORTED_BROWSER');
      return;
    }
    this.readToken();
    this.bindPrejoin();
    this.bindMeeting();
    $('prejoin-meeting-id').textContent = `Meeting ${this.meetingId}`;
    showScreen('prejoin');
    await this.openDevices();
  }

  /** ?token= from the link wins; it is kept for reloads in sessionStorage and removed from the address bar. */
  readToken() {
    const key = `parley.token.${this.meetingId}`;
    const params = new URLSearchParams(window.location.search);
    const fromUrl = params.get('token');
    if (fromUrl) {
      sessionStorage.setItem(key, fromUrl);
      params.delete('token');
      const query = params.toString();
      history.replaceState(null, '', window.location.pathname + (query ? `?${query}` : '') + window.location.hash);
    }
    this.token = fromUrl || sessionStorage.getItem(key);
    const input = $('name-input');
    if (this.token) {
      this.tokenSource = 'link';
      const claims = tokenClaims(this.token);
      const name = claims?.name ?? claims?.display_name ?? null;
      if (name) {
        this.name = String(name);
        input.value = this.name;
        input.readOnly = true;
        input.title = 'The name comes from your invitation link';
      } else {
        // The name is the token's business; nothing to type.
        input.closest('.field').hidden = true;
      }
    } else {
      this.tokenSource = 'guest';
      input.value = localStorage.getItem('parley.name') ?? '';
    }
    this.updatePreviewAvatar();
  }

  bindPrejoin() {
    $('prejoin-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.join();
    });
    $('name-input').addEventListener('input', () => {
      $('prejoin-error').hidden = true;
      this.updatePreviewAvatar();
    });
    $('prejoin-mic').addEventListener('click', () => this.toggleMicrophone());
    $('prejoin-cam').addEventListener('click', () => this.toggleCamera());
    $('camera-select').addEventListener('change', (event) => this.switchCamera(event.target.value));
    $('microphone-select').addEventListener('change', (event) => this.switchMicrophone(event.target.value));
    if (mediaAvailable()) {
      navigator.mediaDevices.addEventListener('devicechange', () => this.fillDeviceLists());
    }
  }

  updatePreviewAvatar() {
    const name = $('name-input').value.trim() || this.name || '?';
    $('preview-avatar').textContent = initials(name);
  }

  async openDevices() {
    const cameraId = localStorage.getItem('parley.camera') || undefined;
    const microphoneId = localStorage.getItem('parley.microphone') || undefined;
    let result = await openBoth(cameraId, microphoneId);
    if (!result.camera && !result.microphone && (cameraId || microphoneId)) {
      // A remembered device may be gone: try the defaults.
      result = await openBoth(undefined, undefined);
    }
    this.local.camera = result.camera;
    this.local.microphone = result.microphone;
    const note = $('prejoin-media-error');
    note.hidden = result.errors.length === 0;
    note.textContent = result.errors.length ? `${result.errors.join(' ')} You can still join and see and hear the others.` : '';
    await this.fillDeviceLists();
    this.renderPreview();
  }

  async fillDeviceLists() {
    const { cameras, microphones } = await listDevices();
    this.fillSelect($('camera-select'), cameras, this.local.camera, 'Camera');
    this.fillSelect($('microphone-select'), microphones, this.local.microphone, 'Microphone');
  }

  fillSelect(select, devices, track, label) {
    const current = track?.getSettings().deviceId;
    select.replaceChildren(...devices.map((device, index) => {
      const option = document.createElement('option');
      option.value = device.deviceId;
      option.textContent = device.label || `${label} ${index + 1}`;
      option.selected = device.deviceId === current;
      return option;
    }));
    if (devices.length === 0) {
      const option = document.createElement('option');
      option.textContent = `No ${label.toLowerCase()} found`;
      option.value = '';
      select.append(option);
    }
    select.disabled = devices.length === 0;
  }

  async switchCamera(deviceId) {
    try {
      const track = await openCamera(deviceId);
      track.enabled = this.local.camOn;
      this.local.camera?.stop();
      this.local.camera = track;
      localStorage.setItem('parley.camera', deviceId);
      if (this.publisher) await this.publisher.setTrack('camera', track);
    } catch (error) {
      toast('Cannot use that camera', describeMediaError(error), 'error');
    }
    this.renderPreview();
    this.scheduleRender();
  }

  async switchMicrophone(deviceId) {
    try {
      const track = await openMicrophone(deviceId);
      track.enabled = this.local.micOn;
      this.local.microphone?.stop();
      this.local.microphone = track;
      localStorage.setItem('parley.microphone', deviceId);
      if (this.publisher) await this.publisher.setTrack('microphone', track);
    } catch (error) {
      toast('Cannot use that microphone', describeMediaError(error), 'error');
    }
    this.renderPreview();
  }

  renderPreview() {
    const video = $('preview-video');
    const camera = this.local.camera;
    const showVideo = Boolean(camera) && this.local.camOn;
    if (camera && video.srcObject?.getVideoTracks()[0] !== camera) video.srcObject = new MediaStream([camera]);
    if (!camera) video.srcObject = null;
    video.hidden = !showVideo;
    $('preview-off').hidden = showVideo;
    $('preview-off-text').textContent = camera ? 'Camera is off' : 'No camera';
    this.renderToggle($('prejoin-mic'), this.local.micOn && Boolean(this.local.microphone), !this.local.microphone, 'Microphone');
    this.renderToggle($('prejoin-cam'), this.local.camOn && Boolean(camera), !camera, 'Camera');
  }

  renderToggle(button, on, unavailable, what) {
    button.setAttribute('aria-pressed', on ? 'true' : 'false');
    button.classList.toggle('off', !on);
    button.disabled = unavailable;
    button.title = unavailable ? `No ${what.toLowerCase()}` : on ? `Turn ${what.toLowerCase()} off` : `Turn ${what.toLowerCase()} on`;
  }

  // ================================================================ joining

  async join() {
    const input = $('name-input');
    const button = $('join-button');
    if (this.tokenSource === 'guest') {
      const name = input.value.trim();
      if (!name) {
        this.prejoinError('Enter your name so the others know who you are.');
        input.focus();
        return;
      }
      if (name.length > NAME_MAX) {
        this.prejoinError(`Your name can be at most ${NAME_MAX} characters.`);
        return;
      }
      this.name = name;
      localStorage.setItem('parley.name', name);
    }
    button.disabled = true;
    button.textContent = 'Joining…';
    try {
      if (this.tokenSource === 'guest') this.token = await this.fetchGuestToken(this.name);
    } catch (error) {
      button.disabled = false;
      button.textContent = 'Join meeting';
      if (error instanceof GuestTokenError && error.inline) this.prejoinError(error.message);
      else if (error instanceof GuestTokenError) this.fatal(error.code, error.message);
      else this.fatal('CONNECTION_FAILED', String(error?.message ?? error));
      return;
    }
    this.audio.resume();
    this.connect();
  }

  prejoinError(text) {
    const node = $('prejoin-error');
    node.textContent = text;
    node.hidden = false;
  }

  /** POST /meet/{id}/guest-token {name} → {token, meeting_id, expires_at} (bare or in the API envelope). */
  async fetchGuestToken(name) {
    let response;
    try {
      response = await fetch(`/meet/${encodeURIComponent(this.meetingId)}/guest-token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ name }),
        cache: 'no-store',
      });
    } catch (error) {
      throw new GuestTokenError('CONNECTION_FAILED', `The meeting server cannot be reached (${error.message}).`);
    }
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    if (response.ok) {
      const token = body?.token ?? body?.data?.token;
      if (typeof token === 'string' && token.length > 0) return token;
      throw new GuestTokenError('GUEST_FAILED', 'The meeting server answered without a token.');
    }
    const code = body?.code ?? body?.error?.code ?? null;
    const message = body?.message ?? (typeof body?.error === 'string' ? body.error : null) ?? `HTTP ${response.status}`;
    if (code && ERRORS[code] && code !== 'INTERNAL_ERROR') throw new GuestTokenError(code, message);
    switch (response.status) {
      case 400:
      case 422:
        throw new GuestTokenError('VALIDATION_ERROR', message, true);
      case 401:
      case 403:
        throw new GuestTokenError('GUEST_NOT_ALLOWED', message);
      case 404:
        throw new GuestTokenError('MEETING_NOT_FOUND', message);
      case 409:
      case 410:
        throw new GuestTokenError('MEETING_CLOSED', message);
      case 429:
        throw new GuestTokenError('RATE_LIMITED', message, true);
      default:
        throw new GuestTokenError('GUEST_FAILED', `The meeting server could not let you in (${message}).`);
    }
  }

  connect() {
    const refreshToken = this.tokenSource === 'guest' ? () => this.fetchGuestToken(this.name) : null;
    const signaling = new SignalingClient({ url: signalingUrl(), token: this.token, refreshToken });
    this.signaling = signaling;
    signaling.addEventListener('state', (event) => this.onSignalingState(event.detail.state));
    signaling.addEventListener('joined', (event) => this.onJoined(event.detail));
    signaling.addEventListener('lobby', () => showScreen('lobby'));
    signaling.addEventListener('message', (event) => this.onMessage(event.detail.message));
    signaling.addEventListener('notice', (event) => this.onNotice(event.detail));
    signaling.addEventListener('fatal', (event) => {
      const { code, message, reason } = event.detail;
      const detail = code === 'MEETING_CLOSED' && reason ? CLOSED_REASONS[reason] : null;
      this.fatal(code, message, detail);
    });
    signaling.start();
  }

  onSignalingState(state) {
    $('reconnecting-banner').hidden = state !== 'reconnecting' || !this.participantId;
    document.body.dataset.signaling = state;
  }

  onJoined({ message, resumed, fresh }) {
    this.participantId = message.participant_id;
    this.you = message.you ?? { participant_id: message.participant_id, name: this.name, tracks: [] };
    this.meeting = message.meeting ?? { meeting_id: this.meetingId };
    this.iceServers = (message.ice_servers ?? []).map((server) => ({ ...server }));
    this.participants = new Map((message.participants ?? []).map((p) => [p.participant_id, p]));
    this.recording = Boolean(message.recording);
    if (fresh) this.lobby.clear();
    this.mergeChat(message.chat ?? [], true);

    if (fresh || !this.publisher || !this.subscriber) {
      this.rebuildMedia();
    } else if (resumed) {
      // Same participant: the peer connections may have survived the drop; restart ICE on those that did not.
      this.publisher.resync();
      const state = this.subscriber.connectionState;
      if (state === 'failed' || state === 'disconnected') this.restartSubscribeIce(true);
    }
    $('meeting-name').textContent = this.meeting.name || `Meeting ${this.meeting.meeting_id ?? this.meetingId}`;
    document.title = `${this.meeting.name || 'Meeting'} · Parley`;
    showScreen('meeting');
    this.reconcileMutes();
    this.scheduleRender();
  }

  /** New peer connections (first join, or a fresh join after the resume window) and publish everything. */
  rebuildMedia() {
    this.publisher?.close();
    this.subscriber?.close();
    this.remoteTracks.clear();
    this.sentLayers.clear();
    this.audio.clear();

    const publisher = new Publisher({ signaling: this.signaling, iceServers: this.iceServers });
    publisher.addEventListener('connectionstate', (event) => {
      document.body.dataset.publish = event.detail.state;
      if (event.detail.state === 'failed') this.restartPublishIce();
    });
    publisher.addEventListener('error', (event) => this.onMediaError('publish', event.detail.error));
    this.publisher = publisher;

    const subscriber = new Subscriber({ signaling: this.signaling, iceServers: this.iceServers });
    subscriber.addEventListener('connectionstate', (event) => {
      document.body.dataset.subscribe = event.detail.state;
      if (event.detail.state === 'failed') this.restartSubscribeIce();
    });
    subscriber.addEventListener('tracks', (event) => this.onRemoteTracks(event.detail.tracks));
    subscriber.addEventListener('error', (event) => this.onMediaError('subscribe', event.detail.error));
    this.subscriber = subscriber;

    if (this.local.microphone) publisher.setTrack('microphone', this.local.microphone);
    if (this.local.camera) publisher.setTrack('camera', this.local.camera);
    if (this.local.screen) publisher.setTrack('screen', this.local.screen);
  }

  restartPublishIce() {
    if (this.signaling?.state !== 'joined' || !this.publisher) return;
    if (Date.now() - this.lastIceRestart.publish < ICE_RESTART_SPACING_MS) return;
    this.lastIceRestart.publish = Date.now();
    this.publisher.restartIce();
  }

  restartSubscribeIce(force = false) {
    if (this.signaling?.state !== 'joined' || !this.subscriber) return;
    if (!force && Date.now() - this.lastIceRestart.subscribe < ICE_RESTART_SPACING_MS) return;
    this.lastIceRestart.subscribe = Date.now();
    this.subscriber.restartIce();
  }

  onMediaError(which, error) {
    if (error?.code === 'DISCONNECTED') return; // redone after the reconnect
    const described = error?.code ? describeError(error.code, error.message) : null;
    toast(described?.title ?? (which === 'publish' ? 'Your audio and video could not be sent' : 'The others\' audio and video could not be received'),
      error?.message ?? '', 'error');
    console.error(`parley: ${which} negotiation failed`, error);
  }

  // ================================================================ server messages

  onMessage(message) {
    switch (message.type) {
      case 'participant_joined':
      case 'participant_updated': {
        const participant = message.participant;
        if (!participant) return;
        if (participant.participant_id === this.participantId) {
          this.you = participant;
          this.reconcileMutes();
        } else {
          this.participants.set(participant.participant_id, participant);
        }
        break;
      }
      case 'participant_left': {
        const left = this.participants.get(message.participant_id);
        this.participants.delete(message.participant_id);
        // `recording` means "a recording bot is present": when the last bot is gone it is over, whether or
        // not a `recording {active: false}` follows.
        const bots = [...this.participants.values()].some((p) => p.is_bot) || Boolean(this.you?.is_bot);
        if (left?.is_bot && !bots) this.recording = false;
        break;
      }
      case 'subscribe_offer':
        this.subscriber?.handleOffer(message);
        return;
      case 'active_speaker':
        this.speaker = message.participant_id ?? null;
        this.levels = message.levels ?? [];
        this.grid.setSpeaker(this.speaker, this.levels);
        return;
      case 'chat':
        if (message.message) this.mergeChat([message.message], false);
        return;
      case 'recording':
        this.recording = Boolean(message.active);
        break;
      case 'lobby_request':
        if (message.participant) {
          this.lobby.set(message.participant.participant_id, message.participant);
          toast(`${message.participant.name} is waiting to join`, '', 'info');
        }
        break;
      case 'lobby_left':
        this.lobby.delete(message.participant_id);
        break;
      default:
        return;
    }
    this.scheduleRender();
  }

  onNotice({ code, message }) {
    const described = describeError(code, message);
    toast(described.title, described.detail || message || '', code === 'RATE_LIMITED' ? 'warning' : 'error');
  }

  onRemoteTracks(tracks) {
    this.remoteTracks = new Map(tracks.map((track) => [track.trackId, track]));
    for (const trackId of this.sentLayers.keys()) if (!this.remoteTracks.has(trackId)) this.sentLayers.delete(trackId);
    this.scheduleRender();
  }

  mergeChat(messages, history) {
    const list = $('chat-messages');
    let added = 0;
    for (const message of messages) {
      if (!message || this.chatIds.has(message.message_id)) continue;
      this.chatIds.add(message.message_id);
      list.append(chatItem(message, message.participant_id === this.participantId));
      added++;
    }
    if (added === 0) return;
    list.scrollTop = list.scrollHeight;
    if (!history && this.panel !== 'chat') {
      this.unreadChat += added;
      this.renderBadges();
    }
  }

  // ================================================================ controls

  bindMeeting() {
    $('mic-button').addEventListener('click', () => this.toggleMicrophone());
    $('camera-button').addEventListener('click', () => this.toggleCamera());
    $('screen-button').addEventListener('click', () => this.toggleScreen());
    $('hand-button').addEventListener('click', () => this.toggleHand());
    $('people-button').addEventListener('click', () => this.togglePanel('people'));
    $('chat-button').addEventListener('click', () => this.togglePanel('chat'));
    $('leave-button').addEventListener('click', () => this.leave());
    $('lobby-cancel').addEventListener('click', () => this.leave());
    $('rejoin-button').addEventListener('click', () => window.location.reload());
    $('error-retry').addEventListener('click', () => window.location.reload());
    for (const button of document.querySelectorAll('[data-close-panel]')) {
      button.addEventListener('click', () => this.togglePanel(null));
    }
    $('chat-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.sendChat();
    });
    // Any click counts as the gesture some browsers want before playing sound.
    document.addEventListener('click', () => this.audio.resume());
    // Closing the tab is leaving: the others should not watch a frozen tile for 30 s.
    window.addEventListener('pagehide', () => {
      if (this.signaling && this.signaling.state !== 'closed') this.signaling.leave();
    });
  }

  toggleMicrophone() {
    if (!this.local.microphone) return;
    this.local.micOn = !this.local.micOn;
    this.local.microphone.enabled = this.local.micOn;
    this.reconcileMutes();
    this.renderPreview();
    this.scheduleRender();
  }

  toggleCamera() {
    if (!this.local.camera) return;
    this.local.camOn = !this.local.camOn;
    this.local.camera.enabled = this.local.camOn;
    this.reconcileMutes();
    this.renderPreview();
    this.scheduleRender();
  }

  /**
   * Makes the server's mute state of our tracks match the buttons. Our tracks' ids arrive in
   * `participant_updated` about ourselves (publish_answer does not carry them): a toggle made before that
   * is sent once they are known. The state is updated optimistically; the server's echo confirms it.
   */
  reconcileMutes() {
    if (!this.you || this.signaling?.state !== 'joined') return;
    const desired = { microphone: !this.local.micOn, camera: !this.local.camOn };
    for (const track of this.you.tracks ?? []) {
      if (!(track.source in desired) || Boolean(track.muted) === desired[track.source]) continue;
      if (this.signaling.send({ type: 'mute', track_id: track.track_id, muted: desired[track.source] })) {
        track.muted = desired[track.source];
      }
    }
  }

  async toggleScreen() {
    if (this.local.screen) {
      this.stopScreen();
      return;
    }
    let track;
    try {
      track = await openScreen();
    } catch (error) {
      toast('Cannot share the screen', error.message, 'error');
      return;
    }
    if (!track) return;
    this.local.screen = track;
    track.addEventListener('ended', () => this.stopScreen());
    this.scheduleRender();
    await this.publisher?.setTrack('screen', track);
  }

  stopScreen() {
    const track = this.local.screen;
    if (!track) return;
    this.local.screen = null;
    track.stop();
    this.publisher?.setTrack('screen', null);
    this.scheduleRender();
  }

  toggleHand() {
    if (!this.you) return;
    const raised = !this.you.hand_raised;
    if (this.signaling.send({ type: 'raise_hand', raised })) {
      this.you.hand_raised = raised;
      this.scheduleRender();
    }
  }

  togglePanel(panel) {
    this.panel = this.panel === panel ? null : panel;
    $('sidebar').hidden = this.panel === null;
    $('people-panel').hidden = this.panel !== 'people';
    $('chat-panel').hidden = this.panel !== 'chat';
    $('people-button').setAttribute('aria-pressed', this.panel === 'people' ? 'true' : 'false');
    $('chat-button').setAttribute('aria-pressed', this.panel === 'chat' ? 'true' : 'false');
    if (this.panel === 'chat') {
      this.unreadChat = 0;
      const list = $('chat-messages');
      list.scrollTop = list.scrollHeight;
      if (window.matchMedia('(pointer: fine)').matches) $('chat-input').focus({ preventScroll: true });
    }
    this.renderBadges();
    this.grid.layout();
  }

  sendChat() {
    const input = $('chat-input');
    const text = input.value.trim();
    if (!text) return;
    if (text.length > CHAT_MAX) {
      toast('That message is too long', `At most ${CHAT_MAX} characters.`, 'warning');
      return;
    }
    if (!this.signaling?.send({ type: 'chat', text })) {
      toast('Not connected', 'The message was not sent; try again when the meeting is back.', 'warning');
      return;
    }
    input.value = '';
  }

  setLayer(trackId, layer) {
    if (this.sentLayers.get(trackId) === layer) return;
    if (this.signaling?.state === 'joined' && this.signaling.send({ type: 'set_layer', track_id: trackId, layer })) {
      this.sentLayers.set(trackId, layer);
    }
  }

  admit(participantId) {
    this.signaling?.send({ type: 'lobby_admit', participant_id: participantId });
  }

  deny(participantId) {
    this.signaling?.send({ type: 'lobby_deny', participant_id: participantId });
  }

  leave() {
    this.signaling?.leave();
    this.teardown();
    showScreen('left');
  }

  teardown() {
    this.ended = true;
    this.publisher?.close();
    this.subscriber?.close();
    this.audio.clear();
    for (const source of ['camera', 'microphone', 'screen']) this.local[source]?.stop();
    const preview = $('preview-video');
    preview.srcObject = null;
    this.grid.update([]);
  }

  fatal(code, serverMessage = '', detailOverride = null) {
    const described = describeError(code, serverMessage);
    if (this.signaling && this.signaling.state !== 'closed') this.signaling.shutdown(code);
    this.teardown();
    showError({
      title: described.title,
      detail: detailOverride ?? described.detail ?? serverMessage,
      code,
      retry: RETRYABLE.has(code),
    });
    console.warn(`parley: ${code}: ${serverMessage}`);
  }

  // ================================================================ rendering

  scheduleRender() {
    if (this.renderQueued) return;
    this.renderQueued = true;
    queueMicrotask(() => {
      this.renderQueued = false;
      if (!this.ended) this.render();
    });
  }

  render() {
    if (!this.participantId) return;
    const people = this.peopleEntries();
    this.grid.update(this.tileEntries(people));
    this.grid.setSpeaker(this.speaker, this.levels);
    this.audio.update([...this.remoteTracks.values()].filter((t) => t.kind === 'audio' && this.participants.has(t.participantId)));
    renderParticipants($('participant-list'), [...people].sort((a, b) => Number(b.handRaised) - Number(a.handRaised)));
    renderLobby($('lobby-requests'), [...this.lobby.values()], { onAdmit: (id) => this.admit(id), onDeny: (id) => this.deny(id) });
    const bot = [...this.participants.values()].some((p) => p.is_bot) || Boolean(this.you?.is_bot);
    $('recording-banner').hidden = !(this.recording || bot);
    $('participant-count').textContent = `${people.length} ${people.length === 1 ? 'person' : 'people'}`;
    this.renderControls();
    this.renderBadges();
  }

  /** Everyone, ourselves first, in join order. */
  peopleEntries() {
    const entries = [];
    const me = this.you ?? {};
    entries.push({
      participantId: this.participantId,
      local: true,
      name: me.name || this.name || 'You',
      isHost: Boolean(me.is_host),
      isBot: Boolean(me.is_bot),
      handRaised: Boolean(me.hand_raised),
      micMuted: !this.local.microphone || !this.local.micOn,
      state: 'connected',
    });
    for (const p of this.participants.values()) {
      const mic = (p.tracks ?? []).find((t) => t.source === 'microphone');
      entries.push({
        participantId: p.participant_id,
        local: false,
        name: p.name || p.identity || 'Guest',
        isHost: Boolean(p.is_host),
        isBot: Boolean(p.is_bot),
        handRaised: Boolean(p.hand_raised),
        micMuted: !mic || Boolean(mic.muted),
        state: p.state ?? 'connected',
        participant: p,
      });
    }
    return entries;
  }

  tileEntries(people) {
    const screens = [];
    const cameras = [];
    for (const person of people) {
      if (person.local) {
        cameras.push({
          ...person,
          key: 'local:camera',
          source: 'camera',
          label: `${person.name} (You)`,
          videoTrack: this.local.camOn ? this.local.camera : null,
        });
        if (this.local.screen) {
          screens.push({ ...person, key: 'local:screen', source: 'screen', label: 'You are presenting', videoTrack: this.local.screen });
        }
        continue;
      }
      const tracks = person.participant.tracks ?? [];
      const camera = tracks.find((t) => t.source === 'camera');
      const received = camera ? this.remoteTracks.get(camera.track_id) : null;
      cameras.push({
        ...person,
        key: `${person.participantId}:camera`,
        source: 'camera',
        videoTrack: received && !camera.muted ? received.track : null,
        trackId: camera?.track_id ?? null,
        layers: camera?.layers ?? [],
      });
      const screen = tracks.find((t) => t.source === 'screen' && t.kind === 'video');
      const screenReceived = screen ? this.remoteTracks.get(screen.track_id) : null;
      if (screen && screenReceived) {
        screens.push({
          ...person,
          key: `${person.participantId}:screen`,
          source: 'screen',
          label: `${person.name} is presenting`,
          videoTrack: screen.muted ? null : screenReceived.track,
          trackId: screen.track_id,
          layers: screen.layers ?? [],
        });
      }
    }
    return [...screens, ...cameras];
  }

  renderControls() {
    this.renderToggle($('mic-button'), this.local.micOn && Boolean(this.local.microphone), !this.local.microphone, 'Microphone');
    this.renderToggle($('camera-button'), this.local.camOn && Boolean(this.local.camera), !this.local.camera, 'Camera');
    $('mic-button').title = this.local.micOn ? 'Mute microphone' : 'Unmute microphone';
    const sharing = Boolean(this.local.screen);
    $('screen-button').setAttribute('aria-pressed', sharing ? 'true' : 'false');
    $('screen-button').classList.toggle('active', sharing);
    $('screen-button').title = sharing ? 'Stop sharing' : 'Share your screen';
    $('screen-button').hidden = !navigator.mediaDevices?.getDisplayMedia;
    const raised = Boolean(this.you?.hand_raised);
    $('hand-button').setAttribute('aria-pressed', raised ? 'true' : 'false');
    $('hand-button').classList.toggle('active', raised);
    $('hand-button').title = raised ? 'Lower hand' : 'Raise hand';
  }

  renderBadges() {
    const chat = $('chat-badge');
    chat.hidden = this.unreadChat === 0;
    chat.textContent = String(this.unreadChat);
    const people = $('people-badge');
    people.hidden = this.lobby.size === 0;
    people.textContent = String(this.lobby.size);
  }
}

const app = new MeetingApp();

// For tests and debugging: the peer connections (getStats) and the live state.
window.parley = {
  app,
  get publishPc() { return app.publisher?.pc ?? null; },
  get subscribePc() { return app.subscriber?.pc ?? null; },
  get participantId() { return app.participantId; },
  get state() { return app.signaling?.state ?? 'idle'; },
  get signaling() { return app.signaling; },
  get cameraLayers() { return app.publisher?.cameraLayers() ?? 0; },
};

app.init().catch((error) => {
  console.error('parley: the page failed to start', error);
  app.fatal('INTERNAL_ERROR', String(error?.message ?? error));
});

