// /meet: turns a pasted meeting link or a bare meeting id into /meet/{meeting_id}.

const ID = /^[A-Za-z0-9_-]{1,128}$/;

export function meetingIdFrom(text) {
  const value = text.trim();
  if (ID.test(value)) return value;
  try {
    const url = new URL(value, window.location.origin);
    const match = /\/meet\/([^/?#]+)/.exec(url.pathname);
    if (match && ID.test(decodeURIComponent(match[1]))) return decodeURIComponent(match[1]);
  } catch {
    // not a URL
  }
  return null;
}

const form = document.getElementById('landing-form');
const input = document.getElementById('meeting-input');
const error = document.getElementById('landing-error');

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const id = meetingIdFrom(input.value);
  if (!id) {
    error.textContent = 'That is not a meeting link or id. A link looks like https://host/meet/abc123.';
    error.hidden = false;
    return;
  }
  // Keep the token of a pasted invitation link.
  let search = '';
  try {
    const url = new URL(input.value.trim(), window.location.origin);
    const token = url.searchParams.get('token');
    if (token) search = `?token=${encodeURIComponent(token)}`;
  } catch {
    // a bare id
  }
  window.location.assign(`/meet/${encodeURIComponent(id)}${search}`);
});
input.addEventListener('input', () => { error.hidden = true; });
input.focus();
