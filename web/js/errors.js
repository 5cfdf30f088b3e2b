// What the user reads for every error code of docs/signaling.md, plus the client's own conditions.
// title: the headline of the error screen (or the toast); detail: what to do about it.

const INVALID_LINK = {
  title: 'This link is invalid or has expired',
  detail: 'Ask the organiser for a new invitation link.',
};

export const ERRORS = {
  // Join refusals: the session ends on an error screen.
  INVALID_TOKEN: INVALID_LINK,
  TOKEN_EXPIRED: INVALID_LINK,
  MEETING_NOT_FOUND: {
    title: 'This meeting does not exist',
    detail: 'Check the link. The meeting may have been deleted.',
  },
  MEETING_CLOSED: {
    title: 'This meeting has ended',
    detail: 'The meeting is closed and cannot be joined any more.',
  },
  ROOM_FULL: {
    title: 'This meeting is full',
    detail: 'It has reached its participant limit. Try again when someone leaves.',
  },
  LOBBY_DENIED: {
    title: 'The host did not let you in',
    detail: 'Your request to join this meeting was declined.',
  },
  RESUME_EXPIRED: {
    title: 'You were disconnected for too long',
    detail: 'Join again to continue.',
  },
  UNSUPPORTED_VERSION: {
    title: 'This page is out of date',
    detail: 'The meeting server speaks a newer protocol. Reload the page.',
  },
  REPLACED: {
    title: 'You joined from another tab or device',
    detail: 'This tab was disconnected because you joined the same meeting elsewhere.',
  },
  ALREADY_JOINED: {
    title: 'You are already in this meeting',
    detail: 'Reload the page to join again.',
  },
  INTERNAL_ERROR: {
    title: 'Something went wrong on the server',
    detail: 'Try again in a moment. If it keeps happening, tell the meeting\'s organiser.',
  },

  // During the meeting: shown as a toast, the meeting goes on.
  FORBIDDEN: {
    title: 'You are not allowed to do that',
    detail: 'Your invitation does not include this permission.',
  },
  INVALID_SDP: {
    title: 'Your media could not be set up',
    detail: 'The browser and the meeting server could not agree on audio or video.',
  },
  UNKNOWN_TRACK: {
    title: 'That audio or video is no longer available',
    detail: '',
  },
  UNKNOWN_PARTICIPANT: {
    title: 'That participant is no longer here',
    detail: '',
  },
  RATE_LIMITED: {
    title: 'Slow down',
    detail: 'You are sending too much too fast; some of it was dropped.',
  },
  MESSAGE_TOO_LARGE: {
    title: 'That was too large to send',
    detail: '',
  },
  INVALID_MESSAGE: {
    title: 'The server did not understand a request',
    detail: 'Reload the page if something does not work.',
  },
  UNKNOWN_TYPE: {
    title: 'The server did not understand a request',
    detail: 'Reload the page if something does not work.',
  },
  MEDIA_DISCONNECTED: {
    title: 'Your audio and video connection was lost',
    detail: 'Rejoining the meeting…',
  },
  NOT_JOINED: {
    title: 'You are not in the meeting yet',
    detail: '',
  },

  // The client's own conditions.
  CONNECTION_FAILED: {
    title: 'Cannot reach the meeting server',
    detail: 'Check your connection and try again.',
  },
  GUEST_NOT_ALLOWED: {
    title: 'This meeting does not accept guests',
    detail: 'Ask the organiser for a personal invitation link.',
  },
  // The API's code for the same refusal (POST /meet/{id}/guest-token answers 403 GUESTS_NOT_ALLOWED).
  GUESTS_NOT_ALLOWED: {
    title: 'This meeting does not accept guests',
    detail: 'Ask the organiser for a personal invitation link.',
  },
  NO_MEETING_ID: {
    title: 'This link has no meeting in it',
    detail: 'A meeting link looks like /meet/<meeting id>.',
  },
  UNSUPPORTED_BROWSER: {
    title: 'This browser cannot join meetings',
    detail: 'Use a current version of Chrome, Edge, Firefox or Safari.',
  },
};

/** Extra detail for `meeting_closed` reasons. */
export const CLOSED_REASONS = {
  ttl: 'The meeting reached its time limit.',
  empty: 'Everyone left, so the meeting was closed.',
  deleted: 'The organiser ended the meeting.',
};

export function describeError(code, serverMessage) {
  const known = ERRORS[code];
  if (known) return known;
  return { title: 'Something went wrong', detail: serverMessage || code || '' };
}
