/**
 * The Settings page island: a form made from `GET /settings`, in the sections the settings schema
 * assigns. Every field shows its description, environment variable and default; secret fields stay
 * hidden until asked for; fields pinned by the environment are read-only with the reason.
 * Save sends only the changed fields with `PATCH /settings`; the 400's field violations appear
 * under their fields. Changes apply at once. Below the form: backup and restore.
 *
 * @module
 */
import { useComputed, useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { apiCall, ApiError, messageOf } from "../lib/admin/api_client.ts";
import type { SettingField, SettingsResponse } from "../lib/admin/api_types.ts";
import { groupSettings } from "../lib/admin/settings_groups.ts";
import {
  draftOf,
  parseDraft,
  settingDescription,
  SettingInput,
  settingLabel,
} from "../lib/admin/ui/setting_input.tsx";
import { t, tn } from "../lib/admin/i18n.ts";
import { rich } from "../lib/admin/ui/rich_text.tsx";
import { BackupPanel } from "../lib/admin/ui/backup_panel.tsx";

/** Props of {@link SettingsForm}. */
export interface SettingsFormProps {
  /** Fields rendered on the server; null to load them in the browser. */
  initial: SettingsResponse | null;
  /** Admin JSON API base, e.g. `/admin/api`. */
  apiBase: string;
}

const drafts = (fields: SettingField[]) => Object.fromEntries(fields.map((f) => [f.name, draftOf(f)]));

/** Island: the settings form. */
export function SettingsForm(props: SettingsFormProps) {
  const fields = useSignal<SettingField[]>(props.initial?.fields ?? []);
  const draft = useSignal<Record<string, string>>(drafts(fields.value));
  const errors = useSignal<Record<string, string>>({});
  const status = useSignal<{ tone: "ok" | "bad"; text: string } | null>(null);
  const saving = useSignal(false);
  const loaded = useSignal(props.initial !== null);

  useEffect(() => {
    if (props.initial) return;
    apiCall<SettingsResponse>(props.apiBase, "/settings").then((r) => {
      fields.value = r.fields;
      draft.value = drafts(r.fields);
      loaded.value = true;
    }, (err) => status.value = { tone: "bad", text: t("settings.loadFailed", { error: messageOf(err) }) });
  }, []);

  const changedSignal = useComputed(() =>
    fields.value.filter((f) => !f.pinned && draft.value[f.name] !== draftOf(f))
  );
  const changed = changedSignal.value;
  const save = async (e: Event) => {
    e.preventDefault();
    const patch: Record<string, unknown> = {};
    const local: Record<string, string> = {};
    for (const f of changed) {
      const parsed = parseDraft(f, draft.value[f.name]);
      if ("error" in parsed) local[f.name] = parsed.error;
      else patch[f.name] = parsed.value;
    }
    errors.value = local;
    if (Object.keys(local).length) {
      status.value = { tone: "bad", text: t("settings.fixFields") };
      return;
    }
    saving.value = true;
    try {
      const r = await apiCall<SettingsResponse>(props.apiBase, "/settings", { method: "PATCH", body: patch });
      fields.value = r.fields;
      draft.value = drafts(r.fields);
      status.value = { tone: "ok", text: tn("settings.saved", changed.length) };
    } catch (err) {
      if (err instanceof ApiError && err.violations.length) {
        const byField: Record<string, string> = {};
        for (const v of err.violations) byField[v.field.split(/[.[]/)[0]] ??= v.description;
        errors.value = byField;
        status.value = { tone: "bad", text: t("settings.notSaved") };
      } else status.value = { tone: "bad", text: messageOf(err) };
    } finally {
      saving.value = false;
    }
  };

  if (!loaded.value) {
    return (
      <section class="panel">
        {status.value
          ? <p class="alert inset">{status.value.text}</p>
          : <p class="empty">{t("settings.loading")}</p>}
      </section>
    );
  }
  return (
    <div class="stack">
      <form class="settings stack" onSubmit={save} noValidate data-settings-form>
        {groupSettings(fields.value).map(({ id, section, items }) => (
          <section class="panel" key={id} id={`group-${id}`}>
            <header class="group-head">
              <h2>{section.title}</h2>
              <p class="muted small">{section.description}</p>
            </header>
            {items.map((f) => {
              const error = errors.value[f.name];
              const dirty = !f.pinned && draft.value[f.name] !== draftOf(f);
              return (
                <div
                  class={`setting${error ? " has-error" : ""}${dirty ? " dirty" : ""}`}
                  key={f.name}
                  data-field={f.name}
                >
                  <div class="setting-info">
                    <label for={`setting-${f.name}`} class="setting-name">{settingLabel(f)}</label>
                    <p class="muted setting-desc" id={`setting-${f.name}-help`}>{settingDescription(f)}</p>
                    <p class="setting-meta small">
                      <code>{f.env}</code>
                      {f.default !== null && f.default !== undefined && (
                        <span class="muted">{t("settings.default", { value: shortValue(f.default) })}</span>
                      )}
                    </p>
                  </div>
                  <div class="setting-control">
                    <SettingInput
                      field={f}
                      draft={draft.value[f.name] ?? ""}
                      invalid={!!error}
                      onInput={(d) => {
                        draft.value = { ...draft.value, [f.name]: d };
                        if (errors.value[f.name]) errors.value = { ...errors.value, [f.name]: "" };
                      }}
                    />
                    {f.pinned && (
                      <p class="pinned small" data-pinned>
                        <span class="badge badge-neutral">{t("settings.readOnly")}</span>{" "}
                        {rich(t("settings.pinnedBy"), { env: <code>{f.env}</code> })}
                      </p>
                    )}
                    {error && <p class="field-error small" role="alert" data-error-for={f.name}>{error}</p>}
                  </div>
                </div>
              );
            })}
          </section>
        ))}
        <div class="save-bar">
          <span class={status.value ? `status ${status.value.tone}` : "muted"} role="status" data-save-status>
            {status.value?.text ??
              (changed.length ? tn("settings.unsaved", changed.length) : t("settings.allSaved"))}
          </span>
          <div class="save-actions">
            <button
              type="button"
              class="button"
              disabled={!changed.length || saving.value}
              onClick={() => {
                draft.value = drafts(fields.value);
                errors.value = {};
                status.value = null;
              }}
            >
              {t("settings.discard")}
            </button>
            <button
              type="submit"
              class="button primary"
              disabled={!changed.length || saving.value}
              data-action="save"
            >
              {saving.value ? t("common.saving") : t("settings.save")}
            </button>
          </div>
        </div>
      </form>
      <BackupPanel apiBase={props.apiBase} />
    </div>
  );
}

function shortValue(v: unknown): string {
  const s = typeof v === "string" ? (v === "" ? '""' : v) : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}
