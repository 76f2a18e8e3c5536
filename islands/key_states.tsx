/**
 * The Keys page island: a server-paged key table (search, state filter, sort, page size through
 * `GET /keys`), live through `/admin/events` (re-fetches the shown page on every pool
 * change) with cooldowns counting down each second, and the key actions: add (pasted or from a
 * file), export, verify (one, selected, all, with progress), enable, disable, reset, edit, delete.
 *
 * @module
 */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { apiCall, messageOf } from "../lib/admin/api_client.ts";
import type { ApiKey, KeyListQuery, KeyListResponse } from "../lib/admin/api_types.ts";
import { effectiveState } from "../lib/admin/key_format.ts";
import { keyQueryParams } from "../lib/admin/key_query.ts";
import { type MessageKey, t, tn } from "../lib/admin/i18n.ts";
import {
  AddKeysDialog,
  DeleteKeysDialog,
  EditKeysDialog,
  ExportKeysDialog,
} from "../lib/admin/ui/key_dialogs.tsx";
import { KeyTable, type RowAction } from "../lib/admin/ui/key_table.tsx";
import { KeyToolbar, Pager, SelectionBar, VerifyBar } from "../lib/admin/ui/key_toolbar.tsx";
import { allKeyIds, verifyInChunks, type VerifyProgress } from "../lib/admin/ui/key_verify.ts";

/** Props of {@link KeyStates}. */
export interface KeyStatesProps {
  /** The first page, rendered on the server. */
  initial: KeyListResponse;
  /** The query of the first page (from the URL). */
  query: KeyListQuery;
  /** Server clock at render time (epoch ms); cooldowns count down from it. */
  serverNow: number;
  /** SSE endpoint sending `changed` events. */
  eventsUrl: string;
  /** Admin JSON API base, e.g. `/admin/api`. */
  apiBase: string;
}

type Link = "connecting" | "live" | "reconnecting" | "offline";
const LINK_LABELS: Record<Link, MessageKey> = {
  connecting: "link.connecting",
  live: "link.live",
  reconnecting: "link.reconnecting",
  offline: "link.offline",
};

type Dialog =
  | { kind: "add" }
  | { kind: "export" }
  | { kind: "edit"; ids: string[]; key?: ApiKey }
  | { kind: "delete"; ids: string[]; fromEnv: number };

/** Island: the live, paged key table with actions. */
export function KeyStates(props: KeyStatesProps) {
  const data = useSignal(props.initial);
  const query = useSignal(props.query);
  const now = useSignal(props.serverNow);
  const link = useSignal<Link>("connecting");
  const selected = useSignal<ReadonlySet<string>>(new Set());
  const busy = useSignal<ReadonlySet<string>>(new Set());
  const dialog = useSignal<Dialog | null>(null);
  const notice = useSignal<{ tone: "ok" | "bad"; text: string } | null>(null);
  const verify = useSignal<VerifyProgress | null>(null);
  const loading = useSignal(false);
  const offset = useRef(0);
  const fetcher = useRef<{ inFlight: boolean; again: boolean; abort?: AbortController }>({
    inFlight: false,
    again: false,
  });

  const refresh = async () => {
    const f = fetcher.current;
    if (f.inFlight) {
      f.again = true;
      return;
    }
    f.inFlight = true;
    loading.value = true;
    try {
      do {
        f.again = false;
        const q = query.value;
        const res = await apiCall<KeyListResponse>(props.apiBase, "/keys", { query: { ...q } });
        if (q === query.value) {
          now.value = Date.now() + offset.current;
          data.value = { ...res, keys: res.keys.map(normalizeKey) };
        } else f.again = true;
      } while (f.again);
    } catch (err) {
      notice.value = { tone: "bad", text: t("keys.loadFailed", { error: messageOf(err) }) };
    } finally {
      f.inFlight = false;
      loading.value = false;
    }
  };

  const setQuery = (patch: Partial<KeyListQuery>) => {
    query.value = { ...query.value, offset: 0, ...patch };
    if (patch.offset === undefined) selected.value = new Set(); // a new search or filter starts a new selection
    const params = new URLSearchParams(keyQueryParams(query.value)).toString();
    history.replaceState(null, "", params ? `?${params}` : location.pathname);
    refresh();
  };

  useEffect(() => {
    now.value = Date.now();
    let expiredBefore = 0;
    const tick = setInterval(() => {
      now.value = Date.now() + offset.current;
      // A cooldown ran out here: fetch the page again so counts and state filters follow.
      const expired = data.value.keys.filter((k) =>
        k.state === "cooling" && effectiveState(k, now.value) === "active"
      )
        .length;
      if (expired > expiredBefore) refresh();
      expiredBefore = expired;
    }, 1000);
    const events = new EventSource(props.eventsUrl);
    events.addEventListener("open", () => link.value = "live");
    events.addEventListener("error", () => {
      // CLOSED means the server refused the stream (e.g. the session expired): no more retries.
      link.value = events.readyState === EventSource.CLOSED ? "offline" : "reconnecting";
    });
    events.addEventListener("changed", (e) => {
      const msg = JSON.parse((e as MessageEvent<string>).data) as { now: number };
      offset.current = msg.now - Date.now();
      link.value = "live";
      refresh();
    });
    return () => {
      clearInterval(tick);
      events.close();
    };
  }, [props.eventsUrl]);

  const run = async (label: string, ids: string[], fn: () => Promise<unknown>) => {
    busy.value = new Set([...busy.value, ...ids]);
    try {
      await fn();
      notice.value = { tone: "ok", text: label };
    } catch (err) {
      notice.value = { tone: "bad", text: messageOf(err) };
    } finally {
      const next = new Set(busy.value);
      for (const id of ids) next.delete(id);
      busy.value = next;
      refresh();
    }
  };
  const post = (path: string, body: unknown) => () => apiCall(props.apiBase, path, { body });
  const bulk = (action: RowAction, ids: string[], key?: ApiKey) => {
    if (action === "delete") {
      // Keys from GEMINI_API_KEYS (known for the rows on this page) get an explanation and a choice.
      const fromEnv = ids.filter((id) => data.value.keys.find((k) => k.id === id)?.fromEnv).length;
      dialog.value = { kind: "delete", ids, fromEnv };
    } else if (action === "edit") dialog.value = { kind: "edit", ids, key };
    else if (action === "verify") startVerify(ids);
    else if (action === "reset") run(tn("keys.done.reset", ids.length), ids, post("/keys/reset", { ids }));
    else {
      const done = action === "enable" ? "keys.done.enabled" : "keys.done.disabled";
      run(tn(done, ids.length), ids, post(`/keys/${action}`, { ids }));
    }
  };

  const startVerify = async (ids: string[] | "all") => {
    if (verify.value && !verify.value.done) return;
    notice.value = null;
    try {
      const list = ids === "all" ? await allKeyIds(props.apiBase) : ids;
      await verifyInChunks({ apiBase: props.apiBase, ids: list, onProgress: (p) => verify.value = p });
    } catch (err) {
      notice.value = { tone: "bad", text: t("keys.verify.stopped", { error: messageOf(err) }) };
    }
    refresh();
  };

  const d = data.value;
  const dlg = dialog.value;
  const closeDialog = () => dialog.value = null;
  return (
    <section class="panel" data-keys-island>
      <KeyToolbar
        query={query.value}
        counts={d.counts}
        link={link.value}
        linkLabel={t(LINK_LABELS[link.value])}
        onQuery={setQuery}
        onAdd={() => dialog.value = { kind: "add" }}
        onExport={() => dialog.value = { kind: "export" }}
        onVerifyAll={() => startVerify("all")}
        verifying={!!verify.value && !verify.value.done}
      />
      {verify.value && <VerifyBar progress={verify.value} onDismiss={() => verify.value = null} />}
      {notice.value && (
        <div class={`notice ${notice.value.tone}`} role="status" data-notice>
          <span>{notice.value.text}</span>
          <button
            type="button"
            class="icon-button"
            aria-label={t("common.dismiss")}
            onClick={() => notice.value = null}
          >
            ×
          </button>
        </div>
      )}
      {selected.value.size > 0 && (
        <SelectionBar
          count={selected.value.size}
          onAction={(a) => bulk(a, [...selected.value])}
          onClear={() => selected.value = new Set()}
        />
      )}
      {d.keys.length === 0
        ? (
          <EmptyKeys
            filtered={!!(query.value.search || query.value.state)}
            onAdd={() => dialog.value = { kind: "add" }}
          />
        )
        : (
          <KeyTable
            keys={d.keys}
            now={now.value}
            selected={selected.value}
            busy={busy.value}
            onToggle={(id) => {
              const next = new Set(selected.value);
              if (!next.delete(id)) next.add(id);
              selected.value = next;
            }}
            onToggleAll={(on) => {
              const next = new Set(selected.value);
              for (const k of d.keys) on ? next.add(k.id) : next.delete(k.id);
              selected.value = next;
            }}
            onAction={(a, key) => bulk(a, [key.id], key)}
          />
        )}
      <Pager
        total={d.total}
        offset={query.value.offset}
        limit={query.value.limit}
        loading={loading.value}
        onPage={(o) => setQuery({ offset: o })}
        onLimit={(l) => setQuery({ limit: l })}
      />
      {dlg?.kind === "add" && (
        <AddKeysDialog apiBase={props.apiBase} onClose={closeDialog} onAdded={refresh} />
      )}
      {dlg?.kind === "export" && <ExportKeysDialog apiBase={props.apiBase} onClose={closeDialog} />}
      {dlg?.kind === "edit" && (
        <EditKeysDialog
          apiBase={props.apiBase}
          ids={dlg.ids}
          label={dlg.key?.label}
          project={dlg.key?.project}
          limits={dlg.key?.limits}
          onClose={closeDialog}
          onSaved={() => {
            closeDialog();
            notice.value = { tone: "ok", text: tn("keys.done.saved", dlg.ids.length) };
            refresh();
          }}
        />
      )}
      {dlg?.kind === "delete" && (
        <DeleteKeysDialog
          count={dlg.ids.length}
          fromEnv={dlg.fromEnv}
          onCancel={closeDialog}
          onConfirm={(ignoreEnv) => {
            closeDialog();
            const next = new Set(selected.value);
            for (const id of dlg.ids) next.delete(id);
            selected.value = next;
            const body = ignoreEnv ? { ids: dlg.ids, ignoreEnv } : { ids: dlg.ids };
            run(tn("keys.done.deleted", dlg.ids.length), dlg.ids, post("/keys/delete", body));
          }}
        />
      )}
    </section>
  );
}

function EmptyKeys({ filtered, onAdd }: { filtered: boolean; onAdd: () => void }) {
  return filtered
    ? <p class="empty" data-empty>{t("keys.empty.filtered")}</p>
    : (
      <div class="empty-state" data-empty>
        <h2>{t("keys.empty.title")}</h2>
        <p class="muted">{t("keys.empty.text")}</p>
        <button type="button" class="button primary" onClick={onAdd}>{t("keys.add")}</button>
      </div>
    );
}

/** JSON turns a never-ending cooldown (`Infinity`) into null already; keep the type honest. */
function normalizeKey(k: ApiKey): ApiKey {
  return { ...k, cooldowns: k.cooldowns.map((c) => ({ ...c, until: c.until ?? null })) };
}
