// What every view of the web product shares: the signed-in session and how a refusal reads.
import type { EventOf, FeedArgs, FeedPath, Groundwork, GroundworkSocket, PathParams, Schemas } from "../src/groundwork.js";
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

/**
 * Follows a resource's change feed over the tab's socket from `version` (its snapshot's): each change once and in
 * order to `apply`, and the version reached on `root` (`data-version`). A change `apply` cannot take (it answers
 * false) or a `resync-required` calls `reload`: read a snapshot and follow again from it.
 */
export function followChanges<P extends FeedPath>(
  session: Session, root: HTMLElement, path: P, params: PathParams<P, "get">, version: number,
  apply: (change: EventOf<P>, previous: number) => boolean, reload: () => Promise<void>): () => void {
  let at = version;
  root.dataset.version = String(at);
  const again = () => void reload().catch(session.report);
  return session.socket.subscribe(path, params, { afterSequence: version } as unknown as FeedArgs<P>, {
    onEvent: (change, sequence) => {
      if (sequence === undefined || sequence <= at) {
        return; // already applied
      }

      if (!apply(change, at)) {
        again();
        return;
      }

      at = sequence;
      root.dataset.version = String(at);
    },
    onError: (error) => (error.code === "resync-required" ? again() : session.report(error)),
  });
}
