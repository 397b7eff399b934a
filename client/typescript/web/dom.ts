// A few DOM helpers for the web product: elements built in code (no templates, no innerHTML, so no markup injection).

/** What an element may hold: nodes and text; null, undefined and false are left out. */
export type Child = Node | string | number | null | undefined | false;

/** Attributes of {@link h}: `class`, `on*` listeners, `value`/`checked`/`disabled` as properties, the rest as attributes. */
export type Props = Record<string, string | number | boolean | ((event: Event) => void) | null | undefined>;

/** Creates an element with its properties and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) {
      continue;
    }

    if (typeof value === "function") {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === "class") {
      element.className = String(value);
    } else if (name === "value" || name === "checked" || name === "disabled") {
      (element as unknown as Record<string, unknown>)[name] = value;
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }

  element.append(...children.filter((child): child is Node | string | number => child !== null && child !== undefined && child !== false).map((child) => (typeof child === "number" ? String(child) : child)));
  return element;
}

/** Replaces an element's children. */
export function fill(element: Element, ...children: Child[]): void {
  element.replaceChildren();
  element.append(...children.filter((child): child is Node | string | number => child !== null && child !== undefined && child !== false).map((child) => (typeof child === "number" ? String(child) : child)));
}

/** A random id for idempotency keys and connections. */
export function newId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, "0")).join("");
}
