"""One Markdown source -> sanitised HTML, inline-styled email, plain text and
web version; the placeholder scanner and preflight; the per-recipient MIME
builder. Nothing here sends mail."""
