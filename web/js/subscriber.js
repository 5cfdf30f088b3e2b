// The subscribe peer connection (docs/signaling.md): the SFU offers (ICE-lite, a=setup:actpass) whenever
// the set of received tracks changes, the client answers with `subscribe_answer`. Each `subscribe_offer`
// lists what every receiving section carries ({mid, track_id, participant_id, kind, source}; track_id null
// for a section no longer used), which is how a mid becomes a remote participant's camera or microphone.

export class Subscriber extends EventTarget {
  constructor({ signaling, iceServers }) {
    super();
    this.signaling = signaling;
    this.pc = new RTCPeerConnection({ iceServers, bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    /** mid → {mid, track_id, participant_id, kind, source} from the last offer */
    this.sections = new Map();
    this.chain = Promise.resolve();
    this.closed = false;
    this.offers = 0;
    this.pc.addEventListener('connectionstatechange', () => {
      this.dispatchEvent(new CustomEvent('connectionstate', { detail: { state: this.pc.connectionState } }));
    });
  }

  get connectionState() {
    return this.pc.connectionState;
  }

  /** Applies offers strictly in order (the SFU never has two outstanding, but handling is async). */
  handleOffer(message) {
    this.chain = this.chain.then(() => this.answer(message)).catch((error) => {
      this.dispatchEvent(new CustomEvent('error', { detail: { error } }));
    });
    return this.chain;
  }

  async answer({ sdp, tracks, offer_id: offerId }) {
    if (this.closed) return;
    await this.pc.setRemoteDescription({ type: 'offer', sdp });
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    // offer_id: the SFU ignores an answer to an offer it has since replaced (a slow client answers both).
    this.signaling.send({ type: 'subscribe_answer', sdp: this.pc.localDescription.sdp, offer_id: offerId });
    this.offers++;
    this.sections = new Map((tracks ?? []).map((section) => [String(section.mid), section]));
    this.dispatchEvent(new CustomEvent('tracks', { detail: { tracks: this.remoteTracks() } }));
  }

  /** Every section in use, with the MediaStreamTrack that receives it. */
  remoteTracks() {
    const result = [];
    for (const transceiver of this.pc.getTransceivers()) {
      if (transceiver.mid === null || transceiver.stopped) continue;
      const section = this.sections.get(transceiver.mid);
      if (!section || !section.track_id) continue;
      result.push({
        mid: transceiver.mid,
        trackId: section.track_id,
        participantId: section.participant_id,
        kind: section.kind ?? transceiver.receiver.track.kind,
        source: section.source,
        track: transceiver.receiver.track,
      });
    }
    return result;
  }

  /** The doc: `ice_restart` makes the SFU send a new offer with fresh ICE credentials. */
  restartIce() {
    return this.signaling.send({ type: 'ice_restart' });
  }

  close() {
    this.closed = true;
    this.pc.close();
  }
}
