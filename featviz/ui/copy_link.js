// featviz copy link: a page's shareable link in a box with a Copy button. (st.code showed it
// before; its syntax highlighter cost a new tab about 0.4 s of the browser's time before the
// animation could start.) Data: {"link": text}.
export default function ({ data, parentElement }) {
  const root = parentElement.querySelector(".featviz-link");
  const text = root.querySelector(".featviz-link-text");
  const button = root.querySelector("button");
  text.textContent = data.link;
  button.textContent = "Copy";
  button.onclick = async () => {
    let ok = false;
    try {
      await navigator.clipboard.writeText(data.link);
      ok = true;
    } catch (e) {
      // No clipboard API (a page not served from localhost or https): copy the selection.
      const range = document.createRange();
      range.selectNodeContents(text);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      ok = document.execCommand && document.execCommand("copy");
    }
    button.textContent = ok ? "Copied ✓" : "Select and copy";
    root.dataset.copied = ok ? "1" : "0";
    setTimeout(() => (button.textContent = "Copy"), 2000);
  };
}
