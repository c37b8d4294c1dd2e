/** Small DOM helpers shared by the demo's views. */

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`demo page: no element #${id}`);
  return el as T;
}

/** Show (or with '' hide) a view's message line: bad input is reported on the page, not in the console. */
export function showMessage(id: string, text: string): void {
  const el = byId(id);
  el.textContent = text;
  el.hidden = text === '';
}

/** Let the browser paint and handle clicks (Stop) between steps. */
export function nextFrame(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
