/**
 * @module widget
 * The entry point of `/widget.js`: defines `<unsandbox-chat>` once (a page may include the
 * script twice, e.g. the moving alias and a pinned version).
 */
import { UnsandboxChat } from "./element";

if (!customElements.get("unsandbox-chat")) customElements.define("unsandbox-chat", UnsandboxChat);

export { UnsandboxChat };
