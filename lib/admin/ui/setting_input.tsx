/**
 * One settings field as a form control, chosen by the field's type (declarative table), plus the
 * conversions between a setting's value and the text the control edits.
 *
 * @module
 */
import { useState } from "preact/hooks";
import type { SettingField } from "../api_types.ts";
import { currentLocale, t, tn } from "../i18n.ts";
import { ZH_SETTINGS } from "../i18n/settings_zh.ts";

/** How one field type is edited: value -> draft text, draft text -> value (or an error message). */
interface FieldCodec {
  toDraft: (value: unknown) => string;
  parse: (draft: string, field: SettingField) => { value: unknown } | { error: string };
}

const CODECS: Record<SettingField["type"], FieldCodec> = {
  number: {
    toDraft: (v) => v === null || v === undefined ? "" : String(v),
    parse: (d) => {
      const n = Number(d.trim());
      return d.trim() === "" || !Number.isFinite(n) ? { error: t("settings.error.number") } : { value: n };
    },
  },
  boolean: { toDraft: (v) => v ? "true" : "false", parse: (d) => ({ value: d === "true" }) },
  string: { toDraft: (v) => v === null || v === undefined ? "" : String(v), parse: (d) => ({ value: d }) },
  enum: { toDraft: (v) => String(v ?? ""), parse: (d) => ({ value: d }) },
  "string[]": {
    toDraft: (v) => Array.isArray(v) ? v.join("\n") : "",
    parse: (d) => ({ value: d.split(/[\n,]+/).map((s) => s.trim()).filter(Boolean) }),
  },
  json: {
    toDraft: (v) => JSON.stringify(v ?? null, null, 2),
    parse: (d) => {
      try {
        return { value: JSON.parse(d) };
      } catch (err) {
        return {
          error: t("settings.error.json", { error: err instanceof Error ? err.message : String(err) }),
        };
      }
    },
  },
};

/** The editable text of a value. */
export function draftOf(field: SettingField, value: unknown = field.value): string {
  return CODECS[field.type].toDraft(value);
}

/** Parses a draft into a value or a client-side error. */
export function parseDraft(field: SettingField, draft: string): { value: unknown } | { error: string } {
  return CODECS[field.type].parse(draft, field);
}

/** A setting's label as the form shows it, in the current language (English from the describer: `Max attempts`). */
export function settingLabel(field: { name: string; label: string }): string {
  return currentLocale().lang === "zh-CN" && ZH_SETTINGS[field.name]
    ? ZH_SETTINGS[field.name][0]
    : field.label;
}

/** A setting's description in the current language (English comes from the settings schema). */
export function settingDescription(field: { name: string; description: string }): string {
  return currentLocale().lang === "zh-CN" && ZH_SETTINGS[field.name]
    ? ZH_SETTINGS[field.name][1]
    : field.description;
}

/** Props of {@link SettingInput}. */
export interface SettingInputProps {
  field: SettingField;
  draft: string;
  invalid: boolean;
  onInput: (draft: string) => void;
}

/** The control for one field; a secret field (`field.secret`) stays hidden until the admin asks to see it. */
export function SettingInput({ field, draft, invalid, onInput }: SettingInputProps) {
  const [revealed, setRevealed] = useState(false);
  if (field.secret && !revealed) {
    const n = draft.split("\n").filter((l) => l.trim()).length;
    return (
      <div class="secret-field" data-secret={field.name}>
        <span class="muted">{n === 0 ? t("settings.secret.none") : tn("settings.secret.hidden", n)}</span>
        <button type="button" class="button small" onClick={() => setRevealed(true)}>
          {field.pinned ? t("settings.secret.show") : t("settings.secret.edit")}
        </button>
      </div>
    );
  }
  const common = {
    id: `setting-${field.name}`,
    name: field.name,
    disabled: field.pinned,
    "aria-invalid": invalid || undefined,
    "aria-describedby": `setting-${field.name}-help`,
  };
  switch (field.type) {
    case "boolean":
      return (
        <label class="switch">
          <input
            type="checkbox"
            {...common}
            checked={draft === "true"}
            onChange={(e) => onInput(e.currentTarget.checked ? "true" : "false")}
          />
          <span>{draft === "true" ? t("settings.on") : t("settings.off")}</span>
        </label>
      );
    case "enum":
      return (
        <select {...common} value={draft} onChange={(e) => onInput(e.currentTarget.value)}>
          {(field.enumValues ?? []).map((v) => <option key={v} value={v}>{v}</option>)}
        </select>
      );
    case "string[]":
    case "json":
      return (
        <textarea
          {...common}
          class={field.type === "json" ? "code" : undefined}
          rows={Math.min(10, Math.max(3, draft.split("\n").length + 1))}
          spellcheck={false}
          value={draft}
          placeholder={field.type === "string[]" ? t("settings.onePerLine") : undefined}
          onInput={(e) => onInput(e.currentTarget.value)}
        />
      );
    default:
      return (
        <input
          {...common}
          type={field.type === "number" ? "number" : "text"}
          value={draft}
          spellcheck={false}
          onInput={(e) => onInput(e.currentTarget.value)}
        />
      );
  }
}
