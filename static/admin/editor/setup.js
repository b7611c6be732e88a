// The CodeMirror editor itself: Markdown highlighting, the text marks, the problem
// gutter, search, history and the keymap. It replaces the display of the form's
// <textarea name="body">, which stays in the DOM as the field the text is synced into.
import {
  EditorState, EditorView, HighlightStyle, drawSelection, dropCursor, highlightActiveLine,
  highlightActiveLineGutter, highlightSpecialChars, history, historyKeymap, defaultKeymap, indentUnit,
  keymap, lineNumbers, markdown, markdownLanguage, search, searchKeymap, syntaxHighlighting, tags,
} from "../vendor/codemirror.js";
import { placeholderTooltip, textMarks } from "./marks.js";
import { commentGutter } from "./comments.js";
import { problemGutter } from "./problems.js";

// Colours are CSS variables (static/admin/editor.css) so light and dark mode both keep
// WCAG AA contrast.
const markdownStyle = HighlightStyle.define([
  { tag: tags.heading, fontWeight: "700", color: "var(--md-heading)" },
  { tag: tags.strong, fontWeight: "700" },
  { tag: tags.emphasis, fontStyle: "italic" },
  { tag: tags.strikethrough, textDecoration: "line-through" },
  { tag: [tags.link, tags.labelName], color: "var(--md-link)" },
  { tag: tags.url, color: "var(--md-url)" },
  { tag: tags.monospace, color: "var(--md-code)" },
  { tag: tags.quote, color: "var(--md-quote)" },
  { tag: [tags.processingInstruction, tags.contentSeparator, tags.list], color: "var(--md-mark)" },
  { tag: [tags.tagName, tags.angleBracket], color: "var(--md-html)" },
  { tag: [tags.attributeName, tags.attributeValue, tags.string], color: "var(--md-attr)" },
  { tag: tags.comment, color: "var(--md-comment)", fontStyle: "italic" },
  { tag: [tags.escape, tags.character], color: "var(--md-mark)" },
]);

const theme = EditorView.theme({
  "&": { height: "100%", color: "var(--fg)", backgroundColor: "var(--editor-bg)", fontSize: "14px" },
  ".cm-scroller": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", lineHeight: "1.6" },
  ".cm-content": { padding: "10px 0 40vh", caretColor: "var(--fg)" },
  ".cm-line": { padding: "0 14px 0 8px" },
  ".cm-gutters": { backgroundColor: "var(--editor-gutter)", color: "var(--muted)", borderRight: "1px solid var(--line)" },
  ".cm-activeLine": { backgroundColor: "var(--editor-active)" },
  ".cm-activeLineGutter": { backgroundColor: "var(--editor-active)", color: "var(--fg)" },
  "&.cm-focused": { outline: "2px solid var(--accent)", outlineOffset: "-2px" },
  ".cm-cursor": { borderLeftColor: "var(--fg)" },
  "&.cm-focused .cm-selectionBackground, .cm-selectionBackground, ::selection": { backgroundColor: "var(--editor-selection) !important" },
  ".cm-tooltip": { backgroundColor: "var(--card)", color: "var(--fg)", border: "1px solid var(--line)" },
});

export function createEditor({ textarea, parent, editable, keys, extensions, onUpdate }) {
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        problemGutter,
        commentGutter,
        history(),
        drawSelection(),
        dropCursor(),
        highlightSpecialChars(),    // zero-width spaces and other invisibles of the archive show up
        highlightActiveLine(),
        EditorView.lineWrapping,
        indentUnit.of("    "),      // Python-Markdown nests lists at 4 spaces
        markdown({ base: markdownLanguage, addKeymap: true }),
        syntaxHighlighting(markdownStyle),
        textMarks,
        placeholderTooltip,
        search({ top: true }),
        keymap.of([...keys, ...searchKeymap, ...historyKeymap, ...defaultKeymap]),
        EditorState.readOnly.of(!editable),
        EditorView.contentAttributes.of({
          "aria-labelledby": "body-label", "aria-describedby": "body-hint",
          spellcheck: "true", autocorrect: "on", autocapitalize: "sentences",
          // Focusable anyway (contenteditable), but axe only counts the scroller's
          // content as keyboard-reachable with an explicit tabindex.
          tabindex: "0",
        }),
        theme,
        EditorView.updateListener.of(onUpdate),
        ...extensions,
      ],
    }),
  });
  textarea.hidden = true;
  parent.classList.add("has-editor");
  return view;
}
