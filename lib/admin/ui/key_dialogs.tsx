/**
 * Dialogs of the Keys page: paste many keys (shows what was added and what was rejected and why),
 * and edit label, project and per-model limits of one or more keys.
 *
 * @module
 */
import { useSignal } from "@preact/signals";
import { apiCall, messageOf } from "../api_client.ts";
import type { AddKeysResponse } from "../api_types.ts";
import { Modal } from "./modal.tsx";
import { TextField } from "./text_field.tsx";

const PASTE_HINT =
  "AIza…\nvertex:AQ.…  (a Vertex AI express key)\n(one per line, or paste any text that contains them)";

/** Props of {@link AddKeysDialog}. */
export interface AddKeysDialogProps {
  apiBase: string;
  onClose: () => void;
  /** Called after keys were added. */
  onAdded: () => void;
}

/** Paste keys (one per line, or any text containing them). */
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
  const r = result.value;
  return (
    <Modal
      title="Add keys"
      onClose={props.onClose}
      wide
      footer={
        <DialogFooter
          closeLabel={r ? "Done" : "Cancel"}
          onClose={props.onClose}
          disabled={busy.value || !text.value.trim()}
          onSubmit={submit}
          action="add-submit"
          label={busy.value ? "Adding…" : "Add keys"}
        />
      }
    >
      {error.value && <p class="alert" role="alert">{error.value}</p>}
      {r && (
        <div class="add-result" data-add-result>
          <div class={r.added.length ? "notice ok" : "notice"}>
            <span>
              Added <strong data-added-count>{r.added.length}</strong> {r.added.length === 1 ? "key" : "keys"}
              {r.rejected.length > 0 && (
                <>
                  , rejected <strong data-rejected-count>{r.rejected.length}</strong> (see why below)
                </>
              )}.
            </span>
          </div>
          {r.rejected.length > 0 && (
            <table class="table compact">
              <thead>
                <tr>
                  <th scope="col">Value</th>
                  <th scope="col">Reason</th>
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
          )}
        </div>
      )}
      <div class="form">
        <label for="add-text">Keys</label>
        <textarea
          id="add-text"
          rows={7}
          spellcheck={false}
          autoFocus
          placeholder={PASTE_HINT}
          value={text.value}
          onInput={(e) => text.value = e.currentTarget.value}
        />
        <div class="form-row">
          <TextField id="add-label" label="Label (optional)" value={label} />
          <TextField id="add-project" label="Project (optional)" value={project} />
        </div>
        <p class="muted small">Keys are stored on the server and never shown in full again.</p>
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
const LIMIT_INPUTS = [
  { name: "rpm", label: "Requests per minute" },
  { name: "rpd", label: "Requests per day" },
] as const;

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
  const unchanged = n > 1 ? "unchanged" : undefined;
  return (
    <Modal
      title={n === 1 ? "Edit key" : `Edit ${n} keys`}
      onClose={props.onClose}
      wide
      footer={
        <DialogFooter
          closeLabel="Cancel"
          onClose={props.onClose}
          disabled={busy.value}
          onSubmit={save}
          action="edit-save"
          label={busy.value ? "Saving…" : "Save"}
        />
      }
    >
      {error.value && <p class="alert" role="alert">{error.value}</p>}
      <div class="form">
        <div class="form-row">
          <TextField id="edit-label" label="Label" value={label} input={{ placeholder: unchanged }} />
          <TextField id="edit-project" label="Project" value={project} input={{ placeholder: unchanged }} />
        </div>
        <p class="section-label">Limits per model</p>
        <p class="muted small">
          Keep this key under these rates even before Google says so. Empty means no limit.
        </p>
        {rows.value.map((r, i) => (
          <div class="form-row limits-row" key={i}>
            <input
              placeholder="model, e.g. gemini-2.5-pro"
              aria-label="Model"
              value={r.model}
              onInput={(e) => setRow(i, { model: e.currentTarget.value })}
            />
            {LIMIT_INPUTS.map(({ name, label }) => (
              <input
                key={name}
                type="number"
                min={1}
                placeholder={name}
                aria-label={label}
                value={r[name]}
                onInput={(e) => setRow(i, { [name]: e.currentTarget.value })}
              />
            ))}
            <button
              type="button"
              class="link-button danger"
              onClick={() => rows.value = rows.value.filter((_, j) => j !== i)}
            >
              Remove
            </button>
          </div>
        ))}
        <div>
          <button
            type="button"
            class="button small"
            onClick={() => rows.value = [...rows.value, { model: "", rpm: "", rpd: "" }]}
          >
            Add limit
          </button>
        </div>
      </div>
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
