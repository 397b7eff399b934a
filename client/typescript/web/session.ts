// What every view of the web product shares: the signed-in session and how a refusal reads.
import type { Groundwork, GroundworkSocket, Schemas } from "../src/groundwork.js";
import { GroundworkError } from "../src/groundwork.js";

/** A signed-in tab: its client, its one socket, who it is. */
export interface Session {
  readonly client: Groundwork;
  readonly socket: GroundworkSocket;
  readonly tenant: string;
  readonly me: Schemas["CallerIdentity"];
  /** This tab's presence connection. */
  readonly connection: string;
  /** Shows a refusal or failure to the user. */
  report(error: unknown): void;
}

/** What a route shows; disposed when the user goes elsewhere. */
export interface View {
  readonly root: HTMLElement;
  dispose(): void;
}

/** A short line for a refusal: the problem's detail and code. */
export function describe(error: unknown): string {
  if (error instanceof GroundworkError) {
    return `${error.problem.detail ?? error.problem.title} (${error.code})`;
  }

  return error instanceof Error ? error.message : String(error);
}
