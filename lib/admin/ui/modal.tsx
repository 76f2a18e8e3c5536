/**
 * A modal dialog for islands (rendered only on the client, after a user action): backdrop, title,
 * body, footer actions; Escape and the backdrop close it.
 *
 * @module
 */
import type { ComponentChildren } from "preact";
import { useEffect } from "preact/hooks";
import { t } from "../i18n.ts";

/** Props of {@link Modal}. */
export interface ModalProps {
  title: string;
  /** Called on Escape, the close button or a backdrop click. */
  onClose: () => void;
  /** Footer buttons. */
  footer?: ComponentChildren;
  /** Wider dialog for forms with tables. */
  wide?: boolean;
  children?: ComponentChildren;
}

/** A modal dialog. */
export function Modal(props: ModalProps) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") props.onClose();
    };
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, [props.onClose]);
  return (
    <div class="modal-backdrop" onClick={(e) => e.target === e.currentTarget && props.onClose()}>
      <div
        class={props.wide ? "modal wide" : "modal"}
        role="dialog"
        aria-modal="true"
        aria-label={props.title}
      >
        <header class="modal-head">
          <h2>{props.title}</h2>
          <button type="button" class="icon-button" aria-label={t("common.close")} onClick={props.onClose}>
            ×
          </button>
        </header>
        <div class="modal-body">{props.children}</div>
        {props.footer && <footer class="modal-foot">{props.footer}</footer>}
      </div>
    </div>
  );
}

/** Props of {@link ConfirmDialog}. */
export interface ConfirmDialogProps {
  title: string;
  message: ComponentChildren;
  /** Confirm button text, e.g. "Delete 3 keys". */
  confirmLabel: string;
  /** Style the confirm button as destructive. */
  danger?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}

/** A yes/no confirmation. */
export function ConfirmDialog(props: ConfirmDialogProps) {
  return (
    <Modal
      title={props.title}
      onClose={props.onCancel}
      footer={
        <>
          <button type="button" class="button" onClick={props.onCancel}>{t("common.cancel")}</button>
          <button
            type="button"
            class={props.danger ? "button danger" : "button primary"}
            data-action="confirm"
            onClick={props.onConfirm}
          >
            {props.confirmLabel}
          </button>
        </>
      }
    >
      <p class="modal-text">{props.message}</p>
    </Modal>
  );
}
