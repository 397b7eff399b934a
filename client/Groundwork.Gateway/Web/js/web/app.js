// The Groundwork web product (docs/design/web.md): sign in with an API key or a token, the tenant's directory, and a
// list, a channel and a sheet, live over one groundwork.v1 WebSocket. ES modules served as they are, no bundler.
import { Groundwork, GroundworkSocket } from "../src/groundwork.js";
import { describe } from "./session.js";
import { fill, h, newId } from "./dom.js";
import { listView } from "./list.js";
import { channelView } from "./channel.js";
import { sheetView } from "./sheet.js";
const stored = { credential: "groundwork.credential", tenant: "groundwork.tenant" };
/** The tenant a credential belongs to: a key names it (`gwk_{tenant}_...`), a token carries it as a claim. */
export function tenantOf(credential, claim = "tenant") {
    const key = /^gwk_([a-z0-9][a-z0-9-]{0,62})_/.exec(credential);
    if (key) {
        return key[1];
    }
    const parts = credential.split(".");
    if (parts.length === 3 && parts[1]) {
        try {
            const payload = JSON.parse(atob(parts[1].replace(/-/g, "+").replace(/_/g, "/")));
            return typeof payload[claim] === "string" ? payload[claim] : undefined;
        }
        catch {
            return undefined;
        }
    }
    return undefined;
}
/** The name part of a resource key (`{tenant}/{kind}/{name}`). */
export function nameOf(key) {
    return key.slice(key.lastIndexOf("/") + 1);
}
const main = document.getElementById("view");
const bar = document.getElementById("bar");
const status = h("p", { id: "status", role: "status", "aria-live": "polite" });
function signInForm(reason) {
    const credential = h("input", { id: "credential", name: "credential", type: "password", autocomplete: "off", required: true, placeholder: "gwk_… or a JWT" });
    const tenant = h("input", { id: "tenant", name: "tenant", placeholder: "from the key" });
    const error = h("p", { class: "error", role: "alert" }, reason ?? "");
    const form = h("form", {
        class: "card narrow",
        onsubmit: (event) => {
            event.preventDefault();
            void signIn(credential.value.trim(), tenant.value.trim() || undefined).catch((failure) => fill(error, describe(failure)));
        },
    }, h("h1", {}, "Sign in to Groundwork"), h("label", { for: "credential" }, "API key or token"), credential, h("label", { for: "tenant" }, "Tenant"), tenant, h("button", { type: "submit" }, "Sign in"), error);
    fill(bar);
    fill(main, form);
    credential.focus();
}
async function signIn(credential, tenantHint) {
    if (!window.isSecureContext) {
        throw new Error("This page is not served over HTTPS (or from localhost): a key typed here would cross the network in clear text.");
    }
    const tenant = tenantHint ?? tenantOf(credential);
    if (!tenant) {
        throw new Error("Name the tenant: it is not in this credential.");
    }
    const client = new Groundwork({ credential: () => credential });
    const me = await client.get("/v1/{tenant}/tenant/whoami", { tenant });
    sessionStorage.setItem(stored.credential, credential);
    sessionStorage.setItem(stored.tenant, tenant);
    start(client, tenant, me);
}
let current;
function start(client, tenant, me) {
    const socket = new GroundworkSocket(client);
    const session = {
        client, socket, tenant, me, connection: newId(),
        report: (error) => {
            status.className = "error";
            fill(status, describe(error));
        },
    };
    const live = h("span", { id: "live", class: "badge" });
    socket.onState((state) => {
        live.dataset.state = state;
        fill(live, state === "open" ? "live" : state);
    });
    socket.start();
    fill(bar, h("a", { href: "#/", class: "brand" }, "Groundwork"), h("span", { class: "who" }, `${me.principal} · ${tenant}${me.role ? ` · ${me.role}` : ""}`), live, h("button", { type: "button", class: "quiet", onclick: () => signOut(session) }, "Sign out"));
    beat(session);
    const show = () => {
        current?.dispose();
        status.className = "";
        fill(status);
        current = route(session, location.hash);
        fill(main, current.root, status);
    };
    window.onhashchange = show;
    show();
}
function route(session, hash) {
    const [, kind, name, mode] = hash.replace(/^#/, "").split("/").map(decodeURIComponent);
    switch (kind) {
        case "list":
            return listView(session, name ?? "", mode === "board" ? "board" : "todo");
        case "channel":
            return channelView(session, name ?? "");
        case "sheet":
            return sheetView(session, name ?? "", mode);
        default:
            return directoryView(session);
    }
}
// Presence: one connection per tab, beating as often as the silo asks; active when the user did something since.
let active = true;
let beating;
for (const name of ["keydown", "pointerdown", "focus"]) {
    window.addEventListener(name, () => {
        active = true;
    });
}
function beat(session) {
    const next = (seconds) => {
        beating = setTimeout(() => beat(session), seconds * 1000);
    };
    session.client.post("/v1/{tenant}/presence/heartbeat", { tenant: session.tenant }, { connection: session.connection, active })
        .then((interval) => {
        active = false;
        const [hours, minutes, seconds] = String(interval).split(":").map(Number);
        next(Math.max(5, (hours ?? 0) * 3600 + (minutes ?? 0) * 60 + (seconds ?? 30)));
    })
        .catch(() => next(30));
}
function signOut(session) {
    clearTimeout(beating);
    current?.dispose();
    current = undefined;
    void session.client.post("/v1/{tenant}/presence/disconnect", { tenant: session.tenant }, { connection: session.connection }).catch(() => undefined);
    session.socket.close();
    sessionStorage.removeItem(stored.credential);
    sessionStorage.removeItem(stored.tenant);
    location.hash = "";
    signInForm();
}
const kinds = [
    { kind: "list", route: "list", heading: "Lists", create: "New list" },
    { kind: "channel", route: "channel", heading: "Channels", create: "New channel" },
    { kind: "workbook", route: "sheet", heading: "Sheets", create: "New sheet" },
];
/** The tenant's directory: its lists, channels (with unread counts from the inbox) and sheets, kept fresh. */
function directoryView(session) {
    const { client, tenant } = session;
    const sections = new Map(kinds.map((kind) => [kind.kind, h("ul", { class: "entries", "aria-label": kind.heading })]));
    let unread = new Map();
    let entries = [];
    const render = () => {
        for (const { kind, route: path } of kinds) {
            const list = sections.get(kind);
            const mine = entries.filter((entry) => entry.kind === kind).sort((a, b) => a.title.localeCompare(b.title));
            fill(list, ...mine.map((entry) => {
                const inbox = unread.get(entry.key);
                const count = inbox && inbox.unread > 0 ? h("span", { class: "badge unread", "aria-label": "unread" }, inbox.moreUnread ? `${inbox.unread}+` : inbox.unread) : null;
                return h("li", { "data-key": entry.key }, h("a", { href: `#/${path}/${encodeURIComponent(nameOf(entry.key))}` }, entry.title || nameOf(entry.key)), count);
            }), mine.length === 0 ? h("li", { class: "empty" }, "None yet") : null);
        }
    };
    const refresh = async () => {
        try {
            entries = await client.get("/v1/{tenant}/directory/list", { tenant }, {});
            const inbox = await client.get("/v1/{tenant}/inbox/{name}/list", { tenant, name: await inboxName(session.me.principal) }, { limit: 200 });
            unread = new Map(inbox.entries.map((entry) => [entry.channel, entry]));
            render();
        }
        catch (error) {
            session.report(error);
        }
    };
    const forms = kinds.map(({ kind, route: path, heading, create }) => {
        const name = h("input", { name: "name", required: true, pattern: "[A-Za-z0-9_\\-][A-Za-z0-9._\\-]{0,127}", placeholder: "name", "aria-label": `${create} name` });
        return h("section", { class: "card" }, h("h2", {}, heading), sections.get(kind), h("form", {
            class: "inline",
            onsubmit: (event) => {
                event.preventDefault();
                void createResource(session, kind, name.value.trim())
                    .then(() => {
                    location.hash = `#/${path}/${encodeURIComponent(name.value.trim())}`;
                })
                    .catch(session.report);
            },
        }, name, h("button", { type: "submit" }, create)));
    });
    const timer = setInterval(() => void refresh(), 5000);
    const onFocus = () => void refresh();
    window.addEventListener("focus", onFocus);
    void refresh();
    return {
        root: h("div", { class: "directory" }, h("h1", {}, `Tenant ${tenant}`), h("div", { class: "columns" }, ...forms)),
        dispose: () => {
            clearInterval(timer);
            window.removeEventListener("focus", onFocus);
        },
    };
}
async function createResource(session, kind, name) {
    const { client, tenant } = session;
    const init = { idempotencyKey: newId() };
    switch (kind) {
        case "list":
            await client.post("/v1/{tenant}/list/{name}/create", { tenant, name }, { title: name }, init);
            break;
        case "channel":
            await client.post("/v1/{tenant}/channel/{name}/create", { tenant, name }, { settings: { name, private: false } }, init);
            break;
        case "workbook":
            await client.post("/v1/{tenant}/workbook/{name}/create", { tenant, name }, { title: name }, init);
            break;
    }
}
/** The name of a member's inbox: the first 16 bytes of the SHA-256 of their principal id, in hex (InboxKeys.NameOf). */
export async function inboxName(principal) {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(principal)));
    return Array.from(digest.slice(0, 16), (byte) => byte.toString(16).padStart(2, "0")).join("");
}
const credential = sessionStorage.getItem(stored.credential);
if (credential) {
    signIn(credential, sessionStorage.getItem(stored.tenant) ?? undefined).catch((error) => {
        sessionStorage.removeItem(stored.credential);
        signInForm(describe(error));
    });
}
else {
    signInForm();
}
