// Local devices: the camera and microphone chosen on the pre-join screen, and screen capture.

const CAMERA_CONSTRAINTS = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30, max: 30 } };
const MICROPHONE_CONSTRAINTS = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

export function mediaAvailable() {
  return Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
}

/** Devices of both kinds; labels are empty until the page was granted access once. */
export async function listDevices() {
  if (!mediaAvailable()) return { cameras: [], microphones: [] };
  const devices = await navigator.mediaDevices.enumerateDevices();
  return {
    cameras: devices.filter((d) => d.kind === 'videoinput'),
    microphones: devices.filter((d) => d.kind === 'audioinput'),
  };
}

/** A camera track from the given device (or the default one). */
export async function openCamera(deviceId) {
  const video = { ...CAMERA_CONSTRAINTS };
  if (deviceId) video.deviceId = { exact: deviceId };
  const stream = await navigator.mediaDevices.getUserMedia({ video, audio: false });
  const [track] = stream.getVideoTracks();
  track.contentHint = 'motion';
  return track;
}

/** A microphone track from the given device (or the default one). */
export async function openMicrophone(deviceId) {
  const audio = { ...MICROPHONE_CONSTRAINTS };
  if (deviceId) audio.deviceId = { exact: deviceId };
  const stream = await navigator.mediaDevices.getUserMedia({ audio, video: false });
  const [track] = stream.getAudioTracks();
  track.contentHint = 'speech';
  return track;
}

/** Both at once, so the browser asks for permission once; falls back to whichever works. */
export async function openBoth(cameraId, microphoneId) {
  const result = { camera: null, microphone: null, errors: [] };
  if (!mediaAvailable()) {
    result.errors.push('This browser gives no access to cameras and microphones here (the page needs https or localhost).');
    return result;
  }
  try {
    const video = { ...CAMERA_CONSTRAINTS };
    if (cameraId) video.deviceId = { exact: cameraId };
    const audio = { ...MICROPHONE_CONSTRAINTS };
    if (microphoneId) audio.deviceId = { exact: microphoneId };
    const stream = await navigator.mediaDevices.getUserMedia({ video, audio });
    result.camera = stream.getVideoTracks()[0] ?? null;
    result.microphone = stream.getAudioTracks()[0] ?? null;
    if (result.camera) result.camera.contentHint = 'motion';
    if (result.microphone) result.microphone.contentHint = 'speech';
    return result;
  } catch {
    // One of the two may be missing or refused: try each alone.
  }
  try {
    result.camera = await openCamera(cameraId);
  } catch (error) {
    result.errors.push(`Camera: ${describeMediaError(error)}`);
  }
  try {
    result.microphone = await openMicrophone(microphoneId);
  } catch (error) {
    result.errors.push(`Microphone: ${describeMediaError(error)}`);
  }
  return result;
}

/** Screen capture (the user picks what to share); null when they cancel. */
export async function openScreen() {
  if (!navigator.mediaDevices?.getDisplayMedia) throw new Error('This browser cannot share the screen.');
  try {
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15, max: 30 } }, audio: false });
    const [track] = stream.getVideoTracks();
    track.contentHint = 'detail';
    return track;
  } catch (error) {
    if (error.name === 'NotAllowedError' || error.name === 'AbortError') return null;
    throw error;
  }
}

export function describeMediaError(error) {
  switch (error?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'access was refused. Allow it in the browser\'s site settings and reload.';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'no such device is connected.';
    case 'NotReadableError':
    case 'AbortError':
      return 'the device is in use by another application.';
    default:
      return error?.message || String(error);
  }
}
