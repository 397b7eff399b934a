// A sheet as a grid: values shown, formulas edited in place, and every recalculated cell arriving live.
import type { Schemas } from "../src/groundwork.js";
import { fill, h, newId } from "./dom.js";
import { describe, followChanges, type Session, type View } from "./session.js";

const columns = 8;
const rows = 30;

/** Column letters of a 0-based index (0 is A). */
export function columnName(index: number): string {
  let name = "";
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) {
    name = String.fromCharCode(65 + ((n - 1) % 26)) + name;
  }

  return name;
}

/** A sheet name as an address writes it: quoted when it is not letters, digits and underscores. */
export function sheetPrefix(sheet: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(sheet) ? `${sheet}!` : `'${sheet.replace(/'/g, "''")}'!`;
}

/** What a cell shows for its value. */
export function display(value: Schemas["SheetValue"]): string {
  switch (value.kind) {
    case "Number": {
      const number = value.number ?? 0;
      return Number.isInteger(number) ? String(number) : String(Number(number.toPrecision(12)));
    }
    case "Boolean":
      return (value.number ?? 0) !== 0 ? "TRUE" : "FALSE";
    case "Text":
    case "Error":
      return value.text ?? "";
    default:
      return "";
  }
}

export function sheetView(session: Session, name: string, selected?: string): View {
  const { client, tenant } = session;
  const params = { tenant, name };
  const heading = h("h1", {}, name);
  const tabs = h("nav", { class: "tabs" });
  const grid = h("table", { class: "grid", "aria-label": "Cells" });
  const root = h("div", { class: "sheet", "data-workbook": name }, heading, tabs, h("div", { class: "scroll" }, grid));
  // A cell's data; `stale` when a change recalculated it without saying its formula (a change lists the formulas of
  // the cells its batch set, not of their dependents): focusing it reads the formula again.
  type Slot = { input: HTMLInputElement; data: Schemas["CellData"] | undefined; stale: boolean };
  const cells = new Map<string, Slot>();
  let sheet = selected ?? "";
  let unsubscribe: (() => void) | undefined;
  let disposed = false;

  // Addresses within the grid, by their A1 name on this sheet; the server names them with their sheet.
  const local = (address: string) => {
    const prefix = sheetPrefix(sheet);
    return address.startsWith(prefix) ? address.slice(prefix.length) : undefined;
  };

  const show = (slot: Slot) => {
    const focused = document.activeElement === slot.input;
    slot.input.value = focused ? (slot.data?.formula ?? (slot.data ? display(slot.data.value) : "")) : (slot.data ? display(slot.data.value) : "");
    slot.input.dataset.value = slot.data ? display(slot.data.value) : "";
    slot.input.classList.toggle("error", slot.data?.value.kind === "Error");
    slot.input.classList.toggle("number", slot.data?.value.kind === "Number");
  };

  const apply = (changed: readonly Schemas["CellData"][]) => {
    for (const data of changed) {
      const address = local(data.cell);
      const slot = address ? cells.get(address) : undefined;
      if (slot) {
        const kept = data.formula === null || data.formula === undefined ? slot.data?.formula : undefined;
        slot.stale = kept !== undefined && kept !== null;
        slot.data = data.value.kind === "Empty" && !data.formula ? undefined : { ...data, formula: data.formula ?? kept ?? null };
        show(slot);
      }
    }
  };

  const edit = (address: string, input: string) => {
    client.post("/v1/{tenant}/workbook/{name}/edit", params, { cells: [{ cell: sheetPrefix(sheet) + address, input }] }, { idempotencyKey: newId() })
      .then((result) => apply(result.cells ?? []))
      .catch((error: unknown) => {
        session.report(error);
        const slot = cells.get(address);
        if (slot) {
          show(slot);
        }
      });
  };

  const build = () => {
    cells.clear();
    const header = h("tr", {}, h("th", {}), ...Array.from({ length: columns }, (_, c) => h("th", { scope: "col" }, columnName(c))));
    const body = Array.from({ length: rows }, (_, r) => h("tr", {}, h("th", { scope: "row" }, r + 1), ...Array.from({ length: columns }, (_, c) => {
      const address = `${columnName(c)}${r + 1}`;
      const input = h("input", { "data-cell": address, "aria-label": address, spellcheck: "false", autocomplete: "off" });
      const slot: Slot = { input, data: undefined, stale: false };
      cells.set(address, slot);
      let before = "";
      input.addEventListener("focus", () => {
        show(slot);
        before = input.value;
        input.select();
        if (slot.stale) {
          void client.get("/v1/{tenant}/workbook/{name}/read", params, { range: sheetPrefix(sheet) + address, formulas: true }).then((fresh) => {
            slot.stale = false;
            slot.data = fresh.cells[0];
            if (document.activeElement === input && input.value === before) {
              show(slot);
              before = input.value;
            }
          }).catch(session.report);
        }
      });
      input.addEventListener("keydown", (event) => {
        if (event.key === "Enter") {
          input.blur();
        } else if (event.key === "Escape") {
          input.value = before;
          input.blur();
        }
      });
      input.addEventListener("blur", () => {
        const now = input.value;
        show(slot);
        if (now !== before) {
          input.value = now;
          edit(address, now);
        }
      });
      return h("td", {}, input);
    })));
    fill(grid, h("thead", {}, header), h("tbody", {}, ...body));
  };

  const load = async () => {
    unsubscribe?.();
    const snapshot = await client.get("/v1/{tenant}/workbook/{name}/get", params);
    if (disposed) {
      return;
    }

    fill(heading, snapshot.title);
    if (!snapshot.sheets.some((info) => info.name === sheet)) {
      sheet = snapshot.sheets[0]?.name ?? "Sheet1";
    }

    fill(tabs, ...snapshot.sheets.map((info) => h("a", {
      href: `#/sheet/${encodeURIComponent(name)}/${encodeURIComponent(info.name)}`,
      "aria-current": info.name === sheet ? "page" : null,
    }, info.name)));
    const range = await client.get("/v1/{tenant}/workbook/{name}/read", params, { range: `${sheetPrefix(sheet)}A1:${columnName(columns - 1)}${rows}`, formulas: true });
    if (disposed) {
      return;
    }

    build();
    apply(range.cells);
    unsubscribe = followChanges(session, root, "/v1/{tenant}/workbook/{name}/watch", params, range.version, (change) => {
      if (change.kind === "CellsChanged" && !change.reload?.length) {
        apply(change.cells ?? []);
      } else if (change.kind !== "AccessChanged" && change.kind !== "Renamed") {
        return false; // rows, columns, sheets or a large import: read the grid again
      } else if (change.name) {
        fill(heading, change.name);
      }

      return true;
    }, load);
  };
  load().catch((error: unknown) => fill(grid, h("caption", { class: "error", role: "alert" }, describe(error))));
  return {
    root,
    dispose: () => {
      disposed = true;
      unsubscribe?.();
    },
  };
}
