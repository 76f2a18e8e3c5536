/**
 * Browser downloads for the admin islands: saves text as a file (key exports, backups).
 *
 * @module
 */

/** Saves `text` as a download named `name` with content type `type`. */
export function download(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
