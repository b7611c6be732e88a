// /subscribe: tell the signup the reader's time zone (so issues can arrive
// at a sensible local hour). Nothing else is read; without script the field
// stays empty and the newsletter's reader time zone applies.
for (const field of document.querySelectorAll('input[name="time_zone"]')) {
  try {
    field.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch {
    field.value = "";
  }
}
