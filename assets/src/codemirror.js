// The one CodeMirror 6 bundle the admin serves (static/admin/vendor/codemirror.js).
// Everything the editor modules in static/admin/editor/ import comes from here, so
// they stay plain ES modules that need no build step; only a CodeMirror upgrade
// needs node (`make assets`).
export * from "@codemirror/state";
export * from "@codemirror/view";
export * from "@codemirror/commands";
export * from "@codemirror/language";
export * from "@codemirror/search";
export * from "@codemirror/lang-markdown";
export { tags } from "@lezer/highlight";
