// A tiny element builder: the demo renders plain DOM (no framework) so it shows raftmesh, not a
// UI library. Children that are null or false are skipped; strings become text nodes (never
// HTML), so peer-supplied text cannot inject markup.
type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | ((event: Event) => void) | undefined>;

export function h(tag: string, attributes: Attributes = {}, ...children: Child[]): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, '').toLowerCase(), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Replaces a container's content, keeping keyboard focus and typed text in inputs that have an id. */
export function replaceContent(container: HTMLElement, content: Node): void {
  const focused = document.activeElement instanceof HTMLInputElement && container.contains(document.activeElement) ? document.activeElement : null;
  const typed = new Map<string, string>();
  for (const input of container.querySelectorAll('input[id]')) typed.set(input.id, (input as HTMLInputElement).value);
  container.replaceChildren(content);
  for (const [id, value] of typed) {
    const input = container.querySelector(`#${CSS.escape(id)}`);
    if (input instanceof HTMLInputElement) input.value = value;
  }
  if (focused?.id) (container.querySelector(`#${CSS.escape(focused.id)}`) as HTMLInputElement | null)?.focus();
}
