// Validate an AsyncAPI document with the official parser (@asyncapi/parser).
// Usage: node validate.mjs FILE. Prints every diagnostic; exits 1 when one is an error.
import { Parser, fromFile, DiagnosticSeverity } from '@asyncapi/parser';

const file = process.argv[2];
if (!file) {
  console.error('usage: node validate.mjs ASYNCAPI_FILE');
  process.exit(2);
}

const names = {
  [DiagnosticSeverity.Error]: 'error',
  [DiagnosticSeverity.Warning]: 'warning',
  [DiagnosticSeverity.Information]: 'info',
  [DiagnosticSeverity.Hint]: 'hint',
};

const parser = new Parser();
const { document, diagnostics } = await fromFile(parser, file).parse();
for (const d of diagnostics) {
  const where = d.path && d.path.length ? d.path.join('.') : '(document)';
  console.log(`${names[d.severity] ?? d.severity}: ${where}: ${d.message} [${d.code}]`);
}
const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
if (errors.length || !document) {
  console.error(`${file}: ${errors.length} error(s); not a valid AsyncAPI document.`);
  process.exit(1);
}
console.log(`${file}: valid AsyncAPI ${document.version()} document.`);
