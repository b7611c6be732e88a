// Never lose text: the unsaved fields are kept in localStorage under
// pressroom:draft:<issue id>:<version they were based on>, written shortly after each
// change and when the page is hidden or left, removed after a successful save. A reload,
// a crash or a refused save finds them there and offers them back.
const PREFIX = "pressroom:draft:";

export class Drafts {
  constructor(issueId) {
    this.issueId = String(issueId);
  }

  key(version) { return PREFIX + this.issueId + ":" + version; }

  keep(version, fields) {
    try {
      localStorage.setItem(this.key(version), JSON.stringify({ ...fields, version, keptAt: Date.now() }));
      return true;
    } catch (err) {
      return false;   // storage full or disabled: the autosave still runs
    }
  }

  // Kept drafts of this issue, newest first.
  all() {
    const found = [];
    const prefix = PREFIX + this.issueId + ":";
    try {
      for (let i = 0; i < localStorage.length; i++) {
        const key = localStorage.key(i);
        if (!key || !key.startsWith(prefix)) continue;
        try {
          const draft = JSON.parse(localStorage.getItem(key));
          if (draft && typeof draft.body === "string") found.push({ key, ...draft });
        } catch (err) { /* not ours */ }
      }
    } catch (err) {
      return [];
    }
    return found.sort((a, b) => (b.keptAt || 0) - (a.keptAt || 0));
  }

  remove(key) {
    try { localStorage.removeItem(key); } catch (err) { /* nothing to do */ }
  }

  // Every kept draft of this issue except `keep` (a key still offered by the banner).
  clear(keep) {
    for (const draft of this.all()) if (draft.key !== keep) this.remove(draft.key);
  }

  // A draft offered back moves to a key of its own, so text typed before the editor
  // chooses Restore or Discard (kept under the version's key) cannot overwrite it.
  moveAside(draft) {
    if (draft.key.endsWith(":offered")) return draft;
    const { key, ...fields } = draft;
    const moved = key + ":offered";
    try {
      localStorage.setItem(moved, JSON.stringify(fields));
      localStorage.removeItem(key);
    } catch (err) {
      return draft;
    }
    return { key: moved, ...fields };
  }
}

export function describeDraft(draft, currentVersion) {
  const when = new Date(draft.keptAt || Date.now());
  const today = new Date().toDateString() === when.toDateString();
  const time = today
    ? "today at " + when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : "on " + when.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  let text = "This browser kept text you had not saved (" + time + ").";
  if (Number(draft.version) !== Number(currentVersion)) {
    text += " It was based on version " + draft.version + "; the issue has been saved since (now version "
      + currentVersion + "), so restoring replaces the newer text (the revisions page keeps it).";
  }
  return text;
}
