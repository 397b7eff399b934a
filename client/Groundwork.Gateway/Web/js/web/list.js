import { fill, h, newId } from "./dom.js";
import { describe, followChanges } from "./session.js";
/** Applies one change of the list's feed to its items; false when the change does not follow (reload the snapshot). */
export function applyListChange(items, change) {
    const at = (id) => items.findIndex((item) => item.id === id);
    switch (change.kind) {
        case "ItemAdded":
            if (!change.item) {
                return false;
            }
            items.splice(Math.min(change.position ?? items.length, items.length), 0, change.item);
            return true;
        case "ItemMoved": {
            const from = at(change.itemId ?? change.item?.id);
            const moved = change.item ?? items[from];
            if (from < 0 || !moved) {
                return false;
            }
            items.splice(from, 1);
            items.splice(Math.min(change.position ?? items.length, items.length), 0, moved);
            return true;
        }
        case "ItemEdited":
        case "ItemCompleted":
        case "ItemReopened": {
            const index = at(change.item?.id ?? change.itemId);
            if (index < 0 || !change.item) {
                return false;
            }
            items[index] = change.item;
            return true;
        }
        case "ItemRemoved": {
            const index = at(change.itemId);
            if (index >= 0) {
                items.splice(index, 1);
            }
            return index >= 0;
        }
        case "CompletedCleared": {
            const removed = new Set(change.removedItemIds);
            items.splice(0, items.length, ...items.filter((item) => !removed.has(item.id)));
            return true;
        }
        default:
            return true; // created, renamed, access: nothing to do to the items
    }
}
export function listView(session, name, mode) {
    const { client, tenant } = session;
    const params = { tenant, name };
    const heading = h("h1", {}, name);
    const body = h("div", { class: "list-body" });
    const root = h("div", { class: `list list-${mode}`, "data-list": name }, heading, h("nav", { class: "tabs" }, h("a", { href: `#/list/${encodeURIComponent(name)}`, "aria-current": mode === "todo" ? "page" : null }, "Todo"), h("a", { href: `#/list/${encodeURIComponent(name)}/board`, "aria-current": mode === "board" ? "page" : null }, "Board")), body);
    let items = [];
    let unsubscribe;
    let disposed = false;
    const act = (call) => void call().catch(session.report);
    const init = () => ({ idempotencyKey: newId() });
    const row = (item) => h("li", { class: item.done ? "item done" : "item", "data-item": item.id }, h("input", {
        type: "checkbox", checked: item.done, "aria-label": `Done: ${item.title}`,
        onchange: () => act(() => item.done
            ? client.post("/v1/{tenant}/list/{name}/reopen-item", params, { itemId: item.id }, init())
            : client.post("/v1/{tenant}/list/{name}/complete-item", params, { itemId: item.id }, init())),
    }), h("span", { class: "title" }, item.title), item.assignee ? h("span", { class: "assignee" }, item.assignee) : null, h("button", {
        type: "button", class: "quiet", "aria-label": `Remove ${item.title}`,
        onclick: () => act(() => client.post("/v1/{tenant}/list/{name}/remove-item", params, { itemId: item.id }, init())),
    }, "×"));
    const card = (item, columns) => h("li", { class: item.done ? "card item done" : "card item", "data-item": item.id }, h("span", { class: "title" }, item.title), h("select", {
        "aria-label": `Assignee of ${item.title}`,
        onchange: (event) => {
            const assignee = event.target.value;
            act(() => client.post("/v1/{tenant}/list/{name}/edit-item", params, { itemId: item.id, edit: assignee ? { assignee } : { clearAssignee: true } }, init()));
        },
    }, ...["", ...columns].map((column) => h("option", { value: column, selected: (item.assignee ?? "") === column }, column || "Unassigned"))));
    const extraColumns = new Set();
    const render = () => {
        if (mode === "todo") {
            const open = items.filter((item) => !item.done).length;
            fill(body, h("ul", { class: "items", "aria-label": "Items" }, ...items.map(row)), h("p", { class: "muted", "data-count": items.length }, `${open} open of ${items.length}`));
        }
        else {
            const columns = [...new Set([...items.map((item) => item.assignee).filter((a) => !!a), ...extraColumns])].sort();
            fill(body, h("div", { class: "board" }, ...["", ...columns].map((column) => h("section", { class: "column", "data-assignee": column }, h("h2", {}, column || "Unassigned"), h("ul", { "aria-label": column || "Unassigned" }, ...items.filter((item) => (item.assignee ?? "") === column).map((item) => card(item, columns)))))));
        }
    };
    const title = h("input", { name: "title", required: true, placeholder: "What needs doing?", "aria-label": "New item" });
    const assignee = h("input", { name: "assignee", placeholder: "assignee", "aria-label": "Assignee" });
    const adder = h("form", {
        class: "inline",
        onsubmit: (event) => {
            event.preventDefault();
            const item = { title: title.value.trim(), ...(assignee.value.trim() ? { assignee: assignee.value.trim() } : {}) };
            if (mode === "board" && item.assignee) {
                extraColumns.add(item.assignee);
            }
            title.value = "";
            act(() => client.post("/v1/{tenant}/list/{name}/add-item", params, { item }, init()));
            title.focus();
        },
    }, title, assignee, h("button", { type: "submit" }, "Add"));
    root.insertBefore(adder, body);
    const load = async () => {
        unsubscribe?.();
        const snapshot = await client.get("/v1/{tenant}/list/{name}/get", params);
        if (disposed) {
            return;
        }
        fill(heading, snapshot.title);
        items = [...snapshot.items];
        render();
        unsubscribe = followChanges(session, root, "/v1/{tenant}/list/{name}/watch", params, snapshot.version, (change, previous) => {
            if (change.sequence !== previous + 1 || !applyListChange(items, change)) {
                return false; // out of step: start again from a snapshot
            }
            if (change.title) {
                fill(heading, change.title);
            }
            render();
            return true;
        }, load);
    };
    load().catch((error) => fill(body, h("p", { class: "error", role: "alert" }, describe(error))));
    return {
        root,
        dispose: () => {
            disposed = true;
            unsubscribe?.();
        },
    };
}
