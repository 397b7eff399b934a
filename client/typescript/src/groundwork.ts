// Groundwork from TypeScript and the browser: typed calls of every operation of the gateway (the types are generated
// from its OpenAPI document into schema.d.ts), feeds over Server-Sent Events that resume from their cursor, and the
// groundwork.v1 WebSocket. No dependencies; ES2022 modules that a browser loads as they are.
import type { components, paths } from "./schema";

/** The contract's types by name: `Schemas["ListSnapshot"]`. */
export type Schemas = components["schemas"];

/** An error answer (application/problem+json) with its stable `code`. */
export type Problem = Schemas["Problem"] & Record<string, unknown>;

type Verb = "get" | "post";
type OperationOf<P extends keyof paths, V extends Verb> = paths[P] extends { [K in V]: infer O } ? O : never;

/** Routes served as GET (reads with simple parameters, and feeds). */
export type GetPath = { [P in keyof paths]: paths[P] extends { get: object } ? P : never }[keyof paths];

/** Routes served as POST (every other operation). */
export type PostPath = { [P in keyof paths]: paths[P] extends { post: object } ? P : never }[keyof paths];

/** Routes that answer with a feed (text/event-stream). */
export type FeedPath = {
  [P in GetPath]: OperationOf<P, "get"> extends { responses: { 200: { content: { "text/event-stream": unknown } } } } ? P : never;
}[GetPath];

/** The path parameters of a route (`{ tenant, name }`). */
export type PathParams<P extends keyof paths, V extends Verb> =
  OperationOf<P, V> extends { parameters: { path: infer X } } ? X : Record<string, never>;

/** The query parameters of a GET route. */
export type QueryOf<P extends GetPath> = OperationOf<P, "get"> extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

/** The JSON body of a POST route: the operation's parameters by name. */
export type BodyOf<P extends PostPath> =
  OperationOf<P, "post"> extends { requestBody: { content: { "application/json": infer B } } } ? B
    : OperationOf<P, "post"> extends { requestBody?: { content: { "application/json": infer B } } } ? B | undefined
      : undefined;

/** What a route answers with (undefined for 204). */
export type ResultOf<P extends keyof paths, V extends Verb> =
  OperationOf<P, V> extends { responses: { 200: { content: { "application/json": infer R } } } } ? R : undefined;

/** One item of a feed. */
export type EventOf<P extends FeedPath> =
  OperationOf<P, "get"> extends { responses: { 200: { content: { "text/event-stream": infer E } } } } ? E : never;

/** A refused call: the HTTP status and the problem the gateway answered with. */
export class GroundworkError extends Error {
  constructor(readonly status: number, readonly problem: Problem) {
    super(`${problem.code}: ${problem.detail ?? problem.title}`);
    this.name = "GroundworkError";
  }

  /** The problem's stable code (`not-found`, `version-conflict`, ...). */
  get code(): string {
    return this.problem.code;
  }
}

export interface GroundworkOptions {
  /** The gateway's origin, e.g. `https://api.example.com`; empty for the page's own. */
  baseUrl?: string;
  /** The API key or JWT, asked for on every request (so a refreshed token is picked up). */
  credential: () => string | Promise<string>;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
}

export interface CallOptions {
  /** Becomes the operation id: a retry with the same key is answered from the first call. */
  idempotencyKey?: string;
  /** The version the caller expects: another current version is a 412 version-conflict. */
  ifMatch?: number;
  signal?: AbortSignal;
}

export interface FeedHandlers<E> {
  /** Each item, in order; `sequence` for changes (the feed's cursor). */
  onEvent(event: E, sequence: number | undefined): void;
  /** The feed ended for good: a refusal, or `resync-required` (read a snapshot and watch from its version). */
  onError?(error: GroundworkError): void;
}

export interface Feed {
  /** The last sequence received: the feed resumes after it. */
  readonly cursor: number;
  close(): void;
}

/** Substitutes `{tenant}`-style parameters into a route. */
export function route(template: string, params: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) {
      throw new TypeError(`missing path parameter '${name}' for ${template}`);
    }

    return encodeURIComponent(String(value));
  });
}

/** A client of the Groundwork HTTP gateway. */
export class Groundwork {
  readonly #options: GroundworkOptions;

  constructor(options: GroundworkOptions) {
    this.#options = options;
  }

  /** Calls a GET route: a read, answered with its result (or undefined for 304 when `ifNoneMatch` still holds). */
  async get<P extends GetPath>(path: P, params: PathParams<P, "get">, query?: QueryOf<P>, init?: { ifNoneMatch?: number; signal?: AbortSignal }): Promise<ResultOf<P, "get">> {
    const url = new URL(this.url(route(path, params as Record<string, string>)));
    for (const [name, value] of Object.entries((query ?? {}) as Record<string, unknown>)) {
      for (const item of Array.isArray(value) ? value : [value]) {
        if (item !== undefined && item !== null) {
          url.searchParams.append(name, String(item));
        }
      }
    }

    const headers: Record<string, string> = { Authorization: `Bearer ${await this.#options.credential()}` };
    if (init?.ifNoneMatch !== undefined) {
      headers["If-None-Match"] = `"${init.ifNoneMatch}"`;
    }

    return this.#send(url.toString(), { method: "GET", headers, signal: init?.signal ?? null }) as Promise<ResultOf<P, "get">>;
  }

  /** Calls a POST route with its named parameters. */
  async post<P extends PostPath>(path: P, params: PathParams<P, "post">, body: BodyOf<P>, init?: CallOptions): Promise<ResultOf<P, "post">> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${await this.#options.credential()}`,
      "Content-Type": "application/json",
    };
    if (init?.idempotencyKey !== undefined) {
      headers["Idempotency-Key"] = init.idempotencyKey;
    }

    if (init?.ifMatch !== undefined) {
      headers["If-Match"] = `"${init.ifMatch}"`;
    }

    const url = this.url(route(path, params as Record<string, string>));
    return this.#send(url, { method: "POST", headers, body: JSON.stringify(body ?? {}), signal: init?.signal ?? null }) as Promise<ResultOf<P, "post">>;
  }

  /** A single-use ticket that opens one feed or WebSocket as this client's credential (browsers cannot send headers there). */
  async ticket(): Promise<string> {
    const answer = await this.#send(this.url("/v1/tickets"), {
      method: "POST",
      headers: { Authorization: `Bearer ${await this.#options.credential()}` },
    }) as { ticket: string };
    return answer.ticket;
  }

  /**
   * Follows a feed over Server-Sent Events from `afterSequence`: when the connection drops (a network blink, a tab
   * that slept) it reopens with a new ticket from the last sequence received, so nothing is missed or repeated.
   */
  watch<P extends FeedPath>(path: P, params: PathParams<P, "get">, afterSequence: number, handlers: FeedHandlers<EventOf<P>>): Feed {
    let cursor = afterSequence;
    let source: EventSource | undefined;
    let closed = false;
    let failures = 0;
    const open = async () => {
      if (closed) {
        return;
      }

      let ticket: string;
      try {
        ticket = await this.ticket();
      } catch (error) {
        if (error instanceof GroundworkError && error.status < 500 && error.status !== 429) {
          closed = true;
          handlers.onError?.(error);
          return;
        }

        retry();
        return;
      }

      const url = new URL(this.url(route(path, params as Record<string, string>)));
      url.searchParams.set("afterSequence", String(cursor));
      url.searchParams.set("ticket", ticket);
      const events = new EventSource(url.toString());
      source = events;
      const deliver = (message: MessageEvent<string>, isChange: boolean) => {
        failures = 0;
        const sequence = isChange && message.lastEventId ? Number(message.lastEventId) : undefined;
        if (sequence !== undefined) {
          cursor = sequence;
        }

        handlers.onEvent(JSON.parse(message.data) as EventOf<P>, sequence);
      };
      events.addEventListener("change", (message) => deliver(message as MessageEvent<string>, true));
      events.addEventListener("item", (message) => deliver(message as MessageEvent<string>, false));
      for (const name of ["error", "resync"]) {
        events.addEventListener(name, (message) => {
          const data = (message as MessageEvent<string>).data;
          if (typeof data === "string" && data.length > 0) {
            // The gateway's own last word: the feed is over.
            const problem = JSON.parse(data) as Problem;
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
  async socket(): Promise<GroundworkSocket> {
    const socket = new GroundworkSocket(this);
    await socket.connect();
    return socket;
  }

  /** The absolute URL of a gateway path. */
  url(path: string): string {
    const base = this.#options.baseUrl ?? (typeof location !== "undefined" ? location.origin : "");
    return new URL(path, base).toString();
  }

  async #send(url: string, init: RequestInit): Promise<unknown> {
    const response = await (this.#options.fetch ?? fetch)(url, init);
    if (response.status === 204 || response.status === 304) {
      return undefined;
    }

    const text = await response.text();
    const body: unknown = text.length > 0 ? JSON.parse(text) : undefined;
    if (!response.ok) {
      throw new GroundworkError(response.status, (body ?? { type: "about:blank", title: response.statusText, status: response.status, code: "unknown" }) as Problem);
    }

    return body;
  }
}

/** A route as the socket names it: after `/v1/`. */
function socketPath(template: string, params: Record<string, string>): string {
  return route(template, params).replace(/^\/v1\//, "");
}

interface SocketSubscription {
  path: string;
  args: Record<string, unknown>;
  onEvent(event: unknown, sequence: number | undefined): void;
  onError?(error: GroundworkError): void;
}

/** Where a {@link GroundworkSocket} stands: `offline` while the browser says so, `closed` for good. */
export type SocketState = "connecting" | "open" | "offline" | "closed";

/** The arguments of a feed over the socket: its query parameters but the ticket (the socket has its own). */
export type FeedArgs<P extends FeedPath> = Omit<QueryOf<P>, "ticket">;

/**
 * The groundwork.v1 WebSocket (docs/design/gateway.md): several feeds and calls over one connection. After a
 * dropped connection it reconnects with a new ticket (backing off up to 30 s) and resubscribes every feed from its
 * cursor, so nothing is missed or repeated; in a browser it goes offline with the browser and comes back with it. A
 * `lagging` message needs nothing from the caller (the gateway resumes the feed itself).
 */
export class GroundworkSocket {
  readonly #client: Groundwork;
  readonly #subscriptions = new Map<string, SocketSubscription>();
  readonly #calls = new Map<string, { resolve(value: unknown): void; reject(error: unknown): void }>();
  readonly #listeners = new Set<(state: SocketState) => void>();
  #socket: WebSocket | undefined;
  #next = 0;
  #failures = 0;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #state: SocketState = "connecting";

  constructor(client: Groundwork) {
    this.#client = client;
    if (typeof window !== "undefined") {
      window.addEventListener("offline", this.#wentOffline);
      window.addEventListener("online", this.#cameOnline);
    }
  }

  /** Where the socket stands now. */
  get state(): SocketState {
    return this.#state;
  }

  /** Calls `listener` with each new state (and now with the current one); returns a function that stops it. */
  onState(listener: (state: SocketState) => void): () => void {
    this.#listeners.add(listener);
    listener(this.#state);
    return () => this.#listeners.delete(listener);
  }

  /** Connects in the background and stays connected: retries until open, reconnects after every drop. */
  start(): void {
    this.#reconnectLater(0);
  }

  /** Connects (again), resubscribing every open subscription from its cursor. */
  async connect(): Promise<void> {
    if (this.#state === "closed") {
      throw new Error("the socket was closed");
    }

    this.#setState("connecting");
    const url = new URL(this.#client.url("/v1/ws"));
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("ticket", await this.#client.ticket());
    const socket = new WebSocket(url.toString(), "groundwork.v1");
    this.#socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onerror = () => reject(new Error("the WebSocket did not open"));
    });
    socket.onmessage = (message) => {
      if (this.#socket === socket) {
        this.#receive(JSON.parse(String(message.data)) as Record<string, unknown>);
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
      } else if (this.#state !== "offline" && this.#state !== "closed") {
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
  subscribe<P extends FeedPath>(path: P, params: PathParams<P, "get">, args: FeedArgs<P>, handlers: FeedHandlers<EventOf<P>>): () => void {
    const id = `s${++this.#next}`;
    const subscription: SocketSubscription = {
      path: socketPath(path, params as Record<string, string>),
      args: { ...(args as Record<string, unknown>) },
      onEvent: handlers.onEvent as (event: unknown, sequence: number | undefined) => void,
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
  call<P extends PostPath>(path: P, params: PathParams<P, "post">, body: BodyOf<P>, init?: Omit<CallOptions, "signal">): Promise<ResultOf<P, "post">> {
    const id = `c${++this.#next}`;
    return new Promise((resolve, reject) => {
      if (this.#socket?.readyState !== WebSocket.OPEN) {
        reject(new Error(`the WebSocket is ${this.#state}`));
        return;
      }

      this.#calls.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#send({
        type: "call",
        id,
        path: socketPath(path, params as Record<string, string>),
        args: body ?? {},
        ...(init?.idempotencyKey !== undefined ? { idempotencyKey: init.idempotencyKey } : {}),
        ...(init?.ifMatch !== undefined ? { ifMatch: `"${init.ifMatch}"` } : {}),
      });
    });
  }

  /** Closes the socket for good. */
  close(): void {
    this.#setState("closed");
    clearTimeout(this.#retry);
    if (typeof window !== "undefined") {
      window.removeEventListener("offline", this.#wentOffline);
      window.removeEventListener("online", this.#cameOnline);
    }

    this.#socket?.close(1000, "closed by the client");
  }

  readonly #wentOffline = () => {
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

  readonly #cameOnline = () => {
    if (this.#state === "offline") {
      this.#failures = 0;
      this.#reconnectLater(0);
    }
  };

  #reconnectLater(delay = Math.min(30_000, 500 * 2 ** Math.min(this.#failures, 6))): void {
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

  #dropped(reason: string): void {
    for (const pending of this.#calls.values()) {
      pending.reject(new Error(reason));
    }

    this.#calls.clear();
  }

  #setState(state: SocketState): void {
    if (this.#state !== state) {
      this.#state = state;
      for (const listener of this.#listeners) {
        listener(state);
      }
    }
  }

  #subscribe(id: string, subscription: SocketSubscription): void {
    this.#send({ type: "subscribe", id, path: subscription.path, args: subscription.args });
  }

  #send(message: Record<string, unknown>): void {
    if (this.#socket?.readyState === WebSocket.OPEN) {
      this.#socket.send(JSON.stringify(message));
    }
  }

  #receive(message: Record<string, unknown>): void {
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
        const problem = message.problem as Problem;
        const error = new GroundworkError(problem.status, problem);
        if (id && this.#calls.has(id)) {
          this.#calls.get(id)?.reject(error);
          this.#calls.delete(id);
        } else if (id && this.#subscriptions.has(id)) {
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
