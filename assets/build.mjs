// Bundles CodeMirror 6 (src/codemirror.js) into ONE self-contained ES module the
// admin serves: static/admin/vendor/codemirror.js. Also writes
//   editor-bundle.json      exact versions of every bundled package (from package-lock.json)
//                           and the bundle's sha256, checked by tests/test_editor_bundle.py;
//   codemirror.LICENSES.txt the licence texts of the bundled packages (all MIT).
// Run through `make assets` (npm ci, then this script); the output is committed so
// `make run` needs no node.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, "..", "static", "admin", "vendor");
const bundleName = "codemirror.js";
mkdirSync(outDir, { recursive: true });

const result = await esbuild.build({
  entryPoints: [join(here, "src", "codemirror.js")],
  bundle: true,
  format: "esm",
  target: ["es2020"],
  minify: true,
  legalComments: "eof",
  charset: "utf8",
  metafile: true,
  write: false,
  logLevel: "warning",
});
const code = result.outputFiles[0].contents;
writeFileSync(join(outDir, bundleName), code);

// Which packages ended up in the bundle, named by their node_modules folder.
const bundled = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
  const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (match) bundled.add(match[1]);
}
const lock = JSON.parse(readFileSync(join(here, "package-lock.json"), "utf8"));
// Every runtime package of the lock file (the @codemirror/* and @lezer/* ones and
// their few helpers), whether or not the bundle ended up using it.
const packages = {};
for (const [path, entry] of Object.entries(lock.packages).sort()) {
  if (path.startsWith("node_modules/") && !entry.dev) packages[path.slice("node_modules/".length)] = entry.version;
}
for (const name of bundled) {
  if (!packages[name]) throw new Error(`${name} is bundled but not a runtime package of package-lock.json`);
}
const manifest = {
  bundle: bundleName,
  sha256: createHash("sha256").update(code).digest("hex"),
  bytes: code.length,
  esbuild: lock.packages["node_modules/esbuild"].version,
  packages,
  bundled: [...bundled].sort(),
};
writeFileSync(join(outDir, "editor-bundle.json"), JSON.stringify(manifest, null, 2) + "\n");

const licences = [...bundled].sort().map((name) => {
  const folder = join(here, "node_modules", name);
  const file = ["LICENSE", "LICENSE.md", "LICENSE.txt"].map((f) => join(folder, f)).find(existsSync);
  const text = file ? readFileSync(file, "utf8").trim() : `(no licence file; package.json says ${
    JSON.parse(readFileSync(join(folder, "package.json"), "utf8")).license})`;
  return `== ${name} ${packages[name]} ==\n\n${text}\n`;
});
writeFileSync(join(outDir, "codemirror.LICENSES.txt"),
  "Licences of the packages bundled into codemirror.js\n\n" + licences.join("\n"));
console.log(`${bundleName}: ${code.length} bytes, ${bundled.size} packages, sha256 ${manifest.sha256}`);
