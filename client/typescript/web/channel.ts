// A channel: its history, live messages, who is typing, its members' presence, and the reader's unread count.
import type { Schemas } from "../src/groundwork.js";
import { fill, h, newId } from "./dom.js";
import { describe, followChanges, type Session, type View } from "./session.js";

type Message = Schemas["ChatMessage"];

export function channelView(session: Session, name: string): View {
  const { client, socket, tenant, me } = session;
  const params = { tenant, name };
  const heading = h("h1", {}, `#${name}`);
  const topic = h("p", { class: "muted" });
  const unread = h("span", { class: "badge unread", "aria-label": "unread", "data-unread": 0 });
  const timeline = h("ol", { class: "messages", "aria-label": "Messages" });
  const typing = h("p", { class: "typing muted", "aria-live": "polite" });
  const members = h("ul", { class: "members", "aria-label": "Members" });
  const composer = h("div", { class: "composer" });
  const root = h("div", { class: "channel", "data-channel": name },
    h("header", { class: "row" }, heading, unread), topic,
    h("div", { class: "split" }, h("div", { class: "main" }, timeline, typing, composer), h("aside", {}, h("h2", {}, "Members"), members)));

  const messages = new Map<number, Message>();
  const presence = new Map<string, Schemas["PresenceStatus"]>();
  let readUpTo = 0;
  let disposed = false;
  const stops: (() => void)[] = [];

  const renderMessages = () => {
    const shown = [...messages.values()].filter((message) => message.root === null || message.root === undefined).sort((a, b) => a.sequence - b.sequence);
    fill(timeline, ...shown.map((message) => h("li", { class: message.author === me.principal ? "message mine" : "message", "data-sequence": message.sequence },
      h("span", { class: "author" }, message.author),
      h("span", { class: "text" }, message.deleted ? "(deleted)" : message.text),
      message.edits > 0 && !message.deleted ? h("span", { class: "muted" }, " (edited)") : null)));
    timeline.lastElementChild?.scrollIntoView({ block: "nearest" });
  };

  const renderMembers = (principals: string[]) => {
    fill(members, ...principals.map((principal) => {
      const state = presence.get(principal) ?? "Offline";
      return h("li", { "data-principal": principal, "data-presence": state }, h("span", { class: `dot ${state.toLowerCase()}`, "aria-label": state }), principal);
    }));
  };

  // Read up to the newest message while the tab is visible; the count is what the inbox would say.
  let marking: ReturnType<typeof setTimeout> | undefined;
  const sendRead = () => {
    marking = undefined;
    const newest = Math.max(0, ...[...messages.keys()]);
    if (document.visibilityState === "visible" && newest > readUpTo) {
      readUpTo = newest;
      client.post("/v1/{tenant}/channel/{name}/mark-read", params, { sequence: newest }, { idempotencyKey: newId() })
        .then(() => showUnread())
        .catch(session.report);
    }
  };
  const markRead = () => {
    clearTimeout(marking);
    marking = setTimeout(sendRead, 300);
  };
  const showUnread = async () => {
    const state = await client.get("/v1/{tenant}/channel/{name}/unread", params);
    unread.dataset.unread = String(state.unread);
    fill(unread, state.unread > 0 ? `${state.moreUnread ? `${state.unread}+` : state.unread} unread` : "");
  };
  const onVisible = () => markRead();
  document.addEventListener("visibilitychange", onVisible);

  const input = h("input", { name: "message", required: true, maxlength: 4000, placeholder: `Message #${name}`, "aria-label": "Message", autocomplete: "off" });
  let typingSent = 0;
  const setTyping = (on: boolean) => {
    typingSent = on ? Date.now() : 0;
    void client.post("/v1/{tenant}/channel/{name}/typing", params, { typing: on }).catch(() => undefined);
  };
  input.addEventListener("input", () => {
    if (input.value.length > 0 && Date.now() - typingSent > 3000) {
      setTyping(true);
    }
  });
  const form = h("form", {
    class: "inline",
    onsubmit: (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (text.length === 0) {
        return;
      }

      input.value = "";
      setTyping(false);
      client.post("/v1/{tenant}/channel/{name}/post", params, { message: { text } }, { idempotencyKey: newId() }).catch(session.report);
    },
  }, input, h("button", { type: "submit" }, "Send"));

  // Presence of the current members: subscribed again when members come or go.
  let principals: string[] = [];
  let stopPresence: (() => void) | undefined;
  const watchPresence = () => {
    stopPresence?.();
    renderMembers(principals);
    stopPresence = socket.subscribe("/v1/{tenant}/presence/watch", { tenant }, { principals }, {
      onEvent: (changed) => {
        for (const member of changed) {
          presence.set(member.principal, member.status);
        }

        renderMembers(principals);
      },
    });
  };

  const follow = (version: number) => {
    stops.push(followChanges(session, root, "/v1/{tenant}/channel/{name}/watch", params, version, (change) => {
      if (change.message && (change.kind === "Posted" || change.kind === "Edited" || change.kind === "Deleted")) {
        messages.set(change.message.sequence, change.message);
        renderMessages();
        markRead();
      } else if (change.kind === "MembersAdded" || change.kind === "MemberRemoved") {
        const concerned = new Set(change.principals ?? []);
        principals = change.kind === "MembersAdded"
          ? [...principals, ...[...concerned].filter((principal) => !principals.includes(principal))]
          : principals.filter((principal) => !concerned.has(principal));
        watchPresence();
      } else if (change.kind === "TopicChanged") {
        fill(topic, change.topic ?? "");
      } else if (change.kind === "Renamed" && change.name) {
        fill(heading, `#${change.name}`);
      }

      return true;
    }, reload));
    stops.push(socket.subscribe("/v1/{tenant}/channel/{name}/watch-live", params, {}, {
      onEvent: (live) => {
        const others = live.typing.filter((typist) => typist.principal !== me.principal && (typist.thread === null || typist.thread === undefined)).map((typist) => typist.principal);
        fill(typing, others.length === 0 ? "" : `${others.join(", ")} ${others.length === 1 ? "is" : "are"} typing…`);
      },
    }));
    watchPresence();
  };

  const reload = async () => {
    for (const stop of stops.splice(0)) {
      stop();
    }

    stopPresence?.();

    const info = await client.get("/v1/{tenant}/channel/{name}/get", params);
    if (disposed) {
      return;
    }

    fill(heading, `#${info.name}`);
    fill(topic, info.topic);
    if (info.myRole === null || info.myRole === undefined) {
      fill(composer, h("button", {
        type: "button",
        onclick: () => client.post("/v1/{tenant}/channel/{name}/join", params, {}, { idempotencyKey: newId() }).then(reload).catch(session.report),
      }, "Join channel"));
    } else {
      fill(composer, form);
    }

    const page = await client.post("/v1/{tenant}/channel/{name}/history", params, { query: { anchor: "Newest", limit: 100 } });
    const roster = await client.get("/v1/{tenant}/channel/{name}/members", params, { limit: 200 });
    if (disposed) {
      return;
    }

    messages.clear();
    for (const message of page.messages) {
      messages.set(message.sequence, message);
    }

    principals = roster.members.map((member) => member.principal);
    renderMessages();
    if (info.myRole !== null && info.myRole !== undefined) {
      await showUnread();
      markRead();
    }

    follow(page.version);
  };
  reload().catch((error: unknown) => fill(timeline, h("li", { class: "error", role: "alert" }, describe(error))));
  return {
    root,
    dispose: () => {
      disposed = true;
      // Leaving within the debounce still reads what was shown.
      if (marking !== undefined) {
        clearTimeout(marking);
        sendRead();
      }
      document.removeEventListener("visibilitychange", onVisible);
      for (const stop of stops.splice(0)) {
        stop();
      }

      stopPresence?.();
    },
  };
}
