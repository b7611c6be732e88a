// JSON and upload requests of the editor. Every POST carries the CSRF token in the
// X-CSRFToken header (Flask-WTF checks it like the hidden field of a form).
const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

export function postJSON(url, data, signal) {
  return fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), Accept: "application/json" },
    body: JSON.stringify(data),
    credentials: "same-origin",
    signal,
  });
}

export function postForm(url, formData) {
  return fetch(url, {
    method: "POST",
    headers: { "X-CSRFToken": csrf(), Accept: "application/json" },
    body: formData,
    credentials: "same-origin",
  });
}

export async function getJSON(url, signal) {
  const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", signal });
  if (!response.ok) throw new Error("The server answered " + response.status);
  return response.json();
}

// The answer's JSON, or an {error} that says what went wrong when there is none.
export async function answer(response) {
  const fallback = response.status === 413 ? "The file is larger than the server accepts."
    : "The server answered " + response.status + ".";
  const data = await response.json().catch(() => ({ error: fallback }));
  if (!response.ok && !data.error) data.error = data.message || fallback;
  return data;
}
