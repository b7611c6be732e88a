// Reads a JSON array of email HTML documents on stdin and prints, for each,
// doiuse-email's errors (caniemail.com data) over the 15 clients the product
// targets: Gmail, Outlook, Apple Mail, Yahoo, AOL, Samsung Email, Thunderbird
// and ProtonMail, every platform of each that caniemail lists.
const { doIUseEmail } = require('@jsx-email/doiuse-email');

const CLIENTS = [
  'gmail.*', 'outlook.*', 'apple-mail.*', 'yahoo.*', 'aol.*',
  'samsung-email.*', 'thunderbird.*', 'protonmail.*',
];

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const results = JSON.parse(input).map((html) => doIUseEmail(html, { emailClients: CLIENTS }).errors || []);
  process.stdout.write(JSON.stringify(results));
});
