import { DurableObject } from "cloudflare:workers";
/** Placeholder until the tracker lands (issue 5). */
export class ContainerTracker extends DurableObject {}
