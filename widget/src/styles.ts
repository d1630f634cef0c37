/**
 * @module widget/styles
 * The widget's only CSS, adopted into its shadow root as a constructable stylesheet
 * (`new CSSStyleSheet()` + `replaceSync`). Neither a `<style>` element nor a `style` attribute is
 * used, so a host CSP without `'unsafe-inline'` in `style-src` does not block it, and the shadow
 * root keeps host CSS out. Hosts theme it through the `--unsandbox-*` custom properties, which
 * do cross the shadow boundary. Layout follows the element's own width (container queries), so
 * it is right in a sidebar on a wide page as well as full width on a phone.
 */
export const CSS = `
:host {
  --unsandbox-accent: #2457d6;
  --unsandbox-bg: #ffffff;
  --unsandbox-fg: #1b1f24;
  --unsandbox-muted: #5b6470;
  --unsandbox-border: #d5dae1;
  --unsandbox-bubble: #eef2f8;
  --unsandbox-problem: #b42318;
  --unsandbox-ok: #1a7f37;
  --unsandbox-radius: 12px;
  display: block;
  container-type: inline-size;
  color: var(--unsandbox-fg);
  background: var(--unsandbox-bg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  border: 1px solid var(--unsandbox-border);
  border-radius: var(--unsandbox-radius);
  overflow: hidden;
  min-height: 320px;
}
@media (prefers-color-scheme: dark) {
  :host {
    --unsandbox-accent: #7aa2ff;
    --unsandbox-bg: #15181d;
    --unsandbox-fg: #e6e9ee;
    --unsandbox-muted: #9aa4b2;
    --unsandbox-border: #343a44;
    --unsandbox-bubble: #232832;
    --unsandbox-problem: #ff8a80;
    --unsandbox-ok: #6fdd8b;
  }
}
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
.chat { display: flex; flex-direction: column; height: 100%; min-height: inherit; max-height: var(--unsandbox-max-height, 80vh); }
.log { flex: 1; overflow-y: auto; padding: 16px; display: flex; flex-direction: column; gap: 12px; }
.empty { color: var(--unsandbox-muted); margin: auto; text-align: center; }
.msg { max-width: 100%; overflow-wrap: anywhere; }
.msg.user { align-self: flex-end; background: var(--unsandbox-accent); color: var(--unsandbox-bg); padding: 8px 12px; border-radius: var(--unsandbox-radius); max-width: 85%; white-space: pre-wrap; }
.msg.assistant { align-self: stretch; }
.msg.assistant[aria-busy="true"] .body:empty::after { content: "…"; color: var(--unsandbox-muted); }
.body > :first-child { margin-top: 0; }
.body > :last-child { margin-bottom: 0; }
.body p, .body ul, .body ol, .body pre, .body blockquote, .body .table { margin: 0 0 8px; }
.body h3, .body h4, .body h5, .body h6 { font-size: 1em; margin: 12px 0 6px; }
.body h3 { font-size: 1.15em; }
.body pre { background: var(--unsandbox-bubble); padding: 10px; border-radius: 8px; overflow-x: auto; }
.body code { font: 0.9em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.body :not(pre) > code { background: var(--unsandbox-bubble); padding: 1px 4px; border-radius: 4px; }
.body blockquote { border-left: 3px solid var(--unsandbox-border); padding-left: 10px; color: var(--unsandbox-muted); }
.body img { max-width: 100%; height: auto; border-radius: 8px; }
.body .table { overflow-x: auto; }
.body table { border-collapse: collapse; }
.body th, .body td { border: 1px solid var(--unsandbox-border); padding: 4px 8px; text-align: left; }
a { color: var(--unsandbox-accent); }
.files { list-style: none; padding: 0; margin: 8px 0 0; display: grid; gap: 8px; grid-template-columns: 1fr; }
@container (min-width: 560px) { .files { grid-template-columns: repeat(auto-fill, minmax(240px, 1fr)); } }
.card { border: 1px solid var(--unsandbox-border); border-radius: 10px; padding: 10px; display: grid; grid-template-columns: 1fr auto; gap: 4px 10px; align-items: center; }
.card .preview { grid-column: 1 / -1; }
.card .preview img { display: block; max-width: 100%; max-height: 220px; border-radius: 6px; margin: 0 auto; }
.card .name { font-weight: 600; overflow-wrap: anywhere; }
.card .info, .card .state { color: var(--unsandbox-muted); font-size: 0.87em; }
.card[data-tone="ready"] .state { color: var(--unsandbox-ok); }
.card[data-tone="problem"] .state { color: var(--unsandbox-problem); }
.card[data-tone="busy"] .state::before { content: ""; display: inline-block; width: 0.7em; height: 0.7em; margin-right: 6px; border-radius: 50%; border: 2px solid currentColor; border-right-color: transparent; animation: spin 0.9s linear infinite; vertical-align: -1px; }
@media (prefers-reduced-motion: reduce) { .card[data-tone="busy"] .state::before { animation: none; } }
@keyframes spin { to { transform: rotate(1turn); } }
.card .actions { grid-row: 2 / span 3; grid-column: 2; }
.button, button { font: inherit; border-radius: 8px; border: 1px solid var(--unsandbox-accent); background: var(--unsandbox-accent); color: var(--unsandbox-bg); padding: 6px 14px; cursor: pointer; text-decoration: none; display: inline-block; min-height: 36px; }
.button[aria-disabled="true"] { opacity: 0.5; pointer-events: none; }
button.secondary { background: transparent; color: var(--unsandbox-accent); }
button:disabled { opacity: 0.5; cursor: default; }
:focus-visible { outline: 3px solid var(--unsandbox-accent); outline-offset: 2px; }
.status { margin: 0; padding: 0 16px; color: var(--unsandbox-problem); min-height: 0; }
.status:empty { display: none; }
.composer { display: flex; gap: 8px; padding: 10px; border-top: 1px solid var(--unsandbox-border); align-items: flex-end; }
.composer textarea { flex: 1; font: inherit; color: inherit; background: transparent; border: 1px solid var(--unsandbox-border); border-radius: 8px; padding: 8px 10px; resize: none; min-height: 40px; max-height: 160px; field-sizing: content; }
@container (max-width: 420px) {
  .log { padding: 10px; }
  .msg.user { max-width: 95%; }
  .card { grid-template-columns: 1fr; }
  .card .actions { grid-row: auto; grid-column: 1; }
  .card .actions .button { width: 100%; text-align: center; }
}
.visually-hidden { position: absolute; width: 1px; height: 1px; margin: -1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
`;

let shared: CSSStyleSheet | null = null;

/** One sheet shared by every instance on the page (adopting a sheet does not copy it). */
export function widgetSheet(): CSSStyleSheet {
  if (!shared) {
    shared = new CSSStyleSheet();
    shared.replaceSync(CSS);
  }
  return shared;
}
