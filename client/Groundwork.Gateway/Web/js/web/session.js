import { GroundworkError } from "../src/groundwork.js";
/** A short line for a refusal: the problem's detail and code. */
export function describe(error) {
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
export function followChanges(session, root, path, params, version, apply, reload) {
    let at = version;
    root.dataset.version = String(at);
    const again = () => void reload().catch(session.report);
    return session.socket.subscribe(path, params, { afterSequence: version }, {
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
