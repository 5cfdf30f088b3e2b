// The publish peer connection (docs/signaling.md): the client offers, the SFU (ICE-lite, a=setup:passive)
// answers. One sendonly transceiver per source; adding, replacing or stopping a source is a new offer on
// the same connection, sent as `publish` with the mid, kind and source of every sending section.

/** Simulcast layers by rid: quarter, half and full resolution (mediasoup/LiveKit naming q/h/f). */
export const SIMULCAST_ENCODINGS = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

/** Below this width a quarter layer would be smaller than a thumbnail: one layer only. */
export const SIMULCAST_MIN_WIDTH = 640;

const SOURCES = ['microphone', 'camera', 'screen'];

export class Publisher extends EventTarget {
  constructor({ signaling, iceServers }) {
    super();
    this.signaling = signaling;
    this.pc = new RTCPeerConnection({ iceServers, bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    this.stream = new MediaStream();
    /** source → RTCRtpTransceiver */
    this.transceivers = new Map();
    this.chain = Promise.resolve();
    this.needsNegotiation = false;
    this.needsIceRestart = false;
    this.closed = false;
    this.pc.addEventListener('connectionstatechange', () => {
      this.dispatchEvent(new CustomEvent('connectionstate', { detail: { state: this.pc.connectionState } }));
    });
  }

  get connectionState() {
    return this.pc.connectionState;
  }

  /** Publishes `track` as `source`, replaces the source's track, or (track null) stops sending it. */
  async setTrack(source, track) {
    if (!SOURCES.includes(source)) throw new Error(`unknown source ${source}`);
    const existing = this.transceivers.get(source);
    if (existing) {
      await existing.sender.replaceTrack(track);
      const direction = track ? 'sendonly' : 'inactive';
      if (existing.direction !== direction) {
        existing.direction = direction;
        return this.negotiate();
      }
      return undefined;
    }
    if (!track) return undefined;
    this.stream.addTrack(track);
    this.transceivers.set(source, this.pc.addTransceiver(track, this.transceiverInit(source, track)));
    return this.negotiate();
  }

  transceiverInit(source, track) {
    const init = { direction: 'sendonly', streams: [this.stream] };
    if (track.kind === 'video') {
      const width = track.getSettings().width ?? 0;
      if (source === 'camera' && width >= SIMULCAST_MIN_WIDTH) {
        init.sendEncodings = SIMULCAST_ENCODINGS.map((encoding) => ({ ...encoding }));
      } else if (source === 'screen') {
        // Text on a shared screen must stay legible: keep resolution, drop frame rate under pressure.
        init.sendEncodings = [{ maxBitrate: 1_500_000, maxFramerate: 15 }];
      } else {
        init.sendEncodings = [{ maxBitrate: 600_000 }];
      }
    }
    return init;
  }

  /** The sources currently sent, with their mids (what `publish` lists). */
  sendingTracks() {
    const tracks = [];
    for (const [source, transceiver] of this.transceivers) {
      const sending = transceiver.direction === 'sendonly' || transceiver.direction === 'sendrecv';
      if (sending && transceiver.sender.track && transceiver.mid !== null) {
        tracks.push({ mid: transceiver.mid, kind: transceiver.sender.track.kind, source });
      }
    }
    return tracks;
  }

  /** The number of simulcast layers the camera is sent with (for the UI and tests). */
  cameraLayers() {
    const transceiver = this.transceivers.get('camera');
    return transceiver ? transceiver.sender.getParameters().encodings.length : 0;
  }

  /** Restarts ICE (RFC 8445 §9) and publishes the restarted offer, as the doc asks after a failure. */
  restartIce() {
    this.needsIceRestart = true;
    return this.negotiate();
  }

  /** Sends one offer at a time; a change made meanwhile is folded into the next offer. */
  negotiate() {
    this.needsNegotiation = true;
    this.chain = this.chain.then(() => this.runNegotiation()).catch((error) => {
      this.dispatchEvent(new CustomEvent('error', { detail: { error } }));
    });
    return this.chain;
  }

  async runNegotiation() {
    if (this.closed || !this.needsNegotiation) return;
    if (this.transceivers.size === 0) {
      this.needsNegotiation = false;
      return;
    }
    if (!this.signaling.connected || this.signaling.state !== 'joined') {
      // Offered again by resync() once the meeting connection is back.
      return;
    }
    this.needsNegotiation = false;
    if (this.needsIceRestart) {
      this.needsIceRestart = false;
      this.pc.restartIce();
    }
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    let answer;
    try {
      answer = await this.signaling.request({
        type: 'publish',
        sdp: this.pc.localDescription.sdp,
        tracks: this.sendingTracks(),
      });
    } catch (error) {
      if (this.pc.signalingState === 'have-local-offer') {
        await this.pc.setLocalDescription({ type: 'rollback' });
      }
      if (error.code === 'DISCONNECTED' || error.code === 'TIMEOUT') this.needsNegotiation = true;
      throw error;
    }
    if (this.closed) return;
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    this.dispatchEvent(new CustomEvent('published', { detail: { tracks: this.sendingTracks() } }));
  }

  /** After a reconnect: offer again if something changed while disconnected or the transport failed. */
  resync() {
    const state = this.pc.connectionState;
    if (state === 'failed' || state === 'disconnected') this.needsIceRestart = true;
    if (this.needsIceRestart || this.needsNegotiation) return this.negotiate();
    return this.chain;
  }

  close() {
    this.closed = true;
    this.pc.close();
  }
}
