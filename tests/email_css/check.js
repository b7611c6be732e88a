// Reads email HTML on stdin, prints doiuse-email's verdict for Gmail,
// Outlook, Apple Mail, Yahoo and Samsung Email as JSON (caniemail.com data).
const { doIUseEmail } = require('@jsx-email/doiuse-email');

let html = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { html += chunk; });
process.stdin.on('end', () => {
  const result = doIUseEmail(html, { emailClients: ['gmail.*', 'outlook.*', 'apple-mail.*', 'yahoo.*', 'samsung-email.*'] });
  process.stdout.write(JSON.stringify({ success: result.success, errors: result.errors || [] }));
});
