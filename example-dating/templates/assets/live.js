// The live page's feed: danmaku arrive over Server-Sent Events and are added to the list
// without a reload; deleted ones leave it. Everything else on the console works without
// JavaScript.
(() => {
  const list = document.getElementById("danmaku");
  const state = document.getElementById("feed-state");
  if (!list || !window.EventSource) return;
  const template = document.getElementById("delete-form");
  const feed = new EventSource(list.dataset.feed);
  // Subscribed once the stream is open (the server subscribes before it answers).
  feed.addEventListener("open", () => { list.dataset.connected = "yes"; });
  feed.addEventListener("danmaku", (e) => {
    const d = JSON.parse(e.data);
    if (document.getElementById("danmaku-" + d.danmaku_id)) return;
    const item = document.createElement("li");
    item.id = "danmaku-" + d.danmaku_id;
    const who = document.createElement("span");
    who.className = "muted";
    who.textContent = (d.nickname || d.user_id) + ":";
    item.append(who, " " + d.content + " ");
    if (template) {
      const form = template.content.firstElementChild.cloneNode(true);
      form.action = list.dataset.feed.replace(/\/feed$/, "/danmaku/" + d.danmaku_id + "/delete");
      form.querySelector("button").setAttribute("aria-label", "Delete danmaku " + d.danmaku_id);
      item.append(form);
    }
    list.append(item);
  });
  feed.addEventListener("danmaku_deleted", (e) => {
    const d = JSON.parse(e.data);
    const item = document.getElementById("danmaku-" + d.danmaku_id);
    if (item) item.remove();
  });
  feed.addEventListener("live_finished", () => {
    feed.close();
    document.getElementById("live-status").textContent = "finished";
    state.textContent = "The live has finished.";
  });
})();
