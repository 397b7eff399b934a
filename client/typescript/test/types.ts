// Compile-time checks of the client's types against the generated schema: each @ts-expect-error line must be an
// error (tsc fails on an unused one), so these prove the types are enforced rather than `any`.
import { Groundwork, type Schemas } from "../src/groundwork";

declare const client: Groundwork;

export async function typed(): Promise<void> {
  const added = await client.post("/v1/{tenant}/list/{name}/add-item", { tenant: "acme", name: "groceries" }, { item: { title: "Milk" } }, { idempotencyKey: "op-1" });
  const id: string | null | undefined = added.id;
  const snapshot: Schemas["ListSnapshot"] = await client.get("/v1/{tenant}/list/{name}/get", { tenant: "acme", name: "groceries" });
  const title: string = snapshot.items[0]?.title ?? "";
  const me = await client.get("/v1/{tenant}/tenant/whoami", { tenant: "acme" });
  const principal: string = me.principal;
  client.watch("/v1/{tenant}/list/{name}/watch", { tenant: "acme", name: "groceries" }, snapshot.version, {
    onEvent(change, sequence) {
      const kind: Schemas["ListChangeKind"] = change.kind;
      void kind;
      void sequence;
    },
  });
  void id;
  void title;
  void principal;

  // @ts-expect-error a route that does not exist
  await client.get("/v1/{tenant}/list/{name}/nope", { tenant: "acme", name: "x" });
  // @ts-expect-error add-item is a POST
  await client.get("/v1/{tenant}/list/{name}/add-item", { tenant: "acme", name: "x" });
  // @ts-expect-error the body misses its required item
  await client.post("/v1/{tenant}/list/{name}/add-item", { tenant: "acme", name: "x" }, {});
  // @ts-expect-error a title is a string
  await client.post("/v1/{tenant}/list/{name}/rename", { tenant: "acme", name: "x" }, { title: 5 });
  // @ts-expect-error the path parameters are required
  await client.get("/v1/{tenant}/list/{name}/get", { tenant: "acme" });
  // @ts-expect-error get is not a feed
  client.watch("/v1/{tenant}/list/{name}/get", { tenant: "acme", name: "x" }, 0, { onEvent() {} });
}
