import { GroundworkError } from "../src/groundwork.js";
/** A short line for a refusal: the problem's detail and code. */
export function describe(error) {
    if (error instanceof GroundworkError) {
        return `${error.problem.detail ?? error.problem.title} (${error.code})`;
    }
    return error instanceof Error ? error.message : String(error);
}
