/**
 * The backup and restore panel of the Settings page (a plain component of the `SettingsForm` island): download one JSON file with settings, keys,
 * client tokens (hashed) and labels (after the admin token is entered again: it holds full keys),
 * and restore such a file, here or on another instance, with a report of what was added.
 *
 * @module
 */
import { useSignal } from "@preact/signals";
import { apiCall, messageOf } from "../api_client.ts";
import { formatInt } from "../format.ts";
import { t } from "../i18n.ts";
import { download } from "../download.ts";
import { AdminTokenInput } from "./text_field.tsx";

/** Props of {@link BackupPanel}. */
export interface BackupPanelProps {
  /** Admin JSON API base. */
  apiBase: string;
}

interface RestoreReport {
  keys: number;
  updatedKeys: number;
  tokens: number;
  settings: number;
  skipped: string[];
}

/** Backup and restore. */
export function BackupPanel(props: BackupPanelProps) {
  const token = useSignal("");
  const busy = useSignal(false);
  const status = useSignal<{ tone: "ok" | "bad"; text: string } | null>(null);
  const report = useSignal<RestoreReport | null>(null);

  const backup = async () => {
    busy.value = true;
    status.value = null;
    try {
      const doc = await apiCall<{ createdAt: number }>(props.apiBase, "/backup", {
        body: { adminToken: token.value },
      });
      const name = `gemini-gateway-backup-${new Date(doc.createdAt).toISOString().slice(0, 10)}.json`;
      download(name, JSON.stringify(doc, null, 2), "application/json");
      token.value = "";
      status.value = { tone: "ok", text: t("backup.downloaded", { file: name }) };
    } catch (err) {
      status.value = { tone: "bad", text: messageOf(err) };
    } finally {
      busy.value = false;
    }
  };
  const restore = async (input: HTMLInputElement) => {
    const file = input.files?.[0];
    input.value = "";
    if (!file) return;
    busy.value = true;
    status.value = null;
    report.value = null;
    try {
      let doc: unknown;
      try {
        doc = JSON.parse(await file.text());
      } catch {
        throw new Error(t("backup.notJson"));
      }
      report.value = await apiCall<RestoreReport>(props.apiBase, "/restore", { body: { backup: doc } });
      status.value = { tone: "ok", text: t("backup.restored") };
    } catch (err) {
      status.value = { tone: "bad", text: messageOf(err) };
    } finally {
      busy.value = false;
    }
  };
  const r = report.value;
  return (
    <section class="panel" id="backup" data-backup>
      <header class="group-head">
        <h2>{t("backup.title")}</h2>
        <p class="muted small">{t("backup.about")}</p>
      </header>
      <div class="backup-body">
        <div class="backup-part">
          <h3 class="detail-title">{t("backup.download")}</h3>
          <p class="muted small">{t("backup.download.hint")}</p>
          <div class="copy-row">
            <AdminTokenInput value={token} data="backup-token" />
            <button
              type="button"
              class="button"
              disabled={busy.value || !token.value}
              onClick={backup}
              data-action="backup"
            >
              {t("backup.download.button")}
            </button>
          </div>
        </div>
        <div class="backup-part">
          <h3 class="detail-title">{t("backup.restore")}</h3>
          <p class="muted small">{t("backup.restore.hint")}</p>
          <label class="file-pick">
            <span>{t("backup.restore.file")}</span>
            <input
              type="file"
              accept=".json,application/json"
              disabled={busy.value}
              data-restore-file
              onChange={(e) => restore(e.currentTarget)}
            />
          </label>
        </div>
      </div>
      {status.value && (
        <div class={`notice ${status.value.tone}`} role="status" data-backup-status>
          <span>{status.value.text}</span>
        </div>
      )}
      {r && (
        <div class="backup-report" data-restore-report>
          <p>
            {t("backup.report", {
              keys: formatInt(r.keys),
              updated: formatInt(r.updatedKeys),
              tokens: formatInt(r.tokens),
              settings: formatInt(r.settings),
            })}
          </p>
          {r.skipped.length > 0 && (
            <ul class="muted small">
              {r.skipped.map((s) => <li key={s}>{s}</li>)}
            </ul>
          )}
        </div>
      )}
    </section>
  );
}
