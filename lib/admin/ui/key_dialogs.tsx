/**
 * Dialogs of the Keys page: add keys (pasted, or read from a text file; shows what was added and what
 * was rejected and why), edit label, project and per-model limits of one or more keys, export keys
 * (masked, or full after the admin token is entered again), and delete (with the choice to ignore keys
 * that come from `GEMINI_API_KEYS` at later starts).
 *
 * @module
 */
import { useSignal } from "@preact/signals";
import { apiCall, messageOf } from "../api_client.ts";
import type { AddKeysResponse } from "../api_types.ts";
import { formatInt } from "../format.ts";
import { type MessageKey, pluralKey, t, tn } from "../i18n.ts";
import { rich } from "./rich_text.tsx";
import { Modal } from "./modal.tsx";
import { download } from "../download.ts";
import { AdminTokenInput, CheckRow, TextField } from "./text_field.tsx";

/** Props of {@link AddKeysDialog}. */
export interface AddKeysDialogProps {
  apiBase: string;
  onClose: () => void;
  /** Called after keys were added. */
  onAdded: () => void;
}

/** Paste keys (one per line, or any text containing them), or read them from a text file. */
export function AddKeysDialog(props: AddKeysDialogProps) {
  const text = useSignal("");
  const label = useSignal("");
  const project = useSignal("");
  const busy = useSignal(false);
  const error = useSignal("");
  const result = useSignal<AddKeysResponse | null>(null);
  const submit = async () => {
    busy.value = true;
    error.value = "";
    try {
      const body = { text: text.value, label: label.value || undefined, project: project.value || undefined };
      result.value = await apiCall<AddKeysResponse>(props.apiBase, "/keys", { body });
      if (result.value.added.length) props.onAdded();
      text.value = "";
    } catch (err) {
      error.value = messageOf(err);
    } finally {
      busy.value = false;
    }
  };
  const readFile = async (input: HTMLInputElement) => {
    const file = input.files?.[0];
    if (!file) return;
    if (file.size > 5_000_000) {
      error.value = t("keys.import.tooLarge");
      return;
    }
    text.value = `${text.value ? `${text.value}\n` : ""}${await file.text()}`;
    input.value = "";
  };
  const r = result.value;
  return (
    <Modal
      title={t("keys.add")}
      onClose={props.onClose}
      wide
      footer={
        <DialogFooter
          closeLabel={r ? t("common.done") : t("common.cancel")}
          onClose={props.onClose}
          disabled={busy.value || !text.value.trim()}
          onSubmit={submit}
          action="add-submit"
          label={busy.value ? t("keys.adding") : t("keys.add")}
        />
      }
    >
      {error.value && <p class="alert" role="alert">{error.value}</p>}
      {r && (
        <div class="add-result" data-add-result>
          <div class={r.added.length ? "notice ok" : "notice"}>
            <span>
              {rich(t(pluralKey("keys.added", r.added.length)), {
                n: <strong data-added-count>{formatInt(r.added.length)}</strong>,
              })}
              {r.rejected.length > 0 && (
                <>
                  {" "}
                  {rich(t(pluralKey("keys.rejected", r.rejected.length)), {
                    n: <strong data-rejected-count>{formatInt(r.rejected.length)}</strong>,
                  })}
                </>
              )}
            </span>
          </div>
          {r.rejected.length > 0 && (
            <div class="table-wrap">
              <table class="table compact">
                <thead>
                  <tr>
                    <th scope="col">{t("keys.rejected.value")}</th>
                    <th scope="col">{t("keys.rejected.reason")}</th>
                  </tr>
                </thead>
                <tbody>
                  {r.rejected.map((x, i) => (
                    <tr key={i} data-rejected>
                      <td>
                        <code>{x.value}</code>
                      </td>
                      <td>{x.reason}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      )}
      <div class="form">
        <label for="add-text">{t("keys.add.keys")}</label>
        <textarea
          id="add-text"
          rows={7}
          spellcheck={false}
          autoFocus
          placeholder={t("keys.add.hint")}
          value={text.value}
          onInput={(e) => text.value = e.currentTarget.value}
        />
        <label class="file-pick">
          <span>{t("keys.import.file")}</span>
          <input
            type="file"
            accept=".txt,.csv,.env,text/plain"
            data-key-file
            onChange={(e) => readFile(e.currentTarget)}
          />
        </label>
        <div class="form-row">
          <TextField id="add-label" label={t("keys.add.label")} value={label} />
          <TextField id="add-project" label={t("keys.add.project")} value={project} />
        </div>
        <p class="muted small">{t("keys.add.stored")}</p>
      </div>
    </Modal>
  );
}

/** Props of {@link EditKeysDialog}. */
export interface EditKeysDialogProps {
  apiBase: string;
  ids: string[];
  /** Current values when editing one key. */
  label?: string;
  project?: string;
  limits?: Record<string, { rpm?: number; rpd?: number }>;
  onClose: () => void;
  onSaved: () => void;
}

interface LimitRow {
  model: string;
  rpm: string;
  rpd: string;
}

/** The number inputs of a limit row. */
const LIMIT_INPUTS: ReadonlyArray<{ name: "rpm" | "rpd"; label: MessageKey }> = [
  { name: "rpm", label: "keys.limits.rpm" },
  { name: "rpd", label: "keys.limits.rpd" },
];

/** Edit label, project and limits. */
export function EditKeysDialog(props: EditKeysDialogProps) {
  const label = useSignal(props.label ?? "");
  const project = useSignal(props.project ?? "");
  const rows = useSignal<LimitRow[]>(
    Object.entries(props.limits ?? {}).map(([model, l]) => ({
      model,
      rpm: l.rpm ? String(l.rpm) : "",
      rpd: l.rpd ? String(l.rpd) : "",
    })),
  );
  const busy = useSignal(false);
  const error = useSignal("");
  const setRow = (i: number, patch: Partial<LimitRow>) =>
    rows.value = rows.value.map((r, j) => j === i ? { ...r, ...patch } : r);
  const save = async () => {
    busy.value = true;
    error.value = "";
    try {
      const limits: Record<string, { rpm?: number; rpd?: number }> = {};
      for (const r of rows.value) {
        if (!r.model.trim()) continue;
        limits[r.model.trim()] = {
          rpm: r.rpm ? Number(r.rpm) : undefined,
          rpd: r.rpd ? Number(r.rpd) : undefined,
        };
      }
      // Only send what changed, so editing several keys keeps their other fields.
      const body: Record<string, unknown> = { ids: props.ids };
      if (label.value !== (props.label ?? "")) body.label = label.value;
      if (project.value !== (props.project ?? "")) body.project = project.value;
      if (JSON.stringify(limits) !== JSON.stringify(props.limits ?? {})) body.limits = limits;
      await apiCall(props.apiBase, "/keys/update", { body });
      props.onSaved();
    } catch (err) {
      error.value = messageOf(err);
    } finally {
      busy.value = false;
    }
  };
  const n = props.ids.length;
  const unchanged = n > 1 ? t("keys.edit.unchanged") : undefined;
  return (
    <Modal
      title={n === 1 ? t("keys.edit.single") : t("keys.edit.multiple", { n: formatInt(n) })}
      onClose={props.onClose}
      wide
      footer={
        <DialogFooter
          closeLabel={t("common.cancel")}
          onClose={props.onClose}
          disabled={busy.value}
          onSubmit={save}
          action="edit-save"
          label={busy.value ? t("common.saving") : t("common.save")}
        />
      }
    >
      {error.value && <p class="alert" role="alert">{error.value}</p>}
      <div class="form">
        <div class="form-row">
          <TextField
            id="edit-label"
            label={t("keys.edit.label")}
            value={label}
            input={{ placeholder: unchanged }}
          />
          <TextField
            id="edit-project"
            label={t("keys.edit.project")}
            value={project}
            input={{ placeholder: unchanged }}
          />
        </div>
        <p class="section-label">{t("keys.limits")}</p>
        <p class="muted small">{t("keys.limits.hint")}</p>
        {rows.value.map((r, i) => (
          <div class="form-row limits-row" key={i}>
            <input
              placeholder={t("keys.limits.model.placeholder")}
              aria-label={t("keys.limits.model")}
              value={r.model}
              onInput={(e) => setRow(i, { model: e.currentTarget.value })}
            />
            {LIMIT_INPUTS.map(({ name, label }) => (
              <input
                key={name}
                type="number"
                min={1}
                placeholder={name}
                aria-label={t(label)}
                value={r[name]}
                onInput={(e) => setRow(i, { [name]: e.currentTarget.value })}
              />
            ))}
            <button
              type="button"
              class="link-button danger"
              onClick={() => rows.value = rows.value.filter((_, j) => j !== i)}
            >
              {t("common.remove")}
            </button>
          </div>
        ))}
        <div>
          <button
            type="button"
            class="button small"
            onClick={() => rows.value = [...rows.value, { model: "", rpm: "", rpd: "" }]}
          >
            {t("keys.limits.add")}
          </button>
        </div>
      </div>
    </Modal>
  );
}

/** Which keys an export takes. */
type ExportState = "all" | "valid" | "disabled";

const EXPORT_STATES: ReadonlyArray<{ state: ExportState; label: MessageKey }> = [
  { state: "all", label: "keys.export.all" },
  { state: "valid", label: "keys.export.valid" },
  { state: "disabled", label: "keys.export.disabled" },
];

/** Export keys as a text file: masked, or in full after the admin token is entered again. */
export function ExportKeysDialog(props: { apiBase: string; onClose: () => void }) {
  const state = useSignal<ExportState>("all");
  const full = useSignal(false);
  const adminToken = useSignal("");
  const busy = useSignal(false);
  const error = useSignal("");
  const done = useSignal("");
  const run = async () => {
    busy.value = true;
    error.value = "";
    try {
      const body = {
        state: state.value,
        full: full.value,
        adminToken: full.value ? adminToken.value : undefined,
      };
      const r = await apiCall<{ count: number; text: string }>(props.apiBase, "/keys/export", { body });
      const name = `gemini-keys-${state.value}${full.value ? "" : "-masked"}.txt`;
      download(name, r.text, "text/plain");
      done.value = tn("keys.export.done", r.count, { file: name });
    } catch (err) {
      error.value = messageOf(err);
    } finally {
      busy.value = false;
    }
  };
  return (
    <Modal
      title={t("keys.export.title")}
      onClose={props.onClose}
      footer={
        <DialogFooter
          closeLabel={done.value ? t("common.done") : t("common.cancel")}
          onClose={props.onClose}
          disabled={busy.value || (full.value && !adminToken.value)}
          onSubmit={run}
          action="export-submit"
          label={t("keys.export.download")}
        />
      }
    >
      {error.value && <p class="alert" role="alert">{error.value}</p>}
      {done.value && (
        <div class="notice ok" data-export-done>
          <span>{done.value}</span>
        </div>
      )}
      <div class="form">
        <fieldset class="choice">
          <legend>{t("keys.export.which")}</legend>
          {EXPORT_STATES.map((o) => (
            <label key={o.state}>
              <input
                type="radio"
                name="export-state"
                value={o.state}
                checked={state.value === o.state}
                onChange={() => state.value = o.state}
              />
              {t(o.label)}
            </label>
          ))}
        </fieldset>
        <CheckRow value={full} data="export-full">{t("keys.export.full")}</CheckRow>
        {full.value && (
          <>
            <p class="muted small">{t("keys.export.full.hint")}</p>
            <AdminTokenInput value={adminToken} data="export-token" />
          </>
        )}
      </div>
    </Modal>
  );
}

/** Props of {@link DeleteKeysDialog}. */
export interface DeleteKeysDialogProps {
  count: number;
  /** How many of them come from `GEMINI_API_KEYS`. */
  fromEnv: number;
  onCancel: () => void;
  onConfirm: (ignoreEnv: boolean) => void;
}

/** Confirms a delete; keys from `GEMINI_API_KEYS` are explained, with the choice to ignore them. */
export function DeleteKeysDialog(props: DeleteKeysDialogProps) {
  const ignore = useSignal(false);
  return (
    <Modal
      title={tn("keys.delete.title", props.count)}
      onClose={props.onCancel}
      footer={
        <>
          <button type="button" class="button" onClick={props.onCancel}>{t("common.cancel")}</button>
          <button
            type="button"
            class="button danger"
            data-action="confirm"
            onClick={() => props.onConfirm(ignore.value)}
          >
            {tn("keys.delete.confirm", props.count)}
          </button>
        </>
      }
    >
      <p class="modal-text">{t("keys.delete.text")}</p>
      {props.fromEnv > 0 && (
        <div class="env-note" data-env-note>
          <p class="modal-text">{tn("keys.delete.env", props.fromEnv)}</p>
          <CheckRow value={ignore} data="ignore-env">{t("keys.delete.ignore")}</CheckRow>
        </div>
      )}
    </Modal>
  );
}

/** A dialog footer: a close button and the primary action (`data-action` names it for tests). */
function DialogFooter(props: {
  closeLabel: string;
  onClose: () => void;
  disabled: boolean;
  onSubmit: () => void;
  action: string;
  label: string;
}) {
  return (
    <>
      <button type="button" class="button" onClick={props.onClose}>{props.closeLabel}</button>
      <button
        type="button"
        class="button primary"
        disabled={props.disabled}
        onClick={props.onSubmit}
        data-action={props.action}
      >
        {props.label}
      </button>
    </>
  );
}
