import { DurableObject } from "cloudflare:workers";
/** Placeholder until the response index lands (issue 5). */
export class ResponseIndex extends DurableObject {}
