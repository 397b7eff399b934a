/** A refused call: the HTTP status and the problem the gateway answered with. */
export class GroundworkError extends Error {
    status;
    problem;
    constructor(status, problem) {
        super(`${problem.code}: ${problem.detail ?? problem.title}`);
        this.status = status;
        this.problem = problem;
        this.name = "GroundworkError";
    }
    /** The problem's stable code (`not-found`, `version-conflict`, ...). */
    get code() {
        return this.problem.code;
    }
}
/** Substitutes `{tenant}`-style parameters into a route. */
export function route(template, params) {
    return template.replace(/\{(\w+)\}/g, (_, name) => {
        const value = params[name];
        if (value === undefined) {
            throw new TypeError(`missing path parameter '${name}' for ${template}`);
        }
        return encodeURIComponent(String(value));
    });
}
/** A client of the Groundwork HTTP gateway. */
export class Groundwork {
    #options;
    constructor(options) {
        this.#options = options;
    }
    /** Calls a GET route: a read, answered with its result (or undefined for 304 when `ifNoneMatch` still holds). */
    async get(path, params, query, init) {
        const url = new URL(this.url(route(path, params)));
        for (const [name, value] of Object.entries((query ?? {}))) {
            for (const item of Array.isArray(value) ? value : [value]) {
                if (item !== undefined && item !== null) {
                    url.searchParams.append(name, String(item));
                }
            }
        }
        const headers = { Authorization: `Bearer ${await this.#options.credential()}` };
        if (init?.ifNoneMatch !== undefined) {
            headers["If-None-Match"] = `"${init.ifNoneMatch}"`;
        }
        return this.#send(url.toString(), { method: "GET", headers, signal: init?.signal ?? null });
    }
    /** Calls a POST route with its named parameters. */
    async post(path, params, body, init) {
        const headers = {
            Authorization: `Bearer ${await this.#options.credential()}`,
            "Content-Type": "application/json",
        };
        if (init?.idempotencyKey !== undefined) {
            headers["Idempotency-Key"] = init.idempotencyKey;
        }
        if (init?.ifMatch !== undefined) {
            headers["If-Match"] = `"${init.ifMatch}"`;
        }
        const url = this.url(route(path, params));
        return this.#send(url, { method: "POST", headers, body: JSON.stringify(body ?? {}), signal: init?.signal ?? null });
    }
    /** A single-use ticket that opens one feed or WebSocket as this client's credential (browsers cannot send headers there). */
    async ticket() {
        const answer = await this.#send(this.url("/v1/tickets"), {
            method: "POST",
            headers: { Authorization: `Bearer ${await this.#options.credential()}` },
        });
        return answer.ticket;
    }
    /**
     * Follows a feed over Server-Sent Events from `afterSequence`: when the connection drops (a network blink, a tab
     * that slept) it reopens with a new ticket from the last sequence received, so nothing is missed or repeated.
     */
    watch(path, params, afterSequence, handlers) {
        let cursor = afterSequence;
        let source;
        let closed = false;
        let failures = 0;
        const open = async () => {
            if (closed) {
                return;
            }
            let ticket;
            try {
                ticket = await this.ticket();
            }
            catch (error) {
                if (error instanceof GroundworkError && error.status < 500 && error.status !== 429) {
                    closed = true;
                    handlers.onError?.(error);
                    return;
                }
                retry();
                return;
            }
            const url = new URL(this.url(route(path, params)));
            url.searchParams.set("afterSequence", String(cursor));
            url.searchParams.set("ticket", ticket);
            const events = new EventSource(url.toString());
            source = events;
            const deliver = (message, isChange) => {
                failures = 0;
                const sequence = isChange && message.lastEventId ? Number(message.lastEventId) : undefined;
                if (sequence !== undefined) {
                    cursor = sequence;
                }
                handlers.onEvent(JSON.parse(message.data), sequence);
            };
            events.addEventListener("change", (message) => deliver(message, true));
            events.addEventListener("item", (message) => deliver(message, false));
            for (const name of ["error", "resync"]) {
                events.addEventListener(name, (message) => {
                    const data = message.data;
                    if (typeof data === "string" && data.length > 0) {
                        // The gateway's own last word: the feed is over.
                        const problem = JSON.parse(data);
                        closed = true;
                        events.close();
                        handlers.onError?.(new GroundworkError(problem.status, problem));
                    }
                });
            }
            // A dropped connection: EventSource would retry with the used ticket, so reopen with a new one instead.
            events.onerror = () => {
                if (!closed && events.readyState !== EventSource.OPEN) {
                    events.close();
                    retry();
                }
            };
        };
        const retry = () => {
            failures++;
            setTimeout(() => void open(), Math.min(30_000, 250 * 2 ** Math.min(failures, 7)));
        };
        void open();
        return {
            get cursor() {
                return cursor;
            },
            close() {
                closed = true;
                source?.close();
            },
        };
    }
    /** Opens the groundwork.v1 WebSocket (with a ticket, so it works from a browser). */
    async socket() {
        const socket = new GroundworkSocket(this);
        await socket.connect();
        return socket;
    }
    /** The absolute URL of a gateway path. */
    url(path) {
        const base = this.#options.baseUrl ?? (typeof location !== "undefined" ? location.origin : "");
        return new URL(path, base).toString();
    }
    async #send(url, init) {
        const response = await (this.#options.fetch ?? fetch)(url, init);
        if (response.status === 204 || response.status === 304) {
            return undefined;
        }
        const text = await response.text();
        const body = text.length > 0 ? JSON.parse(text) : undefined;
        if (!response.ok) {
            throw new GroundworkError(response.status, (body ?? { type: "about:blank", title: response.statusText, status: response.status, code: "unknown" }));
        }
        return body;
    }
}
/** A route as the socket names it: after `/v1/`. */
function socketPath(template, params) {
    return route(template, params).replace(/^\/v1\//, "");
}
/**
 * The groundwork.v1 WebSocket (docs/design/gateway.md): several feeds and calls over one connection. After a
 * dropped connection it reconnects with a new ticket (backing off up to 30 s) and resubscribes every feed from its
 * cursor, so nothing is missed or repeated; in a browser it goes offline with the browser and comes back with it. A
 * `lagging` message needs nothing from the caller (the gateway resumes the feed itself).
 */
export class GroundworkSocket {
    #client;
    #subscriptions = new Map();
    #calls = new Map();
    #listeners = new Set();
    #socket;
    #next = 0;
    #failures = 0;
    #retry;
    #state = "connecting";
    constructor(client) {
        this.#client = client;
        if (typeof window !== "undefined") {
            window.addEventListener("offline", this.#wentOffline);
            window.addEventListener("online", this.#cameOnline);
        }
    }
    /** Where the socket stands now. */
    get state() {
        return this.#state;
    }
    /** Calls `listener` with each new state (and now with the current one); returns a function that stops it. */
    onState(listener) {
        this.#listeners.add(listener);
        listener(this.#state);
        return () => this.#listeners.delete(listener);
    }
    /** Connects in the background and stays connected: retries until open, reconnects after every drop. */
    start() {
        this.#reconnectLater(0);
    }
    /** Connects (again), resubscribing every open subscription from its cursor. */
    async connect() {
        if (this.#state === "closed") {
            throw new Error("the socket was closed");
        }
        this.#setState("connecting");
        const url = new URL(this.#client.url("/v1/ws"));
        url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
        url.searchParams.set("ticket", await this.#client.ticket());
        const socket = new WebSocket(url.toString(), "groundwork.v1");
        this.#socket = socket;
        await new Promise((resolve, reject) => {
            socket.onopen = () => resolve();
            socket.onerror = () => reject(new Error("the WebSocket did not open"));
        });
        socket.onmessage = (message) => {
            if (this.#socket === socket) {
                this.#receive(JSON.parse(String(message.data)));
            }
        };
        socket.onclose = (close) => {
            if (this.#socket !== socket) {
                return; // replaced (offline, then online): this one's answers no longer count
            }
            this.#dropped(`the WebSocket closed (${close.code}) before the answer came`);
            // 4401: the credential was refused; 1000: closed on purpose. Anything else: reconnect.
            if (close.code === 4401 || close.code === 1000) {
                this.#setState("closed");
            }
            else if (this.#state !== "offline" && this.#state !== "closed") {
                this.#reconnectLater();
            }
        };
        this.#failures = 0;
        this.#setState("open");
        for (const [id, subscription] of this.#subscriptions) {
            this.#subscribe(id, subscription);
        }
    }
    /**
     * Follows a feed (a route of {@link FeedPath}) with its arguments (`afterSequence` for a change feed: it moves
     * with every change received, and a reconnection resumes after it); returns a function that unsubscribes.
     */
    subscribe(path, params, args, handlers) {
        const id = `s${++this.#next}`;
        const subscription = {
            path: socketPath(path, params),
            args: { ...args },
            onEvent: handlers.onEvent,
            ...(handlers.onError ? { onError: handlers.onError } : {}),
        };
        this.#subscriptions.set(id, subscription);
        this.#subscribe(id, subscription);
        return () => {
            this.#subscriptions.delete(id);
            this.#send({ type: "unsubscribe", id });
        };
    }
    /** Calls a POST route over the socket. */
    call(path, params, body, init) {
        const id = `c${++this.#next}`;
        return new Promise((resolve, reject) => {
            if (this.#socket?.readyState !== WebSocket.OPEN) {
                reject(new Error(`the WebSocket is ${this.#state}`));
                return;
            }
            this.#calls.set(id, { resolve: resolve, reject });
            this.#send({
                type: "call",
                id,
                path: socketPath(path, params),
                args: body ?? {},
                ...(init?.idempotencyKey !== undefined ? { idempotencyKey: init.idempotencyKey } : {}),
                ...(init?.ifMatch !== undefined ? { ifMatch: `"${init.ifMatch}"` } : {}),
            });
        });
    }
    /** Closes the socket for good. */
    close() {
        this.#setState("closed");
        clearTimeout(this.#retry);
        if (typeof window !== "undefined") {
            window.removeEventListener("offline", this.#wentOffline);
            window.removeEventListener("online", this.#cameOnline);
        }
        this.#socket?.close(1000, "closed by the client");
    }
    #wentOffline = () => {
        if (this.#state === "closed") {
            return;
        }
        clearTimeout(this.#retry);
        this.#setState("offline");
        const socket = this.#socket;
        this.#socket = undefined;
        this.#dropped("the browser went offline before the answer came");
        socket?.close(4000, "offline");
    };
    #cameOnline = () => {
        if (this.#state === "offline") {
            this.#failures = 0;
            this.#reconnectLater(0);
        }
    };
    #reconnectLater(delay = Math.min(30_000, 500 * 2 ** Math.min(this.#failures, 6))) {
        clearTimeout(this.#retry);
        this.#setState("connecting");
        this.#retry = setTimeout(() => {
            this.connect().catch(() => {
                this.#failures++;
                if (this.#state === "connecting") {
                    this.#reconnectLater();
                }
            });
        }, delay);
    }
    #dropped(reason) {
        for (const pending of this.#calls.values()) {
            pending.reject(new Error(reason));
        }
        this.#calls.clear();
    }
    #setState(state) {
        if (this.#state !== state) {
            this.#state = state;
            for (const listener of this.#listeners) {
                listener(state);
            }
        }
    }
    #subscribe(id, subscription) {
        this.#send({ type: "subscribe", id, path: subscription.path, args: subscription.args });
    }
    #send(message) {
        if (this.#socket?.readyState === WebSocket.OPEN) {
            this.#socket.send(JSON.stringify(message));
        }
    }
    #receive(message) {
        const id = typeof message.id === "string" ? message.id : undefined;
        switch (message.type) {
            case "event": {
                const subscription = id ? this.#subscriptions.get(id) : undefined;
                const sequence = typeof message.sequence === "number" ? message.sequence : undefined;
                if (subscription) {
                    if (sequence !== undefined && "afterSequence" in subscription.args) {
                        subscription.args.afterSequence = sequence;
                    }
                    subscription.onEvent(message.data, sequence);
                }
                break;
            }
            case "result":
                if (id) {
                    this.#calls.get(id)?.resolve(message.data);
                    this.#calls.delete(id);
                }
                break;
            case "error":
            case "resync": {
                const problem = message.problem;
                const error = new GroundworkError(problem.status, problem);
                if (id && this.#calls.has(id)) {
                    this.#calls.get(id)?.reject(error);
                    this.#calls.delete(id);
                }
                else if (id && this.#subscriptions.has(id)) {
                    this.#subscriptions.get(id)?.onError?.(error);
                    this.#subscriptions.delete(id);
                }
                break;
            }
            default:
                break; // welcome, subscribed, unsubscribed, lagging, heartbeat, pong, end
        }
    }
}
