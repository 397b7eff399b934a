// A few DOM helpers for the web product: elements built in code (no templates, no innerHTML, so no markup injection).
/** Creates an element with its properties and children. */
export function h(tag, props = {}, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(props)) {
        if (value === undefined || value === null || value === false) {
            continue;
        }
        if (typeof value === "function") {
            element.addEventListener(name.slice(2).toLowerCase(), value);
        }
        else if (name === "class") {
            element.className = String(value);
        }
        else if (name === "value" || name === "checked" || name === "disabled") {
            element[name] = value;
        }
        else {
            element.setAttribute(name, value === true ? "" : String(value));
        }
    }
    element.append(...children.filter((child) => child !== null && child !== undefined && child !== false).map((child) => (typeof child === "number" ? String(child) : child)));
    return element;
}
/** Replaces an element's children. */
export function fill(element, ...children) {
    element.replaceChildren();
    element.append(...children.filter((child) => child !== null && child !== undefined && child !== false).map((child) => (typeof child === "number" ? String(child) : child)));
}
/** A random id for idempotency keys and connections. */
export function newId() {
    return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, "0")).join("");
}
