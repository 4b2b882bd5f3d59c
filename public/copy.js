// Copy buttons (`<button data-copy="text">` or `data-copy-from="#id"`): plain script, so they
// work before the dashboard's WebAssembly has arrived and cost it nothing. The Clipboard API
// exists only in a secure context (HTTPS, or localhost); a dashboard opened over plain HTTP at
// a LAN address (http://192.168.1.5:3000) has none, so there the text is selected in a
// throwaway textarea and copied with execCommand("copy"). The button shows its "copied" (or
// "copy it by hand") label, both rendered by the page in its language, for two seconds.
document.addEventListener('click', async (event) => {
  const button = event.target instanceof Element && event.target.closest('button[data-copy], button[data-copy-from]');
  if (!button) return;
  const from = button.dataset.copyFrom && document.querySelector(button.dataset.copyFrom);
  const text = from ? from.textContent : button.dataset.copy || '';
  let copied = false;
  if (window.isSecureContext && navigator.clipboard) {
    try {
      await navigator.clipboard.writeText(text);
      copied = true;
    } catch (_) { /* refused: try the old way */ }
  }
  if (!copied) {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.cssText = 'position:fixed;top:0;left:0;opacity:0';
    document.body.appendChild(area);
    area.select();
    try {
      copied = document.execCommand('copy');
    } catch (_) { /* nothing more to try */ }
    area.remove();
    button.focus();
  }
  button.dataset.copied = copied ? 'yes' : 'no';
  clearTimeout(button.copyTimer);
  button.copyTimer = setTimeout(() => { delete button.dataset.copied; }, 2000);
});
